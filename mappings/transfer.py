"""A mapping of one accelerator carried over to another, level by level, as a starting point for a search there.

Levels are matched by name (the co-search's designs share DRAM, GLB and the per-PE register files). A
level the target lacks passes its temporal factors to the next outer level the target has; a level only
the target has starts empty; spatial factors stay where the target has a fan-out and become temporal
elsewhere. The result keeps every factor product and loop order, so `Encoding.encode` turns it into
genes whose decoding (with its capacity repair) is the nearest valid mapping on the target.

A source with residual loops, temporal or spatial: the ends move as above, and every loop's residual end is derived
again from the moved ends (F3's canonical form, `canonical_residuals`: the outermost loop of each dim perfect), so that
the result still covers each bound exactly and passes the cost model's shape check wherever its spatial ends fit the
target's fan-outs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from accel_models import Accelerator, MappingArrays
from accel_models.mapping_arrays import (N_DIMS, N_LOOP_KINDS, N_TENSORS, bound_from_factors, canonical_residuals,
                                         dim_loops)
from accel_models.geometry import accelerator_arrays


@lru_cache(maxsize=1024)
def _level_map(source_names: tuple[str, ...], target_names: tuple[str, ...]) -> np.ndarray:
    """Per source level, the target level of the same name (-1: none)."""
    index = {name: l for l, name in enumerate(target_names)}
    return np.array([index.get(name, -1) for name in source_names], dtype=np.int64)


@njit(cache=True)
def _transfer_into(temporal, order, sx, sy, sorder, keep, level_map, fanout, keeps, out):
    """The module's rule on one mapping's rows, into `out` (`MappingArrays.empty(1, target levels)`). Rows are copied
    element by element: a row assignment (`a[0, l] = b[l]`) would compile numba's shape-mismatch error, whose message
    formatting is about half of this function's cold compile."""
    t_out, o_out, sx_out, sy_out, so_out, k_out, _, _, _ = out
    Lt = t_out.shape[1]
    dest = 0                               # where the factors of unmatched source levels go (the next outer)
    for l in range(temporal.shape[0]):
        if level_map[l] >= 0:
            dest = level_map[l]
            for t in range(N_TENSORS):
                k_out[0, dest, t] = keep[l, t]
            spatial = fanout[dest, 0] * fanout[dest, 1] > 1
            for d in range(N_DIMS):
                o_out[0, dest, d] = order[l, d]
                if spatial:
                    sx_out[0, dest, d] = sx[l, d]
                    sy_out[0, dest, d] = sy[l, d]
                    so_out[0, dest, d] = sorder[l, d]
                    t_out[0, dest, d] *= temporal[l, d]
            if spatial:
                continue
        for d in range(N_DIMS):
            t_out[0, dest, d] *= temporal[l, d] * sx[l, d] * sy[l, d]
    for l in range(Lt):
        for t in range(N_TENSORS):
            k_out[0, l, t] = 1 if k_out[0, l, t] != 0 and keeps[l, t] != 0 else 0
    for t in range(N_TENSORS):
        k_out[0, 0, t] = 1


def transfer_mapping(arrays: MappingArrays, source: Accelerator, target: Accelerator, b: int = 0) -> MappingArrays:
    """Mapping b of `arrays` (on `source`) as a mapping of the same layer on `target` (a batch of one)."""
    out = MappingArrays.empty(1, target.num_levels)
    arch = accelerator_arrays(target)
    _transfer_into(arrays.temporal[b], arrays.order[b], arrays.spatial_x[b], arrays.spatial_y[b],
                   arrays.spatial_order[b], arrays.keep[b], _level_map(source.level_names, target.level_names),
                   arch.fanout, arch.keeps, out)
    if arrays.has_residual_ends(b):
        source_row = arrays.row(b)
        _canonical_residuals(out, [bound_from_factors([(e, r) for _, _, e, r in dim_loops(source_row, 0, d)])
                                   for d in range(N_DIMS)])
    return out


def _canonical_residuals(out: MappingArrays, bounds: list[int]) -> None:
    """Ends and residual ends of `out` (a batch of one, in place) in F3's canonical form for `bounds`, from its ends:
    per dim, the outermost loop takes the passes the bound still needs and each residual follows by ceiling
    division."""
    fields = ((out.temporal, out.temporal_residual), (out.spatial_y, out.spatial_y_residual),
              (out.spatial_x, out.spatial_x_residual))
    for d in range(N_DIMS):
        loops = [(l, kind) for l in range(out.num_levels) for kind in range(N_LOOP_KINDS)]
        ends, res = canonical_residuals([int(fields[kind][0][0, l, d]) for l, kind in loops], bounds[d])
        for (l, kind), e, r in zip(loops, ends, res):
            fields[kind][0][0, l, d] = e
            fields[kind][1][0, l, d] = 0 if r == e else r
