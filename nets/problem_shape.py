"""The problem shape every layer shares: its eight loop dimensions, its three tensors, and how the dims index them.

This is Timeloop's CNN-layer problem shape (dimensions R S P Q C K N, plus G for groups) with its
data-space projections, the one owner of "which loop dims index which tensor axis, with what
coefficient". A tensor's tile is the bounding box of its projection: along each axis it spans
1 + sum over the axis's terms of (extent - 1) x coefficient (inputs see the sliding window:
width = dilation_w x R + stride_w x P). `accel_models.geometry` builds its compiled and batched
forms from these tables; `Layer` sizes its tensors with them.
"""
from __future__ import annotations

from functools import lru_cache
from math import prod

DIMS: tuple[str, ...] = ("R", "S", "P", "Q", "C", "K", "N", "G")
"""Loop dimensions, in the fixed order every dense array in cosearch uses."""

DIM_INDEX: dict[str, int] = {d: i for i, d in enumerate(DIMS)}

TENSORS: tuple[str, ...] = ("Weights", "Inputs", "Outputs")
"""Tensor order of every dense array in cosearch (Timeloop's data-space names)."""

TENSOR_INDEX: dict[str, int] = {t: i for i, t in enumerate(TENSORS)}

COEFFICIENTS: tuple[str, ...] = ("stride_w", "stride_h", "dilation_w", "dilation_h")
"""The layer's projection coefficients, in the order of `Layer.coefficients` and of the kernels' `coef` array."""

_ONE = -1  # coefficient index of a term with coefficient 1

PROJECTION: tuple[tuple[tuple[tuple[int, int], ...], ...], ...] = (
    # Weights[G][K][C][R][S]
    (((7, _ONE),), ((5, _ONE),), ((4, _ONE),), ((0, _ONE),), ((1, _ONE),)),
    # Inputs[N][G][C][W][H], W = dilation_w*R + stride_w*P, H = dilation_h*S + stride_h*Q
    (((6, _ONE),), ((7, _ONE),), ((4, _ONE),), ((0, 2), (2, 0)), ((1, 3), (3, 1))),
    # Outputs[N][G][K][Q][P]
    (((6, _ONE),), ((7, _ONE),), ((5, _ONE),), ((3, _ONE),), ((2, _ONE),)),
)
"""PROJECTION[t][axis] = the (dim index, coefficient index or -1 for 1) terms of tensor t's axis
(Timeloop's cnn_layer / grouped_conv projections, axes outermost first)."""

N_AXES = 5
"""Every tensor has five axes (a dim that does not index a tensor adds nothing to it)."""


def tensor_dims(tensor: str) -> tuple[str, ...]:
    """The dims that index `tensor`, in DIMS order (a loop over any other dim reuses the tensor's tile)."""
    used = {d for axis in PROJECTION[TENSOR_INDEX[tensor]] for d, _ in axis}
    return tuple(d for i, d in enumerate(DIMS) if i in used)


def axis_terms(coefficients: tuple[int, ...]) -> list[list[list[tuple[int, int]]]]:
    """PROJECTION with the coefficients filled in: [tensor][axis] -> [(dim index, coefficient)]."""
    return [[[(d, 1 if c == _ONE else coefficients[c]) for d, c in axis] for axis in tensor] for tensor in PROJECTION]


@lru_cache(maxsize=1 << 14)
def box_words(extents: tuple[int, ...], coefficients: tuple[int, ...]) -> tuple[int, int, int]:
    """Words of each tensor's bounding box (Weights, Inputs, Outputs) for dim extents in DIMS order. Remembered: a
    network search asks for the same layer shapes' sizes for every network it plans (~50 us each otherwise)."""
    return tuple(prod(1 + sum((extents[d] - 1) * c for d, c in axis) for axis in tensor)
                 for tensor in axis_terms(coefficients))  # type: ignore[return-value]


__all__ = ["DIMS", "DIM_INDEX", "TENSORS", "TENSOR_INDEX", "COEFFICIENTS", "PROJECTION", "N_AXES", "tensor_dims",
           "axis_terms", "box_words"]
