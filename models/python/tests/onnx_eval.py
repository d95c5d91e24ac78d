"""A small NumPy interpreter for the ONNX ops the VQRAE graphs use.

No onnxruntime is available for Python on the build platform, so the tests execute the exported
graphs with this interpreter to check them numerically against PyTorch. It implements exactly the
ops (and attribute forms) that torch 1.13 emits for these graphs at opset 17 and rejects anything else.
"""

from typing import Dict

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.mapping import TENSOR_TYPE_TO_NP_TYPE


def _attrs(node: onnx.NodeProto) -> Dict[str, object]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _reshape(data, shape, allowzero=0):
    if allowzero:
        return data.reshape([int(s) for s in shape])
    shape = [data.shape[i] if s == 0 else int(s) for i, s in enumerate(shape)]
    return data.reshape(shape)


def _slice(data, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def _layer_norm(x, scale, bias, axis=-1, epsilon=1e-5, stash_type=1):
    axes = tuple(range(axis % x.ndim, x.ndim))
    wide = x.astype(np.float32) if stash_type == 1 else x
    mean = wide.mean(axis=axes, keepdims=True)
    var = ((wide - mean) ** 2).mean(axis=axes, keepdims=True)
    return (((wide - mean) / np.sqrt(var + epsilon)).astype(x.dtype) * scale + bias).astype(x.dtype)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _patch_conv(x, w, b, strides, kernel_shape, pads=(0, 0, 0, 0), dilations=(1, 1), group=1):
    if list(strides) != list(kernel_shape) or any(pads) or any(d != 1 for d in dilations) or group != 1:
        raise NotImplementedError("only non-overlapping patch convolutions are supported")
    n, c, h, wd = x.shape
    kh, kw = kernel_shape
    patches = x.reshape(n, c, h // kh, kh, wd // kw, kw).transpose(0, 2, 4, 1, 3, 5).reshape(n, h // kh, wd // kw, -1)
    out = patches @ w.reshape(w.shape[0], -1).T + b
    return out.transpose(0, 3, 1, 2).astype(x.dtype)


def _arg_min(x, axis=0, keepdims=1, select_last_index=0):
    if select_last_index:
        raise NotImplementedError("select_last_index")
    out = np.argmin(x, axis=axis).astype(np.int64)
    return np.expand_dims(out, axis) if keepdims else out


OPS = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "Pow": lambda a, b: np.power(a, b).astype(a.dtype),
    "MatMul": lambda a, b: np.matmul(a, b),
    "Tanh": np.tanh,
    "Relu": lambda x: np.maximum(x, 0).astype(x.dtype),
    "Round": np.round,
    "Identity": lambda x: x,
    "Shape": lambda x: np.array(x.shape, dtype=np.int64),
    "Gather": lambda data, idx, axis=0: np.take(data, idx, axis=axis),
    "Unsqueeze": lambda x, axes: np.expand_dims(x, tuple(int(a) for a in axes)),
    "Concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "Reshape": _reshape,
    "Transpose": lambda x, perm: np.transpose(x, perm),
    "Slice": _slice,
    "Softmax": _softmax,
    "LayerNormalization": _layer_norm,
    "Conv": _patch_conv,
    "ReduceSum": lambda x, axes, keepdims=1: x.sum(axis=tuple(int(a) for a in axes), keepdims=bool(keepdims)),
    "ReduceMin": lambda x, axes, keepdims=1: x.min(axis=tuple(axes), keepdims=bool(keepdims)),
    "ArgMin": _arg_min,
    "Clip": lambda x, lo=None, hi=None: np.clip(x, lo, hi).astype(x.dtype),
    "Cast": lambda x, to: x.astype(TENSOR_TYPE_TO_NP_TYPE[to]),
}


def run(model: onnx.ModelProto, feeds: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Evaluate ``model`` on ``feeds``; returns every graph output by name."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values.update(feeds)
    for node in model.graph.node:
        attrs = _attrs(node)
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(attrs["value"])
            continue
        if node.op_type not in OPS:
            raise NotImplementedError(f"op {node.op_type}")
        inputs = [values[name] if name else None for name in node.input]
        result = OPS[node.op_type](*inputs, **attrs)
        values[node.output[0]] = np.asarray(result)
    return {o.name: values[o.name] for o in model.graph.output}
