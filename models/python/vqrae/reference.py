"""PyTorch float32 reference outputs for the Java parity tests.

Usage (from the repository root)::

    PYTHONPATH=models/python /usr/bin/python3 -m vqrae.reference encode --model-dir models/tiny --input in.npy --out-dir DIR
    PYTHONPATH=models/python /usr/bin/python3 -m vqrae.reference decode --model-dir models/tiny --input token_ids.npy --out-dir DIR

``encode`` reads uint8 ``[B, 3, H, W]`` pixels and writes ``features.npy`` (float32 ``[B, N, d]``),
``token_ids.npy`` (int64 ``[B, N]``) and ``quant_error.npy`` (float32 ``[B, N]``).
``decode`` reads int64 ``[B, N]`` token ids and writes ``pixels.npy`` (uint8 ``[B, 3, H, W]``).
The model is built from ``manifest.json``'s ``config`` and ``weights.safetensors`` in the model
directory; the codebook hash in the manifest must match the weights. Errors exit with status 1 and a
one-line message on stderr.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .checkpoint import load_weights
from .config import VQRAEConfig
from .export import MANIFEST_FILE, WEIGHTS_FILE, codebook_sha256
from .model import VQRAE


def load_model(model_dir: Path) -> VQRAE:
    """The model described by ``model_dir/manifest.json`` with ``model_dir/weights.safetensors``."""
    manifest_path = model_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ValueError(f"no {MANIFEST_FILE} in {model_dir}")
    manifest = json.loads(manifest_path.read_text())
    model = load_weights(VQRAE(VQRAEConfig.from_dict(manifest["config"])), model_dir / WEIGHTS_FILE).eval()
    actual = codebook_sha256(model)
    if actual != manifest["codebook_sha256"]:
        raise ValueError(f"codebook_sha256 mismatch: manifest {manifest['codebook_sha256']}, weights give {actual}")
    return model


def _load_array(path: Path, dtype: np.dtype, shape: tuple) -> np.ndarray:
    array = np.load(path, allow_pickle=False)
    if array.dtype != dtype:
        raise ValueError(f"{path}: dtype {array.dtype}, expected {dtype}")
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = ["B" if s is None else s for s in shape]
        raise ValueError(f"{path}: shape {list(array.shape)}, expected {expected}")
    return array


def encode(model: VQRAE, input_path: Path, out_dir: Path) -> None:
    size = model.config.image_size
    pixels = _load_array(input_path, np.dtype(np.uint8), (None, 3, size, size))
    with torch.no_grad():
        features, token_ids, quant_error = model.encode(torch.from_numpy(pixels))
    np.save(out_dir / "features.npy", features.numpy().astype(np.float32))
    np.save(out_dir / "token_ids.npy", token_ids.numpy().astype(np.int64))
    np.save(out_dir / "quant_error.npy", quant_error.numpy().astype(np.float32))


def decode(model: VQRAE, input_path: Path, out_dir: Path) -> None:
    token_ids = _load_array(input_path, np.dtype(np.int64), (None, model.config.num_tokens))
    if token_ids.size and (token_ids.min() < 0 or token_ids.max() >= model.config.codebook_size):
        raise ValueError(f"{input_path}: token ids must be in [0, {model.config.codebook_size})")
    with torch.no_grad():
        pixels = model.decode(torch.from_numpy(token_ids))
    np.save(out_dir / "pixels.npy", pixels.numpy())


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.reference", description="PyTorch fp32 reference outputs.")
    parser.add_argument("command", choices=("encode", "decode"))
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if not args.input.is_file():
            raise ValueError(f"input not found: {args.input}")
        model = load_model(args.model_dir)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        (encode if args.command == "encode" else decode)(model, args.input, args.out_dir)
    except (ValueError, OSError, KeyError) as exc:
        print(f"vqrae.reference: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
