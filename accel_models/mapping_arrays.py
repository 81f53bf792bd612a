"""The dense form of mappings that the cost model reads: plain integer arrays, one row per mapping.

`mappings.Mapping` (the readable type) converts to and from this; `accel_models` only ever sees
the arrays, so the two packages meet here and nowhere else.

Residual factors (Timeloop's `P=e,r`, rule F2 of docs/imperfect.md): every loop has an end e (its
regular iteration count, the `temporal` / `spatial_x` / `spatial_y` fields) and a residual end r
(`*_residual`): the loop runs r iterations in a pass where every outer loop of the same dim is at its
last iteration, e otherwise. r == e everywhere is a perfect mapping; a residual end of 0 stands for the loop's end
(what `empty` holds, so that code that only sets ends makes perfect mappings). Per dim the loops, outermost
first, are level by level its temporal loop, then its Y loop, then its X loop (rule R1).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

N_DIMS = 8
"""Dims of a layer's loop nest (`nets.DIMS`), the last axis of `temporal`, `spatial_x`, `spatial_y` and the orders."""
N_TENSORS = 3
"""Tensors (Weights, Inputs, Outputs, in that order: `accel_models.TENSORS`), the last axis of `keep`."""
N_LOOP_KINDS = 3
LOOP_TEMPORAL, LOOP_Y, LOOP_X = 0, 1, 2
"""A loop's kind, in the order a dim's loops of one level take in the nest (rule R1): temporal, then spatial on the
fan-out's Y axis, then on its X axis."""
MAPPING_DTYPE = np.int32
"""The integer type of every field. Every loop bound a Layer takes fits (`nets.MAX_BOUND` = 2**31 - 1), so every
factor of a valid mapping does. Half the bytes of int64: the kernel reads each mapping's rows once, from memory for a
large batch, and a batch of perfect mappings evaluates ~3-7% faster with the narrower rows. The kernel's arithmetic on
them is in int64 (numba widens integers to 64 bits)."""


class MappingArrays(NamedTuple):
    """A batch of B mappings of one layer onto an L-level accelerator: integer arrays, `MAPPING_DTYPE` wherever
    this package or `mappings` builds them (`cost_model.evaluate_batch` converts others).

    - temporal[b, l, d]: temporal factor (loop end) of dim d at level l.
    - order[b, l, p]: the dim of the p-th temporal loop of level l, outermost first (a permutation of 0..7).
    - spatial_x / spatial_y[b, l, d]: factor of dim d unrolled on the X / Y axis of level l's fan-out.
    - spatial_order[b, l, p]: order of level l's spatial loops, outermost first (a permutation of 0..7);
      in the loop nest all Y loops sit outside all X loops, each group in this order.
    - keep[b, l, t]: 1 if level l keeps tensor t (Weights, Inputs, Outputs), 0 if it is bypassed.
    - temporal_residual / spatial_x_residual / spatial_y_residual[b, l, d]: the residual end of the same
      loop (1 <= r <= its end; equal to the end, or 0, for a perfect loop). None (the default): all 0; the
      compiled kernel takes arrays (`with_residuals`).
    """

    temporal: np.ndarray
    order: np.ndarray
    spatial_x: np.ndarray
    spatial_y: np.ndarray
    spatial_order: np.ndarray
    keep: np.ndarray
    temporal_residual: np.ndarray | None = None
    spatial_x_residual: np.ndarray | None = None
    spatial_y_residual: np.ndarray | None = None

    @property
    def batch_size(self) -> int:
        return int(self.temporal.shape[0])

    @property
    def num_levels(self) -> int:
        return int(self.temporal.shape[1])

    def row(self, b: int) -> "MappingArrays":
        """Mapping b as a batch of one."""
        return MappingArrays(*(a[b:b + 1] for a in self.with_residuals()))

    def with_residuals(self) -> "MappingArrays":
        """The same mappings with every residual field an array (None becomes zeros: no residual)."""
        if all(a is not None for a in self[6:]):
            return self
        return self._replace(**{name: np.zeros(self.temporal.shape, dtype=MAPPING_DTYPE) if a is None else a
                                for name, a in zip(self._fields[6:], self[6:])})

    def copy(self) -> "MappingArrays":
        """The same mappings in arrays of their own (a field that is None stays None)."""
        return MappingArrays._make([None if a is None else a.copy() for a in self])

    def has_residual_ends(self, b: int = 0) -> bool:
        """Whether mapping b has a residual end written anywhere (nonzero; None is none). The decoder and `transfer`
        write one only where it differs from its loop's end, so for their mappings this is `not is_perfect()[b]`, at
        a fraction of its cost on a batch of one (`np.count_nonzero`, a third of `ndarray.any` on rows this small)."""
        return any(r is not None and np.count_nonzero(r[b]) for r in self[6:])

    def is_perfect(self) -> np.ndarray:
        """[B] bool: no loop of the mapping has a residual end other than its end."""
        full = self.with_residuals()
        same = np.ones(self.temporal.shape, dtype=bool)
        for ends, res in ((full.temporal, full.temporal_residual), (full.spatial_x, full.spatial_x_residual),
                          (full.spatial_y, full.spatial_y_residual)):
            same &= (res == 0) | (res == ends)
        return same.reshape(self.batch_size, -1).all(axis=1)

    @staticmethod
    def empty(batch: int, levels: int) -> "MappingArrays":
        """All factors 1, identity orders, every tensor kept, no residual (0): a template to fill in. A batch of one
        (a decoded best, a carried-over warm start: several a mapper search) is a copy of a template kept per level
        count, in half the time of building it."""
        if batch == 1:
            return _one_template(levels).copy()
        return _new_empty(batch, levels)

    @staticmethod
    def concatenate(parts: "list[MappingArrays]") -> "MappingArrays":
        parts = [p.with_residuals() for p in parts]
        return MappingArrays(*(np.ascontiguousarray(np.concatenate(arrs, axis=0)) for arrs in zip(*parts)))


