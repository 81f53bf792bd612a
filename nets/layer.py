"""The workload of one layer: a conv / depthwise / FC / matmul as eight loop bounds.

Dimension names follow Timeloop's CNN layer (R S P Q C K N) plus G for groups (`problem_shape`).
R/P run along the input width (Wstride, Wdilation), S/Q along the height.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from math import prod
from numbers import Integral

from .problem_shape import DIMS, box_words


MAX_BOUND = 2**31 - 1
"""Largest loop bound, stride or dilation a Layer takes (int32: the cost model's arrays hold int64 products)."""
MAX_WORDS = 2**62
"""Largest MAC count and tensor size (words) of a Layer: the cost model counts in int64."""


def _check_int(name: str, value: object, minimum: int = 1) -> int:
    if type(value) is int and minimum <= value <= MAX_BOUND:  # the common case, without the slower checks below
        return value
    if isinstance(value, bool) or not isinstance(value, Integral) or not minimum <= value <= MAX_BOUND:
        raise ValueError(f"Layer.{name} must be an integer in [{minimum}, {MAX_BOUND}], got {value!r}")
    return int(value)


def _pair(name: str, value) -> tuple[int, int]:
    """(height, width) from an integer or a pair of integers."""
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"Layer.conv {name} must be an integer or a (height, width) pair, got {value!r}")
    return tuple(_check_int(f"conv {name}", v) for v in pair)  # type: ignore[return-value]


@dataclass(frozen=True)
class Layer:
    """One layer's loop nest: 8 bounds, strides and dilations (per axis), and a name.

    C and K count channels *per group*: a depthwise conv has G = channels and C = K = 1;
    an FC / matmul layer has R = S = P = Q = 1 (N is the batch, or the token count).
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

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            object.__setattr__(self, name, _check_int(name, getattr(self, name)))
        if not isinstance(self.name, str):
            raise ValueError(f"Layer.name must be a string, got {self.name!r}")
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
    def fc(cls, in_features: int, out_features: int, batch: int = 1, name: str = "") -> "Layer":
        """A fully connected layer / matmul (batch x in) @ (in x out)."""
        return cls(C=in_features, K=out_features, N=batch, name=name)

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
        """'depthwise', 'fc' or 'conv' (grouped convs that are not depthwise count as conv)."""
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

    @property
    def tensor_words(self) -> tuple[int, int, int]:
        """(Weights, Inputs, Outputs) sizes in words: each tensor's bounding box over the whole loop nest
        (inputs without padding: width (P-1)*stride + (R-1)*dilation + 1)."""
        return box_words(self.bounds, self.coefficients)

    @property
    def weight_words(self) -> int:
        return self.tensor_words[0]

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

    def with_name(self, name: str) -> "Layer":
        return Layer(*self.shape_key[:8], *self.shape_key[8:], name=name)


_INT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Layer) if f.name != "name")
"""The fields that hold integers (bounds, strides, dilations): checked once per layer."""
