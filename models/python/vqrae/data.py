"""Training and evaluation images: Debian wallpaper photos, a fixed hold-out split, random crops.

Sources (installed by ``bin/setup``): the raster wallpapers of Debian's ``gnome-backgrounds``,
``mate-backgrounds`` and ``ukui-wallpapers`` packages (``dpkg -L`` lists their files; SVGs are skipped,
they are drawings that Pillow cannot render). Variants of one picture (``-d``/``-l`` dark/light
versions, ``-Dark``/``-Light``, ``_3840x2160`` resolutions, the four ``Ubuntu-Mate-*-no-logo``
colourings) form one *group*, so a picture never lands
on both sides of the split.

Hold-out: 10 % of the groups (rounded up), the ones with the smallest SHA-256 of the group name (a
fixed rule, independent of the training seed), plus the libjxl test photos that ``bin/fetch-testdata``
puts in ``.testdata/images`` (:data:`LIBJXL_PHOTOS`). Training reads the other groups only.

Training samples: each source photo is decoded once, downscaled so its shorter side is at most
``cache_side`` pixels and kept in memory (and in an optional ``.npy`` cache directory). A sample is a
random crop (side fraction ``U(0.25, 1)`` of the photo in each direction, independently jittered by
up to x/÷1.35 so aspect ratios get squashed as the model's ``crop=none`` resize does), with
probability 1/4 the whole photo, resized to the model's input with Pillow's bilinear filter and
flipped horizontally with probability 1/2. Evaluation uses the model's own preprocessing
(:mod:`vqrae.preprocess`: the whole photo, bilinear resize to the square, no crop) on the original files.
"""

import hashlib
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image

from .preprocess import load_rgb, preprocess

WALLPAPER_PACKAGES = ("gnome-backgrounds", "mate-backgrounds", "ukui-wallpapers")
RASTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
HOLDOUT_FRACTION = 0.10
MIN_SIDE = 256
# Real photos among the files bin/fetch-testdata keeps (the 64 px thumbnail and the synthetic /
# derived test inputs are left out).
LIBJXL_PHOTOS = (
    "cvo9xd_keong_macan_srgb8.png",
    "u76c0g_bliznaca_srgb8.png",
    "tmshre_riaphotographs_alpha.png",
    "DJI-FC6310-16bit_709_v4_krita.png",
    "Nikon-D300-12bit_2020_g1_dt.png",
    "flower.png.im_q85_444.jpg",
)
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_TESTDATA = REPO_ROOT / ".testdata" / "images"

Image.MAX_IMAGE_PIXELS = None  # the 5640x3172 wallpaper is above Pillow's default bomb limit


def package_files(packages: Sequence[str] = WALLPAPER_PACKAGES) -> List[Path]:
    """Raster image files of the installed ``packages`` (via ``dpkg -L``), sorted; error if one is missing."""
    files = []
    for package in packages:
        result = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        if result.returncode != 0:
            raise FileNotFoundError(f"Debian package {package} is not installed (run bin/setup)")
        for line in result.stdout.splitlines():
            path = Path(line.strip())
            if path.suffix.lower() in RASTER_SUFFIXES and path.is_file():
                files.append(path)
    return sorted(set(files))


def group_key(path: Path) -> str:
    """Name shared by the variants of one picture (dark/light, several resolutions)."""
    stem = path.stem
    stem = re.sub(r"_\d+x\d+$", "", stem)
    stem = re.sub(r"-(d|l|Dark|Light)$", "", stem)
    stem = re.sub(r"^Ubuntu-Mate-\w+-no-logo$", "Ubuntu-Mate-no-logo", stem)  # four colourings of one picture
    return stem.lower()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Split:
    train: Tuple[Path, ...]
    holdout: Tuple[Path, ...]  # wallpaper photos held out
    extra: Tuple[Path, ...]  # libjxl test photos (evaluation only)

    @property
    def evaluation(self) -> Tuple[Path, ...]:
        return self.holdout + self.extra


