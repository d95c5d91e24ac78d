import dataclasses

import torch

from vqrae.checkpoint import expected_shapes
from vqrae.model import VQRAE, SimVQ, build_model, codebook_squared_norms


def test_state_dict_is_the_documented_layout(tiny_model, tiny_config):
    state = tiny_model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == dict(expected_shapes(tiny_config))
    assert not tiny_model.quantize.embedding.weight.requires_grad


def test_init_is_deterministic_and_seeded(tiny_model, tiny_config):
    again = build_model(tiny_config, seed=0).state_dict()
    other = build_model(tiny_config, seed=1).state_dict()
    for key, value in tiny_model.state_dict().items():
        assert torch.equal(value, again[key]), key
    assert not torch.equal(tiny_model.state_dict()["quant_proj.weight"], other["quant_proj.weight"])
    assert abs(float(tiny_model.state_dict()["quant_proj.weight"].std()) - 0.02) < 0.001


def test_quantizer_matches_brute_force():
    torch.manual_seed(3)
    quantizer = SimVQ(64, 8)
    z = torch.randn(2, 5, 8)
    codebook = quantizer.effective_codebook()
    token_ids, error = SimVQ.search(z, codebook, codebook_squared_norms(codebook))
    brute = ((z.unsqueeze(-2) - codebook) ** 2).sum(-1)
    assert torch.equal(token_ids, brute.argmin(-1))
    assert torch.allclose(error, brute.min(-1).values, atol=1e-5)
    assert torch.allclose(codebook, quantizer.embedding_proj(quantizer.embedding.weight), atol=1e-6)


def test_encode_decode_shapes_and_dtypes(tiny_model, test_pixels):
    with torch.no_grad():
        features, token_ids, error = tiny_model.encode(test_pixels)
        pixels = tiny_model.decode(token_ids)
    assert features.shape == (4, 256, 128) and features.dtype == torch.float32
    assert token_ids.shape == (4, 256) and token_ids.dtype == torch.int64
    assert error.shape == (4, 256) and error.dtype == torch.float32
    assert int(token_ids.min()) >= 0 and int(token_ids.max()) < 256
    assert float(error.min()) >= 0.0
    assert pixels.shape == (4, 3, 256, 256) and pixels.dtype == torch.uint8
    # features are the post-LayerNorm output: zero mean, unit variance per token
    assert torch.allclose(features.mean(-1), torch.zeros(4, 256), atol=1e-4)


def test_decode_looks_up_effective_codebook_not_stored(tiny_model):
    token_ids = torch.arange(256).view(1, 256)
    codebook = tiny_model.effective_codebook()
    assert not torch.allclose(codebook, tiny_model.quantize.embedding.weight, atol=1e-3)
    with torch.no_grad():
        pixels = tiny_model.decode(token_ids)
        assert torch.equal(pixels, tiny_model.decode(token_ids, codebook=codebook))
        assert not torch.equal(pixels, tiny_model.decode(token_ids, codebook=tiny_model.quantize.embedding.weight))


def test_tiny_codebook_is_used_diversely(tiny_model, test_pixels):
    with torch.no_grad():
        token_ids = tiny_model.encode(test_pixels)[1]
    per_image = [len(torch.unique(ids)) for ids in token_ids]
    # gradient, ellipses (flat regions), blurred noise, white noise
    assert per_image[0] >= 25 and per_image[1] >= 10 and per_image[2] >= 100 and per_image[3] >= 100
    assert len(torch.unique(token_ids)) >= 150


def test_quantize_from_last_layer_changes_quantizer_input(tiny_model, test_pixels):
    config = dataclasses.replace(tiny_model.config, quantize_from="last_layer")
    model = VQRAE(config)
    model.load_state_dict(tiny_model.state_dict())
    model.eval()
    with torch.no_grad():
        post, z_post = tiny_model.quantizer_input(test_pixels[:1])
        features, z_last = model.quantizer_input(test_pixels[:1])
    assert torch.equal(post, features)
    assert not torch.allclose(z_post, z_last)


def test_normalisation_is_inside_the_model(tiny_model):
    pixels = torch.tensor([0, 255, 128], dtype=torch.uint8).view(1, 3, 1, 1)
    assert torch.allclose(tiny_model.normalize(pixels).flatten(), torch.tensor([-1.0, 1.0, 128 / 255 * 2 - 1]), atol=1e-6)
