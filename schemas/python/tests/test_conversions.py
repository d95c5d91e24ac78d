import numpy as np
import pytest
import torch

from vqrae_schemas.conversions import (SAMPLE_KEYS, _to_le_bytes, feature_array_to_tensor, features_to_tensor,
                                       sample_from_records, token_array_to_tensor, token_ids_to_tensor)

from vqrae_testdata import bf16_bits, feature_record, token_record


def test_token_ids_uint16():
    data = np.array([0, 1, 32768, 65535], dtype="<u2").tobytes()
    t = token_ids_to_tensor(data, "uint16", 2, 2)
    assert t.dtype == torch.int64 and t.shape == (4,) and t.tolist() == [0, 1, 32768, 65535]


def test_token_ids_uint32():
    data = np.array([70000, 4294967295], dtype="<u4").tobytes()
    assert token_ids_to_tensor(data, "uint32", 1, 2).tolist() == [70000, 4294967295]


def test_token_ids_wrong_length():
    with pytest.raises(ValueError, match="2x2 grid of uint16 needs 8"):
        token_ids_to_tensor(b"\x00" * 6, "uint16", 2, 2)


def test_token_array_from_npy_grid():
    grid = np.array([[1, 2, 3], [4, 5, 65535]], dtype="<u2")
    assert token_array_to_tensor(grid).tolist() == [1, 2, 3, 4, 5, 65535]
    with pytest.raises(ValueError):
        token_array_to_tensor(grid.astype(np.float32))


@pytest.mark.parametrize("dtype,torch_dtype", [("float32", torch.float32), ("float16", torch.float16)])
def test_features_ieee(dtype, torch_dtype):
    values = np.array([[1.5, -2.0, 0.25], [3.0, 65504.0 if dtype == "float16" else 1e30, -0.0]], dtype=np.float32)
    data = values.astype("<f4" if dtype == "float32" else "<f2").tobytes()
    t = features_to_tensor(data, dtype, [2, 3])
    assert t.dtype == torch_dtype and t.shape == (2, 3)
    assert torch.equal(t.float(), torch.from_numpy(values.astype(np.float32)))
    assert _to_le_bytes(t) == data


def test_features_bfloat16_is_upper_half_of_float32():
    values = np.array([1.0, -2.5, 3.140625, 1e-3, 3e38, 0.1], dtype=np.float32)
    data = bf16_bits(values).astype("<u2").tobytes()
    t = features_to_tensor(data, "bfloat16", [6])
    assert t.dtype == torch.bfloat16
    # torch rounds float32 -> bfloat16 to nearest even as well.
    assert torch.equal(t, torch.from_numpy(values).to(torch.bfloat16))
    assert t[:3].float().tolist() == [1.0, -2.5, 3.140625]
    assert _to_le_bytes(t) == data


def test_features_wrong_size():
    with pytest.raises(ValueError, match=r"shape \[2, 2\] of float16 needs 8"):
        features_to_tensor(b"\x00" * 6, "float16", [2, 2])
    with pytest.raises(ValueError, match="unknown feature dtype"):
        features_to_tensor(b"", "int8", [0])


def test_feature_arrays_from_npy():
    values = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    bits = bf16_bits(values).astype("<u2")
    t = feature_array_to_tensor(bits, "bfloat16", [3, 4])
    assert t.dtype == torch.bfloat16 and torch.equal(t, torch.from_numpy(values).to(torch.bfloat16))
    big_endian = values.astype(">f4")
    assert torch.equal(feature_array_to_tensor(big_endian, "float32", [3, 4]), torch.from_numpy(values))
    with pytest.raises(ValueError, match="shape"):
        feature_array_to_tensor(values, "float32", [4, 3])
    with pytest.raises(ValueError, match="dtype"):
        feature_array_to_tensor(values, "float16")


def test_sample_from_records():
    token = token_record("x", grid=(2, 3), source_topic="images", source_partition=2, source_offset=9)
    sample = sample_from_records(token, feature_record("x", dtype="float32", shape=(6, 4)))
    assert set(SAMPLE_KEYS) <= set(sample)
    assert sample["grid"] == (2, 3) and sample["token_ids"].shape == (6,)
    assert sample["features"].shape == (6, 4) and sample["feature_kind"] == "per_token"
    assert (sample["source_topic"], sample["source_partition"], sample["source_offset"]) == ("images", 2, 9)
    assert sample["metadata"] is None and sample["duplicate_of"] is None


def test_sample_refuses_mismatched_pair():
    with pytest.raises(ValueError, match="pairing"):
        sample_from_records(token_record("x"), feature_record("y"))
    with pytest.raises(ValueError, match="codebook"):
        sample_from_records(token_record("x"), feature_record("x", codebook="00" * 32))
