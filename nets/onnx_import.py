"""Read the matrix products of an ONNX model as `Layer`s, with their element-wise work (`from_onnx`).

ONNX is what ZigZag and Stream take and what `torch.onnx.export` writes. The model's tensor shapes come from the
file and ONNX's shape inference, so a model must have fixed input sizes. Read, in graph order (ONNX stores nodes
topologically sorted):

- Conv (1-D and 2-D: groups, strides, dilations; P and Q from the inferred output, so any padding counts),
  Gemm and MatMul (a product whose second operand is computed from initializers alone is a weight layer, else
  both operands are activations, `Layer.weights_are_activations`), and Attention (opset 23: its scores and
  context products, grouped-query attention included) -- each read from its shapes by `nets._products`, as
  the torch.fx import reads the same operations, so both give the same layers for one model.
- 2-D MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool, and a ReduceMean over both spatial axes of a 4-D
  tensor (how torch exports a global average pool), as pool layers (`Layer.pool`: a depthwise-shaped window with
  no parameters; a 1x1 window at stride 1 is the identity and makes none).
- Element-wise work (`nets.elementwise`) attached to the last product before it: Relu and Clip (ReLU6) as relu,
  Tanh, Gelu, Softmax, LayerNormalization, RMSNormalization, Where as a mask, Add / Sub / Mul / Div of two
  tensors (a tensor and a scalar constant: scale). A bias added to a weight product's output (MatMul + Add, as
  torch exports a linear layer on tokens) belongs to the layer and is not listed, as in the torch.fx import.
- Free (no layer, no op listed; the zoo does not list them either): Lp and RoI pooling, 1-D pools, batch
  normalisation, shape and
  layout operators (Reshape, Transpose, Concat, Gather, Slice, ...), casts and comparisons, and element-wise
  functions the zoo does not count (Sigmoid, HardSwish, Exp, Sqrt, ...).
- The dataflow between the layers (`Network.sources`, `Network.skips`, followed by `LayerRecorder`): which layers'
  outputs each layer reads (a branch: several layers reading one value; Concat over channels: several producers),
  and an Add of two activations as a residual add.

Any other operator (a transposed or 3-D convolution, a recurrent cell, a quantised product, control flow, a
custom domain's op) ends the read with a one-line ValueError naming the node and its op type.

Before anything is read the graph is validated as ONNX validates it: each node reads only graph inputs,
initializers and outputs of nodes before it (so no cycle and no value that nothing produces), no value is produced
twice, no `pads` attribute is negative, then `onnx.checker`'s check and strict shape inference (together its full
check); and a Conv's weight must fit its input's channels. An invalid model is refused in one line naming the file
and the node (or field) at fault.
"""
from __future__ import annotations

import ast
import os
from functools import lru_cache
from math import prod
from pathlib import Path

import onnx
from onnx import helper, numpy_helper

from ._products import attention_layers, conv_from_shapes, linear_from_shape, pool_from_shapes, product
from .layer import Layer
from .network import LayerRecorder, Network

OWNER = "from_onnx"

MAC_OPERATORS = ("Conv", "Gemm", "MatMul", "Attention")
"""Operators read as layers."""

POOL_OPERATORS = ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")
"""Operators read as pool layers when they pool over two spatial dims (else followed as free)."""

ELEMENTWISE_OPERATORS: dict[str, str] = {
    "Relu": "relu", "Clip": "relu", "Tanh": "tanh", "Gelu": "gelu", "Softmax": "softmax", "LogSoftmax": "softmax",
    "LayerNormalization": "layernorm", "RMSNormalization": "rmsnorm", "Where": "mask",
    "Add": "add", "Sub": "add", "Mul": "mul", "Div": "mul",
}
"""Operators listed as element-wise work: the `nets.elementwise` kind of each (Add/Sub/Mul/Div with a scalar
constant operand: 'scale')."""

FREE_OPERATORS = frozenset({
    # pooling and normalisation the zoo does not list
    "LpPool", "GlobalLpPool", "MaxRoiPool",
    "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization", "Dropout",
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
    "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "TopK", "CumSum",
    # shape, layout and data movement
    "Identity", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather",
    "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Expand", "Tile", "Pad", "Shape", "Size",
    "Constant", "ConstantOfShape", "Range", "Cast", "CastLike", "Resize", "Upsample", "DepthToSpace",
    "SpaceToDepth", "Trilu", "OneHot", "NonZero", "EyeLike",
    # element-wise functions and comparisons the zoo does not count
    "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Softplus", "Softsign",
    "Mish", "Swish", "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Neg", "Abs", "Erf", "Sin", "Cos", "Floor",
    "Ceil", "Round", "Sign", "Max", "Min", "Mean", "Sum", "Mod", "Equal", "Less", "LessOrEqual", "Greater",
    "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
})
"""Operators read as free (nothing recorded)."""

