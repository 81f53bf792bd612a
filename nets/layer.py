"""The workload of one layer: a conv / depthwise / FC / matmul as eight loop bounds.

Dimension names follow Timeloop's CNN layer (R S P Q C K N) plus G for groups (`problem_shape`).
R/P run along the input width (Wstride, Wdilation), S/Q along the height.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from math import prod
from numbers import Integral

from .elementwise import ElementwiseOp
from .problem_shape import DIMS, box_words


MAX_BOUND = 2**31 - 1
"""Largest loop bound, stride or dilation a Layer takes (int32: the cost model's arrays hold int64 products)."""
MAX_WORDS = 2**62
"""Largest MAC count and tensor size (words) of a Layer: the cost model counts in int64."""


def check_layer(owner: str, value: object, name: str = "layer") -> "Layer":
    """`value` if it is a `Layer`; a ValueError naming `owner`'s argument otherwise (for public functions that take
    a layer, so that a wrong argument fails where it is given, not deep inside the cost model)."""
    if not isinstance(value, Layer):
        raise ValueError(f"{owner}: {name} must be a nets.Layer, got {type(value).__name__} {_short(value)}")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if type(value) is int and minimum <= value <= MAX_BOUND:  # the common case, without the slower checks below
        return value
    if isinstance(value, bool) or not isinstance(value, Integral) or not minimum <= value <= MAX_BOUND:
        raise ValueError(f"Layer.{name} must be an integer in [{minimum}, {MAX_BOUND}], got {value!r}")
    return int(value)


def _pair(name: str, value, owner: str = "conv") -> tuple[int, int]:
    """(height, width) from an integer or a pair of integers (`owner`: the constructor, for the error)."""
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"Layer.{owner} {name} must be an integer or a (height, width) pair, got {value!r}")
    return tuple(_check_int(f"{owner} {name}", v) for v in pair)  # type: ignore[return-value]


