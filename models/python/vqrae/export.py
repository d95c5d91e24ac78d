"""Export VQRAE to ONNX (encoder + decoder), ``weights.safetensors`` and ``manifest.json``.

Usage (from the repository root)::

    PYTHONPATH=models/python /usr/bin/python3 -m vqrae.export --config tiny --seed 0 --out models/tiny
    ... --config so400m-256 --checkpoint vqrae.safetensors --out DIR [--fp16]
    ... --config so400m-256 --codebook-init random --out DIR   # random weights in minutes (benchmarks)
    ... --config tiny --null --out DIR                         # the null model of the benchmarks

Without ``--checkpoint`` the weights are the deterministic initialisation from ``--seed``
(:func:`vqrae.model.initialize_weights`). The graphs are ONNX opset 17 with a dynamic batch axis named
``batch``; the effective SimVQ codebook C' and its squared norms are stored as constants.
"""

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import onnx
import torch
from torch import Tensor, nn

from .checkpoint import load_weights, save_safetensors
from .config import VQRAEConfig, get_config
from .fp16 import convert_to_fp16, exclusive_ancestors
from .model import VQRAE, build_model, codebook_squared_norms, synthetic_images

FORMAT_VERSION = 1
DEFAULT_MODEL_VERSION = "0.1.0"
OPSET = 17
BATCH = "batch"
ALPHA_BACKGROUND = [255, 255, 255]
WEIGHTS_FILE = "weights.safetensors"
MANIFEST_FILE = "manifest.json"


