"""Per-level counts in closed form: fills (R2), parent accesses and multicast (R3, R4), outputs'
partitions (R6) and the bypass fold (R5) — `reference._tile_stream`, `_level_walk` and `evaluate`'s steps.

Closed form of R2. The iterations of the temporal loops above a level form a mixed-radix counter.
Number those loops j = 0..M-1 from the inside out (bound-1 loops dropped). A step in which loop j
advances (the loops inside it resetting) happens n_j = (b_j - 1) * prod_{k>j} b_k times and always
moves the tile by the same translation T_j. Let i0 be the innermost loop with T_i0 != 0 (the loops
inside it do not index the tensor, so T_i0 >= 0). Following the "last stride" memory through the
counter gives: every step of i0 reuses the overlap with the previous tile (delta = tile minus
overlap); a step of another loop j reuses it if T_j == T_i0 and otherwise brings the whole tile;
T_j == 0 brings nothing.
"""
from __future__ import annotations

import math

from numba import njit

from ..geometry import box
from .links import distinct_offsets, links


@njit(cache=True)
def temporal_loops(nest, n_loops, temporal):
    """The temporal loops of the nest, outermost first, with their outer products; returns their count."""
    kind, dim, bound, step, level = nest.kind, nest.dim, nest.bound, nest.step, nest.level
    t_dim, t_bound, t_step, t_level, outer_prod = temporal
    n = 0
    for i in range(n_loops):
        if kind[i] == 0:
            t_dim[n] = dim[i]
            t_bound[n] = bound[i]
            t_step[n] = step[i]
            t_level[n] = level[i]
            n += 1
    outer_prod[0] = 1.0
    for j in range(n):
        outer_prod[j + 1] = outer_prod[j] * t_bound[j]
    return n


@njit(cache=True, inline="always")
def spatial_loops(nest, level, spatial):
    """The spatial loops of `level`'s fan-out, outermost first; returns (their count, the children)."""
    kind, dim, bound, step, start = nest.kind, nest.dim, nest.bound, nest.step, nest.start
    s_dim, s_bound, s_step, s_kind = spatial
    n = 0
    n_children = 1
    for i in range(start[level], start[level + 1]):
        if kind[i] != 0:
            s_dim[n] = dim[i]
            s_bound[n] = bound[i]
            s_step[n] = step[i]
            s_kind[n] = kind[i]
            n_children *= bound[i]
            n += 1
    return n, n_children


