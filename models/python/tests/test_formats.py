import numpy as np
from PIL import Image

from vqrae.formats import FORMATS, pillow_rate, save_formats
from vqrae.preprocess import load_rgb


def _photo(width, height, seed):
    rng = np.random.RandomState(seed)
    base = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None].repeat(height, 0).repeat(3, 2)
    return Image.fromarray((base + rng.randint(0, 40, (height, width, 3))).astype(np.uint8), "RGB")


def test_every_format_is_written_and_reads_back_as_the_reference_sees_it(tmp_path):
    photo = _photo(90, 60, 0)
    save_formats(photo, [_photo(90, 60, 1), _photo(90, 60, 2)], tmp_path, "0000")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FORMATS)
    for fmt in FORMATS:
        (file,) = list((tmp_path / fmt).iterdir())
        rgb = load_rgb(str(file))
        # EXIF orientation 6 stores the photo sideways: upright it is 60 x 90 again.
        assert rgb.size == ((60, 90) if fmt.endswith("-exif") else (90, 60)), fmt
        with Image.open(file) as opened:
            assert opened.format == {"jpeg": "JPEG", "png": "PNG", "bmp": "BMP", "gif": "GIF", "webp": "WEBP"}[fmt.split("-")[0]]
            if fmt == "webp-animated":
                assert opened.n_frames == 3
            if fmt == "webp-alpha":
                assert opened.mode == "RGBA"
    lossless = np.asarray(load_rgb(str(tmp_path / "webp-lossless" / "0000.webp")))
    assert np.array_equal(lossless, np.asarray(photo))


def test_pillow_rate_counts_images_per_second(tmp_path):
    for i in range(3):
        _photo(64, 48, i).save(tmp_path / f"{i}.png")
    rate = pillow_rate(tmp_path, (32, 32), "bilinear", seconds=0.2)
    assert 0 < rate < 1e6
