"""The layers of a framework's operations from their tensor shapes alone: shared by the torch.fx import
(`nets.torch_import`) and the ONNX import (`nets.onnx_import`), so both read a convolution, a matrix product and
an attention block the same way. No torch here."""
from __future__ import annotations

from math import prod

from ._shapes import adaptive_window
from .layer import Layer
from .network import LayerRecorder


def conv_from_shapes(out_shape: tuple, c_in: int, c_out: int, groups: int, kernel: tuple[int, int],
                      stride: tuple[int, int], dilation: tuple[int, int], name: str) -> Layer:
    """A 2-D convolution from its output shape [..., K, Q, P] (P, Q from the real output, so any padding rule is
    accounted for) and framework-style sizes (channel totals, (height, width) pairs)."""
    batch = prod(out_shape[:-3]) if len(out_shape) > 3 else 1  # unbatched input is [C, H, W]
    return Layer(R=kernel[1], S=kernel[0], P=int(out_shape[-1]), Q=int(out_shape[-2]), C=c_in // groups,
                 K=c_out // groups, N=int(batch), G=groups, stride_w=stride[1], stride_h=stride[0],
                 dilation_w=dilation[1], dilation_h=dilation[0], name=name)


def pool_from_shapes(in_shape: tuple, out_shape: tuple, kernel: tuple[int, int] | None,
                     stride: tuple[int, int] | None, name: str) -> Layer | None:
    """A 2-D max or average pool from its input and output shapes [..., C, H, W] (`Layer.pool`): `kernel` and
    `stride` (height, width); None for an adaptive or global pool, whose window follows from the sizes
    (`adaptive_window`). None when it is the identity (a 1x1 window at stride 1)."""
    (h, w), (oh, ow) = in_shape[-2:], out_shape[-2:]
    if kernel is None:
        (kh, sh), (kw, sw) = adaptive_window(int(h), int(oh)), adaptive_window(int(w), int(ow))
        kernel, stride = (kh, kw), (sh, sw)
    if tuple(kernel) == (1, 1) and tuple(stride) == (1, 1):
        return None
    batch = prod(out_shape[:-3]) if len(out_shape) > 3 else 1
    return Layer.pool(int(in_shape[-3]), tuple(kernel), (int(oh), int(ow)), tuple(stride), int(batch), name=name)


def linear_from_shape(in_shape: tuple, in_features: int, out_features: int, name: str) -> Layer:
    """A linear layer applied to every row of an input of shape [..., in_features]."""
    rows = prod(in_shape[:-1]) if len(in_shape) > 1 else 1  # batch x tokens
    return Layer.fc(in_features, out_features, batch=int(rows), name=name)


def product(a: tuple, b: tuple, b_is_weight: bool, name: str, owner: str = "from_torch") -> Layer:
    """The Layer of torch.matmul(A, B) for shapes a, b (1-D operands as matmul treats them).

    Batch dims (broadcast right-aligned): both > 1 -> G (independent products); only A's -> P (products
    sharing one B); only B's -> folded into K (B's columns), so that each operand is read as one tensor."""
    a = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    rows, inner, cols = a[-2], a[-1], b[-1]
    if b[-2] != inner:
        raise ValueError(f"{owner}: {name}: matmul of shapes {a} and {b} does not agree on the inner size")
    ab, bb = a[:-2], b[:-2]
    width = max(len(ab), len(bb))
    ab, bb = (1,) * (width - len(ab)) + ab, (1,) * (width - len(bb)) + bb
    groups = prod(x for x, y in zip(ab, bb) if x > 1 and y > 1)
    shared = prod(x for x, y in zip(ab, bb) if x > 1 and y == 1)
    cols *= prod(y for x, y in zip(ab, bb) if x == 1 and y > 1)
    if b_is_weight and groups == 1:  # a linear layer: every row of A meets the same weights
        return Layer.fc(inner, cols, batch=rows * shared, name=name)
    return Layer(C=inner, K=cols, N=rows, P=shared, G=groups, name=name, weights_are_activations=not b_is_weight)


def attention_layers(out: LayerRecorder, q: tuple, k: tuple, v: tuple, causal: bool, masked: bool, name: str) -> None:
    """scaled_dot_product_attention(q, k, v) on shapes [..., Hq, L, E] / [..., Hkv, S, E] / [..., Hkv, S, Ev]."""
    heads, q_len, head_dim = q[-3] if len(q) >= 3 else 1, q[-2], q[-1]
    kv_heads, kv_len, v_dim = k[-3] if len(k) >= 3 else 1, k[-2], v[-1]
    batch = prod(q[:-3]) if len(q) > 3 else 1
    shared = heads // kv_heads
    out.add(Layer.matmul(q_len, head_dim, kv_len, batch * kv_heads, shared, name=f"{name}.scores"))
    scores = batch * heads * q_len * kv_len
    out.op("scale", scores)
    if (causal and q_len > 1) or masked:
        out.op("mask", scores)
    out.op("softmax", scores)
    out.add(Layer.matmul(q_len, kv_len, v_dim, batch * kv_heads, shared, name=f"{name}.context"))


__all__ = ["conv_from_shapes", "linear_from_shape", "product", "attention_layers"]
