"""Non-MAC work beside a layer: softmax, normalisation, activations, residual adds, as element-wise operations.

The cost model counts multiply-accumulates on the PE array and the traffic of their three tensors; it does
not model a vector unit. Element-wise work is therefore listed (operations and words moved), not charged
in cycles or energy: accelerators run it on a separate post-processing unit fused behind the MAC array
(NVDLA's SDP, a TPU's vector unit), where it overlaps the matrix work. Each op is attached to the layer
whose output it consumes (its epilogue); ops before a network's first layer are attached to that layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

OPS_PER_ELEMENT: dict[str, int] = {
    # Counted from the usual formula of each op (an estimate: an implementation may fuse or approximate);
    # per-row work (a row's reciprocal square root or reciprocal sum) is left out.
    "add": 1,        # x + y (residual, position embedding)
    "mul": 1,        # x * y (SwiGLU's gate times up)
    "scale": 1,      # x * constant (attention's 1/sqrt(d))
    "mask": 1,       # select x or -inf (causal mask)
    "relu": 1,       # max(x, 0)
    "rope": 3,       # rotary position embedding: x cos + rotate(x) sin (the rotation only moves and negates)
    "tanh": 5,       # 1 - 2 / (exp(2x) + 1): multiply, exp, add, divide, subtract
    "silu": 4,       # x / (1 + exp(-x)): negate, exp, add, divide
    "gelu": 8,       # tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): cube (2), fma (2), tanh, add, 2 mul
    "softmax": 5,    # max, subtract, exp, sum, divide
    "layernorm": 7,  # sum, subtract mean, square, sum, times rstd, times gamma, plus beta
    "rmsnorm": 4,    # square, sum, times rstd, times gamma
    # online softmax over key blocks (Milakov and Gimelshein, 2018; FlashAttention, Dao et al., 2022), per query row
    # and head at each key block after the first:
    "correction": 3,  # the new running max, old max minus it, exp of that (the rescaling factor)
    "rescale": 2,     # a running value (an accumulator element or the running sum) times the factor, plus the new
                      # block's part
}
"""Arithmetic operations per output element of each element-wise kind."""

INPUTS: dict[str, int] = {"add": 2, "mul": 2, "mask": 2, "rope": 3}
"""Tensors of the output's size an op reads (1 unless listed): a residual add reads two, rope x, cos and sin."""


@dataclass(frozen=True)
class ElementwiseOp:
    """`kind` (a key of OPS_PER_ELEMENT) applied to `elements` values (per layer run, batch included)."""

    kind: str
    elements: int

    def __post_init__(self) -> None:
        if self.kind not in OPS_PER_ELEMENT:
            raise ValueError(f"ElementwiseOp.kind must be one of {', '.join(OPS_PER_ELEMENT)}, got {self.kind!r}")
        if isinstance(self.elements, bool) or not isinstance(self.elements, Integral) or self.elements < 1:
            raise ValueError(f"ElementwiseOp.elements must be an integer >= 1, got {self.elements!r}")
        object.__setattr__(self, "elements", int(self.elements))

    @property
    def ops(self) -> int:
        """Arithmetic operations (an estimate: see OPS_PER_ELEMENT)."""
        return self.elements * OPS_PER_ELEMENT[self.kind]

    @property
    def words(self) -> int:
        """Words read and written when run on its own: every input once, the output once."""
        return self.elements * (INPUTS.get(self.kind, 1) + 1)


def elementwise_ops(ops) -> int:
    """Total operations of some ElementwiseOps."""
    return sum(op.ops for op in ops)


def elementwise_words(ops) -> int:
    """Total words read and written by some ElementwiseOps."""
    return sum(op.words for op in ops)


def describe_elementwise(ops) -> str:
    """'softmax 2.4M, scale 2.4M' (elements per kind, in order of first appearance); '' when there are none."""
    totals: dict[str, int] = {}
    for op in ops:
        totals[op.kind] = totals.get(op.kind, 0) + op.elements
    return ", ".join(f"{kind} {_si(n)}" for kind, n in totals.items())


def _si(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"


__all__ = ["OPS_PER_ELEMENT", "INPUTS", "ElementwiseOp", "elementwise_ops", "elementwise_words", "describe_elementwise"]
