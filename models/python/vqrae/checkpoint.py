"""Checkpoint I/O: ``.pt``/``.pth`` (torch.load) and ``.safetensors`` (hand-written reader/writer).

No ``safetensors`` package is available on the target platform (Debian python3 + python3-torch), so
the format is implemented here: an 8-byte little-endian header length, a JSON header mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the data
section; an optional ``"__metadata__"`` entry of strings), then the raw little-endian, row-major data.
F32, F16 and BF16 are supported (BF16 is widened to float32 on read, exactly).

The key layout (see ``models/README.md``) is the ``VQRAE`` module's own ``state_dict()`` layout;
:func:`expected_shapes` spells it out for a configuration without allocating the model.
"""

import json
import math
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .config import VQRAEConfig

PathLike = Union[str, Path]

_NUMPY_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}
_TORCH_TO_SAFETENSORS = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


class CheckpointError(ValueError):
    """A checkpoint file cannot be read."""


class CheckpointMismatchError(CheckpointError):
    """A state dict does not match the model's key layout; lists every difference."""

    def __init__(
        self,
        missing: List[str],
        unexpected: List[str],
        shape_mismatches: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]],
    ) -> None:
        self.missing = missing
        self.unexpected = unexpected
        self.shape_mismatches = shape_mismatches
        lines = ["checkpoint does not match the VQRAE key layout (see models/README.md):"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): " + ", ".join(unexpected))
        for key, got, want in shape_mismatches:
            lines.append(f"  shape mismatch for {key}: checkpoint {list(got)}, model {list(want)}")
        super().__init__("\n".join(lines))


def expected_shapes(config: VQRAEConfig) -> "OrderedDict[str, Tuple[int, ...]]":
    """Every checkpoint key and its shape for ``config`` (the documented key layout)."""
    shapes: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    d, code_dim, dd, p, n = config.width, config.code_dim, config.decoder_width, config.patch_size, config.num_tokens

    def linear(prefix: str, out_features: int, in_features: int, bias: bool = True) -> None:
        shapes[f"{prefix}.weight"] = (out_features, in_features)
        if bias:
            shapes[f"{prefix}.bias"] = (out_features,)

    def layer_norm(prefix: str, width: int) -> None:
        shapes[f"{prefix}.weight"] = (width,)
        shapes[f"{prefix}.bias"] = (width,)

    def block(prefix: str, width: int, mlp_dim: int) -> None:
        layer_norm(f"{prefix}.layer_norm1", width)
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            linear(f"{prefix}.self_attn.{name}", width, width)
        layer_norm(f"{prefix}.layer_norm2", width)
        linear(f"{prefix}.mlp.fc1", mlp_dim, width)
        linear(f"{prefix}.mlp.fc2", width, mlp_dim)

    shapes["vision_model.embeddings.patch_embedding.weight"] = (d, 3, p, p)
    shapes["vision_model.embeddings.patch_embedding.bias"] = (d,)
    shapes["vision_model.embeddings.position_embedding.weight"] = (n, d)
    for i in range(config.depth):
        block(f"vision_model.encoder.layers.{i}", d, config.mlp_dim)
    layer_norm("vision_model.post_layernorm", d)
    linear("quant_proj", code_dim, d, config.proj_bias)
    shapes["quantize.embedding.weight"] = (config.codebook_size, code_dim)
    linear("quantize.embedding_proj", code_dim, code_dim)
    linear("post_quant_proj", dd, code_dim, config.proj_bias)
    shapes["decoder.embeddings.position_embedding.weight"] = (n, dd)
    for i in range(config.decoder_depth):
        block(f"decoder.layers.{i}", dd, config.decoder_mlp_dim)
    layer_norm("decoder.post_layernorm", dd)
    linear("decoder.pixel_head", p * p * 3, dd)
    return shapes


def check_state_dict(state: Mapping[str, Tensor], config: VQRAEConfig) -> None:
    """Raise :class:`CheckpointMismatchError` unless ``state`` has exactly the expected keys and shapes."""
    want = expected_shapes(config)
    missing = [key for key in want if key not in state]
    unexpected = sorted(key for key in state if key not in want)
    mismatched = [
        (key, tuple(state[key].shape), want[key])
        for key in want
        if key in state and tuple(state[key].shape) != want[key]
    ]
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(missing, unexpected, mismatched)


