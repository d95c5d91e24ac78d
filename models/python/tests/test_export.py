import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, numpy_helper

from vqrae.checkpoint import read_safetensors, save_safetensors
from vqrae.export import NullEncoderGraph, encoder_flops, export, main as export_main
from vqrae.model import build_model
from vqrae.config import get_config
from vqrae.metrics import psnr
from vqrae.reference import load_model, main as reference_main

import onnx_eval  # tests/onnx_eval.py: NumPy interpreter for the exported graphs

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "models" / "tiny"
TRAINED_MIN_PSNR = 16.0  # dB on synthetic smooth images (see test_committed_tiny_model_is_trained)
MANIFEST_KEYS = {
    "format_version", "model_id", "model_version", "config", "codebook_size", "code_dim", "token_grid",
    "num_tokens", "feature_dim", "image_size", "preprocessing", "codebook_sha256", "encoder_flops_per_image",
    "graphs",
}
ENCODER_IO = {
    "inputs": {"pixels": (TensorProto.UINT8, ["batch", 3, 256, 256])},
    "outputs": {
        "features": (TensorProto.FLOAT, ["batch", 256, 128]),
        "token_ids": (TensorProto.INT64, ["batch", 256]),
        "quant_error": (TensorProto.FLOAT, ["batch", 256]),
    },
}
DECODER_IO = {
    "inputs": {"token_ids": (TensorProto.INT64, ["batch", 256])},
    "outputs": {"pixels": (TensorProto.UINT8, ["batch", 3, 256, 256])},
}


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _io(values):
    return {
        v.name: (v.type.tensor_type.elem_type, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
        for v in values
    }


@pytest.fixture(scope="module")
def exported(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    return out, export(tiny_model, out)


@pytest.fixture(scope="module")
def exported_fp16(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny16")
    return out, export(tiny_model, out, fp16=True)


@pytest.mark.parametrize("role, io", [("encoder", ENCODER_IO), ("decoder", DECODER_IO)])
def test_graphs_check_and_declare_io(exported, role, io):
    out, manifest = exported
    model = onnx.load(str(out / f"{role}.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert _io(model.graph.input) == io["inputs"]
    assert _io(model.graph.output) == io["outputs"]
    assert {p.key: p.value for p in model.metadata_props} == {
        "vqrae.model_id": "vqrae-tiny",
        "vqrae.model_version": "0.1.0",
        "vqrae.codebook_sha256": manifest["codebook_sha256"],
        "vqrae.graph": role,
    }
    assert not any(n.op_type.startswith("ATen") for n in model.graph.node)


def test_encoder_stores_effective_codebook_and_norms(exported, tiny_model):
    out, _ = exported
    graph = onnx.load(str(out / "encoder.onnx")).graph
    constants = [numpy_helper.to_array(t) for t in graph.initializer]
    codebook = tiny_model.effective_codebook().numpy()
    assert any(c.shape == codebook.shape and np.array_equal(c, codebook) for c in constants) or any(
        c.shape == codebook.T.shape and np.array_equal(c, codebook.T) for c in constants
    )
    norms = (codebook.astype(np.float64) ** 2).sum(-1).astype(np.float32)
    assert any(c.shape == norms.shape and np.array_equal(c, norms) for c in constants)


def test_manifest_fields_and_hashes(exported, tiny_model):
    out, manifest = exported
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert set(manifest) == MANIFEST_KEYS
    assert manifest["format_version"] == 1
    assert (manifest["model_id"], manifest["model_version"]) == ("vqrae-tiny", "0.1.0")
    assert manifest["config"] == tiny_model.config.to_dict()
    assert (manifest["codebook_size"], manifest["code_dim"], manifest["feature_dim"]) == (256, 256, 128)
    assert (manifest["token_grid"], manifest["num_tokens"], manifest["image_size"]) == ([16, 16], 256, [256, 256])
    assert manifest["preprocessing"] == {
        "size": [256, 256], "filter": "bilinear", "crop": "none",
        "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "alpha_background": [255, 255, 255],
    }
    codebook = tiny_model.effective_codebook().numpy().astype("<f4")
    assert manifest["codebook_sha256"] == hashlib.sha256(codebook.tobytes()).hexdigest()
    assert set(manifest["graphs"]) == {"encoder", "decoder"}
    for role, entry in manifest["graphs"].items():
        assert entry["file"] == f"{role}.onnx" and entry["precision"] == "fp32"
        assert entry["sha256"] == _sha256(out / entry["file"])
    assert manifest["graphs"]["encoder"]["inputs"] == {"pixels": {"dtype": "uint8", "shape": ["batch", 3, 256, 256]}}
    assert manifest["graphs"]["encoder"]["outputs"] == {
        "features": {"dtype": "float32", "shape": ["batch", 256, 128]},
        "token_ids": {"dtype": "int64", "shape": ["batch", 256]},
        "quant_error": {"dtype": "float32", "shape": ["batch", 256]},
    }
    assert manifest["graphs"]["decoder"]["outputs"] == {"pixels": {"dtype": "uint8", "shape": ["batch", 3, 256, 256]}}


def test_weights_file_is_the_model_state(exported, tiny_model):
    out, _ = exported
    weights = read_safetensors(out / "weights.safetensors")
    state = tiny_model.state_dict()
    assert list(weights) == sorted(state)
    assert all(torch.equal(weights[k], state[k]) for k in state)


def test_export_is_reproducible(exported, tiny_model, tmp_path):
    out, manifest = exported
    again = export(tiny_model, tmp_path)
    for role in ("encoder", "decoder"):
        assert again["graphs"][role]["sha256"] == manifest["graphs"][role]["sha256"]


def test_fp16_graphs(exported_fp16):
    out, manifest = exported_fp16
    for role, io in (("encoder", ENCODER_IO), ("decoder", DECODER_IO)):
        entry = manifest["graphs"][role]
        assert entry["file"] == f"{role}.fp16.onnx" and entry["precision"] == "fp16"
        assert entry["sha256"] == _sha256(out / entry["file"])
        model = onnx.load(str(out / entry["file"]))
        onnx.checker.check_model(model, full_check=True)
        assert _io(model.graph.input) == io["inputs"] and _io(model.graph.output) == io["outputs"]
        types = [t.data_type for t in model.graph.initializer if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16)]
        assert types.count(TensorProto.FLOAT16) > 10
    encoder = onnx.load(str(out / "encoder.fp16.onnx")).graph
    casts = {n.output[0]: n.attribute[0].i for n in encoder.node if n.op_type == "Cast"}
    assert TensorProto.FLOAT16 in casts.values()  # uint8 pixels -> float16
    assert casts["features"] == TensorProto.FLOAT  # float32 output under its original name
    fp32_shapes = {tuple(t.dims) for t in encoder.initializer if t.data_type == TensorProto.FLOAT}
    # the quantizer branch (quant_proj and the codebook search) stays float32
    assert (256,) in fp32_shapes and (256, 256) in fp32_shapes
    decoder = onnx.load(str(out / "decoder.fp16.onnx")).graph
    assert all(t.data_type != TensorProto.FLOAT for t in decoder.initializer)


def test_committed_tiny_artifacts_are_an_export_of_their_weights(tmp_path):
    """models/tiny is the trained tiny model (vqrae.train): its graphs and manifest are what
    vqrae.export writes for its weights.safetensors."""
    committed = json.loads((COMMITTED / "manifest.json").read_text())
    assert (committed["model_id"], committed["model_version"]) == ("vqrae-tiny", "0.2.0")
    assert committed["config"] == get_config("tiny").to_dict()
    model = load_model(COMMITTED)  # also checks codebook_sha256 against the weights
    fresh = export(model, tmp_path, committed["model_id"], committed["model_version"])
    strip = lambda m: {**m, "graphs": {r: {k: v for k, v in e.items() if k != "sha256"} for r, e in m["graphs"].items()}}
    assert strip(committed) == strip(fresh)
    committed_weights = read_safetensors(COMMITTED / "weights.safetensors")
    fresh_weights = read_safetensors(tmp_path / "weights.safetensors")
    assert list(committed_weights) == list(fresh_weights)
    assert all(torch.equal(committed_weights[k], fresh_weights[k]) for k in fresh_weights)
    for role, entry in committed["graphs"].items():
        assert entry["sha256"] == _sha256(COMMITTED / entry["file"])
        graph = onnx.load(str(COMMITTED / entry["file"]))
        assert {p.key: p.value for p in graph.metadata_props} == {
            "vqrae.model_id": "vqrae-tiny", "vqrae.model_version": "0.2.0",
            "vqrae.codebook_sha256": fresh["codebook_sha256"], "vqrae.graph": role,
        }
        fresh_graph = onnx.load(str(tmp_path / entry["file"]))
        assert len(graph.graph.initializer) == len(fresh_graph.graph.initializer)
        for a, b in zip(graph.graph.initializer, fresh_graph.graph.initializer):
            assert a.name == b.name and np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))


def test_committed_tiny_model_is_trained(tiny_model, test_pixels):
    """The committed weights reconstruct smooth images (the seed-0 initialisation does not)."""
    trained = load_model(COMMITTED)
    smooth = test_pixels[:3]  # gradient, ellipses, blurred noise
    with torch.no_grad():
        ids = trained.encode(smooth)[1]
        recon = trained.decode(ids)
        random_recon = tiny_model.decode(tiny_model.encode(smooth)[1])
    trained_psnr, random_psnr = psnr(recon, smooth), psnr(random_recon, smooth)
    assert float(trained_psnr.min()) > TRAINED_MIN_PSNR, trained_psnr
    assert float(trained_psnr.mean()) > float(random_psnr.mean()) + 5.0, (trained_psnr, random_psnr)
    assert len(torch.unique(ids)) >= 40


def test_export_cli_rejects_bad_checkpoint(tmp_path, tiny_model, capsys):
    state = dict(tiny_model.state_dict())
    del state["quant_proj.bias"]
    save_safetensors(state, tmp_path / "bad.safetensors")
    code = export_main(["--config", "tiny", "--checkpoint", str(tmp_path / "bad.safetensors"), "--out", str(tmp_path / "o")])
    assert code == 1
    assert "missing keys (1): quant_proj.bias" in capsys.readouterr().err


def test_reference_cli_matches_model(exported, tiny_model, test_pixels, tmp_path):
    out, _ = exported
    np.save(tmp_path / "in.npy", test_pixels[:2].numpy())
    assert reference_main(["encode", "--model-dir", str(out), "--input", str(tmp_path / "in.npy"), "--out-dir", str(tmp_path / "enc")]) == 0
    with torch.no_grad():
        features, token_ids, error = tiny_model.encode(test_pixels[:2])
        pixels = tiny_model.decode(token_ids)
    got_ids = np.load(tmp_path / "enc" / "token_ids.npy")
    assert got_ids.dtype == np.int64 and np.array_equal(got_ids, token_ids.numpy())
    got_features = np.load(tmp_path / "enc" / "features.npy")
    assert got_features.dtype == np.float32 and np.array_equal(got_features, features.numpy())
    assert np.array_equal(np.load(tmp_path / "enc" / "quant_error.npy"), error.numpy())
    assert reference_main(["decode", "--model-dir", str(out), "--input", str(tmp_path / "enc" / "token_ids.npy"), "--out-dir", str(tmp_path / "dec")]) == 0
    got_pixels = np.load(tmp_path / "dec" / "pixels.npy")
    assert got_pixels.dtype == np.uint8 and np.array_equal(got_pixels, pixels.numpy())


def test_reference_cli_errors(exported, tmp_path):
    out, _ = exported
    np.save(tmp_path / "f.npy", np.zeros((1, 3, 256, 256), np.float32))
    result = subprocess.run(
        [sys.executable, "-m", "vqrae.reference", "encode", "--model-dir", str(out), "--input", str(tmp_path / "f.npy"), "--out-dir", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=str(ROOT / "models" / "python"),
    )
    assert result.returncode == 1
    assert "dtype float32, expected uint8" in result.stderr
    np.save(tmp_path / "ids.npy", np.full((1, 256), 256, np.int64))
    assert reference_main(["decode", "--model-dir", str(out), "--input", str(tmp_path / "ids.npy"), "--out-dir", str(tmp_path / "o")]) == 1
    assert reference_main(["decode", "--model-dir", str(tmp_path), "--input", str(tmp_path / "ids.npy"), "--out-dir", str(tmp_path / "o")]) == 1


def _run_graphs(out, manifest, model, pixels):
    encoder = onnx.load(str(out / manifest["graphs"]["encoder"]["file"]))
    decoder = onnx.load(str(out / manifest["graphs"]["decoder"]["file"]))
    encoded = onnx_eval.run(encoder, {"pixels": pixels.numpy()})
    with torch.no_grad():
        features, token_ids, error = model.encode(pixels)
        pixels_out = model.decode(token_ids)
    decoded = onnx_eval.run(decoder, {"token_ids": token_ids.numpy()})
    assert encoded["features"].dtype == np.float32 and encoded["quant_error"].dtype == np.float32
    assert encoded["token_ids"].dtype == np.int64 and decoded["pixels"].dtype == np.uint8
    pixel_diff = np.abs(decoded["pixels"].astype(np.int32) - pixels_out.numpy().astype(np.int32))
    return encoded, (features.numpy(), token_ids.numpy(), error.numpy()), pixel_diff


def test_fp32_graphs_compute_the_model(exported, tiny_model, test_pixels):
    out, manifest = exported
    encoded, (features, token_ids, error), pixel_diff = _run_graphs(out, manifest, tiny_model, test_pixels)
    assert np.abs(encoded["features"] - features).max() < 1e-4
    assert np.array_equal(encoded["token_ids"], token_ids)
    assert np.abs(encoded["quant_error"] - error).max() < 1e-3
    # float32 summation order may move a value across a .5 rounding boundary
    assert pixel_diff.max() <= 1 and (pixel_diff == 0).mean() > 0.99


def test_fp16_graphs_compute_close_to_the_model(exported_fp16, tiny_model, test_pixels):
    out, manifest = exported_fp16
    encoded, (features, token_ids, error), pixel_diff = _run_graphs(out, manifest, tiny_model, test_pixels[:2])
    assert np.abs(encoded["features"] - features).max() < 2e-2
    assert (encoded["token_ids"] == token_ids).mean() > 0.97
    assert pixel_diff.max() <= 4 and pixel_diff.mean() < 0.5


def test_encoder_flops_count_the_weight_matmuls_a_forward_pass_runs(tiny_model, test_pixels):
    """The formula's weight terms against multiply-adds counted by hooks on every Linear/Conv2d the encoder
    graph runs (the ViT and quant_proj; the codebook is a constant of the graph); attention scores and the
    codebook search are matmuls of activations, added from their shapes."""
    config = tiny_model.config
    macs = []

    def count(module, inputs, output):
        weight = module.weight
        per_output = weight[0].numel()  # in_features, or in_channels * kernel area
        macs.append(output.numel() // output.shape[0] * per_output)

    modules = [m for m in list(tiny_model.vision_model.modules()) + [tiny_model.quant_proj]
               if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    hooks = [m.register_forward_hook(count) for m in modules]
    try:
        with torch.no_grad():
            tiny_model.quantizer_input(test_pixels[:1])
    finally:
        for hook in hooks:
            hook.remove()
    n, d = config.num_tokens, config.width
    activation_matmuls = config.depth * 2 * n * n * d + n * config.codebook_size * config.code_dim
    assert encoder_flops(config) == 2 * (sum(macs) + activation_matmuls)
    assert encoder_flops(get_config("so400m-256")) == 232_865_660_928


def test_null_export_has_the_models_signature_and_does_no_model_work(tmp_path, tiny_config):
    manifest = export(build_model(tiny_config, 0, data_codebook=False), tmp_path, null=True)
    assert manifest["model_id"] == "vqrae-null-tiny"
    assert manifest["encoder_flops_per_image"] == 0
    for role, io in (("encoder", ENCODER_IO), ("decoder", DECODER_IO)):
        graph = onnx.load(str(tmp_path / manifest["graphs"][role]["file"]))
        assert _io(graph.graph.input) == io["inputs"] and _io(graph.graph.output) == io["outputs"]
        assert not graph.graph.initializer or sum(numpy_helper.to_array(t).size for t in graph.graph.initializer) < 16
    pixels = torch.full((2, 3, 256, 256), 128, dtype=torch.uint8)
    pixels[1] = 255
    features, token_ids, quant_error = NullEncoderGraph(tiny_config)(pixels)
    assert features.shape == (2, 256, 128) and quant_error.abs().max() == 0
    assert token_ids[0].unique().tolist() == [128] and token_ids[1].unique().tolist() == [255]


def test_random_codebook_init_skips_the_encoder_run_and_is_seeded(tiny_config):
    first = build_model(tiny_config, 3, data_codebook=False).state_dict()
    again = build_model(tiny_config, 3, data_codebook=False).state_dict()
    data = build_model(tiny_config, 3).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["quantize.embedding.weight"], data["quantize.embedding.weight"])
