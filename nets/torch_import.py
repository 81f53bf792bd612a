"""Extract the matrix products of a PyTorch model as `Layer`s, with their element-wise work, by tracing it.

`torch.fx` traces the model's forward into a graph of module calls, functions and tensor methods, and
propagates the example input's shapes through it (on fake tensors, or on the meta device when the model and
its input are there, as a model built under `torch.device("meta")`: no arithmetic runs). Captured, in
execution order: nn.Conv1d/Conv2d and F.conv2d, nn.Linear and F.linear, matmul / bmm / `@` / addmm /
baddbmm, F.scaled_dot_product_attention (its scores and context products, grouped-query attention
included) and nn.MultiheadAttention (its projections and both products); token counts and heads come
from the traced shapes. 2-D max and average pools (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d where it
changes the size, their F. functions, and a mean over both spatial dims of a 4-D tensor: a global average pool)
are pool layers (`Layer.pool`, no parameters). A product whose second operand is computed from parameters alone is a weight
layer; otherwise both operands are activations (`Layer.weights_are_activations`). Element-wise work
(norms, activations, softmax, masks, adds and products of tensors, scaling) is attached to the last
product before it (`nets.elementwise`). The graph's dataflow gives each layer's sources and the residual adds
(`Network.sources`, `Network.skips`: branches, channel concatenations, shortcuts; `LayerRecorder`).

A model that fx cannot trace (data-dependent control flow) falls back to forward hooks, with a warning:
hooks see nn.Conv2d and nn.Linear calls only.
"""
from __future__ import annotations

import operator
import warnings
from math import prod

import torch
import torch.nn.functional as F
from torch import fx, nn

from .layer import Layer
from .network import LayerRecorder, Network
from ._products import attention_layers as _attention, conv_from_shapes as _conv_from_shapes, \
    pool_from_shapes as _pool_from_shapes, \
    linear_from_shape as _linear_from_shape, product as _product

_UNSUPPORTED = (nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)

_ELEMENTWISE_MODULES = ((nn.LayerNorm, "layernorm"), (nn.RMSNorm, "rmsnorm"), (nn.GELU, "gelu"), (nn.SiLU, "silu"),
                        (nn.ReLU, "relu"), (nn.ReLU6, "relu"), (nn.Tanh, "tanh"), (nn.Softmax, "softmax"))
_ELEMENTWISE_FUNCTIONS = {F.layer_norm: "layernorm", F.rms_norm: "rmsnorm", F.gelu: "gelu", F.silu: "silu",
                          F.relu: "relu", torch.relu: "relu", F.relu6: "relu", torch.tanh: "tanh", F.tanh: "tanh",
                          F.softmax: "softmax", torch.softmax: "softmax"}
_ELEMENTWISE_METHODS = {"softmax": "softmax", "relu": "relu", "tanh": "tanh", "masked_fill": "mask"}
_BINARY = {operator.add: "add", operator.iadd: "add", torch.add: "add", operator.sub: "add", torch.sub: "add",
           operator.mul: "mul", operator.imul: "mul", torch.mul: "mul", operator.truediv: "mul", torch.div: "mul"}
_BINARY_METHODS = {"add": "add", "add_": "add", "sub": "add", "mul": "mul", "mul_": "mul", "div": "mul"}
_MATMUL_FUNCTIONS = {torch.matmul: (0, 1), operator.matmul: (0, 1), torch.bmm: (0, 1), torch.addmm: (1, 2),
                     torch.baddbmm: (1, 2)}
_MATMUL_METHODS = {"matmul": (0, 1), "bmm": (0, 1), "__matmul__": (0, 1)}


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


_POOL_FUNCTIONS = {F.max_pool2d: True, F.avg_pool2d: True, F.adaptive_avg_pool2d: False}
"""Pool functions, True for those taking (input, kernel_size, stride) as arguments 0-2 (an adaptive one: none)."""


def _pool(out: "_Collector", node: fx.Node, source, kernel, stride, name: str) -> bool:
    """Record a 2-D pool of `source` (an fx node of a 4-D tensor) as a layer; False (nothing recorded) for another
    rank or the identity. `kernel` None: an adaptive pool, its window from the sizes."""
    shape, in_shape = _shape(node), _shape(source) if isinstance(source, fx.Node) else None
    if shape is None or in_shape is None or len(shape) != 4 or len(in_shape) != 4:
        return False
    if kernel is not None:
        kernel, stride = _pair(kernel), _pair(stride if stride not in (None, ()) else kernel)
    layer = _pool_from_shapes(in_shape, shape, kernel, stride, name)
    if layer is None:
        return False
    out.add(layer, source, node)
    return True


