import math

import pytest

from vqrae.checkpoint import expected_shapes
from vqrae.config import PRESETS, VQRAEConfig, get_config


def test_so400m_presets_match_the_paper():
    for name, size, grid in (("so400m-256", 256, 16), ("so400m-512", 512, 32)):
        config = get_config(name)
        assert (config.image_size, config.patch_size, config.grid_size, config.num_tokens) == (size, 16, grid, grid * grid)
        assert (config.width, config.depth, config.heads, config.mlp_dim) == (1152, 27, 16, 4304)
        assert (config.codebook_size, config.code_dim, config.layer_norm_eps) == (16384, 1536, 1e-6)
        assert (config.decoder_width, config.decoder_depth, config.decoder_heads, config.decoder_mlp_dim) == (1152, 27, 16, 4304)
        assert (config.quantize_from, config.proj_bias, config.resize_filter, config.crop) == ("post_norm", True, "bilinear", "none")
        assert config.mean == config.std == (0.5, 0.5, 0.5)


def test_so400m_encoder_parameter_count_from_key_layout():
    shapes = expected_shapes(get_config("so400m-256"))
    encoder = sum(math.prod(s) for k, s in shapes.items() if k.startswith("vision_model."))
    # SigLIP so400m/16 vision tower without the pooling head.
    assert encoder == 412_649_712
    assert shapes["quantize.embedding.weight"] == (16384, 1536)
    assert shapes["vision_model.embeddings.position_embedding.weight"] == (256, 1152)
    assert expected_shapes(get_config("so400m-512"))["vision_model.embeddings.position_embedding.weight"] == (1024, 1152)


def test_tiny_preset():
    config = get_config("tiny")
    assert (config.image_size, config.patch_size, config.grid_size) == (256, 16, 16)
    assert (config.width, config.depth, config.heads, config.mlp_dim) == (128, 2, 4, 512)
    assert (config.codebook_size, config.code_dim) == (256, 256)
    assert (config.decoder_width, config.decoder_depth, config.decoder_heads, config.decoder_mlp_dim) == (128, 4, 4, 512)
    assert (config.resize_filter, config.crop) == ("bilinear", "none")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_dict_round_trip(name):
    config = get_config(name)
    data = config.to_dict()
    assert data["mean"] == [0.5, 0.5, 0.5] and data["decoder_width"] == config.width
    assert VQRAEConfig.from_dict(data) == config


def test_invalid_configs_are_rejected():
    base = get_config("tiny").to_dict()
    for change in ({"quantize_from": "pre"}, {"crop": "random"}, {"resize_filter": "nearest"}, {"image_size": 250}, {"heads": 3}):
        with pytest.raises(ValueError):
            VQRAEConfig.from_dict({**base, **change})
    with pytest.raises(ValueError, match="unknown VQRAEConfig keys"):
        VQRAEConfig.from_dict({**base, "extra": 1})
    with pytest.raises(ValueError, match="unknown config"):
        get_config("so400m")


def test_decoder_overrides_do_not_mirror():
    config = VQRAEConfig(name="x", image_size=32, patch_size=16, width=64, depth=1, heads=2, mlp_dim=128,
                         codebook_size=16, code_dim=8, decoder_width=32, decoder_heads=4)
    assert (config.decoder_width, config.decoder_heads, config.decoder_depth, config.decoder_mlp_dim) == (32, 4, 1, 128)