class EncoderGraph(nn.Module):
    """``pixels`` uint8 [B,3,H,W] -> ``features`` f32 [B,N,d], ``token_ids`` i64 [B,N], ``quant_error`` f32 [B,N]."""

    def __init__(self, model: VQRAE) -> None:
        super().__init__()
        self.model = model
        codebook = model.effective_codebook()
        self.register_buffer("codebook", codebook)
        self.register_buffer("codebook_sq", codebook_squared_norms(codebook))

    def forward(self, pixels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        return self.model.encode(pixels, codebook=(self.codebook, self.codebook_sq))


class DecoderGraph(nn.Module):
    """``token_ids`` i64 [B,N] -> ``pixels`` uint8 [B,3,H,W] (codes looked up in C')."""

    def __init__(self, model: VQRAE) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("codebook", model.effective_codebook())

    def forward(self, token_ids: Tensor) -> Tensor:
        return self.model.decode(token_ids, codebook=self.codebook)


class NullEncoderGraph(nn.Module):
    """The encoder's inputs and outputs at almost no cost, to measure everything around the model.

    Each token is its patch's mean grey level (an average pool): ``token_ids`` spread it over the codebook,
    ``features`` repeat it ``d`` times, ``quant_error`` is 0. Outputs have the real graph's shapes and dtypes,
    so the pipeline copies, converts and writes as many bytes as with the real model.
    """

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, pixels: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        grey = pixels.to(torch.float32).mean(dim=1, keepdim=True)
        level = nn.functional.avg_pool2d(grey, self.config.patch_size).flatten(1)
        size = self.config.codebook_size
        token_ids = (level * (size / 256.0)).to(torch.int64).clamp(0, size - 1)
        features = level.unsqueeze(-1).expand(-1, -1, self.config.width)
        return features, token_ids, torch.zeros_like(level)


class NullDecoderGraph(nn.Module):
    """``token_ids`` -> each token's grey level as a flat patch: the decoder's signature at almost no cost."""

    def __init__(self, config: VQRAEConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, token_ids: Tensor) -> Tensor:
        grid = self.config.grid_size
        level = (token_ids.to(torch.float32) * (256.0 / self.config.codebook_size)).reshape(-1, 1, grid, grid)
        patches = nn.functional.interpolate(level, scale_factor=self.config.patch_size, mode="nearest")
        return patches.expand(-1, 3, -1, -1).to(torch.uint8)


def encoder_flops(config: VQRAEConfig) -> int:
    """FLOPs (2 per multiply-add) of the encoder graph for one image: patch embedding, the ViT's attention and
    MLP matmuls, ``quant_proj`` and the distance search over the codebook. Norms, softmax and element-wise
    work are left out (under 1 %); this is the numerator of MFU."""
    n, d, c = config.num_tokens, config.width, config.code_dim
    patch = n * 3 * config.patch_size ** 2 * d
    per_layer = 4 * n * d * d + 2 * n * n * d + 2 * n * d * config.mlp_dim
    quantizer = n * d * c + n * config.codebook_size * c
    return 2 * (patch + config.depth * per_layer + quantizer)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def codebook_sha256(model: VQRAE) -> str:
    """SHA-256 of C' as little-endian float32, row-major ``[K, code_dim]``."""
    return sha256_bytes(model.effective_codebook().numpy().astype("<f4").tobytes())


def graph_io(config: VQRAEConfig) -> Dict[str, Dict[str, Dict[str, Dict[str, Any]]]]:
    """Names, dtypes and shapes (``"batch"`` for the dynamic axis) of both graphs' inputs and outputs."""
    size, n = config.image_size, config.num_tokens
    pixels = {"dtype": "uint8", "shape": [BATCH, 3, size, size]}
    token_ids = {"dtype": "int64", "shape": [BATCH, n]}
    return {
        "encoder": {
            "inputs": {"pixels": pixels},
            "outputs": {
                "features": {"dtype": "float32", "shape": [BATCH, n, config.width]},
                "token_ids": token_ids,
                "quant_error": {"dtype": "float32", "shape": [BATCH, n]},
            },
        },
        "decoder": {"inputs": {"token_ids": token_ids}, "outputs": {"pixels": pixels}},
    }


def _trace(module: nn.Module, example: Tensor, io_spec: Dict[str, Dict[str, Any]]) -> onnx.ModelProto:
    names = list(io_spec["inputs"]) + list(io_spec["outputs"])
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            module.eval(),
            (example,),
            buffer,
            opset_version=OPSET,
            input_names=list(io_spec["inputs"]),
            output_names=list(io_spec["outputs"]),
            dynamic_axes={name: {0: BATCH} for name in names},
            do_constant_folding=True,
        )
    graph = onnx.load_from_string(buffer.getvalue())
    # Tracing leaves generated symbolic names on some output dims; declare the exact shapes instead.
    declared = {**io_spec["inputs"], **io_spec["outputs"]}
    for value_info in list(graph.graph.input) + list(graph.graph.output):
        dims = value_info.type.tensor_type.shape.dim
        shape = declared[value_info.name]["shape"]
        if len(dims) != len(shape):
            raise ValueError(f"traced {value_info.name} has rank {len(dims)}, expected {len(shape)}")
        for dim, size in zip(dims, shape):
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = size
    return graph


def build_graphs(model: VQRAE, fp16: bool = False, null: bool = False) -> Dict[str, onnx.ModelProto]:
    """Trace the encoder and decoder graphs (and rewrite them to float16 when ``fp16``); ``null`` traces
    :class:`NullEncoderGraph` and :class:`NullDecoderGraph` instead of the model.

    In the float16 encoder the quantizer branch (``quant_proj`` and the distance/argmin search, i.e.
    the nodes only the ``token_ids``/``quant_error`` outputs depend on) stays float32: the expanded
    squared distance cancels large terms and its argmin must not flip on float16 rounding.
    """
    model = model.eval()
    spec = graph_io(model.config)
    pixels = synthetic_images(2, model.config.image_size)
    with torch.no_grad():
        token_ids = model.encode(pixels)[1]
    encoder, decoder = (
        (NullEncoderGraph(model.config), NullDecoderGraph(model.config)) if null
        else (EncoderGraph(model), DecoderGraph(model))
    )
    graphs = {
        "encoder": _trace(encoder, pixels, spec["encoder"]),
        "decoder": _trace(decoder, token_ids, spec["decoder"]),
    }
    if fp16:
        encoder = graphs["encoder"].graph
        island = exclusive_ancestors(encoder, ["token_ids", "quant_error"], ["features"])
        graphs = {
            "encoder": convert_to_fp16(graphs["encoder"], island),
            "decoder": convert_to_fp16(graphs["decoder"]),
        }
    return graphs