def split_sources(files: Sequence[Path], testdata: Optional[Path] = DEFAULT_TESTDATA,
                  fraction: float = HOLDOUT_FRACTION) -> Split:
    """The fixed train / hold-out split (see the module docstring). Files under ``MIN_SIDE`` are dropped."""
    usable = []
    for path in files:
        with Image.open(path) as img:
            if min(img.size) >= MIN_SIDE:
                usable.append(path)
    groups: Dict[str, List[Path]] = {}
    for path in usable:
        groups.setdefault(group_key(path), []).append(path)
    names = sorted(groups, key=_hash)
    n_holdout = math.ceil(fraction * len(names)) if names else 0
    held = set(names[:n_holdout])
    train = tuple(sorted(p for name in names if name not in held for p in groups[name]))
    holdout = tuple(sorted(p for name in held for p in groups[name]))
    extra: Tuple[Path, ...] = ()
    if testdata is not None and Path(testdata).is_dir():
        extra = tuple(Path(testdata) / n for n in LIBJXL_PHOTOS if (Path(testdata) / n).is_file())
    return Split(train, holdout, extra)


def default_split(testdata: Optional[Path] = DEFAULT_TESTDATA) -> Split:
    return split_sources(package_files(), testdata)


# --- training samples -------------------------------------------------------------------------------


def _load_downscaled(path: Path, cache_side: int, cache_dir: Optional[Path]) -> np.ndarray:
    cached = None
    if cache_dir is not None:
        key = _hash(f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}:{cache_side}")[:24]
        cached = Path(cache_dir) / f"{key}.npy"
        if cached.is_file():
            return np.load(cached)
    img = load_rgb(str(path))
    scale = cache_side / min(img.size)
    if scale < 1.0:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    array = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, array)
    return array


class CropSampler:
    """Random crops of in-memory photos as uint8 ``[B, 3, size, size]`` batches, from a seeded generator."""

    FULL_PROBABILITY = 0.25
    MIN_FRACTION = 0.25
    ASPECT_JITTER = math.log(1.35)

    def __init__(self, images: Sequence[np.ndarray], size: int) -> None:
        if not images:
            raise ValueError("no training images")
        self.images = [Image.fromarray(a) for a in images]
        self.size = size

    @classmethod
    def from_files(cls, files: Sequence[Path], size: int, cache_side: int = 768,
                   cache_dir: Optional[Path] = None) -> "CropSampler":
        return cls([_load_downscaled(Path(f), cache_side, cache_dir) for f in files], size)

    def sample(self, generator: np.random.Generator) -> np.ndarray:
        img = self.images[int(generator.integers(len(self.images)))]
        w, h = img.size
        if generator.random() < self.FULL_PROBABILITY:
            box = (0, 0, w, h)
        else:
            fraction = generator.uniform(self.MIN_FRACTION, 1.0)
            jitter = math.exp(generator.uniform(-self.ASPECT_JITTER, self.ASPECT_JITTER))
            cw = min(w, max(16, round(w * fraction * jitter)))
            ch = min(h, max(16, round(h * fraction / jitter)))
            x0 = int(generator.integers(0, w - cw + 1))
            y0 = int(generator.integers(0, h - ch + 1))
            box = (x0, y0, x0 + cw, y0 + ch)
        out = img.resize((self.size, self.size), Image.Resampling.BILINEAR, box=box)
        array = np.asarray(out, dtype=np.uint8)
        if generator.random() < 0.5:
            array = array[:, ::-1]
        return np.ascontiguousarray(array.transpose(2, 0, 1))

    def batch(self, generator: np.random.Generator, batch_size: int) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.sample(generator) for _ in range(batch_size)]))


def load_eval_images(files: Sequence[Path], size: int, filter: str = "bilinear", crop: str = "none") -> torch.Tensor:
    """The model's own preprocessing of whole files: uint8 ``[B, 3, size, size]``."""
    return torch.from_numpy(np.stack([preprocess(load_rgb(str(f)), (size, size), filter, crop) for f in files]))
