"""Readers for the output directory of ``bin/vqrae tokenize-corpus --output DIR``.

Layout (written by the Java side)::

    DIR/_SUCCESS.json          written last, when a bounded run completed
    DIR/webdataset/*.tar       format webdataset: KEY.json, KEY.tokens.npy[, KEY.features.npy] per image
    DIR/webdataset/shards.json format webdataset: the shard index (wids layout: url, nsamples per shard)
    DIR/tokens/*.avro          format avro: TokenRecord container files
    DIR/features/*.avro        format avro: FeatureRecord container files
    DIR/duplicates/*.avro      format avro: DuplicateRecord container files
    DIR/dead-letters/*.avro    every format: DeadLetterRecord container files

A directory without ``_SUCCESS.json`` is refused unless ``allow_incomplete=True``:
a run still writing or one that failed holds only part of the corpus, and
training on it silently would be worse than an error. Files and folders whose
names start with ``.`` or ``_`` are skipped (Flink's in-progress part files are
hidden, and ``_SUCCESS.json`` is metadata). Folders are walked recursively, so
Flink bucket sub-folders work too.

Parquet outputs (``DIR/tokens/*.parquet``...) have no reader here: read them with
pyarrow or any Parquet engine.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import urllib.parse
from datetime import datetime
from typing import Dict, Iterator, List, Optional

import avro.datafile
import avro.errors
import avro.io
import numpy as np
import torch.utils.data

from ._common import CodebookGuard, reader_slot, resolve_rank, split
from .conversions import feature_array_to_tensor, make_sample, metadata_value, sample_from_records, token_array_to_tensor

SUCCESS_FILE = "_SUCCESS.json"


class IncompleteRunError(RuntimeError):
    """The output directory has no ``_SUCCESS.json``: the run did not complete."""


def read_manifest(directory: str) -> dict:
    """The run's ``_SUCCESS.json`` (format, counts, model, codebook, features mode, completed_at)."""
    path = os.path.join(directory, SUCCESS_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise IncompleteRunError(
            f"{directory} has no {SUCCESS_FILE}: the tokenize-corpus run is still writing, failed, or this is not "
            f"its output directory (pass allow_incomplete=True to read what is there)") from None


def _manifest(directory: str, allow_incomplete: bool, expected_format: Optional[str] = None) -> Optional[dict]:
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no such output directory: {directory}")
    try:
        manifest = read_manifest(directory)
    except IncompleteRunError:
        if allow_incomplete:
            return None
        raise
    if expected_format is not None and manifest.get("format") != expected_format:
        raise ValueError(f"{directory} holds format {manifest.get('format')!r}, not {expected_format!r}"
                         + ("; there is no Python Parquet reader here, use pyarrow" if manifest.get("format") == "parquet" else ""))
    return manifest


def _visible(name: str) -> bool:
    return not name.startswith((".", "_"))


def list_files(folder: str, suffix: str) -> List[str]:
    """Visible files under ``folder`` (recursively) ending with ``suffix``, sorted by relative path."""
    found = []
    if not os.path.isdir(folder):
        return found
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if _visible(d)]
        found.extend(os.path.join(root, f) for f in files if _visible(f) and f.endswith(suffix))
    return sorted(found, key=lambda path: os.path.relpath(path, folder))


def webdataset_key(sample_id: str) -> str:
    """The tar member key of an id: ``%`` -> ``%25`` and ``.`` -> ``%2E``.

    WebDataset's key is the member name up to the first dot, so a dot in an id
    would split it; the real id is in ``KEY.json``.
    """
    return sample_id.replace("%", "%25").replace(".", "%2E")


def _read_avro(path: str) -> Iterator[dict]:
    with open(path, "rb") as f:
        try:
            reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        except avro.errors.UnsupportedCodec as e:
            raise ValueError(f"{path}: {e}; python3-avro reads the null, deflate and bzip2 codecs only") from e
        with reader:
            yield from reader


