"""R2-R4 per level and tensor for a mapping whose instances under each fan-out do the same work: one scaffold that
takes each (level, tensor)'s fills, parent reads and link transfers from the fill rule's entry (`fills.stream_fills`:
the closed form, or for a residual mapping's streams that a residual touches, the sweep over their steps). Two
scaffolds compile from this one source: `level_accesses`, and `level_accesses_perfect`, the perfect-factor
driver's, with the entry's perfect variant (`fills.stream_fills_perfect`: a stub in the sweep's place,
`accel_models.jit.variant`), so that a first search on perfect factors compiles no sweep. `instances.class_accesses`
is their counterpart per instance class.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..jit._variants import variant
from ..mapping_arrays import N_TENSORS
from .counts import moving_loops, spatial_loops
from .fills import stream_fills, stream_fills_perfect
from .links import spatial_axes
from .workspace import FAN_X, FAN_Y


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=True)
def level_accesses(layer, acc, ws, n_temporal, residual, walks):
    """R2-R4, R6 as if every level kept every tensor: per level and tensor its fill stream, the accesses its parent
    serves it (multicast and links), the multicast-weighted reads and the peer transfers; `residual`: the mapping
    has a residual loop (then ws.temporal[:].outer must hold `residual.pass_counts`, and every stream whose tensor a
    residual touches is counted from the origin by the sweep, given `walks`: `paths.Walks`; `fills.stream_fills`).
    LLVM inlines it into the driver (`forceinline`: the call passed every array of the layer, the accelerator and the
    workspace; `kernel`'s docstring)."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels = ws.temporal, ws.spatial, ws.levels
    scratch = ws.scratch[0]
    origin = ws.sweep[0].origin                    # every instance under a fan-out starts at the same offsets
    L = levels.shape[0] - 1
    moving_loops(ax, temporal, n_temporal)
    levels[0].peer[:] = 0.0
    spatial_above = np.int64(0)      # spatial loops of the levels above lvl
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        child, parent = levels[lvl], levels[p]
        child.peer[:] = 0.0
        # The temporal loops above lvl: the nest's loops above it less the spatial ones (counted, not searched:
        # a search's exit depends on the random factors and mispredicts).
        spatial_above += parent.n_spatial
        M = child.start - spatial_above
        n_sp = np.int64(0)
        n_children = np.int64(1)
        if parent.n_spatial > 0:
            n_sp, n_children = spatial_loops(ws.loops, levels, p, spatial, scratch.n_digits)
        for t in range(N_TENSORS):
            if n_children == 1 and not is_mac and child.kept[t] == 0:
                # A bypassed level under a parent without fan-out: `fold_bypass` replaces the parent's accesses
                # by the level's own times parent reads / multicast-weighted reads, F / F = 1.0 exactly for
                # any fill stream F > 0, and nothing else reads this (level, tensor)'s fills: 1.0 / 1.0 is
                # the same ratio without the stream.
                parent.access[t] = 1.0
                parent.mcw[t] = 1.0
                continue
            groups = np.int64(1)         # typed int64, not Literal[int](1): see `kernel`'s docstring
            if n_sp > 0:
                groups = spatial_axes(t, spatial, n_sp, ax, co, scratch)
            F, reads, transfers = stream_fills(t, temporal, M, child, is_mac, layer, groups, n_children, spatial,
                                               n_sp, fanout[p, FAN_X], fanout[p, FAN_Y], ws, origin, residual, walks)
            child.fill[t] = F
            if n_children > 1:
                child.peer[t] = transfers / n_children
            parent.access[t] = reads
            parent.mcw[t] = n_children * F - transfers


@variant(level_accesses, stream_fills=stream_fills_perfect)
def level_accesses_perfect():
    """`level_accesses` for the perfect-factor driver (`driver.evaluate_range_perfect`): the same closed forms, the
    sweep's stub in its place (`fills.stream_fills_perfect`; never called: that driver raises on a residual mapping
    before counting it)."""