def read_safetensors(path: PathLike) -> "OrderedDict[str, Tensor]":
    """Read a ``.safetensors`` file into CPU tensors (F32 -> float32, F16 -> float16, BF16 -> float32)."""
    path = Path(path)
    with path.open("rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise CheckpointError(f"{path}: too short for a safetensors header")
        (header_len,) = struct.unpack("<Q", prefix)
        file_size = path.stat().st_size
        if header_len > file_size - 8:
            raise CheckpointError(f"{path}: header length {header_len} exceeds the file size")
        try:
            header = json.loads(f.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path}: invalid safetensors JSON header: {exc}") from exc
        base = 8 + header_len
        tensors: "OrderedDict[str, Tensor]" = OrderedDict()
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            dtype_name = entry["dtype"]
            if dtype_name not in _NUMPY_DTYPES:
                raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {dtype_name} (F32, F16, BF16 only)")
            dtype = _NUMPY_DTYPES[dtype_name]
            shape = tuple(int(s) for s in entry["shape"])
            begin, end = (int(o) for o in entry["data_offsets"])
            count = int(np.prod(shape, dtype=np.int64))
            if end - begin != count * dtype.itemsize or base + end > file_size:
                raise CheckpointError(f"{path}: tensor {name} has data_offsets {begin}..{end} inconsistent with {dtype_name}{list(shape)}")
            f.seek(base + begin)
            array = np.frombuffer(f.read(end - begin), dtype=dtype, count=count).reshape(shape)
            if dtype_name == "BF16":
                array = (array.astype(np.uint32) << 16).view(np.float32)
            tensors[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=True))
    return tensors


