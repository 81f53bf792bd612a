"""The dense form of mappings that the cost model reads: plain integer arrays, one row per mapping.

`mappings.Mapping` (the readable type) converts to and from this; `accel_models` only ever sees
the arrays, so the two packages meet here and nowhere else.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

N_DIMS = 8
N_TENSORS = 3


class MappingArrays(NamedTuple):
    """A batch of B mappings of one layer onto an L-level accelerator.

    temporal[b, l, d]: temporal factor of dim d at level l.
    order[b, l, p]: the dim of the p-th temporal loop of level l, outermost first (a permutation of 0..7).
    spatial_x / spatial_y[b, l, d]: factor of dim d unrolled on the X / Y axis of level l's fan-out.
    spatial_order[b, l, p]: order of level l's spatial loops, outermost first (a permutation of 0..7);
        in the loop nest all Y loops sit outside all X loops, each group in this order.
    keep[b, l, t]: 1 if level l keeps tensor t (Weights, Inputs, Outputs), 0 if it is bypassed.
    """

    temporal: np.ndarray
    order: np.ndarray
    spatial_x: np.ndarray
    spatial_y: np.ndarray
    spatial_order: np.ndarray
    keep: np.ndarray

    @property
    def batch_size(self) -> int:
        return int(self.temporal.shape[0])

    @property
    def num_levels(self) -> int:
        return int(self.temporal.shape[1])

    def row(self, b: int) -> "MappingArrays":
        """Mapping b as a batch of one."""
        return MappingArrays(*(a[b:b + 1] for a in self))

    @staticmethod
    def empty(batch: int, levels: int) -> "MappingArrays":
        """All factors 1, identity orders, every tensor kept: a template to fill in."""
        ones = np.ones((batch, levels, N_DIMS), dtype=np.int64)
        ident = np.broadcast_to(np.arange(N_DIMS, dtype=np.int64), (batch, levels, N_DIMS)).copy()
        return MappingArrays(ones.copy(), ident.copy(), ones.copy(), ones.copy(), ident, np.ones(
            (batch, levels, N_TENSORS), dtype=np.int64))

    @staticmethod
    def concatenate(parts: "list[MappingArrays]") -> "MappingArrays":
        return MappingArrays(*(np.ascontiguousarray(np.concatenate(arrs, axis=0)) for arrs in zip(*parts)))
