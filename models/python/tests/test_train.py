"""The training recipe at toy scale: stages 0-2 lower their losses, runs resume bit for bit, the exported
graphs compute the trained model, and Hugging Face SigLIP/SigLIP2 encoder checkpoints map onto the layout."""

import json
from collections import OrderedDict

import numpy as np
import onnx
import pytest
import torch
from PIL import Image, ImageDraw, ImageFilter

from vqrae.checkpoint import (
    CheckpointMismatchError,
    expected_shapes,
    load_encoder_checkpoint,
    read_safetensors,
    save_safetensors,
)
from vqrae.config import VQRAEConfig
from vqrae.evaluate import evaluate, format_report
from vqrae.metrics import psnr, ssim
from vqrae.model import VQRAE, build_model
from vqrae.reference import load_model
from vqrae.train import main as train_main

import onnx_eval

# 64 px, 4x4 tokens: a few milliseconds per step
TOY = VQRAEConfig(name="toy", image_size=64, patch_size=16, width=32, depth=1, heads=2, mlp_dim=64,
                  codebook_size=32, code_dim=16)
STEPS = 30


def _photos(directory, count=5):
    """Small, smooth, photo-like images (gradients, blurred ellipses) of several sizes and aspect ratios."""
    rng = np.random.RandomState(7)
    paths = []
    for i in range(count):
        w, h = int(rng.randint(96, 200)), int(rng.randint(96, 200))
        img = Image.new("RGB", (w, h), tuple(int(c) for c in rng.randint(0, 256, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(6):
            x0, x1 = sorted(rng.randint(0, w, 2))
            y0, y1 = sorted(rng.randint(0, h, 2))
            draw.ellipse([x0, y0, x1, y1], fill=tuple(int(c) for c in rng.randint(0, 256, 3)))
        path = directory / f"photo{i}.png"
        img.filter(ImageFilter.GaussianBlur(2)).save(path)
        paths.append(path)
    return paths


def _train_args(tmp_path, out, photos, *extra):
    config = tmp_path / "toy.json"
    config.write_text(json.dumps(TOY.to_dict()))
    return ["--config", str(config), "--out", str(out), "--files", *map(str, photos[:-1]),
            "--eval-files", str(photos[-1]), "--steps0", str(STEPS), "--steps1", str(STEPS), "--steps2", str(STEPS),
            "--batch-size", "4", "--lr0", "3e-3", "--lr1", "3e-3", "--lr2", "1e-3", "--warmup", "3",
            "--log-every", "1", "--save-every", "1000", "--restart-every", "10", "--kmeans-batches", "2",
            "--cache-side", "128", *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("train")
    photos = _photos(tmp_path)
    out = tmp_path / "run"
    assert train_main(_train_args(tmp_path, out, photos, "--export", str(tmp_path / "model"))) == 0
    return tmp_path, photos, out


def _window_means(log, stage, key, width=5):
    values = [e[key] for e in log if e["stage"] == stage]
    assert len(values) == STEPS
    return float(np.mean(values[:width])), float(np.mean(values[-width:]))


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_each_stage_lowers_its_loss(trained, stage):
    _, _, out = trained
    history = json.loads((out / "history.json").read_text())
    first, last = _window_means(history["log"], stage, "pixel")
    assert last < first, f"stage {stage}: pixel loss {first:.4f} -> {last:.4f}"
    first, last = _window_means(history["log"], stage, "total")
    assert last < first
    if stage == 2:
        assert all("distill" in e for e in history["log"] if e["stage"] == 2)
    assert [e["stage"] for e in history["evals"]] == [0, 1, 2]
    assert (out / "losses.png").stat().st_size > 1000
    assert (out / "stage2.pt").is_file()


def test_export_of_trained_model_computes_it(trained):
    tmp_path, photos, out = trained
    model_dir = tmp_path / "model"
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["model_version"] == "0.2.0" and manifest["config"] == TOY.to_dict()
    model = load_model(model_dir)  # checks the manifest's codebook hash against the weights
    final = read_safetensors(out / "model.safetensors")
    assert all(torch.equal(final[k], v) for k, v in model.state_dict().items())
    init = build_model(TOY, 0)
    assert not torch.equal(init.quantize.embedding_proj.weight, model.quantize.embedding_proj.weight)
    pixels = torch.from_numpy(np.stack([np.asarray(Image.open(p).convert("RGB").resize((64, 64))).transpose(2, 0, 1)
                                        for p in photos]).copy())
    encoded = onnx_eval.run(onnx.load(str(model_dir / "encoder.onnx")), {"pixels": pixels.numpy()})
    with torch.no_grad():
        features, token_ids, error = model.encode(pixels)
        expected = model.decode(token_ids)
    assert np.abs(encoded["features"] - features.numpy()).max() < 1e-4
    assert np.array_equal(encoded["token_ids"], token_ids.numpy())
    decoded = onnx_eval.run(onnx.load(str(model_dir / "decoder.onnx")), {"token_ids": token_ids.numpy()})
    diff = np.abs(decoded["pixels"].astype(np.int32) - expected.numpy().astype(np.int32))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99


def test_evaluate_reports_figures(trained):
    tmp_path, photos, _ = trained
    model = load_model(tmp_path / "model")
    result = evaluate(model, photos)
    assert result["num_images"] == len(photos) and result["num_tokens"] == len(photos) * 16
    assert 0 < result["utilisation"] <= 1 and result["distinct_ids"] <= 32
    assert result["psnr"] > 12 and 0 < result["ssim"] <= 1
    assert "codebook utilisation" in format_report(result)[-1]


def test_interrupted_run_resumes_bit_for_bit(tmp_path, trained):
    _, photos, out = trained
    short = ["--stages", "0,1", "--steps0", "8", "--steps1", "8"]
    again = tmp_path / "again"
    assert train_main(_train_args(tmp_path, again, photos, *short)) == 0
    resumed = tmp_path / "resumed"
    assert train_main(_train_args(tmp_path, resumed, photos, *short, "--stop-after", "5")) == 0
    assert not (resumed / "model.safetensors").exists() and (resumed / "last.pt").is_file()
    assert train_main(_train_args(tmp_path, resumed, photos, *short, "--stop-after", "6", "--resume")) == 0
    assert train_main(_train_args(tmp_path, resumed, photos, *short, "--resume")) == 0
    a = read_safetensors(again / "model.safetensors")
    b = read_safetensors(resumed / "model.safetensors")
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    log_a = json.loads((again / "history.json").read_text())["log"]
    log_b = json.loads((resumed / "history.json").read_text())["log"]
    assert [e["total"] for e in log_a] == [e["total"] for e in log_b]


# --- Hugging Face SigLIP / SigLIP2 encoder checkpoints -----------------------------------------------


def _hf_siglip_state(config, generator, siglip2=False, grid=None, full_model=False):
    """A synthetic checkpoint in the HF layout with random weights, plus the keys VQRAE ignores."""
    state = OrderedDict()
    d, p = config.width, config.patch_size
    for key, shape in expected_shapes(config).items():
        if key.startswith("vision_model."):
            state[key] = torch.randn(shape, generator=generator)
    if siglip2:
        state["vision_model.embeddings.patch_embedding.weight"] = torch.randn(d, p * p * 3, generator=generator)
    if grid is not None:
        state["vision_model.embeddings.position_embedding.weight"] = torch.randn(grid * grid, d, generator=generator)
    state["vision_model.embeddings.position_ids"] = torch.arange(config.num_tokens).view(1, -1).float()
    state["vision_model.head.probe"] = torch.randn(1, 1, d, generator=generator)
    state["vision_model.head.attention.in_proj_weight"] = torch.randn(3 * d, d, generator=generator)
    state["vision_model.head.attention.in_proj_bias"] = torch.randn(3 * d, generator=generator)
    state["vision_model.head.attention.out_proj.weight"] = torch.randn(d, d, generator=generator)
    state["vision_model.head.layernorm.weight"] = torch.randn(d, generator=generator)
    state["vision_model.head.mlp.fc1.weight"] = torch.randn(config.mlp_dim, d, generator=generator)
    if full_model:
        state["text_model.embeddings.token_embedding.weight"] = torch.randn(10, d, generator=generator)
        state["logit_scale"] = torch.randn(1, generator=generator)
        state["logit_bias"] = torch.randn(1, generator=generator)
    return state


def test_siglip_vision_checkpoint_maps_every_key(tmp_path):
    g = torch.Generator().manual_seed(3)
    state = _hf_siglip_state(TOY, g, full_model=True)
    path = tmp_path / "siglip.safetensors"
    save_safetensors(state, path)
    model = build_model(TOY, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ignored = load_encoder_checkpoint(model, path)
    assert ignored == sorted(k for k in state if k.startswith(("vision_model.head.", "text_model.", "logit_"))
                             or k.endswith("position_ids"))
    after = model.state_dict()
    encoder_keys = [k for k in expected_shapes(TOY) if k.startswith("vision_model.")]
    assert len(encoder_keys) == 5 + 16 * TOY.depth
    for key in after:
        if key in encoder_keys:
            assert torch.equal(after[key], state[key]), key
        else:
            assert torch.equal(after[key], before[key]), key  # quantizer and decoder untouched


def test_siglip_vision_checkpoint_without_prefix_and_as_torch_file(tmp_path):
    g = torch.Generator().manual_seed(4)
    state = _hf_siglip_state(TOY, g)
    bare = OrderedDict((k[len("vision_model."):], v) for k, v in state.items())
    path = tmp_path / "tower.pt"
    torch.save({"state_dict": bare}, path)
    model = build_model(TOY, 0)
    load_encoder_checkpoint(model, path)
    assert torch.equal(model.vision_model.post_layernorm.weight, state["vision_model.post_layernorm.weight"])


def test_siglip2_linear_patch_embedding_and_position_resize():
    g = torch.Generator().manual_seed(5)
    state = _hf_siglip_state(TOY, g, siglip2=True, grid=2)
    model = build_model(TOY, 0)
    load_encoder_checkpoint(model, state)
    # Siglip2 flattens each patch as (row, column, channel) and applies a Linear
    image = torch.randn(1, 3, 64, 64, generator=g)
    p, n = TOY.patch_size, TOY.grid_size
    patches = image.reshape(1, 3, n, p, n, p).permute(0, 2, 4, 3, 5, 1).reshape(1, n * n, p * p * 3)
    linear = patches @ state["vision_model.embeddings.patch_embedding.weight"].t()
    linear = linear + state["vision_model.embeddings.patch_embedding.bias"]
    conv = model.vision_model.embeddings.patch_embedding(image).flatten(2).transpose(1, 2)
    assert torch.allclose(conv, linear, atol=1e-4)
    # 2x2 table -> 4x4 grid, bilinear (align_corners=False): constant tables stay constant, corners stay close
    table = model.vision_model.embeddings.position_embedding.weight.detach().view(4, 4, -1)
    source = state["vision_model.embeddings.position_embedding.weight"].view(2, 2, -1)
    assert torch.allclose(table[0, 0], source[0, 0], atol=1e-6) and torch.allclose(table[3, 3], source[1, 1], atol=1e-6)
    assert torch.allclose(table[1:3, 1:3].mean(dim=(0, 1)), source.mean(dim=(0, 1)), atol=1e-5)


def test_hf_mapping_lists_missing_unexpected_and_bad_shapes():
    g = torch.Generator().manual_seed(6)
    state = _hf_siglip_state(TOY, g)
    del state["vision_model.encoder.layers.0.self_attn.q_proj.bias"]
    state["vision_model.encoder.layers.1.mlp.fc1.weight"] = torch.zeros(TOY.mlp_dim, TOY.width)  # depth 1 model
    state["vision_model.post_layernorm.weight"] = torch.zeros(7)
    with pytest.raises(CheckpointMismatchError) as info:
        load_encoder_checkpoint(build_model(TOY, 0), state)
    error = info.value
    assert error.missing == ["vision_model.encoder.layers.0.self_attn.q_proj.bias"]
    assert error.unexpected == ["vision_model.encoder.layers.1.mlp.fc1.weight"]
    assert error.shape_mismatches == [("vision_model.post_layernorm.weight", (7,), (TOY.width,))]


def test_train_cli_takes_encoder_checkpoint(tmp_path):
    g = torch.Generator().manual_seed(8)
    encoder = tmp_path / "siglip2.safetensors"
    save_safetensors(_hf_siglip_state(TOY, g, siglip2=True), encoder)
    photos = _photos(tmp_path, 3)
    out = tmp_path / "run"
    args = _train_args(tmp_path, out, photos, "--encoder-checkpoint", str(encoder), "--steps1", "3", "--steps2", "3")
    assert train_main(args) == 0
    history = json.loads((out / "history.json").read_text())
    assert history["stages"] == [1, 2] and {e["stage"] for e in history["log"]} == {1, 2}
    assert train_main(args + ["--stages", "0,1,2"]) == 1  # stage 0 would overwrite the pretrained encoder


# --- metrics -----------------------------------------------------------------------------------------


def test_ssim_and_psnr_known_values():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(ssim(x, x), torch.ones(2))
    # constant images: variances vanish, SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b = 0.2, 0.6
    c1 = 0.01 ** 2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    value = ssim(torch.full((1, 3, 16, 16), a), torch.full((1, 3, 16, 16), b))
    assert abs(float(value) - expected) < 5e-4  # float32 E[x^2] - mu^2 cancellation
    noisy = (x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert float(ssim(x, noisy).mean()) < 0.95
    y = torch.zeros(1, 3, 4, 4)
    assert abs(float(psnr(y + 255.0 / 100, y)) - 40.0) < 1e-5  # float32 input
