"""Raw little-endian record bytes -> torch tensors, and the sample dict every dataset yields.

The records carry token ids and features as raw bytes (not Avro arrays) so Java
does not box every element; these functions are the one place that knows the
byte layouts, so the Kafka, WebDataset and Avro-file readers agree.

Every dataset yields the same keys (``SAMPLE_KEYS``), ``None`` where a source
has no value, so samples from different outputs are interchangeable. Values can
be ``None`` and ``processed_at`` is a ``datetime``, which PyTorch's default
collate refuses: batch them with ``DataLoader(ds, batch_size=8, collate_fn=collate)``.
"""

from __future__ import annotations

import json
import math
from typing import List, Mapping, Optional, Sequence

import numpy as np
import torch

TOKEN_DTYPES = {"uint16": np.dtype("<u2"), "uint32": np.dtype("<u4")}
# bfloat16 is read as int16 bits, then viewed as torch.bfloat16 (numpy has no bfloat16).
FEATURE_DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "bfloat16": np.dtype("<i2")}

SAMPLE_KEYS = (
    "id", "token_ids", "grid", "codebook_size", "features", "feature_kind",
    "image_sha256", "model_id", "model_version", "codebook_sha256", "mean_quant_error",
    "processed_at", "duplicate_of", "metadata", "text", "source_uri",
    "source_path", "source_member", "source_topic", "source_partition", "source_offset",
)


def token_ids_to_tensor(data: bytes, dtype: str, grid_h: int, grid_w: int) -> torch.Tensor:
    """TokenRecord.token_ids (uint16 or uint32, little-endian) -> int64 tensor ``[grid_h * grid_w]``."""
    if dtype not in TOKEN_DTYPES:
        raise ValueError(f"unknown token id dtype {dtype!r}; known: {sorted(TOKEN_DTYPES)}")
    width = TOKEN_DTYPES[dtype].itemsize
    count = int(grid_h) * int(grid_w)
    if len(data) != count * width:
        raise ValueError(f"token_ids holds {len(data)} bytes; a {grid_h}x{grid_w} grid of {dtype} needs {count * width}")
    return torch.from_numpy(np.frombuffer(data, dtype=TOKEN_DTYPES[dtype]).astype(np.int64))


def token_array_to_tensor(array: np.ndarray) -> torch.Tensor:
    """A ``.npy`` token grid (``<u2``/``<u4``, ``[h, w]``) -> int64 tensor ``[h * w]``."""
    if array.dtype.kind != "u" or array.dtype.itemsize not in (2, 4):
        raise ValueError(f"token array has dtype {array.dtype}; expected uint16 or uint32")
    return torch.from_numpy(array.astype(np.int64).reshape(-1))


def features_to_tensor(data: bytes, dtype: str, shape: Sequence[int]) -> torch.Tensor:
    """FeatureRecord.values -> tensor of ``shape``: float32/float16 as such, bfloat16 as torch.bfloat16."""
    if dtype not in FEATURE_DTYPES:
        raise ValueError(f"unknown feature dtype {dtype!r}; known: {sorted(FEATURE_DTYPES)}")
    np_dtype = FEATURE_DTYPES[dtype]
    shape = tuple(int(d) for d in shape)
    if len(data) != math.prod(shape) * np_dtype.itemsize:
        raise ValueError(f"values holds {len(data)} bytes; shape {list(shape)} of {dtype} needs "
                         f"{math.prod(shape) * np_dtype.itemsize}")
    array = np.frombuffer(data, dtype=np_dtype).astype(np_dtype.newbyteorder("="))  # a writable native copy
    return _array_tensor(array.reshape(shape), dtype)


def feature_array_to_tensor(array: np.ndarray, dtype: str, shape: Optional[Sequence[int]] = None) -> torch.Tensor:
    """A ``.npy`` feature array -> tensor; ``dtype`` is the JSON's name (bfloat16 arrives as ``<u2`` bits)."""
    if dtype not in FEATURE_DTYPES:
        raise ValueError(f"unknown feature dtype {dtype!r}; known: {sorted(FEATURE_DTYPES)}")
    want = FEATURE_DTYPES[dtype]
    if array.dtype.itemsize != want.itemsize or (dtype != "bfloat16" and array.dtype.kind != "f"):
        raise ValueError(f"feature array has dtype {array.dtype}; {dtype} needs {want.itemsize}-byte elements")
    if shape is not None and tuple(array.shape) != tuple(int(d) for d in shape):
        raise ValueError(f"feature array has shape {list(array.shape)}; the JSON says {list(shape)}")
    array = array.astype(array.dtype.newbyteorder("="), copy=True)  # native order, writable
    if dtype == "bfloat16":
        array = array.view(np.int16)  # the bits; torch views them as bfloat16
    return _array_tensor(array, dtype)


def _array_tensor(array: np.ndarray, dtype: str) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor.view(torch.bfloat16) if dtype == "bfloat16" else tensor