def export(
    model: VQRAE,
    out_dir: Path,
    model_id: Optional[str] = None,
    model_version: str = DEFAULT_MODEL_VERSION,
    fp16: bool = False,
    null: bool = False,
) -> Dict[str, Any]:
    """Write both graphs, ``weights.safetensors`` and ``manifest.json`` to ``out_dir``; return the manifest."""
    config = model.config
    model_id = model_id or (f"vqrae-null-{config.name}" if null else f"vqrae-{config.name}")
    precision = "fp16" if fp16 else "fp32"
    codebook_hash = codebook_sha256(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = graph_io(config)
    graph_entries: Dict[str, Any] = {}
    for role, graph in build_graphs(model, fp16, null).items():
        metadata = {
            "vqrae.model_id": model_id,
            "vqrae.model_version": model_version,
            "vqrae.codebook_sha256": codebook_hash,
            "vqrae.graph": role,
        }
        del graph.metadata_props[:]
        for key, value in metadata.items():
            graph.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(graph, full_check=True)
        file_name = f"{role}.fp16.onnx" if fp16 else f"{role}.onnx"
        onnx.save(graph, str(out_dir / file_name))
        graph_entries[role] = {
            "file": file_name,
            "sha256": sha256_file(out_dir / file_name),
            "precision": precision,
            **spec[role],
        }
    save_safetensors(
        model.state_dict(),
        out_dir / WEIGHTS_FILE,
        metadata={"format": "pt", "vqrae.model_id": model_id, "vqrae.config": json.dumps(config.to_dict(), sort_keys=True)},
    )
    size = config.image_size
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_id": model_id,
        "model_version": model_version,
        "config": config.to_dict(),
        "codebook_size": config.codebook_size,
        "code_dim": config.code_dim,
        "token_grid": [config.grid_size, config.grid_size],
        "num_tokens": config.num_tokens,
        "feature_dim": config.width,
        "image_size": [size, size],
        "preprocessing": {
            "size": [size, size],
            "filter": config.resize_filter,
            "crop": config.crop,
            "mean": list(config.mean),
            "std": list(config.std),
            "alpha_background": ALPHA_BACKGROUND,
        },
        "codebook_sha256": codebook_hash,
        "encoder_flops_per_image": 0 if null else encoder_flops(config),
        "graphs": graph_entries,
    }
    (out_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="preset: tiny, so400m-256, so400m-512")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed when no --checkpoint is given")
    parser.add_argument("--checkpoint", type=Path, help=".safetensors/.pt/.pth checkpoint in the documented key layout")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--fp16", action="store_true", help="write encoder.fp16.onnx/decoder.fp16.onnx instead of fp32 graphs")
    parser.add_argument("--model-id", help="manifest model_id (default: vqrae-<config>)")
    parser.add_argument("--model-version", default=DEFAULT_MODEL_VERSION)
    parser.add_argument("--codebook-init", choices=("data", "random"), default="data",
                        help="without --checkpoint: the portable initialisation with codes drawn from the encoder's "
                             "features on synthetic images (default; runs the encoder in float64), or random weights "
                             "from torch.randn (seconds; for benchmarks, token ids meaningless)")
    parser.add_argument("--null", action="store_true",
                        help="graphs with the model's inputs and outputs that do almost no work (benchmarks)")
    args = parser.parse_args(argv)
    try:
        config = get_config(args.config)
        if args.checkpoint is None:
            model = build_model(config, args.seed, data_codebook=args.codebook_init == "data" and not args.null)
        else:
            model = load_weights(VQRAE(config), args.checkpoint).eval()
        manifest = export(model, args.out, args.model_id, args.model_version, args.fp16, args.null)
    except (ValueError, OSError) as exc:  # CheckpointError is a ValueError
        print(f"vqrae.export: error: {exc}", file=sys.stderr)
        return 1
    for entry in manifest["graphs"].values():
        print(f"{args.out / entry['file']}  sha256={entry['sha256']}")
    print(f"codebook_sha256={manifest['codebook_sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
