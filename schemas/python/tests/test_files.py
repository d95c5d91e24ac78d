import os

import pytest
import torch

from vqrae_schemas import (AvroFiles, IncompleteRunError, MixedCodebooksError, WebDatasetShards, read_dead_letters,
                           read_manifest, webdataset_key)
from vqrae_schemas.conversions import _to_le_bytes

import vqrae_testdata as td


def test_key_escaping():
    assert webdataset_key("a.b%c.jpg") == "a%2Eb%25c%2Ejpg"
    assert webdataset_key("100%.x") == "100%25%2Ex"
    assert webdataset_key("plain") == "plain"


def test_webdataset_samples(tmp_path):
    ids = ["a.b%c.jpg", "x%2E.png", "plain", "dir/sub.img.jpg"]
    d = str(tmp_path)
    td.write_shard(os.path.join(d, "webdataset", "part-0-0.tar"), [
        td.webdataset_sample_members(ids[0], features="bfloat16", metadata={"caption": "hi"}, text="a text"),
        td.webdataset_sample_members(ids[1], features="float32", kind="pooled"),
        td.webdataset_sample_members(ids[2], features="float16", codebook_size=70000, grid=(3, 2)),
        td.webdataset_sample_members(ids[3], features=None),
    ])
    td.write_success(d, "webdataset", {"inputs": 4, "tokens": 4, "features": 3, "dead_letters": 0, "duplicates": 0})
    samples = {s["id"]: s for s in WebDatasetShards(d)}
    assert sorted(samples) == sorted(ids)
    a = samples[ids[0]]
    assert a["metadata"] == {"caption": "hi"} and a["text"] == "a text" and a["source_path"] == f"/data/{ids[0]}"
    assert a["features"].dtype == torch.bfloat16 and a["features"].shape == (6, 4) and a["feature_kind"] == "per_token"
    assert _to_le_bytes(a["features"]) == td.feature_array(ids[0], "bfloat16", [6, 4]).tobytes()
    assert a["token_ids"].tolist() == td.token_grid(ids[0]).reshape(-1).tolist()
    assert a["codebook_sha256"] == td.CODEBOOK and a["grid"] == (2, 3)
    assert a["processed_at"].year == 2024
    b = samples[ids[1]]
    assert b["features"].dtype == torch.float32 and b["features"].shape == (4,) and b["feature_kind"] == "pooled"
    c = samples[ids[2]]
    assert c["grid"] == (3, 2) and c["token_ids"].tolist() == td.token_grid(ids[2], (3, 2), 70000).reshape(-1).tolist()
    assert c["features"].dtype == torch.float16
    assert samples[ids[3]]["features"] is None
    assert all(s["features"] is None for s in WebDatasetShards(d, features=False))


def test_webdataset_key_must_encode_the_id(tmp_path):
    d = str(tmp_path)
    td.write_shard(os.path.join(d, "webdataset", "p.tar"), [td.webdataset_sample_members("a.b", key="other")])
    with pytest.raises(ValueError, match="does not encode"):
        list(WebDatasetShards(d, allow_incomplete=True))


def test_webdataset_duplicates(tmp_path):
    d = str(tmp_path)
    td.write_shard(os.path.join(d, "webdataset", "p.tar"), [
        td.webdataset_sample_members("first", text="first caption"),
        td.webdataset_sample_members("second", duplicate_of="first", metadata={"m": 1}, text="second caption", paired=True),
        td.webdataset_sample_members("of-dead", duplicate_of="dead", text="lost image"),
    ])
    td.write_success(d, "webdataset", {})
    # By default every caption comes with its image's tokens; a duplicate of a dead letter has none to come with.
    paired = list(WebDatasetShards(d))
    assert [s["id"] for s in paired] == ["first", "second"]
    assert paired[1]["duplicate_of"] == "first" and paired[1]["text"] == "second caption"
    assert paired[1]["metadata"] == {"m": 1} and paired[1]["features"] is None
    assert paired[1]["token_ids"].tolist() == paired[0]["token_ids"].tolist()
    assert [s["id"] for s in WebDatasetShards(d, duplicates="skip")] == ["first"]
    every = list(WebDatasetShards(d, duplicates="include"))
    assert [s["id"] for s in every] == ["first", "second", "of-dead"]
    assert every[2]["duplicate_of"] == "dead" and every[2]["token_ids"] is None and every[2]["text"] == "lost image"
    with pytest.raises(ValueError, match="duplicates"):
        WebDatasetShards(d, duplicates="keep")


def test_hidden_files_are_skipped(tmp_path):
    d = str(tmp_path)
    td.write_webdataset_run(d, td.ids(6), shards=2)
    td.write_shard(os.path.join(d, "webdataset", ".part-0-9.tar.inprogress.123"), [td.webdataset_sample_members("h1")])
    td.write_shard(os.path.join(d, "webdataset", "_tmp.tar"), [td.webdataset_sample_members("h2")])
    td.write_shard(os.path.join(d, "webdataset", ".hidden", "x.tar"), [td.webdataset_sample_members("h3")])
    assert sorted(s["id"] for s in WebDatasetShards(d)) == td.ids(6)


