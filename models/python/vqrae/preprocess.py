"""PIL reference for the Java decoder + preprocessor (io.vqrae.models.image / .preprocess).

The Java side is tested against this module pixel for pixel, so every policy here mirrors a
documented policy there:

* EXIF orientation is applied (``ImageOps.exif_transpose``); only the first frame is used.
* Transparency is composited over an opaque background with Pillow's integer
  ``Image.alpha_composite``; images without transparency are converted with ``convert("RGB")``.
* 16-bit samples become 8-bit by keeping the high byte. Pillow already does that for 16-bit
  RGB(A) and gray+alpha PNGs; 16-bit grayscale opens as mode "I" (whose ``convert`` would clip
  to 255 instead), so it is shifted here explicitly.
* With ``draft``, a JPEG is decoded by libjpeg at the smallest DCT scale (1/8, 1/4, 1/2, 1) still at least the
  target size once upright (``Image.draft``; the target's sides swap for EXIF rotations by 90 degrees), as
  the Java decoder's ``ImageDecoder.Builder.draft`` does; other formats decode as always.
* Resizing is ``Image.resize(size, filter)`` with ``reducing_gap=None``. ``crop="center"``
  follows torchvision: ``Resize(max(H, W))`` (shorter side to that size, longer side
  ``int(size * long / short)``) then ``CenterCrop((H, W))`` with ``int(round(...))`` offsets.

CLI: ``python -m vqrae.preprocess --size H W --filter bilinear --crop none [--draft] --out OUT.npy FILE...``
writes a uint8 array of shape [B, 3, H, W].
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageOps

FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}
CROPS = ("none", "center")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_WIDE_GRAY_MODES = ("I", "I;16", "I;16B", "I;16L")


ORIENTATION = 0x0112


def load_rgb(path: str, background: Tuple[int, int, int] = (255, 255, 255),
             draft: Optional[Tuple[int, int]] = None) -> Image.Image:
    """Opens an image the way the Java ImageDecoder does and returns it in mode RGB.

    ``draft`` is the (width, height) a JPEG may be decoded down to, at least (see the module comment).
    """
    with Image.open(path) as img:
        img.seek(0)
        if draft is not None and img.format == "JPEG":
            width, height = draft
            if img.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8):
                width, height = height, width
            img.draft(img.mode, (width, height))
        img = ImageOps.exif_transpose(img)
    if img.mode in _WIDE_GRAY_MODES:
        high = (np.asarray(img, dtype=np.uint32) >> 8).astype(np.uint8)
        img = Image.fromarray(high, "L")
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        base = Image.new("RGBA", img.size, tuple(background) + (255,))
        return Image.alpha_composite(base, img.convert("RGBA")).convert("RGB")
    return img.convert("RGB")


def resized_size(width: int, height: int, size: int) -> Tuple[int, int]:
    """torchvision's Resize(int) rule: shorter side to ``size``, longer side truncated."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def preprocess(img: Image.Image, size: Tuple[int, int], filter: str, crop: str) -> np.ndarray:
    """Resizes (and optionally center-crops) an RGB image to uint8 [3, H, W]."""
    height, width = size
    resample = FILTERS[filter]
    if crop == "none":
        out = img.resize((width, height), resample)
    elif crop == "center":
        new_w, new_h = resized_size(img.width, img.height, max(height, width))
        out = img.resize((new_w, new_h), resample)
        top = int(round((new_h - height) / 2.0))
        left = int(round((new_w - width) / 2.0))
        out = out.crop((left, top, left + width, top + height))
    else:
        raise ValueError(f"unknown crop {crop!r}, expected one of {CROPS}")
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8).transpose(2, 0, 1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.preprocess", description=__doc__.split("\n")[0])
    parser.add_argument("--size", nargs=2, type=int, required=True, metavar=("H", "W"))
    parser.add_argument("--filter", choices=sorted(FILTERS), default="bilinear")
    parser.add_argument("--crop", choices=CROPS, default="none")
    parser.add_argument("--background", nargs=3, type=int, default=(255, 255, 255), metavar=("R", "G", "B"))
    parser.add_argument("--draft", action="store_true", help="decode JPEGs as drafts for the target size")
    parser.add_argument("--out", required=True, help="output .npy, uint8 [B, 3, H, W]")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    batch = [
        preprocess(load_rgb(f, tuple(args.background), (args.size[1], args.size[0]) if args.draft else None),
                   tuple(args.size), args.filter, args.crop)
        for f in args.files
    ]
    np.save(args.out, np.stack(batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
