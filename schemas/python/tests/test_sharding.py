import collections

import pytest
import torch
from torch.utils.data import DataLoader

from vqrae_schemas import AvroFiles, WebDatasetShards
from vqrae_schemas._common import reader_slot, resolve_rank, split
from vqrae_schemas.kafka import partitions_for_reader

import vqrae_testdata as td


@pytest.mark.parametrize("n", [0, 1, 3, 4, 7, 12])
@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_split_is_a_partition(n, count):
    items = list(range(n))
    parts = [split(items, i, count) for i in range(count)]
    assert sorted(x for p in parts for x in p) == items


def test_reader_slot_is_rank_major():
    slots = [reader_slot(r, 2, w, 2) for r in range(2) for w in range(2)]
    assert slots == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert reader_slot(0, 1) == (0, 1)  # outside a DataLoader worker


def test_kafka_partitions_split():
    assert partitions_for_reader(6, 1, 4) == [1, 5]
    assert partitions_for_reader(2, 3, 4) == []
    assert sorted(p for i in range(4) for p in partitions_for_reader(10, i, 4)) == list(range(10))


def test_resolve_rank():
    assert resolve_rank(None, None) == (0, 1)
    assert resolve_rank(1, 2) == (1, 2)
    with pytest.raises(ValueError):
        resolve_rank(2, 2)


def _all_ranks(make, world_size=2, num_workers=2):
    seen = collections.Counter()
    for rank in range(world_size):
        loader = DataLoader(make(rank, world_size), batch_size=None, num_workers=num_workers)
        for sample in loader:
            seen[sample["id"]] += 1
    return seen


def test_webdataset_every_sample_once_across_2_ranks_x_2_workers(tmp_path):
    d = str(tmp_path)
    ids = td.ids(23)
    td.write_webdataset_run(d, ids, shards=7)
    seen = _all_ranks(lambda r, w: WebDatasetShards(d, rank=r, world_size=w))
    assert sorted(seen) == ids and set(seen.values()) == {1}


def test_webdataset_index_splits_samples_evenly_across_2_ranks_x_2_workers(tmp_path):
    d = str(tmp_path)
    ids = td.ids(23)
    td.write_webdataset_run(d, ids, shards=3, index=True)
    per_reader = collections.Counter()
    seen = collections.Counter()
    for rank in range(2):
        for worker in range(2):
            dataset = WebDatasetShards(d, rank=rank, world_size=2)
            # What a DataLoader worker sees: its slot among the 2 x 2 readers.
            for shard, key, members in _as_worker(dataset, worker, 2):
                seen[key] += 1
                per_reader[(rank, worker)] += 1
    assert sorted(seen) == sorted(td.webdataset_key(i) for i in ids) and set(seen.values()) == {1}
    # Contiguous ranges of 23 over 4 readers: 5, 6, 6, 6, though the shards hold 11, 6 and 6.
    assert sorted(per_reader.values()) == [5, 6, 6, 6]
    loaded = _all_ranks(lambda r, w: WebDatasetShards(d, rank=r, world_size=w))
    assert sorted(loaded) == ids and set(loaded.values()) == {1}


def _as_worker(dataset, worker_id, num_workers):
    from unittest import mock
    info = mock.Mock(id=worker_id, num_workers=num_workers)
    with mock.patch("torch.utils.data.get_worker_info", return_value=info):
        yield from dataset._my_samples()


def test_avro_every_sample_once_across_2_ranks_x_2_workers(tmp_path):
    d = str(tmp_path)
    ids = td.ids(19)
    td.write_avro_run(d, ids, files=5)
    seen = _all_ranks(lambda r, w: AvroFiles(d, rank=r, world_size=w))
    assert sorted(seen) == ids and set(seen.values()) == {1}


def test_features_survive_workers(tmp_path):
    d = str(tmp_path)
    td.write_avro_run(d, td.ids(4), files=2, features="bfloat16")
    samples = list(DataLoader(AvroFiles(d), batch_size=None, num_workers=2))
    assert len(samples) == 4 and all(s["features"].dtype == torch.bfloat16 for s in samples)
