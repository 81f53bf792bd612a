"""R2-R4 per level and tensor for a mapping whose instances under each fan-out do the same work: one scaffold, with
the closed form (`counts.closed_form_fills` and `links.links`: perfect mappings, and a residual mapping's streams
whose tensor no residual touches, `residual.closed_stream`, counted with each loop's passes) or, for the other
streams of a residual one, `sweep.uniform_stream` (the phases' closed form, the frame walk) as the count of each
(level, tensor). Two scaffolds compile from this one source: `level_accesses`, which calls the sweep by name (by
address, the call cost ~11% of a temporal-class evaluation), and `level_accesses_perfect`, the perfect-factor
driver's, with a stub in its place (`accel_models.jit.variant`), so that a first search on perfect factors compiles
no sweep. `instances.class_accesses` is their counterpart per instance class.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..jit._variants import variant
from ..mapping_arrays import N_TENSORS
from .counts import closed_form_fills, moving_loops, spatial_loops
from .links import links, spatial_axes
from .residual import closed_stream
from .sweep import no_uniform_stream, uniform_stream
from .workspace import FAN_X, FAN_Y


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=True)
def level_accesses(layer, acc, ws, n_temporal, residual, walks):
    """R2-R4, R6 as if every level kept every tensor: per level and tensor its fill stream, the accesses its parent
    serves it (multicast and links), the multicast-weighted reads and the peer transfers; `residual`: the mapping
    has a residual loop (then ws.temporal[:].outer must hold `residual.pass_counts`, and every stream whose tensor a
    residual touches is counted from the origin by `sweep.uniform_stream`, given `walks`: `paths.Walks`). LLVM
    inlines it into the driver (`forceinline`: the call passed every array of the layer, the accelerator and the
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
            if residual and not closed_stream(t, temporal, M, layer.bounds, child.extents, ax, is_mac, n_children):
                F, reads, transfers = uniform_stream(t, temporal, M, child, is_mac, layer, groups, n_children,
                                                     spatial, n_sp, fanout[p, FAN_X], fanout[p, FAN_Y], ws, origin,
                                                     walks)
            else:
                # every loop that moves t runs its whole bound in every pass, no tile of t is cut and, under a
                # fan-out, the innermost loop above runs its whole bound in every pass (`closed_stream`; or the MAC
                # without a fan-out, whose fills are its steps that run): a perfect stream but for how often each
                # loop starts (`outer`: the passes that run, `residual.pass_counts`), its fills and
                # the multicast groups' reads of them less what links save (R3, analysed as if the level kept t,
                # R5: where it does not, the bypass fold's ratio is these reads over the multicast-weighted ones of
                # the children not served by a link, as Timeloop's MaskTiles scales those stats). A link needs the
                # loop right above the level to move t (else consecutive deltas are empty), or the MAC, whose delta
                # is its whole operand every step. `links` is inlined here, not inside `closed_form_fills`: numba
                # copies an inlined function's IR with its whole scope once per block, so nested, it would be copied
                # twice at the size of both.
                F, tile, delta = closed_form_fills(t, temporal, M, child, is_mac, layer, ws)
                reads = groups * F
                transfers = 0.0
                if n_children > 1 and M > 0 and (is_mac or layer.ax[t, temporal[M - 1].dim] >= 0):
                    saved, transfers = links(t, temporal, M, scratch.box, tile, delta, is_mac, spatial, n_sp,
                                             fanout[p, FAN_X], fanout[p, FAN_Y], layer, groups, ws)
                    reads -= saved
            child.fill[t] = F
            if n_children > 1:
                child.peer[t] = transfers / n_children
            parent.access[t] = reads
            parent.mcw[t] = n_children * F - transfers


@variant(level_accesses, uniform_stream=no_uniform_stream)
def level_accesses_perfect():
    """`level_accesses` for the perfect-factor driver (`driver.evaluate_range_perfect`): the same closed forms, the
    sweep's stub in its place (never called: that driver raises on a residual mapping before counting it)."""
