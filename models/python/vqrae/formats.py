"""Real photos saved in every input format the decoder takes, and Pillow's decode speed on them.

``corpus`` writes ``--count`` web-size photos (longer side 320-640 px, like crawled images) into one
folder per format, all made from the same crops of Debian's wallpaper photos (the packages
``bin/setup`` installs; :func:`vqrae.data.package_files`), with Pillow's own encoders:

* ``jpeg`` (quality 90), ``jpeg-exif`` (quality 90, EXIF orientation 6: stored sideways),
* ``png``, ``bmp``, ``gif`` (Pillow's default adaptive palette),
* ``webp-lossy`` (quality 80), ``webp-lossless``, ``webp-alpha`` (quality 80 with an alpha ramp),
  ``webp-animated`` (three lossy frames; the first is the image), ``webp-exif`` (lossy, orientation 6).

``bench`` serves the Java decode benchmark: it reads a format folder per line on stdin, decodes and
preprocesses every file from memory in a loop for ``--seconds`` (after a warm-up pass), exactly as
:mod:`vqrae.preprocess` does for the reference, and prints ``images_per_second`` on one line. One
process, one thread: a per-core rate.

CLI::

    python -m vqrae.formats corpus --out DIR [--count 12] [--seed 0] [--formats jpeg png ...]
    python -m vqrae.formats bench --size 256 256 --filter bilinear [--seconds 3]   # folders on stdin
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
from PIL import Image

from .preprocess import load_rgb, preprocess

FORMATS = (
    "jpeg", "jpeg-exif", "png", "bmp", "gif",
    "webp-lossy", "webp-lossless", "webp-alpha", "webp-animated", "webp-exif",
)
SUFFIX = {"jpeg": ".jpg", "png": ".png", "bmp": ".bmp", "gif": ".gif", "webp": ".webp"}
MIN_LONG_SIDE, MAX_LONG_SIDE = 320, 640
ORIENTATION_TAG = 0x0112
SIDEWAYS = 6


def photo_sources() -> List[Path]:
    """The wallpapers that are photographs: the JPEG files (the PNG/WebP ones are drawings)."""
    from .data import package_files  # imports torch; only the corpus needs it

    photos = [p for p in package_files() if p.suffix.lower() in (".jpg", ".jpeg")]
    if not photos:
        raise FileNotFoundError("no JPEG wallpapers installed (run bin/setup)")
    return photos


def web_size_crops(sources: Sequence[Path], count: int, seed: int) -> List[Image.Image]:
    """``count`` random crops of the sources, resized (Lanczos) so the longer side is 320-640 px."""
    rng = random.Random(seed)
    crops = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as src:
            src.draft("RGB", (2 * MAX_LONG_SIDE, 2 * MAX_LONG_SIDE))  # the 5640 px wallpaper need not be decoded whole
            photo = src.convert("RGB")
        width, height = photo.size
        crop_w, crop_h = int(width * rng.uniform(0.5, 1.0)), int(height * rng.uniform(0.5, 1.0))
        left, top = rng.randint(0, width - crop_w), rng.randint(0, height - crop_h)
        photo = photo.crop((left, top, left + crop_w, top + crop_h))
        scale = rng.randint(MIN_LONG_SIDE, MAX_LONG_SIDE) / max(crop_w, crop_h)
        crops.append(photo.resize((max(1, round(crop_w * scale)), max(1, round(crop_h * scale))),
                                  Image.Resampling.LANCZOS))
    return crops


def _alpha_ramp(photo: Image.Image) -> Image.Image:
    """The photo with a diagonal alpha ramp from transparent to opaque."""
    width, height = photo.size
    ramp = (np.add.outer(np.arange(height), np.arange(width)) * 255 // max(1, width + height - 2)).astype(np.uint8)
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.fromarray(ramp, "L"))
    return rgba


def _sideways_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = SIDEWAYS
    return exif


def save_formats(photo: Image.Image, neighbours: Sequence[Image.Image], out: Path, name: str,
                 formats: Sequence[str] = FORMATS) -> None:
    """Saves ``photo`` in each of ``formats`` under ``out/<format>/<name>.<suffix>``."""
    def path(fmt: str) -> Path:
        folder = out / fmt
        folder.mkdir(parents=True, exist_ok=True)
        return folder / (name + SUFFIX[fmt.split("-")[0]])

    savers = {
        "jpeg": lambda p: photo.save(p, quality=90),
        "jpeg-exif": lambda p: photo.save(p, quality=90, exif=_sideways_exif()),
        "png": lambda p: photo.save(p),
        "bmp": lambda p: photo.save(p),
        "gif": lambda p: photo.save(p),
        "webp-lossy": lambda p: photo.save(p, quality=80),
        "webp-lossless": lambda p: photo.save(p, lossless=True),
        "webp-alpha": lambda p: _alpha_ramp(photo).save(p, quality=80),
        "webp-animated": lambda p: photo.save(
            p, save_all=True, quality=80, duration=100, loop=0,
            append_images=[n.resize(photo.size, Image.Resampling.BILINEAR) for n in neighbours]),
        "webp-exif": lambda p: photo.save(p, quality=80, exif=_sideways_exif()),
    }
    for fmt in formats:
        savers[fmt](path(fmt))


def write_corpus(out: Path, count: int, seed: int, formats: Sequence[str] = FORMATS) -> None:
    crops = web_size_crops(photo_sources(), count, seed)
    for i, photo in enumerate(crops):
        neighbours = [crops[(i + 1) % count], crops[(i + 2) % count]]
        save_formats(photo, neighbours, out, f"{i:04d}", formats)


def pillow_rate(folder: Path, size: Sequence[int], filter: str, seconds: float, draft: bool = False) -> float:
    """Images/s of :mod:`vqrae.preprocess`'s decode + preprocess on the files of ``folder``, from memory
    (with ``draft``, JPEGs decoded as drafts for ``size``)."""
    payloads = [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]
    if not payloads:
        raise FileNotFoundError(f"no files in {folder}")

    def one_pass() -> None:
        for payload in payloads:
            preprocess(load_rgb(io.BytesIO(payload), draft=(size[1], size[0]) if draft else None), tuple(size), filter, "none")

    one_pass()
    images, start = 0, time.perf_counter()
    while True:
        one_pass()
        images += len(payloads)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return images / elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vqrae.formats", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    corpus = commands.add_parser("corpus", help="write the photos in every format")
    corpus.add_argument("--out", type=Path, required=True)
    corpus.add_argument("--count", type=int, default=12)
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS),
                        help="formats to write (default: all)")
    bench = commands.add_parser("bench", help="Pillow images/s for each folder read from stdin")
    bench.add_argument("--size", nargs=2, type=int, required=True, metavar=("H", "W"))
    bench.add_argument("--filter", default="bilinear")
    bench.add_argument("--seconds", type=float, default=3.0)
    bench.add_argument("--draft", action="store_true", help="decode JPEGs as drafts for --size")
    args = parser.parse_args(argv)
    if args.command == "corpus":
        if args.count < 3:
            parser.error("--count must be at least 3 (animated WebP frames come from the next photos)")
        write_corpus(args.out, args.count, args.seed, args.formats)
        return 0
    for line in sys.stdin:
        folder = line.strip()
        if folder:
            print(f"{pillow_rate(Path(folder), args.size, args.filter, args.seconds, args.draft):.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