@njit(cache=True, inline="always")
def fill_stream(t, dim, bound, step, outer_prod, M, ax, co, box_axes, tile):
    """R2 in closed form: the fills of one instance of a level over the M temporal loops above it (`dim`,
    `bound`, `step`, outermost first), and the overlap delta (words) of the innermost loop that moves the
    tensor (0 if none does).

    Loops outside that loop i0 bring the whole tile unless their translation is 0 or T_i0; that needs
    every reset so far on i0's axis, so the scan stops at the first loop on another axis.
    """
    i0 = -1
    for j in range(M - 1, -1, -1):
        if ax[t, dim[j]] >= 0:
            i0 = j
            break
    if i0 < 0:
        return float(tile), 0
    a = ax[t, dim[i0]]
    step0 = co[t, dim[i0]] * step[i0]
    r = box_axes[a] - step0
    delta = tile - (tile // box_axes[a]) * (r if r > 0 else 0)
    fills = tile + (bound[i0] - 1) * outer_prod[i0] * delta + (outer_prod[i0] - 1) * tile
    reset_a = co[t, dim[i0]] * (bound[i0] - 1) * step[i0]
    for j in range(i0 - 1, -1, -1):
        aj = ax[t, dim[j]]
        if aj < 0:
            continue
        if aj != a:
            break
        cj = co[t, dim[j]]
        tj = cj * step[j] - reset_a
        if tj == 0:
            fills -= (bound[j] - 1) * outer_prod[j] * tile
        elif tj == step0:
            fills -= (bound[j] - 1) * outer_prod[j] * (tile - delta)
        reset_a += cj * (bound[j] - 1) * step[j]
    return fills, delta


@njit(cache=True, inline="always")
def direct_fanout(nest, n_temporal, t_level, L):
    """The level of the fan-out nearest the MACs if no temporal loop runs below it, else -1 (a level's spatial
    loops sit below its temporal ones, so that is a level at or below the innermost temporal loop's whose
    last loop is spatial). With it the MAC reads an operand only when it changes, if the innermost level
    keeping the operand is at or above that fan-out and the innermost temporal loop does not index it, as
    Timeloop does (`reference.reads_on_change`); otherwise it reads every step (R4)."""
    kind, start = nest.kind, nest.start
    for l in range(L - 1, t_level[n_temporal - 1] - 1, -1):
        if start[l + 1] > start[l] and kind[start[l + 1] - 1] != 0:
            return l
    return -1


@njit(cache=True, inline="always")
def reads_on_change(t, fan, kept):
    """Does the MAC read operand t (not Outputs, not indexed by the innermost loop) only when it changes,
    given `direct_fanout`'s level?"""
    if fan < 0:
        return False
    x = kept.shape[0] - 1
    while x > 0 and kept[x, t] == 0:
        x -= 1
    return fan >= x


@njit(cache=True)
def level_accesses(layer, acc, nest, n_loops, ws):
    """R2-R4, R6 as if every level kept every tensor: per level and tensor its fill stream, the accesses
    its parent serves it (multicast and links), the multicast-weighted reads and the peer transfers."""
    coef, ax, co = layer.coef, layer.ax, layer.co
    fanout = acc.fanout
    extents = nest.extents
    temporal, spatial = ws.temporal, ws.spatial
    t_dim, t_bound, t_step, t_level, outer_prod = temporal
    counts = ws.counts
    fill, access, mcw, peer, E = counts.fill_stream, counts.access, counts.multicast_reads, counts.peer, counts.box_axes
    L = counts.tiles.shape[0]
    peer[:] = 0.0
    n_temporal = temporal_loops(nest, n_loops, temporal)
    M = 0
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        while M < n_temporal and t_level[M] < lvl:
            M += 1
        n_sp, n_children = spatial_loops(nest, p, spatial)
        inner = t_dim[n_temporal - 1] if n_temporal > 0 else 0
        fan = -1
        if is_mac and n_temporal > 0 and (ax[0, inner] < 0 or ax[1, inner] < 0):
            fan = direct_fanout(nest, n_temporal, t_level, L)
        for t in range(3):
            delta = 0
            mac_stream = is_mac and (t == 2 or ax[t, inner] >= 0 or not reads_on_change(t, fan, counts.kept))
            if mac_stream:
                E[:] = 1
                tile = 1
                F = outer_prod[M]                   # the MAC reads a fresh operand every step (R4)
            else:                                   # (a MAC reading on change: a one-word tile's stream, R2)
                tile = box(t, extents[lvl], coef, E)
                F, delta = fill_stream(t, t_dim, t_bound, t_step, outer_prod, M, ax, co, E, tile)
            fill[lvl, t] = F
            groups = 1
            if n_sp > 0:
                groups = distinct_offsets(t, spatial, n_sp, layer)
            reads = groups * F
            # R3 links: only when the loop right above lvl moves t (else consecutive deltas are empty).
            # They are analysed as if lvl kept t (R5): when it does not, the parent's reads are replaced
            # by the fold below, whose ratio is these link-reduced reads over the multicast-weighted
            # reads of the children not served by a link (Timeloop's MaskTiles scales those stats).
            transfers = 0.0
            if n_children > 1 and M > 0 and (mac_stream or ax[t, t_dim[M - 1]] >= 0):
                saved, transfers = links(t, temporal, M, E, tile, delta, mac_stream, spatial, n_sp,
                                         fanout[p, 0], fanout[p, 1], layer, groups, ws.links)
                reads -= saved
                peer[lvl, t] = transfers / n_children
            access[p, t] = reads
            mcw[p, t] = n_children * F - transfers


@njit(cache=True)
def output_partitions(layer, nest, counts):
    """R6: Outputs' partition size per level. The outermost level holds the whole tensor; going down,
    P_child = floor(P_parent x child tile / D), D the box over all children's tiles when the parent's
    innermost loops are its fan-out, otherwise the child tile."""
    coef = layer.coef
    kind, dim, bound, start, extents = nest.kind, nest.dim, nest.bound, nest.start, nest.extents
    part, E, cover, tiles = counts.partition, counts.box_axes, counts.cover, counts.tiles
    L = part.shape[0]
    part[0] = tiles[0, 2]
    for l in range(1, L):
        child = box(2, extents[l], coef, E)
        has_spatial = start[l] > start[l - 1] and kind[start[l] - 1] != 0
        if has_spatial:
            cover[:] = extents[l]
            for i in range(start[l - 1], start[l]):
                if kind[i] != 0:
                    cover[dim[i]] *= bound[i]
            whole = box(2, cover, coef, E)
        else:
            whole = child
        part[l] = math.floor(part[l - 1] * child / whole)


@njit(cache=True)
def fold_bypass(counts):
    """R5: fold each bypassed level into the next level up, innermost first: the parent's accesses become
    the bypassed level's x the parent's fan-out x (parent's reads / multicast-weighted reads)."""
    kept, access, mcw, used = counts.kept, counts.access, counts.multicast_reads, counts.used
    L = access.shape[0]
    for t in range(3):
        for lvl in range(L - 1, 0, -1):
            if kept[lvl, t]:
                continue
            p = lvl - 1
            ratio = access[p, t] / mcw[p, t] if mcw[p, t] > 0 else 0.0
            access[p, t] = access[lvl, t] * (used[p + 1] // used[p]) * ratio
