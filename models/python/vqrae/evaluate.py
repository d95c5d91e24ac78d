"""Held-out reconstruction quality of an exported model directory.

Usage (from the repository root)::

    PYTHONPATH=models/python /usr/bin/python3 -m vqrae.evaluate --model models/tiny [--preview out.png] [--json out.json]

Reads ``manifest.json`` and ``weights.safetensors`` of ``--model``, takes the evaluation images of the
fixed split (:mod:`vqrae.data`: the held-out 10 % of the wallpaper photos plus the libjxl test photos in
``.testdata/images``), preprocesses each with the model's own policy (:mod:`vqrae.preprocess`, as the
Java pipeline does: bilinear resize of the whole photo to the square), encodes to token ids and decodes
them to uint8 pixels with the PyTorch model (what the exported graphs compute; the tests check that),
then prints per image and overall:

* PSNR (dB) between input and reconstruction, uint8 RGB, MSE per image; the overall figure is the mean
  of the per-image PSNRs;
* SSIM on RGB (each channel, then averaged), Gaussian window 11, sigma 1.5, K1 = 0.01, K2 = 0.03, data
  range 255 (:mod:`vqrae.metrics`); overall = mean over images;
* codebook utilisation: distinct token ids over all evaluation images / K.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

from .data import DEFAULT_TESTDATA, default_split, load_eval_images
from .metrics import psnr, ssim
from .model import VQRAE
from .reference import load_model


def load_model_dir(model_dir: Path) -> VQRAE:
    """The model of an exported directory (manifest config + weights; the codebook hash is checked)."""
    return load_model(Path(model_dir))


@torch.no_grad()
def reconstruct(model: VQRAE, pixels: torch.Tensor, batch_size: int = 4):
    ids, outs = [], []
    for start in range(0, pixels.shape[0], batch_size):
        token_ids = model.encode(pixels[start:start + batch_size])[1]
        ids.append(token_ids)
        outs.append(model.decode(token_ids))
    return torch.cat(ids), torch.cat(outs)


def evaluate(model: VQRAE, files: Sequence[Path]) -> Dict[str, object]:
    """Per-image and overall PSNR / SSIM and the codebook utilisation over ``files``."""
    config = model.config
    pixels = load_eval_images(files, config.image_size, config.resize_filter, config.crop)
    token_ids, recon = reconstruct(model, pixels)
    p = psnr(recon, pixels)
    s = ssim(recon.float(), pixels.float(), data_range=255.0)
    distinct = int(torch.unique(token_ids).numel())
    return {
        "images": [
            {"file": str(f), "psnr": float(pi), "ssim": float(si), "distinct_ids": int(torch.unique(t).numel())}
            for f, pi, si, t in zip(files, p, s, token_ids)
        ],
        "psnr": float(p.mean()),
        "ssim": float(s.mean()),
        "distinct_ids": distinct,
        "codebook_size": config.codebook_size,
        "utilisation": distinct / config.codebook_size,
        "num_images": len(files),
        "num_tokens": int(token_ids.numel()),
        "_pixels": pixels,
        "_recon": recon,
    }


def save_preview(pixels: torch.Tensor, recon: torch.Tensor, path: Path, thumb: int = 128) -> None:
    """Two rows per group of images: originals above, reconstructions below (``thumb`` px each)."""
    from PIL import Image

    n = pixels.shape[0]
    per_row = min(n, 8)
    rows = (n + per_row - 1) // per_row
    canvas = Image.new("RGB", (per_row * thumb, rows * 2 * thumb), (255, 255, 255))
    for i in range(n):
        r, c = divmod(i, per_row)
        for k, batch in enumerate((pixels, recon)):
            img = Image.fromarray(batch[i].permute(1, 2, 0).numpy()).resize((thumb, thumb), Image.Resampling.BILINEAR)
            canvas.paste(img, (c * thumb, (2 * r + k) * thumb))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def format_report(result: Dict[str, object]) -> List[str]:
    lines = [f"{'image':<60} {'PSNR dB':>8} {'SSIM':>7} {'ids':>5}"]
    for entry in result["images"]:
        name = entry["file"] if len(entry["file"]) <= 60 else "..." + entry["file"][-57:]
        lines.append(f"{name:<60} {entry['psnr']:8.2f} {entry['ssim']:7.4f} {entry['distinct_ids']:5d}")
    lines.append(
        f"held-out mean over {result['num_images']} images: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f}, "
        f"codebook utilisation {result['distinct_ids']}/{result['codebook_size']} = {100 * result['utilisation']:.1f} % "
        f"({result['num_tokens']} tokens)"
    )
    return lines


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="exported model directory (manifest.json, weights.safetensors)")
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA, help="libjxl test photos (bin/fetch-testdata)")
    parser.add_argument("--preview", type=Path, help="write a PNG of originals and reconstructions")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model = load_model_dir(args.model)
        split = default_split(args.testdata)
        if not split.extra:
            print(f"vqrae.evaluate: warning: no libjxl test photos in {args.testdata} (run bin/fetch-testdata)", file=sys.stderr)
        result = evaluate(model, split.evaluation)
    except (ValueError, OSError) as exc:
        print(f"vqrae.evaluate: error: {exc}", file=sys.stderr)
        return 1
    for line in format_report(result):
        print(line)
    if args.preview:
        save_preview(result["_pixels"], result["_recon"], args.preview)
    if args.json:
        public = {k: v for k, v in result.items() if not k.startswith("_")}
        args.json.write_text(json.dumps(public, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
