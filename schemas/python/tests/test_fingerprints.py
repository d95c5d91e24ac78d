"""Fingerprints and canonical forms of today's schemas against values computed once with Java (avro 1.12.1).

TokenRecord, FeatureRecord and DuplicateRecord are at v2 (test_released has every version's).

Computed by parsing the enum files then the records with one org.apache.avro.Schema.Parser and
calling SchemaNormalization.parsingFingerprint64 / toParsingForm (printed as %016x).
"""

import pytest

from vqrae_schemas import fingerprints
from vqrae_schemas._schemas import crc64_avro, get_schema, load_schemas, parsing_canonical_form, schema_dir

JAVA_FINGERPRINTS = {
    "ImageRecord": 0xb71e02054e15662f,
    "TokenRecord": 0xb3d1732017e7395c,
    "FeatureRecord": 0xec94a93c9d285822,
    "DeadLetterRecord": 0x0433aab785dd67ed,
    "DuplicateRecord": 0x1ece1c93f9e9e64c,
}

JAVA_TOKEN_RECORD_PCF = '{"name":"io.vqrae.schemas.TokenRecord","type":"record","fields":[{"name":"id","type":"string"},{"name":"image_sha256","type":"string"},{"name":"model_id","type":"string"},{"name":"model_version","type":"string"},{"name":"codebook_sha256","type":"string"},{"name":"grid_height","type":"int"},{"name":"grid_width","type":"int"},{"name":"codebook_size","type":"int"},{"name":"dtype","type":{"name":"io.vqrae.schemas.TokenIdType","type":"enum","symbols":["uint16","uint32"]}},{"name":"token_ids","type":"bytes"},{"name":"mean_quant_error","type":"float"},{"name":"source_topic","type":["null","string"]},{"name":"source_partition","type":["null","int"]},{"name":"source_offset","type":["null","long"]},{"name":"processed_at","type":"long"},{"name":"metadata","type":["null","string"]},{"name":"text","type":["null","string"]},{"name":"source_uri","type":["null","string"]}]}'


def test_fingerprints_match_java():
    assert fingerprints() == JAVA_FINGERPRINTS


def test_canonical_form_matches_java():
    assert get_schema("TokenRecord").canonical_form == JAVA_TOKEN_RECORD_PCF
    assert get_schema("io.vqrae.schemas.TokenRecord").fingerprint == JAVA_FINGERPRINTS["TokenRecord"]


@pytest.mark.parametrize("name", ["TokenRecord", "FeatureRecord", "DeadLetterRecord", "DuplicateRecord"])
def test_python3_avro_canonical_form_is_wrong_for_logical_types(name):
    """The trap: python3-avro 1.11 keeps {"type":"long"} for timestamp-millis fields, so its fingerprint
    of every record with a timestamp differs from Java's and no Java reader would recognise its headers."""
    theirs = get_schema(name).schema.canonical_form
    assert '{"type":"long"}' in theirs
    assert theirs != get_schema(name).canonical_form
    assert crc64_avro(theirs.encode()) != JAVA_FINGERPRINTS[name]


def test_python3_avro_agrees_without_logical_types():
    assert get_schema("ImageRecord").schema.canonical_form == get_schema("ImageRecord").canonical_form


def test_all_schema_files_loaded_from_the_shared_folder():
    names = {entry.name for entry in schema_dir().iterdir() if entry.name.endswith(".avsc")}
    assert {n + ".avsc" for n in load_schemas()} == names
    assert {"FailureStage.avsc", "FeatureKind.avsc", "FeatureValueType.avsc", "TokenIdType.avsc"} <= names


def test_pcf_rules_on_a_synthetic_schema():
    schema = {
        "type": "record", "name": "Outer", "namespace": "a.b", "doc": "dropped", "aliases": ["X"],
        "fields": [
            {"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros"}, "default": 0, "doc": "d"},
            {"name": "i", "type": {"type": "int"}},
            {"name": "h", "type": {"size": 16, "type": "fixed", "name": "Hash", "namespace": "c"}},
            {"name": "h2", "type": "c.Hash"},
            {"name": "e", "type": ["null", {"type": "enum", "name": "E", "symbols": ["x", "y"], "default": "x"}]},
            {"name": "m", "type": {"values": "E", "type": "map"}},
            {"name": "arr", "type": {"type": "array", "items": "string", "order": "ignore"}},
            {"name": "n", "type": {"type": "record", "name": "x.Inner", "fields": [{"name": "z", "type": "c.Hash"}]}},
        ],
    }
    named = {}
    from vqrae_schemas._schemas import _definitions
    _definitions(schema, None, named)
    form = parsing_canonical_form(schema, named)
    assert form == (
        '{"name":"a.b.Outer","type":"record","fields":['
        '{"name":"t","type":"long"},{"name":"i","type":"int"},'
        '{"name":"h","type":{"name":"c.Hash","type":"fixed","size":16}},{"name":"h2","type":"c.Hash"},'
        '{"name":"e","type":["null",{"name":"a.b.E","type":"enum","symbols":["x","y"]}]},'
        '{"name":"m","type":{"type":"map","values":"a.b.E"}},'
        '{"name":"arr","type":{"type":"array","items":"string"}},'
        '{"name":"n","type":{"name":"x.Inner","type":"record","fields":[{"name":"z","type":"c.Hash"}]}}]}')


def test_crc64_of_empty_input_is_the_seed():
    assert crc64_avro(b"") == 0xC15D213AA4D7A795
