"""Records written by released schema versions (schemas/fixtures/v1, written by the v1 Java code) read by today's readers."""

import json
import os

import pytest

from vqrae_schemas import AvroFiles, SchemaMismatchError, decode, released_fingerprints

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "fixtures", "v1")

# The same table as Java's SchemaEvolutionTest: released fingerprints never change.
RELEASED = {
    "ImageRecord": [0xb71e02054e15662f],
    "TokenRecord": [0xdbe90410bbaca45c, 0xb3d1732017e7395c],
    "FeatureRecord": [0x1f2b87979e7428ed, 0xec94a93c9d285822],
    "DeadLetterRecord": [0x0433aab785dd67ed],
    "DuplicateRecord": [0xad0a85ac5bd79a87, 0x1ece1c93f9e9e64c],
}


def _expected():
    with open(os.path.join(FIXTURES, "expected.json"), encoding="utf-8") as f:
        return json.load(f)


def _fixture(name):
    with open(os.path.join(FIXTURES, "single-object", name + ".bin"), "rb") as f:
        return f.read()


def test_released_fingerprints_match_java():
    assert released_fingerprints() == RELEASED


def test_v1_single_object_records_decode_into_todays_shape():
    expected = _expected()
    value = _fixture("TokenRecord-v1-b.png")
    assert int.from_bytes(value[2:10], "little") == 0xdbe90410bbaca45c
    name, token = decode(value, expected="TokenRecord")
    assert name == "TokenRecord"
    want = expected["tokens"]["v1-b.png"]
    assert token["id"] == "v1-b.png"
    assert token["image_sha256"] == want["image_sha256"]
    assert (token["grid_height"], token["grid_width"]) == (16, 16)
    ids = [int.from_bytes(token["token_ids"][i:i + 2], "little") for i in range(0, len(token["token_ids"]), 2)]
    assert ids == want["token_ids"] and len(ids) == 256
    assert int(token["processed_at"].timestamp() * 1000) == want["processed_at"]

    name, feature = decode(_fixture("FeatureRecord-v1-a-copy.png"))
    assert (name, feature["kind"], feature["shape"]) == ("FeatureRecord", "pooled", [128])
    assert feature["values"].hex() == expected["features"]["v1-a-copy.png"]["values_hex"]

    name, duplicate = decode(_fixture("DuplicateRecord-v1-a.png"))
    assert (name, duplicate["id"], duplicate["duplicate_of"]) == ("DuplicateRecord", "v1-a.png", "v1-a-copy.png")
    name, dead = decode(_fixture("DeadLetterRecord-v1-broken.png"))
    assert (name, dead["id"], dead["reason"]) == ("DeadLetterRecord", "v1-broken.png", "unsupported_format")
    name, image = decode(_fixture("ImageRecord-v1-image"))
    assert (name, image["id"], image["source_uri"], image["metadata"]) == (
        "ImageRecord", "v1-image", "file:///fixtures/v1-a.png", {"caption": "a v1 image record"})


def test_a_v1_record_of_another_type_is_refused():
    with pytest.raises(SchemaMismatchError, match="expected a TokenRecord, got a FeatureRecord"):
        decode(_fixture("FeatureRecord-v1-b.png"), expected="TokenRecord")


def test_v1_avro_run_reads_with_todays_dataset():
    expected = _expected()
    samples = {s["id"]: s for s in AvroFiles(os.path.join(FIXTURES, "corpus-avro"), duplicates="include")}
    assert sorted(samples) == ["v1-a-copy.png", "v1-a.png", "v1-b.png"]
    for sample_id in ("v1-a-copy.png", "v1-b.png"):
        sample = samples[sample_id]
        assert sample["token_ids"].tolist() == expected["tokens"][sample_id]["token_ids"]
        assert sample["features"].shape == (128,) and sample["feature_kind"] == "pooled"
        assert (sample["text"], sample["metadata"]) == (None, None)
    assert samples["v1-a.png"]["duplicate_of"] == "v1-a-copy.png"