def _spatial_mean(node: fx.Node) -> bool:
    """Whether `node` is x.mean / torch.mean over both spatial dims (2, 3) of a 4-D x: a global average pool."""
    if not ((node.op == "call_method" and node.target == "mean") or
            (node.op == "call_function" and node.target is torch.mean)) or not node.args:
        return False
    shape = _shape(node.args[0]) if isinstance(node.args[0], fx.Node) else None
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    dims = (dims,) if isinstance(dims, int) else dims
    return shape is not None and len(shape) == 4 and isinstance(dims, (tuple, list)) \
        and sorted(d % 4 for d in dims) == [2, 3]


def _conv_layer(module: nn.Conv2d, out_shape: tuple, name: str) -> Layer:
    """P, Q from the real output, so any padding rule ('same', reflect, asymmetric) is accounted for."""
    return _conv_from_shapes(tuple(out_shape), module.in_channels, module.out_channels, module.groups,
                             _pair(module.kernel_size), _pair(module.stride), _pair(module.dilation), name)


def _conv1d_layer(module: nn.Conv1d, out_shape: tuple, name: str) -> Layer:
    """A 1-D convolution along the width (S = Q = 1)."""
    batch = prod(out_shape[:-2]) if len(out_shape) > 2 else 1
    g = module.groups
    return Layer(R=module.kernel_size[0], P=int(out_shape[-1]), C=module.in_channels // g, K=module.out_channels // g,
                 N=int(batch), G=g, stride_w=module.stride[0], dilation_w=module.dilation[0], name=name)


class _Collector(LayerRecorder):
    """The layers found, in execution order with their element-wise work, and the modules left out."""

    def __init__(self) -> None:
        super().__init__()
        self.unsupported: list[str] = []


