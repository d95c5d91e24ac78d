"""Shared fixtures: the seed-0 tiny model and a few natural-looking test images drawn with PIL."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from vqrae.config import get_config
from vqrae.model import build_model


@pytest.fixture(scope="session")
def tiny_config():
    return get_config("tiny")


@pytest.fixture(scope="session")
def tiny_model(tiny_config):
    return build_model(tiny_config, seed=0)


def _pil_images(size: int):
    rng = np.random.RandomState(1)
    gradient = np.zeros((size, size, 3), np.uint8)
    gradient[..., 0] = np.linspace(0, 255, size, dtype=np.uint8)[None, :]
    gradient[..., 1] = np.linspace(0, 255, size, dtype=np.uint8)[:, None]
    gradient[..., 2] = 128
    shapes = Image.new("RGB", (size, size), (30, 120, 200))
    draw = ImageDraw.Draw(shapes)
    for _ in range(12):
        x0, x1 = sorted(rng.randint(0, size, 2))
        y0, y1 = sorted(rng.randint(0, size, 2))
        draw.ellipse([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.randint(0, 256, 3)))
    blurred = Image.fromarray(rng.randint(0, 256, (size // 4, size // 4, 3), dtype=np.uint8))
    blurred = blurred.resize((size, size), Image.BICUBIC).filter(ImageFilter.GaussianBlur(3))
    noise = Image.fromarray(rng.randint(0, 256, (size, size, 3), dtype=np.uint8))
    return [Image.fromarray(gradient), shapes, blurred, noise]


@pytest.fixture(scope="session")
def test_pixels(tiny_config):
    """uint8 [4, 3, 256, 256]: gradient, ellipses, blurred noise, white noise."""
    images = _pil_images(tiny_config.image_size)
    return torch.from_numpy(np.stack([np.asarray(im).transpose(2, 0, 1) for im in images]).copy())