_FLOAT_TYPES = frozenset({1, 10, 11, 16})  # onnx.TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16
_BIAS_PRODUCERS = frozenset({"MatMul", "Gemm", "Conv"})


def _error(path: Path, message: str) -> ValueError:
    return ValueError(f"{OWNER}: {path}: {' '.join(message.split())}")


def from_onnx(path: str | os.PathLike, name: str | None = None) -> Network:
    """The layers of the ONNX model at `path` as a `Network` (named `name`, else the file's stem), in graph order,
    each with its element-wise work. A ValueError of one line names the file and what is wrong (the node and its
    op type for an operator that cannot be mapped)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{OWNER}: path: expected an ONNX file path (str or os.PathLike), got "
                         f"{type(path).__name__} {path!r}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(f"{OWNER}: name: expected a non-empty str or None, got {type(name).__name__} {name!r}")
    path = Path(os.fspath(path))
    if not path.is_file():
        raise _error(path, "no ONNX file there")
    stat = path.stat()
    return _read(path.resolve(), stat.st_mtime_ns, stat.st_size, name or path.stem)


@lru_cache(maxsize=8)
def _read(path: Path, mtime_ns: int, size: int, name: str) -> Network:
    """`from_onnx` of one version of a file (workers of one search read it once each)."""
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, a truncated file
        raise _error(path, f"not an ONNX model ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                     ) from None
    if not model.graph.node:
        raise _error(path, "graph: no nodes (accepted: an ONNX model with at least one Conv, Gemm or MatMul)")
    _check_graph(path, model.graph)
    try:
        onnx.checker.check_model(str(path))  # by path: external data is looked up beside it
    except Exception as exc:  # onnx.checker.ValidationError, onnx.shape_inference.InferenceError
        raise _error(path, f"not a valid ONNX model (onnx.checker: {_first_words(exc)})") from None
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:
        raise _error(path, f"ONNX shape inference failed ({_first_words(exc)})") from None
    found = _Graph(path, model.graph).walk()
    if not found.layers:
        raise _error(path, "no Conv, Gemm, MatMul or Attention node (accepted: a model with at least one)")
    opset = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    meta = {"source": "onnx", "path": str(path), "opset": opset, "producer": model.producer_name}
    sources, skips = found.graph()
    return Network(name, found.layers, meta, skips, sources)


def _first_words(exc: Exception) -> str:
    """An ONNX exception's message on one line (its text spans several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _node_label(node, index: int) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"node #{index} ({node.op_type})"


def _check_graph(path: Path, graph) -> None:
    """ONNX's graph rules, checked here so that the refusal names the node and value in cosearch's words: every
    node input is a graph input, an initializer or an output of an earlier node (ONNX stores nodes topologically
    sorted, so a cycle shows as a value read before it is produced); no value is produced twice; `pads` attributes
    (Conv, ConvTranspose, pools) hold no negative entry."""
    known = {v.name for v in graph.input} | {init.name for init in graph.initializer} | {""}
    produced_later = {out for node in graph.node for out in node.output}
    for index, node in enumerate(graph.node):
        for value in node.input:
            if value not in known:
                why = ("produced only by a later node (a cycle, or nodes out of topological order)"
                       if value in produced_later else "produced by no node, graph input or initializer")
                raise _error(path, f"{_node_label(node, index)}: input {value!r} is {why}; accepted: a graph whose "
                             "nodes read graph inputs, initializers and outputs of earlier nodes")
        for attr in node.attribute:
            if attr.name == "pads" and any(p < 0 for p in attr.ints):
                raise _error(path, f"{_node_label(node, index)}: pads {list(attr.ints)}: accepted: pads >= 0")
        for value in node.output:
            if value and value in known:
                raise _error(path, f"{_node_label(node, index)}: output {value!r} is already produced by a graph "
                             "input, an initializer or an earlier node; accepted: each value produced once")
            known.add(value)
    for value in graph.output:
        if value.name not in known:
            raise _error(path, f"graph output {value.name!r} is produced by no node; accepted: outputs of the "
                         "graph's nodes")