def _to_le_bytes(tensor: torch.Tensor) -> bytes:
    """The raw little-endian bytes a feature tensor was decoded from (for hashing and tests)."""
    if tensor.dtype == torch.bfloat16:
        return tensor.contiguous().view(torch.int16).numpy().astype("<i2").tobytes()
    if tensor.dtype == torch.float16:
        return tensor.contiguous().numpy().astype("<f2").tobytes()
    if tensor.dtype == torch.float32:
        return tensor.contiguous().numpy().astype("<f4").tobytes()
    raise ValueError(f"not a feature tensor dtype: {tensor.dtype}")


def dtype_name(tensor: torch.Tensor) -> str:
    """The record's dtype name of a feature tensor (float32, float16 or bfloat16)."""
    return {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}[tensor.dtype]


def make_sample(**values: object) -> dict:
    """A sample dict with every key of ``SAMPLE_KEYS`` (missing ones ``None``) plus any extras given."""
    sample = {key: None for key in SAMPLE_KEYS}
    sample.update(values)
    return sample


_TOKEN_FIELDS = ("id", "image_sha256", "model_id", "model_version", "codebook_sha256", "grid_height",
                 "grid_width", "codebook_size", "dtype", "token_ids", "mean_quant_error", "processed_at", "metadata")


def metadata_value(text: Optional[str]) -> object:
    """A record's ``metadata`` (JSON text) as the JSON value it holds, as WebDataset samples carry it.

    Metadata that is not JSON (a sidecar that did not parse) is kept as the string, as the WebDataset
    writer keeps it, rather than lost.
    """
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def sample_from_records(token: Mapping[str, object], feature: Optional[Mapping[str, object]] = None) -> dict:
    """A sample from a decoded TokenRecord and, optionally, the FeatureRecord of the same id.

    ``metadata`` (JSON text since TokenRecord v2) becomes the JSON value it holds;
    the other TokenRecord fields not converted here (text, source_uri,
    source_topic, source_partition, source_offset and any field a newer schema
    adds) are copied as-is. Records written by v1 have no metadata, text or
    source_uri: they decode as None.
    """
    if feature is not None:
        if feature["id"] != token["id"]:
            raise ValueError(f"pairing a TokenRecord of {token['id']!r} with a FeatureRecord of {feature['id']!r}")
        if feature["codebook_sha256"] != token["codebook_sha256"]:
            raise ValueError(f"{token['id']!r}: TokenRecord codebook {token['codebook_sha256']} but FeatureRecord "
                             f"codebook {feature['codebook_sha256']}")
    grid = (int(token["grid_height"]), int(token["grid_width"]))
    sample = make_sample(
        id=token["id"],
        token_ids=token_ids_to_tensor(token["token_ids"], token["dtype"], *grid),
        grid=grid,
        codebook_size=token["codebook_size"],
        features=None if feature is None else features_to_tensor(feature["values"], feature["dtype"], feature["shape"]),
        feature_kind=None if feature is None else feature["kind"],
        image_sha256=token["image_sha256"],
        model_id=token["model_id"],
        model_version=token["model_version"],
        codebook_sha256=token["codebook_sha256"],
        mean_quant_error=token["mean_quant_error"],
        processed_at=token["processed_at"],
        metadata=metadata_value(token.get("metadata")),
    )
    for key, value in token.items():
        if key not in _TOKEN_FIELDS:
            sample[key] = value
    return sample


# Numbers batched into a tensor when no sample lacks them (a list otherwise, with its Nones).
_NUMBER_KEYS = {"codebook_size": torch.int64, "mean_quant_error": torch.float32,
                "source_partition": torch.int64, "source_offset": torch.int64}


def collate(samples: Sequence[Mapping[str, object]]) -> dict:
    """Batches the sample dicts of any dataset here, as ``DataLoader(ds, batch_size=N, collate_fn=collate)``.

    PyTorch's default collate fails on the samples' ``None``s and on ``processed_at`` (a ``datetime``); this
    one keeps every key: ``token_ids`` as a LongTensor ``[N, h*w]`` and ``features`` as one tensor
    ``[N, ...]`` when every sample has one of the same shape and dtype (else a list, ``None`` where a sample
    has none), ``grid`` as a LongTensor ``[N, 2]``, ``codebook_size``, ``mean_quant_error``,
    ``source_partition`` and ``source_offset`` as tensors when no sample lacks them, and every other key
    (ids, hashes, ``processed_at``, ``metadata``, ``text``...) as a list in batch order.
    """
    if not samples:
        raise ValueError("collate needs at least one sample")
    keys: List[str] = list(samples[0].keys())
    batch = {}
    for key in keys:
        values = [sample.get(key) for sample in samples]
        if key in ("token_ids", "features"):
            batch[key] = _stacked(values)
        elif key == "grid" and all(v is not None for v in values):
            batch[key] = torch.tensor([list(v) for v in values], dtype=torch.int64)
        elif key in _NUMBER_KEYS and all(v is not None for v in values):
            batch[key] = torch.tensor(values, dtype=_NUMBER_KEYS[key])
        else:
            batch[key] = values
    return batch


def _stacked(values: List[object]):
    """One tensor when every value is a tensor of the same shape and dtype, else the list as it is."""
    first = values[0]
    if isinstance(first, torch.Tensor) and all(
            isinstance(v, torch.Tensor) and v.shape == first.shape and v.dtype == first.dtype for v in values):
        return torch.stack(values)
    return values
