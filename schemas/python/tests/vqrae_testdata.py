"""Fixture builders: records, WebDataset shards and Avro runs laid out per the Java side's contract."""

from __future__ import annotations

import io
import json
import os
import tarfile
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence

import avro.datafile
import avro.io
import numpy as np

from vqrae_schemas._schemas import get_schema
from vqrae_schemas.files import webdataset_key

CODEBOOK = "cd" * 32
OTHER_CODEBOOK = "ef" * 32
WHEN = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


def bf16_bits(values: np.ndarray) -> np.ndarray:
    """bfloat16 bits (upper half of float32, round-to-nearest-even) as uint16."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def feature_array(sample_id: str, dtype: str, shape: Sequence[int]) -> np.ndarray:
    """Deterministic feature values of an id, as the .npy/values array (bfloat16 as uint16 bits)."""
    seed = sum(sample_id.encode()) % 1000
    values = (np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + seed) / 8.0 - 3.0
    if dtype == "float32":
        return values.astype("<f4")
    if dtype == "float16":
        return values.astype("<f2")
    return bf16_bits(values).astype("<u2")


def token_grid(sample_id: str, grid=(2, 3), codebook_size: int = 1024) -> np.ndarray:
    seed = sum(sample_id.encode())
    return ((np.arange(grid[0] * grid[1], dtype=np.int64) * 7919 + seed) % codebook_size).reshape(grid)


def token_record(sample_id: str, grid=(2, 3), codebook_size: int = 1024, codebook: str = CODEBOOK, **extra) -> dict:
    wide = codebook_size > 65536
    ids = token_grid(sample_id, grid, codebook_size)
    record = {
        "id": sample_id, "image_sha256": "ab" * 32, "model_id": "vqrae-tiny", "model_version": "1",
        "codebook_sha256": codebook, "grid_height": grid[0], "grid_width": grid[1], "codebook_size": codebook_size,
        "dtype": "uint32" if wide else "uint16", "token_ids": ids.astype("<u4" if wide else "<u2").tobytes(),
        "mean_quant_error": 0.5, "source_topic": None, "source_partition": None, "source_offset": None,
        "processed_at": WHEN, "metadata": None, "text": None, "source_uri": None,
    }
    record.update(extra)
    return record


def feature_record(sample_id: str, dtype: str = "float16", shape=(6, 4), kind: str = "per_token",
                   codebook: str = CODEBOOK) -> dict:
    return {
        "id": sample_id, "image_sha256": "ab" * 32, "model_id": "vqrae-tiny", "model_version": "1",
        "codebook_sha256": codebook, "kind": kind, "shape": list(shape), "dtype": dtype,
        "values": feature_array(sample_id, dtype, shape).tobytes(), "source_topic": None,
        "source_partition": None, "source_offset": None, "processed_at": WHEN,
        "metadata": None, "text": None, "source_uri": None,
    }


def dead_letter(sample_id: Optional[str], reason: str = "truncated") -> dict:
    return {"id": sample_id, "stage": "decode", "reason": reason, "message": "boom", "original": b"\x00\x01",
            "original_size": 2, "source_topic": None, "source_partition": None, "source_offset": None,
            "failed_at": WHEN}


def write_success(directory: str, fmt: str, counts: Dict[str, int], features: str = "per-token",
                  codebook: str = CODEBOOK) -> None:
    with open(os.path.join(directory, "_SUCCESS.json"), "w") as f:
        json.dump({"format": fmt, "counts": counts, "model_id": "vqrae-tiny", "model_version": "1",
                   "codebook_sha256": codebook, "features": features,
                   "completed_at": "2024-05-01T12:00:01.5Z"}, f)


def write_avro(path: str, schema_name: str, records: List[dict]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        writer = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), get_schema(schema_name).schema)
        for record in records:
            writer.append(record)
        writer.close()


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1714564800
    tar.addfile(info, io.BytesIO(data))


def webdataset_sample_members(sample_id: str, grid=(2, 3), codebook_size: int = 1024, features: Optional[str] = "float16",
                              kind: str = "per_token", codebook: str = CODEBOOK, metadata=None, text=None,
                              duplicate_of: Optional[str] = None, key: Optional[str] = None,
                              paired: bool = False) -> List[tuple]:
    """A sample's members as the Java writer makes them; a duplicate is JSON alone, or ``paired`` with the
    tokens of ``duplicate_of`` (no features, which are the first input's)."""
    key = webdataset_key(sample_id) if key is None else key
    source = {"path": f"/data/{sample_id}", "member": None}
    if duplicate_of is not None and not paired:
        meta = {"id": sample_id, "image_sha256": "ab" * 32, "duplicate_of": duplicate_of, "source": source,
                "metadata": metadata, "text": text}
        return [(key + ".json", json.dumps(meta).encode())]
    if duplicate_of is not None:
        features = None
    shape = [grid[0] * grid[1], 4] if kind == "per_token" else [4]
    meta = {"id": sample_id, "image_sha256": "ab" * 32, "model_id": "vqrae-tiny", "model_version": "1",
            "codebook_sha256": codebook, "codebook_size": codebook_size, "grid": list(grid), "mean_quant_error": 0.5,
            "features": None if features is None else {"kind": kind, "dtype": features, "shape": shape},
            "source": source, "metadata": metadata, "text": text, "processed_at": "2024-05-01T12:00:00.123Z"}
    if duplicate_of is not None:
        meta["duplicate_of"] = duplicate_of
    tokens = token_grid(duplicate_of or sample_id, grid, codebook_size).astype("<u4" if codebook_size > 65536 else "<u2")
    members = [(key + ".json", json.dumps(meta).encode()), (key + ".tokens.npy", _npy(tokens))]
    if features is not None:
        members.append((key + ".features.npy", _npy(feature_array(sample_id, features, shape))))
    return members


def write_shard(path: str, samples: List[List[tuple]]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for members in samples:
            for name, data in members:
                _add(tar, name, data)


def ids(n: int, prefix: str = "img") -> List[str]:
    return [f"{prefix}.{i:04d}.jpg" for i in range(n)]


def write_webdataset_run(directory: str, sample_ids: List[str], shards: int = 5, complete: bool = True,
                         index: bool = False, **kw) -> None:
    """A run's shards; with ``index`` (as a completed run of today's writer has) ``shards.json`` too, and shards
    of uneven sizes: shard s holds a contiguous run of ids, the first twice as many as the others."""
    if index:
        weights = [2] + [1] * (shards - 1)
        bounds = [0]
        for w in weights:
            bounds.append(bounds[-1] + len(sample_ids) * w // sum(weights))
        bounds[-1] = len(sample_ids)
        groups = [sample_ids[bounds[s]:bounds[s + 1]] for s in range(shards)]
    else:
        groups = [sample_ids[s::shards] for s in range(shards)]
    shardlist = []
    for s, group in enumerate(groups):
        name = f"shard-000-{s:06d}.tar" if index else f"part-0-{s}.tar"
        path = os.path.join(directory, "webdataset", name)
        write_shard(path, [webdataset_sample_members(i, **kw) for i in group])
        shardlist.append({"url": name, "nsamples": len(group), "filesize": os.path.getsize(path)})
    if index:
        with open(os.path.join(directory, "webdataset", "shards.json"), "w", encoding="utf-8") as f:
            json.dump({"__kind__": "wids-shard-index-v1", "wids_version": 1, "name": "test", "shardlist": shardlist}, f)
    if complete:
        write_success(directory, "webdataset", {"inputs": len(sample_ids), "tokens": len(sample_ids),
                                                "features": len(sample_ids), "dead_letters": 0, "duplicates": 0})


def write_avro_run(directory: str, sample_ids: List[str], files: int = 3, features: Optional[str] = "float16",
                   complete: bool = True) -> None:
    for s in range(files):
        write_avro(os.path.join(directory, "tokens", f"part-{s}-0.avro"),
                   "TokenRecord", [token_record(i) for i in sample_ids[s::files]])
    if features is not None:
        # Features in a different file split and order than tokens, as a parallel sink may write them.
        rev = list(reversed(sample_ids))
        for s in range(2):
            write_avro(os.path.join(directory, "features", f"part-{s}-0.avro"),
                       "FeatureRecord", [feature_record(i, dtype=features) for i in rev[s::2]])
    if complete:
        write_success(directory, "avro", {"inputs": len(sample_ids), "tokens": len(sample_ids),
                                          "features": len(sample_ids) if features else 0,
                                          "dead_letters": 0, "duplicates": 0},
                      features="per-token" if features else "off")
