import io
from datetime import datetime, timezone

import avro.io
import pytest

from vqrae_schemas import SchemaMismatchError, decode, encode, encode_image_record, fingerprints, released_fingerprints
from vqrae_schemas._schemas import get_schema
from vqrae_schemas.conversions import sample_from_records

from vqrae_testdata import dead_letter, feature_record, token_record, WHEN

# Written by Java (avro 1.12.1 BinaryMessageEncoder, GenericRecord) once, with TokenRecord v1; see test_fingerprints.
JAVA_TOKEN_RECORD = bytes.fromhex(
    "c3015ca4acbb1004e9db18696d672e303030312e6a70678001616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261621476717261652d74696e7902318001636463646364636463646364636463646364636463646364636463646364636463646364636463646364636463646364636463646364636463646364636463640404e0c508022001000000ffff000070110100000000000000803e020c696d6167657302060254f6a1abfef962")
JAVA_IMAGE_RECORD = bytes.fromhex("c3012f66154e05021eb70a612e706e670889504e4700021070726f6475636572086a61766100")

RECORDS = {
    "TokenRecord": token_record("a.jpg", codebook_size=70000, source_topic="t", source_partition=1, source_offset=5),
    "FeatureRecord": feature_record("a.jpg", dtype="bfloat16"),
    "DeadLetterRecord": dead_letter(None, "malformed_record"),
    "DuplicateRecord": {"id": "b", "image_sha256": "ab" * 32, "duplicate_of": "a", "source_path": "/x/b.jpg",
                        "source_topic": None, "source_partition": None, "source_offset": None, "detected_at": WHEN,
                        "metadata": '{"license": "cc-by"}', "text": "a caption", "source_uri": "s3://b/b.jpg"},
    "ImageRecord": {"id": "x", "image": b"\x89PNG", "source_uri": None, "metadata": {"k": "v"}},
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_round_trip(name):
    value = encode(name, RECORDS[name])
    assert value[:2] == b"\xc3\x01"
    assert int.from_bytes(value[2:10], "little") == fingerprints()[name]
    assert decode(value) == (name, RECORDS[name])


def test_body_is_plain_avro_binary():
    value = encode("TokenRecord", RECORDS["TokenRecord"])
    out = io.BytesIO()
    avro.io.DatumWriter(get_schema("TokenRecord").schema).write(RECORDS["TokenRecord"], avro.io.BinaryEncoder(out))
    assert value[10:] == out.getvalue()


def test_decodes_java_bytes():
    name, record = decode(JAVA_TOKEN_RECORD)
    assert name == "TokenRecord"
    assert record["id"] == "img.0001.jpg" and record["dtype"] == "uint32" and record["codebook_size"] == 70000
    assert record["processed_at"] == datetime.fromtimestamp(1700000000.123, tz=timezone.utc)
    assert (record["source_topic"], record["source_partition"], record["source_offset"]) == ("images", 3, 42)
    assert (record["metadata"], record["text"], record["source_uri"]) == (None, None, None)  # v2's fields, v1's record
    sample = sample_from_records(record)
    assert sample["token_ids"].tolist() == [1, 65535, 70000, 0] and sample["grid"] == (2, 2)
    # Written again it is a v2 record: the v2 fingerprint, v1's datum, then the three new fields' null branches.
    assert encode("TokenRecord", record) == (
        b"\xc3\x01" + fingerprints()["TokenRecord"].to_bytes(8, "little") + JAVA_TOKEN_RECORD[10:] + b"\x00\x00\x00")


def test_encode_image_record_matches_java():
    assert encode_image_record("a.png", b"\x89PNG", metadata={"producer": "java"}) == JAVA_IMAGE_RECORD
    assert decode(JAVA_IMAGE_RECORD) == ("ImageRecord", {"id": "a.png", "image": b"\x89PNG", "source_uri": None,
                                                         "metadata": {"producer": "java"}})


def test_unknown_fingerprint_names_found_and_known():
    value = b"\xc3\x01" + (0x1122334455667788).to_bytes(8, "little") + b"\x00"
    with pytest.raises(SchemaMismatchError) as e:
        decode(value)
    assert "0x1122334455667788" in str(e.value)
    for name, fps in released_fingerprints().items():
        assert f"{name} " + ", ".join(f"v{i}=0x{fp:016x}" for i, fp in enumerate(fps, 1)) in str(e.value)


@pytest.mark.parametrize("value", [b"", b"\xc3\x01\x00", b"\x00\x01" + bytes(8) + b"x", None])
def test_bad_header(value):
    with pytest.raises(SchemaMismatchError, match="single-object|tombstone"):
        decode(value)


def test_expected_type():
    value = encode("DeadLetterRecord", RECORDS["DeadLetterRecord"])
    with pytest.raises(SchemaMismatchError, match="expected a TokenRecord, got a DeadLetterRecord"):
        decode(value, expected="TokenRecord")
    assert decode(value, expected="DeadLetterRecord")[0] == "DeadLetterRecord"


def test_unknown_schema_name():
    with pytest.raises(KeyError, match="NoSuchRecord"):
        encode("NoSuchRecord", {})
