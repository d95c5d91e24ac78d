"""Batches of 8 through a torch DataLoader, from each dataset's samples (PyTorch's default collate refuses them)."""

from datetime import datetime

import pytest
import torch
from torch.utils.data import DataLoader
from torch.utils.data.dataloader import default_collate

from vqrae_schemas import AvroFiles, WebDatasetShards, collate
from vqrae_schemas.conversions import sample_from_records

import vqrae_testdata as td


def _check_batches(batches, ids):
    assert [len(b["id"]) for b in batches] == [8, 8, 4]
    assert [i for b in batches for i in b["id"]] == ids
    for b in batches:
        n = len(b["id"])
        assert b["token_ids"].dtype == torch.int64 and b["token_ids"].shape == (n, 6)
        for row, sample_id in zip(b["token_ids"], b["id"]):
            assert row.tolist() == td.token_grid(sample_id).reshape(-1).tolist()
        assert b["grid"].tolist() == [[2, 3]] * n
        assert b["codebook_size"].tolist() == [1024] * n
        assert all(isinstance(t, datetime) and t.year == 2024 for t in b["processed_at"])


def test_webdataset_shards_batch_in_a_dataloader(tmp_path):
    ids = td.ids(20)
    td.write_webdataset_run(str(tmp_path), ids, shards=3, index=True)
    dataset = WebDatasetShards(str(tmp_path))
    with pytest.raises(TypeError):
        next(iter(DataLoader(dataset, batch_size=8)))  # default_collate: the Nones and the datetime
    batches = list(DataLoader(dataset, batch_size=8, collate_fn=collate))
    _check_batches(batches, ids)
    for b in batches:
        assert b["features"].dtype == torch.float16 and b["features"].shape == (len(b["id"]), 6, 4)
        assert b["metadata"] == [None] * len(b["id"])


def test_avro_files_batch_in_a_dataloader(tmp_path):
    ids = td.ids(20)
    td.write_avro_run(str(tmp_path), ids, files=1, features=None)
    batches = list(DataLoader(AvroFiles(str(tmp_path)), batch_size=8, collate_fn=collate))
    _check_batches(batches, ids)
    assert all(b["features"] == [None] * len(b["id"]) for b in batches)


def test_kafka_samples_batch_too():
    # KafkaTokenDataset yields sample_from_records of the topics' records: the same dicts.
    samples = [sample_from_records(td.token_record(i, source_topic="vqrae.tokens", source_partition=0, source_offset=n))
               for n, i in enumerate(td.ids(8))]
    with pytest.raises(TypeError):
        default_collate(samples)
    batch = collate(samples)
    assert batch["source_offset"].tolist() == list(range(8)) and batch["source_topic"] == ["vqrae.tokens"] * 8
    assert batch["token_ids"].shape == (8, 6) and batch["features"] == [None] * 8
    mixed = samples[:2] + [dict(samples[2], features=torch.zeros(3)), dict(samples[3], mean_quant_error=None)]
    batch = collate(mixed)
    assert batch["features"][:2] == [None, None] and batch["features"][2].shape == (3,)
    assert batch["mean_quant_error"][3] is None