@dataclass(frozen=True)
class Layer:
    """One layer's loop nest: 8 bounds, strides and dilations (per axis), and a name.

    C and K count channels *per group*: a depthwise conv has G = channels and C = K = 1;
    an FC / linear layer has R = S = P = Q = 1 and N = the rows it is applied to (batch x tokens).

    A product of two activations (attention's scores = Q K^T and context = scores V, any batched
    matmul) uses the same dims, its second operand in the Weights tensor W[G][K][C]: C is the
    reduction, K the second operand's columns, N the first operand's rows (the query tokens), G the
    batch of independent products (batch x key/value heads), and P the products that share one
    second operand (grouped-query attention: the query heads of one key/value head). P indexes the
    first operand and the output but not W, so a shared K/V head is read as one tensor, exactly.
    `weights_are_activations` marks such a layer: its W holds no parameters (`Network.weight_words`
    leaves it out) and `kind` is 'matmul'; the cost is the same either way.

    `is_pool` marks a max or average pool: a per-channel window with a stride and no parameters, whose loop nest is
    a depthwise conv's (G = channels, C = K = 1, R x S the window; each window step one compare or add counted as a
    MAC). Its W tensor stands for the constant window (R x S x G words, small); it is mapped and costed as the
    depthwise layer of the same shape, its `kind` is 'pool', and `Network.weight_words` leaves it out.

    `elementwise` lists the non-MAC work fused behind the layer (softmax, norms, activations, adds;
    `nets.elementwise`); it is reported, not costed, and is not part of the layer's identity.
    """

    R: int = 1
    S: int = 1
    P: int = 1
    Q: int = 1
    C: int = 1
    K: int = 1
    N: int = 1
    G: int = 1
    stride_w: int = 1
    stride_h: int = 1
    dilation_w: int = 1
    dilation_h: int = 1
    name: str = field(default="", compare=False)
    weights_are_activations: bool = False
    is_pool: bool = False
    elementwise: tuple[ElementwiseOp, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            object.__setattr__(self, name, _check_int(name, getattr(self, name)))
        if not isinstance(self.name, str):
            raise ValueError(f"Layer.name must be a string, got {self.name!r}")
        if type(self.weights_are_activations) is not bool:
            raise ValueError(f"Layer.weights_are_activations must be True or False, got {self.weights_are_activations!r}")
        if type(self.is_pool) is not bool:
            raise ValueError(f"Layer.is_pool must be True or False, got {self.is_pool!r}")
        if self.is_pool and (self.C != 1 or self.K != 1 or self.weights_are_activations):
            raise ValueError(f"Layer.is_pool: a pool has C = K = 1 (its channels in G) and weights_are_activations "
                             f"False, got C={self.C}, K={self.K}, weights_are_activations={self.weights_are_activations}")
        if type(self.elementwise) is not tuple:
            object.__setattr__(self, "elementwise", tuple(self.elementwise))
        if self.elementwise and not all(isinstance(op, ElementwiseOp) for op in self.elementwise):
            raise ValueError(f"Layer.elementwise must hold nets.ElementwiseOp items, got {self.elementwise!r}")
        if max(self.macs, *self.tensor_words) > MAX_WORDS:
            raise ValueError(f"Layer: {self.macs} MACs (tensors {self.tensor_words} words); accepted: at most "
                             f"2**62 of each (the cost model counts in int64)")

    # ---- construction helpers -------------------------------------------------------
    @classmethod
    def conv(cls, c_in: int, c_out: int, kernel: int | tuple[int, int], out_hw: int | tuple[int, int],
             stride: int = 1, groups: int = 1, batch: int = 1, dilation: int = 1, name: str = "") -> "Layer":
        """A 2-D convolution from framework-style arguments (channels are totals, not per group)."""
        kh, kw = _pair("kernel", kernel)
        oh, ow = _pair("out_hw", out_hw)
        for arg, value in (("c_in", c_in), ("c_out", c_out), ("groups", groups)):
            _check_int(f"conv {arg}", value)
        if c_in % groups or c_out % groups:
            raise ValueError(f"Layer.G: groups={groups} must divide c_in={c_in} and c_out={c_out}")
        return cls(R=kw, S=kh, P=ow, Q=oh, C=c_in // groups, K=c_out // groups, N=batch, G=groups,
                   stride_w=stride, stride_h=stride, dilation_w=dilation, dilation_h=dilation, name=name)

    @classmethod
    def pool(cls, channels: int, kernel: int | tuple[int, int], out_hw: int | tuple[int, int], stride: int = 1,
             batch: int = 1, name: str = "") -> "Layer":
        """A max or average pool over `channels` channels: a `kernel` window (height, width) moved by `stride`,
        giving `out_hw`; a depthwise-shaped loop nest with no parameters (`is_pool`). A global pool is the window
        of the whole input with out_hw 1."""
        kh, kw = _pair("kernel", kernel, "pool")
        oh, ow = _pair("out_hw", out_hw, "pool")
        sh, sw = _pair("stride", stride, "pool")
        return cls(R=kw, S=kh, P=ow, Q=oh, N=batch, G=_check_int("pool channels", channels),
                   stride_w=sw, stride_h=sh, name=name, is_pool=True)

    @classmethod
    def fc(cls, in_features: int, out_features: int, batch: int = 1, name: str = "",
           elementwise: tuple[ElementwiseOp, ...] = ()) -> "Layer":
        """A fully connected / linear layer (batch x in) @ (in x out); over T tokens, batch = batch x T."""
        return cls(C=in_features, K=out_features, N=batch, name=name, elementwise=elementwise)

    @classmethod
    def matmul(cls, rows: int, inner: int, cols: int, batch: int = 1, shared: int = 1, name: str = "",
               elementwise: tuple[ElementwiseOp, ...] = ()) -> "Layer":
        """A batched product of two activations: A[batch, shared, rows, inner] @ B[batch, inner, cols], where
        the `shared` products of a batch entry all read the same B (N = rows, C = inner, K = cols, P = shared,
        G = batch)."""
        return cls(C=inner, K=cols, N=rows, P=shared, G=batch, name=name, weights_are_activations=True,
                   elementwise=elementwise)

    @classmethod
    def attention_scores(cls, q_len: int, kv_len: int, head_dim: int, heads: int, kv_heads: int | None = None,
                         batch: int = 1, name: str = "", elementwise: tuple[ElementwiseOp, ...] = ()) -> "Layer":
        """scores = Q K^T of every head: Q [q_len x head_dim] per query head, K [kv_len x head_dim] per key/value
        head, shared by heads / kv_heads query heads (grouped-query attention; kv_heads = heads by default)."""
        shared = _heads_per_group(heads, kv_heads)
        return cls.matmul(q_len, head_dim, kv_len, batch * (heads // shared), shared, name, elementwise)

    @classmethod
    def attention_context(cls, q_len: int, kv_len: int, head_dim: int, heads: int, kv_heads: int | None = None,
                          batch: int = 1, name: str = "", elementwise: tuple[ElementwiseOp, ...] = ()) -> "Layer":
        """context = scores V of every head: scores [q_len x kv_len] per query head, V [kv_len x head_dim] per
        key/value head (shared as in `attention_scores`)."""
        shared = _heads_per_group(heads, kv_heads)
        return cls.matmul(q_len, kv_len, head_dim, batch * (heads // shared), shared, name, elementwise)

    @classmethod
    def from_dims(cls, dims: dict[str, int], strides: dict[str, int] | None = None,
                  dilations: dict[str, int] | None = None, name: str = "") -> "Layer":
        """From a {dim: bound} dict (missing dims are 1) and Timeloop-style {h, w} strides."""
        unknown = set(dims) - set(DIMS)
        if unknown:
            raise ValueError(f"Layer: unknown dimension(s) {sorted(unknown)}; accepted: {', '.join(DIMS)}")
        strides = strides or {}
        dilations = dilations or {}
        return cls(**{d: dims.get(d, 1) for d in DIMS}, stride_w=strides.get("w", 1), stride_h=strides.get("h", 1),
                   dilation_w=dilations.get("w", 1), dilation_h=dilations.get("h", 1), name=name)

    # ---- derived quantities ---------------------------------------------------------
    @property
    def bounds(self) -> tuple[int, ...]:
        """The 8 loop bounds in DIMS order."""
        return (self.R, self.S, self.P, self.Q, self.C, self.K, self.N, self.G)

    @property
    def kind(self) -> str:
        """'matmul' (both operands activations), 'pool', 'depthwise', 'fc' or 'conv' (grouped convs that are not
        depthwise count as conv)."""
        if self.is_pool:
            return "pool"
        if self.weights_are_activations:
            return "matmul"
        if self.G > 1 and self.C == 1:
            return "depthwise"
        if self.R == self.S == self.P == self.Q == 1:
            return "fc"
        return "conv"

    @property
    def macs(self) -> int:
        """Multiply-accumulates: the product of all eight bounds."""
        return prod(self.bounds)

    @property
    def coefficients(self) -> tuple[int, int, int, int]:
        """(stride_w, stride_h, dilation_w, dilation_h): the projection coefficients (`problem_shape.COEFFICIENTS`)."""
        return (self.stride_w, self.stride_h, self.dilation_w, self.dilation_h)

    @cached_property
    def tensor_words(self) -> tuple[int, int, int]:
        """(Weights, Inputs, Outputs) sizes in words: each tensor's bounding box over the whole loop nest
        (inputs without padding: width (P-1)*stride + (R-1)*dilation + 1); kept on the layer (a whole-network plan
        asks it of every layer several times)."""
        return box_words(self.bounds, self.coefficients)

    @property
    def weight_words(self) -> int:
        """Words of the Weights tensor (for a matmul layer: its second operand, an activation)."""
        return self.tensor_words[0]

    @property
    def param_words(self) -> int:
        """Constant words the layer reads (its weights): a conv's or linear's parameters, a pool's window (R x S x G
        words, constant data the planners may keep on chip as they keep a depthwise layer's weights; not a
        parameter of the network, `Network.weight_words`); none for a product of two activations."""
        return 0 if self.weights_are_activations else self.weight_words

    @property
    def input_words(self) -> int:
        return self.tensor_words[1]

    @property
    def output_words(self) -> int:
        return self.tensor_words[2]

    @cached_property
    def shape_key(self) -> tuple[int, ...]:
        """Everything that determines the cost of the layer (not its name): a cache key."""
        return self.bounds + self.coefficients

    @property
    def group_key(self) -> tuple:
        """What makes two layers the same workload in a network's table (`Network.unique_layers`)."""
        return self.shape_key + (self.weights_are_activations, self.is_pool)

    def with_name(self, name: str) -> "Layer":
        return replace(self, name=name)


def _heads_per_group(heads: int, kv_heads: int | None) -> int:
    """Query heads per key/value head; kv_heads must divide heads."""
    kv = heads if kv_heads is None else kv_heads
    if not (isinstance(heads, int) and isinstance(kv, int) and heads >= 1 and kv >= 1 and heads % kv == 0):
        raise ValueError(f"Layer attention: kv_heads={kv_heads!r} must be an integer >= 1 dividing heads={heads!r}")
    return heads // kv


_INT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Layer) if f.type == "int")
"""The fields that hold integers (bounds, strides, dilations)."""


__all__ = ["MAX_BOUND", "MAX_WORDS", "check_layer", "Layer"]