def _new_empty(batch: int, levels: int) -> MappingArrays:
    """`MappingArrays.empty`, built."""
    shape = (batch, levels, N_DIMS)
    ident = np.empty(shape, dtype=MAPPING_DTYPE)
    ident[...] = np.arange(N_DIMS, dtype=MAPPING_DTYPE)
    return MappingArrays(np.ones(shape, dtype=MAPPING_DTYPE), ident, np.ones(shape, dtype=MAPPING_DTYPE),
                         np.ones(shape, dtype=MAPPING_DTYPE), ident.copy(),
                         np.ones((batch, levels, N_TENSORS), dtype=MAPPING_DTYPE),
                         np.zeros(shape, dtype=MAPPING_DTYPE), np.zeros(shape, dtype=MAPPING_DTYPE),
                         np.zeros(shape, dtype=MAPPING_DTYPE))


@lru_cache(maxsize=16)
def _one_template(levels: int) -> MappingArrays:
    """`MappingArrays.empty(1, levels)`'s template: never handed out, only copied."""
    return _new_empty(1, levels)


def dim_loops(arrays: MappingArrays, b: int, d: int) -> list[tuple[int, int, int, int]]:
    """The loops of dim d in mapping b, outermost first: (level, kind 0 temporal / 1 Y / 2 X, end, residual end),
    end-1 loops included; a residual end of 0 is reported as the end."""
    out = []
    arrays = arrays.with_residuals()
    for l in range(arrays.num_levels):
        for kind, ends, res in ((0, arrays.temporal, arrays.temporal_residual),
                                (1, arrays.spatial_y, arrays.spatial_y_residual),
                                (2, arrays.spatial_x, arrays.spatial_x_residual)):
            e, r = int(ends[b, l, d]), int(res[b, l, d])
            out.append((l, kind, e, r if r != 0 else e))
    return out


def bound_from_factors(loops) -> int:
    """Rule F3: the bound a dim's loops (end, residual end), outermost first, cover: acc <- acc * e + (r - 1)
    from acc = 0, plus 1 (the product of the ends when every r equals its e)."""
    acc = 0
    for e, r in loops:
        acc = acc * e + (r - 1)
    return acc + 1


def canonical_residuals(ends: list[int], bound: int) -> tuple[list[int], list[int]]:
    """Rule F3's canonical form of one dim's loops, outermost first: given the ends of all but the first
    (`ends[0]` is replaced by the iterations the bound still needs), the (ends, residual ends) that cover
    `bound`: each residual by ceiling division, and the outermost loop with end > 1 perfect (its end lowered
    to its residual). Loops with end 1 stay (1, 1)."""
    ends = [int(e) for e in ends]
    inner = [1] * len(ends)
    for k in range(len(ends) - 2, -1, -1):
        inner[k] = inner[k + 1] * ends[k + 1]
    ends[0] = -(-bound // inner[0])
    res = list(ends)
    remaining = bound
    for k in range(len(ends)):
        if ends[k] == 1:
            continue
        res[k] = -(-remaining // inner[k])
        remaining -= (res[k] - 1) * inner[k]
    outer = next((k for k, e in enumerate(ends) if e > 1), None)
    if outer is not None:
        ends[outer] = res[outer]
    return ends, res