class _PathTracer(fx.Tracer):
    """fx tracer that records on each node the qualified name of the module whose forward created it, and keeps
    as leaves only the modules whose work it knows (everything else is traced through)."""

    _LEAVES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.MultiheadAttention, nn.Embedding, nn.Dropout, nn.Identity,
               nn.BatchNorm1d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Hardswish,
               nn.Hardsigmoid, nn.Sigmoid) + _UNSUPPORTED + tuple(m for m, _ in _ELEMENTWISE_MODULES)

    def __init__(self) -> None:
        super().__init__()
        self.proxy_buffer_attributes = True  # buffers (a causal mask, a KV cache) sliced by traced sizes
        self._paths: list[str] = [""]

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, self._LEAVES) or (super().is_leaf_module(m, qualname) and not any(m.children()))

    def call_module(self, m, forward, args, kwargs):
        self._paths.append(self.path_of_module(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self._paths.pop()

    def create_node(self, *args, **kwargs):
        node = super().create_node(*args, **kwargs)
        node.meta["cosearch_path"] = self._paths[-1]
        return node


def _shape(node) -> tuple | None:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    return tuple(int(s) for s in meta.shape) if meta is not None and hasattr(meta, "shape") else None


def _is_tensor(arg) -> bool:
    return isinstance(arg, fx.Node) and _shape(arg) is not None


def _parameters_only(node: fx.Node, memo: dict) -> bool:
    """True if `node` is computed from parameters and buffers alone (no model input reaches it): a weight."""
    if node in memo:
        return memo[node]
    memo[node] = False  # guards cycles (none in an fx graph) and is the answer for placeholders
    if node.op == "placeholder":
        return False
    if node.op == "get_attr":
        memo[node] = True
        return True
    inputs = node.all_input_nodes
    memo[node] = bool(inputs) and all(_parameters_only(n, memo) for n in inputs)
    return memo[node]


def _name(node: fx.Node, suffix: str | None = None) -> str:
    path = node.meta.get("cosearch_path", "")
    leaf = suffix or node.name
    return f"{path}.{leaf}" if path else leaf


def _numel(node) -> int:
    shape = _shape(node)
    return prod(shape) if shape is not None else 0


def _mha(out: _Collector, m: nn.MultiheadAttention, node: fx.Node, name: str) -> None:
    """nn.MultiheadAttention as F.multi_head_attention_forward computes it: packed or separate input projections,
    both products per head, the output projection."""
    query, key, value = (_arg(node, i, k, None) for i, k in enumerate(("query", "key", "value")))
    q, k = _shape(query), _shape(key)
    lq, lk = (q[1], k[1]) if m.batch_first and len(q) == 3 else (q[0], k[0])
    batch = q[0 if m.batch_first else 1] if len(q) == 3 else 1
    e, h = m.embed_dim, m.num_heads
    if m._qkv_same_embed_dim and query is key and key is value:
        out.add(Layer.fc(e, 3 * e, batch * lq, f"{name}.in_proj"))
    elif m._qkv_same_embed_dim and key is value:
        out.add(Layer.fc(e, e, batch * lq, f"{name}.in_proj_q"))
        out.add(Layer.fc(e, 2 * e, batch * lk, f"{name}.in_proj_kv"))
    else:
        out.add(Layer.fc(e, e, batch * lq, f"{name}.in_proj_q"))
        out.add(Layer.fc(m.kdim, e, batch * lk, f"{name}.in_proj_k"))
        out.add(Layer.fc(m.vdim, e, batch * lk, f"{name}.in_proj_v"))
    # forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)
    masked = any(_arg(node, i, k, None) is not None for i, k in ((3, "key_padding_mask"), (5, "attn_mask"))) or \
        bool(_arg(node, 7, "is_causal", False))
    _attention(out, (batch, h, lq, e // h), (batch, h, lk, e // h), (batch, h, lk, e // h), False, masked, name)
    out.add(Layer.fc(e, e, batch * lq, f"{name}.out_proj"))


_ELEMENTWISE_CALLS = {"call_function": (_ELEMENTWISE_FUNCTIONS, _BINARY),
                      "call_method": (_ELEMENTWISE_METHODS, _BINARY_METHODS)}
"""Per kind of call node, its (one-operand ops, two-operand ops) tables."""


def _elementwise_kind(node: fx.Node, modules: dict) -> str | None:
    """The element-wise op a node is (`nets.elementwise` kinds), None if it is none."""
    if node.op == "call_module":
        m = modules[node.target]
        return next((kind for cls, kind in _ELEMENTWISE_MODULES if isinstance(m, cls)), None)
    unary, binary = _ELEMENTWISE_CALLS.get(node.op, ({}, {}))
    if node.target in unary:
        return unary[node.target]
    if node.target in binary:
        return _binary_kind(binary[node.target], node.args[:2])
    return None


def _binary_kind(kind: str, operands) -> str | None:
    """Two tensors: 'add' or 'mul'; a tensor and a number: 'scale'; no tensor (shape arithmetic): None."""
    tensors = sum(_is_tensor(a) for a in operands)
    return None if tensors == 0 else kind if tensors == 2 else "scale"


def _follow(out: _Collector, node: fx.Node, kind: str | None) -> None:
    """What the value of `node` (not a layer) holds: a residual add of two tensors, a concatenation along channels
    (torch.cat over dim 1 of a 4-D tensor), or else its largest tensor operand's value (an element-wise op, a pool,
    a reshape; a slice too, whose channels then disagree with its reader and are not recorded)."""
    operands = [a for a in node.all_input_nodes]
    if kind == "add":
        out.residual(node, *node.args[:2])
        return
    if node.op == "call_function" and node.target in (torch.cat, torch.concat) and node.args:
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
        shape = _shape(node)
        if shape is not None and len(shape) == 4 and dim in (1, -3):
            out.concat(node, node.args[0])
            return
    if operands:
        out.same(node, max(operands, key=_numel))


def _walk(gm: fx.GraphModule) -> _Collector:
    """The layers of `gm`'s graph, node by node in execution order: the graph's inputs, the module calls
    (`_module_node`) and the function and method calls (`_call_node`); other nodes (parameters, the output) add
    nothing."""
    modules = dict(gm.named_modules())
    out = _Collector()
    weights: dict = {}          # `_parameters_only`'s memo, shared by the whole graph
    for node in gm.graph.nodes:
        if node.op == "placeholder":
            out.graph_input(node)
        elif node.op == "call_module":
            _module_node(out, node, modules)
        elif node.op in ("call_function", "call_method"):
            _call_node(out, node, modules, weights)
    return out


_REQUIRED = object()


def _arg(node: fx.Node, i: int, key: str, default=_REQUIRED):
    """Argument `i` of a call node, or its keyword `key` (`default` if absent; a KeyError without one)."""
    if len(node.args) > i:
        return node.args[i]
    return node.kwargs[key] if default is _REQUIRED else node.kwargs.get(key, default)


def _elementwise(out: _Collector, node: fx.Node, modules: dict) -> None:
    """A node that is no layer: its element-wise work, if any, and what its value holds (`_follow`)."""
    kind = _elementwise_kind(node, modules)
    if kind is not None:
        out.op(kind, _numel(node))
    _follow(out, node, kind)


def _module_node(out: _Collector, node: fx.Node, modules: dict) -> None:
    """A call of a leaf module: a linear or convolution layer, multi-head attention's products, a pool, a module
    left out (`_UNSUPPORTED`), else element-wise work."""
    m, name = modules[node.target], node.target
    if isinstance(m, nn.Linear):
        out.add(_linear_from_shape(_shape(node.args[0]), m.in_features, m.out_features, name), node.args[0], node)
    elif isinstance(m, nn.Conv2d):
        out.add(_conv_layer(m, _shape(node), name), node.args[0], node)
    elif isinstance(m, nn.Conv1d):
        out.add(_conv1d_layer(m, _shape(node), name), node.args[0], node)
    elif isinstance(m, nn.MultiheadAttention):
        _mha(out, m, node, name)
        out.produced(node)
    elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)) and _pool(
            out, node, node.args[0], None if isinstance(m, nn.AdaptiveAvgPool2d) else m.kernel_size,
            None if isinstance(m, nn.AdaptiveAvgPool2d) else m.stride, name):
        pass
    elif isinstance(m, _UNSUPPORTED):
        out.unsupported.append(f"{name} ({type(m).__name__})")
    else:
        _elementwise(out, node, modules)


def _call_node(out: _Collector, node: fx.Node, modules: dict, weights: dict) -> None:
    """A function or method call: a layer if its function's reader (`_FUNCTION_READERS`), a spatial mean or a
    matrix product records one, else element-wise work."""
    reader = _FUNCTION_READERS.get(node.target) if node.op == "call_function" else None
    if reader is not None and reader(out, node, weights):
        return
    if _mean_call(out, node) or _product_call(out, node, weights):
        return
    _elementwise(out, node, modules)


def _linear_call(out: _Collector, node: fx.Node, weights: dict) -> bool:
    """F.linear: a linear layer if its weight is a parameter matrix, else a product of x and the activation w^T."""
    x, w = node.args[0], _arg(node, 1, "weight")
    ws = _shape(w)
    if _parameters_only(w, weights) and len(ws) == 2:
        out.add(_linear_from_shape(_shape(x), ws[1], ws[0], _name(node)), x, node)
    else:  # x @ w^T with an activation as w
        out.add(_product(_shape(x), ws[:-2] + (ws[-1], ws[-2]), _parameters_only(w, weights), _name(node)))
        out.produced(node)
    return True


def _conv2d_call(out: _Collector, node: fx.Node, weights: dict) -> bool:
    """F.conv2d: a convolution, its sizes from the weight's and the output's shapes."""
    ws = _shape(_arg(node, 1, "weight"))
    groups = _arg(node, 6, "groups", 1)
    out.add(_conv_from_shapes(_shape(node), ws[1] * groups, ws[0], groups, (ws[2], ws[3]),
                              _pair(_arg(node, 3, "stride", 1)), _pair(_arg(node, 5, "dilation", 1)), _name(node)),
            _arg(node, 0, "input", None), node)
    return True


def _pool_call(out: _Collector, node: fx.Node, weights: dict) -> bool:
    """F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d: a pool layer (`_pool`; False, none, for another rank)."""
    windowed = _POOL_FUNCTIONS[node.target]
    return _pool(out, node, _arg(node, 0, "input", None), _arg(node, 1, "kernel_size", None) if windowed else None,
                 _arg(node, 2, "stride", None) if windowed else None, _name(node))


def _mean_call(out: _Collector, node: fx.Node) -> bool:
    """A mean over both spatial dims (`_spatial_mean`): a global average pool."""
    if not _spatial_mean(node):
        return False
    x = node.args[0]
    out.add(_pool_from_shapes(_shape(x), _shape(x)[:2] + (1, 1), None, None, _name(node)), x, node)
    return True


def _attention_call(out: _Collector, node: fx.Node, weights: dict) -> bool:
    """F.scaled_dot_product_attention: its scores and context products (`_products.attention_layers`)."""
    q, k, v = (_arg(node, i, key) for i, key in enumerate(("query", "key", "value")))
    causal = _arg(node, 5, "is_causal", False)
    _attention(out, _shape(q), _shape(k), _shape(v), bool(causal), _arg(node, 3, "attn_mask", None) is not None,
               node.meta.get("cosearch_path") or node.name)
    out.produced(node)
    return True


def _product_call(out: _Collector, node: fx.Node, weights: dict) -> bool:
    """matmul / bmm / `@` / addmm / baddbmm (function or method): a product of its two matrix operands."""
    table = _MATMUL_FUNCTIONS if node.op == "call_function" else _MATMUL_METHODS
    if node.target not in table:
        return False
    i, j = table[node.target]
    a, b = node.args[i], node.args[j]
    out.add(_product(_shape(a), _shape(b), _parameters_only(b, weights), _name(node)))
    out.produced(node)
    return True


_FUNCTION_READERS = {F.linear: _linear_call, F.conv2d: _conv2d_call, F.scaled_dot_product_attention: _attention_call,
                     **dict.fromkeys(_POOL_FUNCTIONS, _pool_call)}
"""The reader of each function whose call is a layer: it records the layer and returns True (False: not a layer)."""


def _trace(module: nn.Module, args: tuple) -> fx.GraphModule:
    """The fx graph of `module` with every node's output shape (propagated on the meta device if the module and
    args are all there, else on fake tensors, else on real ones)."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.passes.shape_prop import ShapeProp

    tracer = _PathTracer()
    graph = tracer.trace(module)
    gm = fx.GraphModule(tracer.root, graph)
    for node, traced in zip(gm.graph.nodes, graph.nodes):
        node.meta.setdefault("cosearch_path", traced.meta.get("cosearch_path", ""))
    tensors = [*module.parameters(), *module.buffers(), *(a for a in args if isinstance(a, torch.Tensor))]
    if tensors and all(t.is_meta for t in tensors):  # meta kernels give the shapes: no weights copied to fake ones
        ShapeProp(gm).propagate(*args)
        return gm
    try:
        ShapeProp(gm, fake_mode=FakeTensorMode(allow_non_fake_inputs=True)).propagate(*args)
    except Exception:  # an op without a fake-tensor rule: run it for real (eval mode, no gradients)
        ShapeProp(gm).propagate(*args)
    return gm


def _hooks(module: nn.Module, args: tuple) -> _Collector:
    """Run the model once with forward hooks on its Conv2d / Linear modules (the fallback)."""
    out = _Collector()
    handles = []

    def hook_for(qualname: str):
        def hook(mod: nn.Module, inputs: tuple, result: torch.Tensor) -> None:
            if isinstance(mod, nn.Conv2d):
                out.add(_conv_layer(mod, tuple(result.shape), qualname))
            elif isinstance(mod, nn.Linear):
                out.add(_linear_from_shape(tuple(inputs[0].shape), mod.in_features, mod.out_features, qualname))
            else:
                out.unsupported.append(f"{qualname} ({type(mod).__name__})")
        return hook

    for qualname, sub in module.named_modules():
        if isinstance(sub, (nn.Conv2d, nn.Linear) + _UNSUPPORTED):
            handles.append(sub.register_forward_hook(hook_for(qualname or type(sub).__name__)))
    try:
        module(*args)
    finally:
        for handle in handles:
            handle.remove()
    return out


def from_torch(module: nn.Module, example_input: torch.Tensor | tuple, name: str | None = None,
               capture: str = "fx") -> Network:
    """The matrix products of `module` on `example_input` (a tensor or a tuple of positional args) as a `Network`,
    in execution order, each with its element-wise work.

    capture: 'fx' (trace with torch.fx, falling back to hooks with a warning if the model cannot be traced) or
    'hooks' (forward hooks on nn.Conv2d / nn.Linear only). The model's train/eval mode is restored afterwards;
    the pass runs in eval mode without gradients, so BatchNorm statistics are not updated. A model built under
    `torch.device("meta")` with a meta input is read without allocating or initialising its weights.
    """
    if capture not in ("fx", "hooks"):
        raise ValueError(f"from_torch: capture must be 'fx' or 'hooks', got {capture!r}")
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    was_training = module.training
    used = capture
    try:
        module.eval()
        with torch.no_grad():
            if capture == "fx":
                try:
                    found = _walk(_trace(module, args))
                except Exception as exc:  # fx cannot trace data-dependent control flow
                    warnings.warn(f"from_torch: torch.fx could not trace {type(module).__name__} ({type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else ''}); falling back to forward hooks, "
                                  "which see nn.Conv2d and nn.Linear calls only", stacklevel=2)
                    found, used = _hooks(module, args), "hooks"
            else:
                found = _hooks(module, args)
    finally:
        module.train(was_training)
    if found.unsupported:
        warnings.warn(f"from_torch: layers of unsupported types were left out: {', '.join(found.unsupported)}",
                      stacklevel=2)
    if not found.layers:
        raise ValueError(f"from_torch: {type(module).__name__} ran no nn.Conv2d or nn.Linear module nor any "
                         "matrix product")
    meta = {"source": "torch", "capture": used,
            "input_shapes": [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)],
            "unsupported": found.unsupported}
    sources, skips = found.graph() if used == "fx" else (None, ())
    return Network(name or type(module).__name__, found.layers, meta, skips, sources)


__all__ = ["from_torch"]