class _Graph:
    """One pass over an ONNX graph: shapes, element types and which values come from initializers alone."""

    def __init__(self, path: Path, graph) -> None:
        self.path = path
        self.graph = graph
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        self.types: dict[str, int] = {}
        self.static: set[str] = set()  # computed from initializers / constants alone: weights, not activations
        self.tensors = {init.name: init for init in graph.initializer}  # initializer and Constant values
        self.weight_products: set[str] = set()  # outputs of products with a weight operand (a bias may follow)
        self.scope_counts: dict[str, int] = {}
        for value in (*graph.input, *graph.value_info, *graph.output):
            tensor = value.type.tensor_type
            self.types[value.name] = tensor.elem_type
            if tensor.HasField("shape"):
                dims = tuple(d.dim_value if d.HasField("dim_value") else 0 for d in tensor.shape.dim)
                self.shapes[value.name] = dims if all(d > 0 for d in dims) else None
        for init in graph.initializer:
            self.shapes[init.name] = tuple(int(d) for d in init.dims)
            self.types[init.name] = init.data_type
            self.static.add(init.name)

    # ---- values -----------------------------------------------------------------------------------------
    def shape(self, node, value: str, what: str) -> tuple[int, ...]:
        shape = self.shapes.get(value)
        if shape is not None:
            return shape
        if self.free_inputs():
            raise _error(self.path, f"node {node.name!r} ({node.op_type}): the shape of its {what} {value!r} is "
                         f"unknown or not fixed: graph input(s) {', '.join(map(repr, self.free_inputs()))} have no "
                         "fixed size; accepted: a model with fixed input sizes (export it with a static input shape)")
        raise _error(self.path, f"node {node.name!r} ({node.op_type}): the shape of its {what} {value!r} is not known "
                     "after ONNX shape inference, although the graph's input sizes are fixed (a size computed from "
                     "data at run time); accepted: a model whose tensor shapes ONNX shape inference determines")

    def free_inputs(self) -> list[str]:
        """The graph inputs (not initializers) whose shape is not fully fixed."""
        return [v.name for v in self.graph.input if v.name not in self.static and self.shapes.get(v.name) is None]

    def is_scalar(self, value: str) -> bool:
        shape = self.shapes.get(value)
        return value in self.static and shape is not None and prod(shape) == 1

    def numel(self, value: str) -> int:
        shape = self.shapes.get(value)
        return prod(shape) if shape is not None else 0

    # ---- names ------------------------------------------------------------------------------------------
    def layer_name(self, node, suffix: str = "") -> str:
        """The layer's torch module path where the exporter left one: the weight's initializer name without
        '.weight', else the module scope torch.export records (`pkg.torch.onnx.name_scopes`), else the scoped node
        name of the TorchScript exporter ('/layer1/layer1.0/conv1/Conv'); else the node's name."""
        weight = node.input[1] if len(node.input) > 1 else ""
        if weight.endswith(".weight"):
            return weight[: -len(".weight")] + suffix
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.name_scopes":
                try:
                    scopes = [s for s in ast.literal_eval(prop.value) if isinstance(s, str) and s]
                except (ValueError, SyntaxError):
                    break
                if len(scopes) >= 2:
                    return scopes[-2] + suffix
        if node.name.startswith("/") and node.name.count("/") >= 2:
            path: list[str] = []
            for scope in node.name.strip("/").split("/")[:-1]:  # each scope names a module within the previous one
                if path and scope.startswith(path[-1] + "."):
                    path[-1] = scope
                else:
                    path.append(scope)
            return ".".join(path) + suffix
        return (node.name or node.op_type) + suffix

    def _attention_suffix(self, node) -> str:
        """'.scores' / '.context' for the first / second product of a decomposed scaled_dot_product_attention."""
        for prop in node.metadata_props:
            if prop.key == "pkg.torch.onnx.name_scopes" and "scaled_dot_product_attention" in prop.value:
                seen = self.scope_counts.get(prop.value, 0)
                self.scope_counts[prop.value] = seen + 1
                return (".scores", ".context", f".product{seen}")[min(seen, 2)]
        return ""

    # ---- the walk ---------------------------------------------------------------------------------------
    def walk(self) -> LayerRecorder:
        out = LayerRecorder()
        for value in self.graph.input:
            if value.name not in self.static:
                out.graph_input(value.name)
        for node in self.graph.node:
            op = node.op_type
            if node.domain not in ("", "ai.onnx"):
                raise _error(self.path, f"node {node.name!r}: operator {node.domain}.{op} cannot be mapped (accepted: "
                             "the standard ONNX domain's operators; see nets.onnx_import)")
            inputs = [i for i in node.input if i]
            if op == "Constant" or (inputs and all(i in self.static for i in inputs) and op not in MAC_OPERATORS):
                self.static.update(node.output)
                if op == "Constant":
                    self._constant(node)
                continue
            if op in MAC_OPERATORS:
                getattr(self, f"_{op.lower()}")(node, out)
                out.produced(node.output[0])
                continue
            if (op in POOL_OPERATORS or op == "ReduceMean") and self._pool(node, out):
                out.produced(node.output[0])
                continue
            if op in ELEMENTWISE_OPERATORS:
                self._elementwise(node, ELEMENTWISE_OPERATORS[op], out)
            elif op not in FREE_OPERATORS and op not in POOL_OPERATORS:
                raise _error(self.path, f"node {node.name!r}: operator {op} cannot be mapped (accepted: Conv, Gemm, "
                             "MatMul, Attention, element-wise and shape operators; see nets.onnx_import)")
            self._follow(node, out)
        return out

    def _follow(self, node, out: LayerRecorder) -> None:
        """What the node's output holds (`LayerRecorder`): an Add of two activations is a residual add, a Concat of
        4-D tensors over axis 1 a concatenation along channels, anything else its largest activation input's value
        (an element-wise op, a bias, a pool, a reshape)."""
        inputs = [i for i in node.input if i and i not in self.static]
        if not inputs or not node.output:
            return
        result = node.output[0]
        if node.op_type in ("Add", "Sum") and len(inputs) == 2:
            out.residual(result, *inputs)
        elif node.op_type == "Concat" and len(self.shapes.get(result) or ()) == 4 \
                and int(_attributes(node).get("axis", 0)) in (1, -3):
            out.concat(result, inputs)
        else:
            out.same(result, max(inputs, key=self.numel))

    def _constant(self, node) -> None:
        for attr in node.attribute:
            if attr.name == "value":
                self.tensors[node.output[0]] = attr.t
                self.shapes[node.output[0]] = tuple(int(d) for d in attr.t.dims)
                self.types[node.output[0]] = attr.t.data_type
            elif attr.name in ("value_float", "value_int"):
                self.shapes[node.output[0]] = ()

    def _conv(self, node, out: LayerRecorder) -> None:
        attrs = _attributes(node)
        w = self.shape(node, node.input[1], "weight")
        y = self.shape(node, node.output[0], "output")
        groups = int(attrs.get("group", 1))
        x = self.shape(node, node.input[0], "input")
        if len(x) != len(w) or len(x) < 2 or x[1] != w[1] * groups:
            raise _error(self.path, f"node {node.name!r} (Conv): weight {list(w)} with group {groups} does not fit "
                         f"input {list(x)}; accepted: input channels = weight.shape[1] x group, as ONNX's Conv reads")
        kernel = tuple(attrs.get("kernel_shape", w[2:]))
        rank = len(kernel)
        strides = tuple(attrs.get("strides", (1,) * rank))
        dilations = tuple(attrs.get("dilations", (1,) * rank))
        name = self.layer_name(node)
        if rank == 2:
            out.add(conv_from_shapes(y, w[1] * groups, w[0], groups, kernel, strides, dilations, name), node.input[0])
        elif rank == 1:  # along the width, as the torch import reads nn.Conv1d
            out.add(Layer(R=kernel[0], P=y[-1], C=w[1], K=w[0] // groups, N=prod(y[:-2]), G=groups,
                          stride_w=strides[0], dilation_w=dilations[0], name=name), node.input[0])
        else:
            raise _error(self.path, f"node {node.name!r}: operator Conv over {rank} spatial dims cannot be mapped "
                         "(accepted: 1-D and 2-D convolutions)")
        self._mark_weight_product(node)

    def _pool(self, node, out: LayerRecorder) -> bool:
        """Record a 2-D pool (or a ReduceMean over both spatial axes) as a layer; False (nothing recorded) for a pool
        over another rank, a mean over other axes, or the identity."""
        x = self.shape(node, node.input[0], "input")
        attrs = _attributes(node)
        if node.op_type == "ReduceMean":
            axes = attrs.get("axes") if "axes" in attrs else \
                (self.tensors.get(node.input[1]) if len(node.input) > 1 and node.input[1] else None)
            axes = axes if axes is None or isinstance(axes, list) else numpy_helper.to_array(axes).tolist()
            if len(x) != 4 or axes is None or sorted(a % 4 for a in axes) != [2, 3]:
                return False
            y = x[:2] + (1, 1)
        else:
            y = self.shape(node, node.output[0], "output")
        if len(x) != 4 or len(y) != 4:
            return False
        kernel = tuple(attrs["kernel_shape"]) if "kernel_shape" in attrs else None
        stride = tuple(attrs.get("strides", (1, 1))) if kernel is not None else None
        layer = pool_from_shapes(x, y, kernel, stride, self.layer_name(node))
        if layer is None:
            return False
        out.add(layer, node.input[0])
        return True

    def _gemm(self, node, out: LayerRecorder) -> None:
        attrs = _attributes(node)
        a = self.shape(node, node.input[0], "input A")
        b = self.shape(node, node.input[1], "input B")
        a = a[::-1] if attrs.get("transA") else a
        b = b[::-1] if attrs.get("transB") else b
        if node.input[1] in self.static:
            out.add(linear_from_shape(a, a[-1], b[-1], self.layer_name(node)), node.input[0])
            self._mark_weight_product(node)
        else:
            out.add(product(a, b, False, self.layer_name(node), OWNER))

    def _matmul(self, node, out: LayerRecorder) -> None:
        a = self.shape(node, node.input[0], "input A")
        b = self.shape(node, node.input[1], "input B")
        weight = node.input[1] in self.static
        suffix = "" if weight else self._attention_suffix(node)
        try:
            out.add(product(a, b, weight, self.layer_name(node, suffix), OWNER), *((node.input[0],) if weight else ()))
        except ValueError as exc:
            raise _error(self.path, f"node {node.name!r} (MatMul): {exc}") from None
        if weight:
            self._mark_weight_product(node)

    def _attention(self, node, out: LayerRecorder) -> None:
        """ONNX Attention (opset 23): Q, K, V as [B, H, L, E], or [B, L, H*E] with q_num_heads / kv_num_heads;
        past keys and values (inputs 4 and 5) lengthen the keys."""
        attrs = _attributes(node)
        q, k, v = (self.shape(node, node.input[i], what) for i, what in ((0, "query"), (1, "key"), (2, "value")))
        if len(q) == 3:
            hq, hkv = int(attrs.get("q_num_heads", 0)), int(attrs.get("kv_num_heads", 0))
            if hq < 1 or hkv < 1:
                raise _error(self.path, f"node {node.name!r} (Attention): 3-D inputs need q_num_heads and "
                             "kv_num_heads >= 1")
            q = (q[0], hq, q[1], q[2] // hq)
            k = (k[0], hkv, k[1], k[2] // hkv)
            v = (v[0], hkv, v[1], v[2] // hkv)
        past = node.input[4] if len(node.input) > 4 and node.input[4] else None
        if past is not None:
            extra = self.shape(node, past, "past key")[-2]
            k, v = k[:-2] + (k[-2] + extra, k[-1]), v[:-2] + (v[-2] + extra, v[-1])
        masked = len(node.input) > 3 and bool(node.input[3])
        attention_layers(out, q, k, v, bool(attrs.get("is_causal", 0)), masked, self.layer_name(node))

    def _mark_weight_product(self, node) -> None:
        self.weight_products.add(node.output[0])

    def _elementwise(self, node, kind: str, out: LayerRecorder) -> None:
        result = node.output[0]
        if self.types.get(result, 1) not in _FLOAT_TYPES:  # integer shape arithmetic, boolean masks
            return
        inputs = [i for i in node.input if i]
        if kind in ("add", "mul"):
            if any(i in self.weight_products for i in inputs) and kind == "add" and \
                    any(i in self.static and len(self.shapes.get(i) or ()) <= 1 for i in inputs):
                return  # the bias of a weight product: part of the layer
            if len(inputs) == 2 and any(self.is_scalar(i) for i in inputs):
                kind = "scale"
        out.op(kind, self.numel(result))


def _attributes(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


__all__ = ["from_onnx", "MAC_OPERATORS", "ELEMENTWISE_OPERATORS", "FREE_OPERATORS"]
