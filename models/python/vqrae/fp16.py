"""float32 -> float16 rewrite of an exported ONNX graph.

torch 1.13 cannot run half precision on CPU, so the fp16 graphs are produced from the fp32 export by
rewriting the ONNX graph instead of exporting a half model:

1. Shape inference gives the element type of every tensor.
2. Nodes in ``fp32_nodes`` (an "fp32 island", e.g. the quantizer's distance computation) keep float32;
   every other node computes in float16.
3. float32 initializers become float16 unless all their consumers are island nodes; float
   ``Constant``/``ConstantOfShape`` values and ``Cast(to=FLOAT)`` outside the island become float16.
4. Where a float tensor crosses between the two precisions a ``Cast`` is inserted before the consumer.
5. Every float graph output produced in float16 gets a final ``Cast`` back to float32 under its
   original name, so the graph's inputs and outputs keep their names and dtypes.
"""

from typing import Dict, Iterable, List, Set, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
FLOAT16 = TensorProto.FLOAT16
# Ops whose float inputs may have any precision (no cast needed in front of them).
_TYPE_AGNOSTIC_INPUTS = {"Cast", "Shape", "Size"}


def ancestors(graph: onnx.GraphProto, tensor_names: Iterable[str]) -> Set[int]:
    """Indices of the nodes that ``tensor_names`` depend on (including their producers)."""
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    seen: Set[int] = set()
    stack = [producer[name] for name in tensor_names if name in producer]
    while stack:
        index = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        stack.extend(producer[name] for name in graph.node[index].input if name in producer)
    return seen


def exclusive_ancestors(graph: onnx.GraphProto, outputs: Iterable[str], excluding: Iterable[str]) -> Set[int]:
    """Nodes that ``outputs`` depend on and ``excluding`` do not (e.g. the quantizer branch)."""
    return ancestors(graph, outputs) - ancestors(graph, excluding)


def _tensor_types(model: onnx.ModelProto) -> Dict[str, int]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    graph = inferred.graph
    types = {init.name: init.data_type for init in graph.initializer}
    for info in list(graph.input) + list(graph.value_info) + list(graph.output):
        types[info.name] = info.type.tensor_type.elem_type
    return types


def _to_fp16_tensor(tensor: TensorProto) -> TensorProto:
    array = numpy_helper.to_array(tensor)
    finite = np.abs(array[np.isfinite(array)])
    if finite.size and finite.max() > np.finfo(np.float16).max:
        raise ValueError(f"tensor {tensor.name!r} has values beyond the float16 range (max |x| = {finite.max()})")
    return numpy_helper.from_array(array.astype(np.float16), tensor.name)


def convert_to_fp16(model: onnx.ModelProto, fp32_nodes: Set[int] = frozenset()) -> onnx.ModelProto:
    """Return a float16 copy of ``model``; node indices in ``fp32_nodes`` keep float32 compute."""
    types = _tensor_types(model)
    source = model.graph
    for node in source.node:
        if any(attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for attr in node.attribute):
            raise ValueError(f"node {node.name} has a subgraph; the fp16 rewrite handles flat graphs only")

    consumers: Dict[str, List[int]] = {}
    for i, node in enumerate(source.node):
        for name in node.input:
            consumers.setdefault(name, []).append(i)

    # Precision each float tensor is produced in.
    precision: Dict[str, int] = {}
    initializers = []
    for init in source.initializer:
        if init.data_type == FLOAT and not (consumers.get(init.name) and all(c in fp32_nodes for c in consumers[init.name])):
            initializers.append(_to_fp16_tensor(init))
            precision[init.name] = FLOAT16
        else:
            initializers.append(init)
            precision[init.name] = init.data_type
    for graph_input in source.input:
        precision[graph_input.name] = graph_input.type.tensor_type.elem_type

    nodes: List[onnx.NodeProto] = []
    casts: Dict[Tuple[str, int], str] = {}
    for i, original in enumerate(source.node):
        node = onnx.NodeProto()
        node.CopyFrom(original)
        target = FLOAT if i in fp32_nodes else FLOAT16
        if target == FLOAT16:
            _lower_attributes(node)
        if node.op_type not in _TYPE_AGNOSTIC_INPUTS:
            for slot, name in enumerate(node.input):
                if name and types.get(name) == FLOAT and precision.get(name, FLOAT) != target:
                    key = (name, target)
                    if key not in casts:
                        casts[key] = f"{name}__as_{'fp32' if target == FLOAT else 'fp16'}"
                        nodes.append(helper.make_node("Cast", [name], [casts[key]], to=target, name=f"{casts[key]}__cast"))
                    node.input[slot] = casts[key]
        for name in node.output:
            if types.get(name) == FLOAT:
                precision[name] = target
        nodes.append(node)

    graph_outputs = []
    for output in source.output:
        name = output.name
        if types.get(name) == FLOAT and precision.get(name) == FLOAT16:
            half_name = f"{name}__fp16"
            for node in nodes:
                node.output[:] = [half_name if o == name else o for o in node.output]
                node.input[:] = [half_name if x == name else x for x in node.input]
            nodes.append(helper.make_node("Cast", [half_name], [name], to=FLOAT, name=f"{name}__to_fp32"))
        graph_outputs.append(output)

    graph = helper.make_graph(nodes, source.name, list(source.input), graph_outputs, initializers)
    converted = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=model.producer_name)
    converted.ir_version = model.ir_version
    converted.producer_version = model.producer_version
    for prop in model.metadata_props:
        converted.metadata_props.add(key=prop.key, value=prop.value)
    return converted


def _lower_attributes(node: onnx.NodeProto) -> None:
    """float32 -> float16 for a node computing in float16 (Cast targets and constant values)."""
    for attr in node.attribute:
        if node.op_type == "Cast" and attr.name == "to" and attr.i == FLOAT:
            attr.i = FLOAT16
        elif node.op_type in ("Constant", "ConstantOfShape") and attr.name == "value" and attr.t.data_type == FLOAT:
            attr.t.CopyFrom(_to_fp16_tensor(attr.t))
