import json
import struct

import pytest
import torch

from vqrae.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    load_checkpoint,
    load_weights,
    read_safetensors,
    save_safetensors,
)
from vqrae.model import VQRAE


def _assert_same_state(model, state):
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_safetensors_round_trip_loads_into_model(tiny_model, tiny_config, tmp_path):
    path = tmp_path / "w.safetensors"
    save_safetensors(tiny_model.state_dict(), path, metadata={"format": "pt"})
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])
    assert header_len % 8 == 0 and header["__metadata__"] == {"format": "pt"}
    entry = header["quantize.embedding.weight"]
    assert entry["dtype"] == "F32" and entry["shape"] == [256, 256]
    assert entry["data_offsets"][1] - entry["data_offsets"][0] == 256 * 256 * 4
    model = load_weights(VQRAE(tiny_config), path)
    _assert_same_state(model, tiny_model.state_dict())


def test_safetensors_half_precision_dtypes(tmp_path):
    values = torch.tensor([[1.0, -2.5, 0.1], [65504.0, 3.0e-5, 7.0]])
    path = tmp_path / "h.safetensors"
    save_safetensors({"f16": values.half(), "bf16": values.bfloat16(), "f32": values}, path)
    loaded = read_safetensors(path)
    assert loaded["f16"].dtype == torch.float16 and torch.equal(loaded["f16"], values.half())
    assert loaded["bf16"].dtype == torch.float32 and torch.equal(loaded["bf16"], values.bfloat16().float())
    assert torch.equal(loaded["f32"], values)


@pytest.mark.parametrize("wrapper", [None, "state_dict", "model"])
def test_torch_checkpoint_round_trip(tiny_model, tiny_config, tmp_path, wrapper):
    state = tiny_model.state_dict()
    path = tmp_path / "w.pt"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 3}, path)
    _assert_same_state(load_weights(VQRAE(tiny_config), path), state)


def test_mismatch_lists_missing_unexpected_and_shapes(tiny_model, tiny_config, tmp_path):
    state = dict(tiny_model.state_dict())
    del state["quantize.embedding_proj.bias"]
    state["quantize.codebook"] = state.pop("quantize.embedding.weight")
    state["decoder.pixel_head.weight"] = torch.zeros(3, 3)
    path = tmp_path / "bad.safetensors"
    save_safetensors(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        load_weights(VQRAE(tiny_config), path)
    error = info.value
    assert error.missing == ["quantize.embedding.weight", "quantize.embedding_proj.bias"]
    assert error.unexpected == ["quantize.codebook"]
    assert error.shape_mismatches == [("decoder.pixel_head.weight", (3, 3), (768, 128))]
    message = str(error)
    assert "missing keys (2): quantize.embedding.weight, quantize.embedding_proj.bias" in message
    assert "unexpected keys (1): quantize.codebook" in message
    assert "decoder.pixel_head.weight: checkpoint [3, 3], model [768, 128]" in message


def test_unreadable_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")
    (tmp_path / "w.ckpt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="unknown checkpoint format"):
        load_checkpoint(tmp_path / "w.ckpt")
    (tmp_path / "short.safetensors").write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(CheckpointError, match="header length"):
        load_checkpoint(tmp_path / "short.safetensors")
    header = json.dumps({"t": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]}}).encode()
    (tmp_path / "i8.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0")
    with pytest.raises(CheckpointError, match="unsupported dtype I8"):
        load_checkpoint(tmp_path / "i8.safetensors")
    torch.save({"weights": [1, 2]}, tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a state dict"):
        load_checkpoint(tmp_path / "list.pt")