def save_safetensors(tensors: Mapping[str, Tensor], path: PathLike, metadata: Optional[Dict[str, str]] = None) -> None:
    """Write float32/float16/bfloat16 tensors to ``path`` in the safetensors format (keys sorted)."""
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        if tensor.dtype not in _TORCH_TO_SAFETENSORS:
            raise CheckpointError(f"tensor {name} has unsupported dtype {tensor.dtype}")
        if tensor.dtype == torch.bfloat16:
            data = tensor.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            data = tensor.numpy().astype(tensor.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _TORCH_TO_SAFETENSORS[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with Path(path).open("wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def load_checkpoint(path: PathLike) -> "OrderedDict[str, Tensor]":
    """Read a state dict from ``.safetensors`` or ``.pt``/``.pth``/``.bin`` (torch.load on CPU).

    A torch file may hold the state dict itself or wrap it as ``{"state_dict": ...}`` or ``{"model": ...}``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    if path.suffix not in (".pt", ".pth", ".bin"):
        raise CheckpointError(f"{path}: unknown checkpoint format (expected .safetensors, .pt, .pth or .bin)")
    obj = torch.load(str(path), map_location="cpu")
    if isinstance(obj, Mapping):
        for wrapper in ("state_dict", "model"):
            if isinstance(obj.get(wrapper), Mapping):
                obj = obj[wrapper]
                break
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors (optionally under 'state_dict' or 'model')")
    return OrderedDict(obj)


def load_weights(model: torch.nn.Module, source: Union[PathLike, Mapping[str, Tensor]]) -> torch.nn.Module:
    """Load a checkpoint file or state dict into ``model`` strictly (raises on any key/shape mismatch)."""
    state = source if isinstance(source, Mapping) else load_checkpoint(source)
    check_state_dict(state, model.config)
    model.load_state_dict(state, strict=True)
    return model


# --- pretrained SigLIP / SigLIP2 vision encoders (Hugging Face layout) --------------------------------

ENCODER_PREFIX = "vision_model."
# Keys of a Hugging Face SigLIP/SigLIP2 checkpoint that VQRAE does not use: the attention-pooling head,
# the text tower and the contrastive scale of a full SiglipModel, and the persisted position ids.
_IGNORED_PREFIXES = ("vision_model.head.", "text_model.", "logit_scale", "logit_bias", "vision_model.embeddings.position_ids")


def map_hf_vision_state(state: Mapping[str, Tensor], config: VQRAEConfig) -> Tuple["OrderedDict[str, Tensor]", List[str]]:
    """Map a Hugging Face ``SiglipVisionModel``/``Siglip2VisionModel`` (or full ``SiglipModel``) state dict
    onto the encoder keys of the VQRAE layout (``vision_model.*``, the same names).

    * Keys may carry the ``vision_model.`` prefix or not (a bare ``SiglipVisionTransformer``).
    * SigLIP2's patch embedding is a Linear over flattened ``(row, column, channel)`` patches,
      ``[d, p*p*3]``; it becomes the Conv2d weight ``[d, 3, p, p]`` of SigLIP (the same function).
    * A square position table of another grid (SigLIP2's 16x16 for a 32x32 model) is resized as
      Siglip2 does at run time: bilinear, ``align_corners=False``, antialiased.
    * The pooling head, a text tower, ``logit_scale``/``logit_bias`` and ``position_ids`` are ignored and
      returned as the second value; any other key, a missing encoder key or a shape that cannot be
      mapped raises :class:`CheckpointMismatchError` listing all of them.
    """
    want = OrderedDict((k, v) for k, v in expected_shapes(config).items() if k.startswith(ENCODER_PREFIX))
    normalised: "OrderedDict[str, Tensor]" = OrderedDict()
    for key, value in state.items():
        name = key if key.startswith(ENCODER_PREFIX) or key.startswith(("text_model.", "logit_")) else ENCODER_PREFIX + key
        normalised[name] = value
    ignored = sorted(k for k in normalised if k.startswith(_IGNORED_PREFIXES))
    mapped: "OrderedDict[str, Tensor]" = OrderedDict()
    for key, value in normalised.items():
        if key in ignored:
            continue
        value = value.float()
        shape = want.get(key)
        if shape is not None and tuple(value.shape) != shape:
            if key.endswith("patch_embedding.weight") and value.ndim == 2 and len(shape) == 4:
                d, c, p, _ = shape
                if tuple(value.shape) == (d, p * p * c):
                    value = value.reshape(d, p, p, c).permute(0, 3, 1, 2).contiguous()
            elif key.endswith("position_embedding.weight") and value.ndim == 2 and value.shape[1] == shape[1]:
                have, need = math.isqrt(value.shape[0]), math.isqrt(shape[0])
                if have * have == value.shape[0] and need * need == shape[0]:
                    grid = value.reshape(have, have, -1).permute(2, 0, 1).unsqueeze(0)
                    grid = torch.nn.functional.interpolate(grid, size=(need, need), mode="bilinear",
                                                           align_corners=False, antialias=True)
                    value = grid.squeeze(0).permute(1, 2, 0).reshape(need * need, -1).contiguous()
        mapped[key] = value
    missing = [k for k in want if k not in mapped]
    unexpected = sorted(k for k in mapped if k not in want)
    mismatched = [(k, tuple(mapped[k].shape), want[k]) for k in want if k in mapped and tuple(mapped[k].shape) != want[k]]
    if missing or unexpected or mismatched:
        raise CheckpointMismatchError(missing, unexpected, mismatched)
    return mapped, ignored


def load_encoder_checkpoint(model: torch.nn.Module, source: Union[PathLike, Mapping[str, Tensor]]) -> List[str]:
    """Load SigLIP/SigLIP2 vision weights (Hugging Face layout, see :func:`map_hf_vision_state`) into
    ``model.vision_model``; the quantizer and decoder are left as they are. Returns the ignored keys."""
    state = source if isinstance(source, Mapping) else load_checkpoint(source)
    mapped, ignored = map_hf_vision_state(state, model.config)
    prefix = len(ENCODER_PREFIX)
    model.vision_model.load_state_dict(OrderedDict((k[prefix:], v) for k, v in mapped.items()), strict=True)
    return ignored