def test_incomplete_run_refused(tmp_path):
    d = str(tmp_path)
    td.write_webdataset_run(d, td.ids(3), shards=1, complete=False)
    with pytest.raises(IncompleteRunError, match="_SUCCESS.json"):
        WebDatasetShards(d)
    with pytest.raises(IncompleteRunError):
        read_manifest(d)
    with pytest.raises(IncompleteRunError):
        read_dead_letters(d)
    assert len(list(WebDatasetShards(d, allow_incomplete=True))) == 3


def test_wrong_format_refused(tmp_path):
    d = str(tmp_path)
    td.write_avro_run(d, td.ids(2))
    with pytest.raises(ValueError, match="format 'avro', not 'webdataset'"):
        WebDatasetShards(d)
    td.write_success(d, "parquet", {})
    with pytest.raises(ValueError, match="pyarrow"):
        AvroFiles(d)


def test_codebook_guard_webdataset(tmp_path):
    d = str(tmp_path)
    td.write_shard(os.path.join(d, "webdataset", "p.tar"), [
        td.webdataset_sample_members("a", codebook=td.OTHER_CODEBOOK),
        td.webdataset_sample_members("b", codebook=td.OTHER_CODEBOOK),
        td.webdataset_sample_members("c", codebook=td.CODEBOOK),
    ])
    with pytest.raises(MixedCodebooksError) as e:
        list(WebDatasetShards(d, allow_incomplete=True))
    assert td.CODEBOOK in str(e.value) and td.OTHER_CODEBOOK in str(e.value)
    assert len(list(WebDatasetShards(d, allow_incomplete=True, allow_mixed_codebooks=True))) == 3
    # A complete run names its codebook: a sample with another one is refused at once.
    td.write_success(d, "webdataset", {}, codebook=td.CODEBOOK)
    with pytest.raises(MixedCodebooksError, match="_SUCCESS.json"):
        list(WebDatasetShards(d))


def test_avro_files_with_features(tmp_path):
    d = str(tmp_path)
    ids = td.ids(10)
    td.write_avro_run(d, ids, features="bfloat16")
    samples = list(AvroFiles(d))
    assert sorted(s["id"] for s in samples) == ids
    for s in samples:
        assert s["token_ids"].tolist() == td.token_grid(s["id"]).reshape(-1).tolist()
        assert s["features"].dtype == torch.bfloat16 and s["features"].shape == (6, 4)
        assert _to_le_bytes(s["features"]) == td.feature_array(s["id"], "bfloat16", [6, 4]).tobytes()
        assert s["metadata"] is None and s["processed_at"] == td.WHEN
    assert all(s["features"] is None for s in AvroFiles(d, features=False))


def test_avro_features_off_and_missing(tmp_path):
    d = str(tmp_path / "off")
    td.write_avro_run(d, td.ids(3), features=None)
    assert all(s["features"] is None for s in AvroFiles(d))
    d2 = str(tmp_path / "missing")
    td.write_avro_run(d2, td.ids(3), features="float32")
    os.remove(os.path.join(d2, "features", "part-0-0.avro"))
    with pytest.raises(ValueError, match="has no FeatureRecord"):
        list(AvroFiles(d2))


def test_avro_duplicates_and_guard(tmp_path):
    d = str(tmp_path)
    td.write_avro_run(d, td.ids(2))
    td.write_avro(os.path.join(d, "duplicates", "part-0-0.avro"), "DuplicateRecord", [
        {"id": "dup", "image_sha256": "ab" * 32, "duplicate_of": td.ids(1)[0], "source_path": "/x",
         "source_topic": None, "source_partition": None, "source_offset": None, "detected_at": td.WHEN}])
    assert len(list(AvroFiles(d))) == 2
    got = list(AvroFiles(d, duplicates="include"))
    assert got[-1]["id"] == "dup" and got[-1]["duplicate_of"] == td.ids(1)[0] and got[-1]["source_path"] == "/x"
    td.write_avro(os.path.join(d, "tokens", "part-9-0.avro"), "TokenRecord",
                  [td.token_record("z", codebook=td.OTHER_CODEBOOK)])
    td.write_avro(os.path.join(d, "features", "part-9-0.avro"), "FeatureRecord",
                  [td.feature_record("z", codebook=td.OTHER_CODEBOOK)])
    with pytest.raises(MixedCodebooksError):
        list(AvroFiles(d))
    assert len(list(AvroFiles(d, allow_mixed_codebooks=True))) == 3


def test_dead_letters_and_manifest(tmp_path):
    d = str(tmp_path)
    td.write_webdataset_run(d, td.ids(2), shards=1)
    td.write_avro(os.path.join(d, "dead-letters", "part-0-0.avro"), "DeadLetterRecord",
                  [td.dead_letter("bad.jpg", "truncated"), td.dead_letter(None, "malformed_record")])
    td.write_avro(os.path.join(d, "dead-letters", ".part-1-0.avro.inprogress"), "DeadLetterRecord",
                  [td.dead_letter("hidden.jpg")])
    dead = list(read_dead_letters(d))
    assert [(x["id"], x["reason"], x["stage"]) for x in dead] == [("bad.jpg", "truncated", "decode"),
                                                                 (None, "malformed_record", "decode")]
    assert dead[0]["failed_at"] == td.WHEN and dead[0]["original"] == b"\x00\x01"
    assert read_manifest(d)["format"] == "webdataset"