def read_dead_letters(directory: str, allow_incomplete: bool = False) -> Iterator[dict]:
    """DeadLetterRecords of ``DIR/dead-letters/*.avro`` as dicts (``failed_at`` as datetime), lazily."""
    _manifest(directory, allow_incomplete)
    files = list_files(os.path.join(directory, "dead-letters"), ".avro")

    def records() -> Iterator[dict]:
        for path in files:
            yield from _read_avro(path)
    return records()


class _FileDataset(torch.utils.data.IterableDataset):
    DUPLICATE_MODES = ("skip", "include")

    def __init__(self, directory: str, features: bool, duplicates: str, rank: Optional[int],
                 world_size: Optional[int], allow_mixed_codebooks: bool, allow_incomplete: bool, fmt: str):
        super().__init__()
        if duplicates not in self.DUPLICATE_MODES:
            raise ValueError(f"duplicates must be one of {', '.join(map(repr, self.DUPLICATE_MODES))}, not {duplicates!r}")
        self.directory = directory
        self.manifest = _manifest(directory, allow_incomplete, fmt)
        self.features = features
        self.duplicates = duplicates
        self.rank, self.world_size = resolve_rank(rank, world_size)
        self.allow_mixed_codebooks = allow_mixed_codebooks

    def _guard(self) -> CodebookGuard:
        expected = None if self.manifest is None else self.manifest.get("codebook_sha256")
        return CodebookGuard(self.allow_mixed_codebooks, expected)

    def _mine(self, files: List[str]) -> List[str]:
        return split(files, *reader_slot(self.rank, self.world_size))


INDEX_FILE = "shards.json"


def read_shard_index(directory: str) -> Optional[dict]:
    """``DIR/webdataset/shards.json``, the index a completed run writes (wids layout), or None without one."""
    path = os.path.join(directory, "webdataset", INDEX_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if index.get("__kind__") != "wids-shard-index-v1":
        raise ValueError(f"{path} is not a wids shard index (__kind__ {index.get('__kind__')!r})")
    return index


def sample_range(total: int, index: int, count: int) -> tuple:
    """[start, end) of the ``total`` samples that reader ``index`` of ``count`` owns: contiguous, sizes within one."""
    if not 0 <= index < count:
        raise ValueError(f"reader {index} is not in [0, {count})")
    return total * index // count, total * (index + 1) // count


class WebDatasetShards(_FileDataset):
    """Samples from ``DIR/webdataset/*.tar``, split across ranks and DataLoader workers.

    A completed run has an index of its shards with their sample counts
    (``DIR/webdataset/shards.json``, the wids layout): the samples are then split
    into one contiguous range per reader (rank-major over ranks x workers), sizes
    within one sample of each other however the shards are sized, and a reader
    opens only the shards its range overlaps. Without an index (an incomplete run)
    whole shards are split.

    Args:
        directory: the ``--output`` directory of a webdataset run.
        features: decode ``KEY.features.npy`` (``features`` is None when False or when the run had none).
        duplicates: with deduplication, each duplicate input is a sample of its own, with its own
            ``metadata`` and ``text`` and ``duplicate_of`` naming the input tokenized for the same image.
            ``"pair"`` (default) yields the duplicates that carry their image's tokens like any sample
            (``features`` None: they are the first input's), so every caption reaches training;
            ``"skip"`` yields none; ``"include"`` yields them all, those whose image became a dead
            letter with ``token_ids`` None.
        rank, world_size: default torch.distributed's when initialized, else 0 and 1.
        allow_mixed_codebooks: see ``KafkaTokenDataset``.
        allow_incomplete: read a directory without ``_SUCCESS.json``.
    """

    DUPLICATE_MODES = ("pair", "skip", "include")

    def __init__(self, directory: str, *, features: bool = True, duplicates: str = "pair",
                 rank: Optional[int] = None, world_size: Optional[int] = None,
                 allow_mixed_codebooks: bool = False, allow_incomplete: bool = False):
        super().__init__(directory, features, duplicates, rank, world_size, allow_mixed_codebooks,
                         allow_incomplete, "webdataset")
        self.index = read_shard_index(directory)

    def shards(self) -> List[str]:
        """Every shard of the run, in the order they are split: the index's, else the visible ones listed."""
        folder = os.path.join(self.directory, "webdataset")
        if self.index is not None:
            return [os.path.join(folder, shard["url"]) for shard in self.index["shardlist"]]
        return list_files(folder, ".tar")

    def _my_samples(self) -> Iterator[tuple]:
        """(shard, key, members) of this reader's samples."""
        if self.index is None:
            for shard in self._mine(self.shards()):
                for key, members in _tar_groups(shard):
                    yield shard, key, members
            return
        counts = [int(shard["nsamples"]) for shard in self.index["shardlist"]]
        start, end = sample_range(sum(counts), *reader_slot(self.rank, self.world_size))
        first = 0
        for shard, count in zip(self.shards(), counts):
            if first + count > start and first < end:
                for position, (key, members) in enumerate(_tar_groups(shard), first):
                    if position >= end:
                        break
                    if position >= start:
                        yield shard, key, members
            first += count

    def __iter__(self) -> Iterator[dict]:
        guard = self._guard()
        for shard, key, members in self._my_samples():
            sample = self._sample(shard, key, members)
            if sample is None:
                continue
            guard.check(sample)
            yield sample

    def _sample(self, shard: str, key: str, members: Dict[str, bytes]) -> Optional[dict]:
        if "json" not in members:
            raise ValueError(f"{shard}: sample {key!r} has no {key}.json (members: {sorted(members)})")
        meta = json.loads(members["json"])
        sample_id = meta["id"]
        if sample_id not in (urllib.parse.unquote(key), urllib.parse.unquote(os.path.basename(key))):
            raise ValueError(f"{shard}: member key {key!r} does not encode the JSON id {sample_id!r}")
        source = meta.get("source") or {}
        common = dict(id=sample_id, image_sha256=meta.get("image_sha256"), metadata=meta.get("metadata"),
                      text=meta.get("text"), source_uri=source.get("path"), source_path=source.get("path"),
                      source_member=source.get("member"),
                      source_topic=source.get("topic"))
        duplicate_of = meta.get("duplicate_of")
        if duplicate_of is not None:
            common["duplicate_of"] = duplicate_of
            if self.duplicates == "skip" or ("tokens.npy" not in members and self.duplicates == "pair"):
                return None
            if "tokens.npy" not in members:
                return make_sample(**common)
        if "tokens.npy" not in members:
            raise ValueError(f"{shard}: sample {key!r} has no {key}.tokens.npy")
        tokens = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
        grid = tuple(int(d) for d in meta["grid"])
        if tuple(tokens.shape) != grid:
            raise ValueError(f"{shard}: {key}.tokens.npy has shape {list(tokens.shape)}, the JSON grid is {list(grid)}")
        features, kind = None, None
        spec = meta.get("features")
        if self.features and spec is not None:
            if "features.npy" not in members:
                raise ValueError(f"{shard}: sample {key!r} declares features but has no {key}.features.npy")
            array = np.load(io.BytesIO(members["features.npy"]), allow_pickle=False)
            features, kind = feature_array_to_tensor(array, spec["dtype"], spec.get("shape")), spec.get("kind")
        return make_sample(
            token_ids=token_array_to_tensor(tokens), grid=grid, codebook_size=meta.get("codebook_size"),
            features=features, feature_kind=kind, model_id=meta.get("model_id"),
            model_version=meta.get("model_version"), codebook_sha256=meta.get("codebook_sha256"),
            mean_quant_error=meta.get("mean_quant_error"), processed_at=_parse_time(meta.get("processed_at")),
            **common)


def _parse_time(value: Optional[str]):
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value


def _tar_groups(path: str) -> Iterator[tuple]:
    """(key, {suffix: bytes}) for each run of consecutive regular members sharing a key, streaming."""
    key, members = None, {}
    with tarfile.open(path, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            folder, base = os.path.split(member.name)
            if "." not in base:
                raise ValueError(f"{path}: member {member.name!r} has no suffix")
            stem, suffix = base.split(".", 1)
            member_key = f"{folder}/{stem}" if folder else stem
            if member_key != key:
                if key is not None:
                    yield key, members
                key, members = member_key, {}
            if suffix in members:
                raise ValueError(f"{path}: sample {member_key!r} has two {suffix} members")
            members[suffix] = tar.extractfile(member).read()
    if key is not None:
        yield key, members


class AvroFiles(_FileDataset):
    """Samples from ``DIR/tokens/*.avro`` (and ``DIR/features/*.avro``) of an avro run.

    Token files are split across ranks and DataLoader workers. Feature records
    sit in files of their own with no order shared with the token files, so
    with ``features=True`` each reader first reads the ids of its token files,
    then scans *all* feature files keeping the records of those ids: every
    reader reads the whole features folder once (I/O = readers x its size) and
    holds its share of the features in memory (about the features folder's size
    divided by the number of readers), before yielding its first sample.

    ``metadata`` (as the JSON value it holds), ``text`` and ``source_uri`` come from
    TokenRecord v2; records of v1 files have none, so they are None, and a folder
    may hold files of both (each file names its writer schema). Duplicates come from
    ``DIR/duplicates/*.avro`` after the tokens, split the same way, with their own
    metadata and text.
    """

    def __init__(self, directory: str, *, features: bool = True, duplicates: str = "skip",
                 rank: Optional[int] = None, world_size: Optional[int] = None,
                 allow_mixed_codebooks: bool = False, allow_incomplete: bool = False):
        super().__init__(directory, features, duplicates, rank, world_size, allow_mixed_codebooks,
                         allow_incomplete, "avro")

    def files(self, kind: str) -> List[str]:
        """Visible ``.avro`` files of ``tokens``, ``features`` or ``duplicates``."""
        return list_files(os.path.join(self.directory, kind), ".avro")

    def __iter__(self) -> Iterator[dict]:
        guard = self._guard()
        token_files = self._mine(self.files("tokens"))
        features: Optional[Dict[str, dict]] = None
        if self.features and self.manifest_features() != "off":
            wanted = {record["id"] for path in token_files for record in _read_avro(path)}
            features = {}
            for path in self.files("features"):
                for record in _read_avro(path):
                    if record["id"] in wanted:
                        features[record["id"]] = record
        for path in token_files:
            for token in _read_avro(path):
                feature = None
                if features is not None:
                    feature = features.pop(token["id"], None)
                    if feature is None and self.manifest_features() is not None:
                        raise ValueError(f"{self.directory}: TokenRecord {token['id']!r} has no FeatureRecord "
                                         f"in features/ (the run's features mode is {self.manifest_features()!r})")
                sample = sample_from_records(token, feature)
                guard.check(sample)
                yield sample
        if self.duplicates == "include":
            for path in self._mine(self.files("duplicates")):
                for dup in _read_avro(path):
                    yield make_sample(id=dup["id"], image_sha256=dup["image_sha256"],
                                      duplicate_of=dup["duplicate_of"], source_path=dup.get("source_path"),
                                      metadata=metadata_value(dup.get("metadata")), text=dup.get("text"),
                                      source_uri=dup.get("source_uri"),
                                      source_topic=dup.get("source_topic"), source_partition=dup.get("source_partition"),
                                      source_offset=dup.get("source_offset"))

    def manifest_features(self) -> Optional[str]:
        """The run's features mode from ``_SUCCESS.json`` (None when reading an incomplete run)."""
        return None if self.manifest is None else self.manifest.get("features")
