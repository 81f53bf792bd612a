"""Per-level counts in closed form: fills (R2; `closed_form_fills`, the core `accesses.level_accesses` takes for a
perfect mapping, with its links R3 and multicast R4), outputs' partitions (R6) and the bypass fold (R5) —
`reference._tile_stream`, `_level_walk` and `evaluate`'s steps.

Closed form of R2. The iterations of the temporal loops above a level form a mixed-radix counter.
Number those loops j = 0..M-1 from the inside out (bound-1 loops dropped). A step in which loop j
advances (the loops inside it resetting) happens n_j = (b_j - 1) * prod_{k>j} b_k times and always
moves the tile by the same translation T_j. (The product, each loop's `outer`, is how often the loop starts: a
residual mapping's stream whose tensor no residual touches is counted the same with the passes that run,
`residual.pass_counts`.) Let i0 be the innermost loop with T_i0 != 0 (the loops
inside it do not index the tensor, so T_i0 >= 0). Following the "last stride" memory through the
counter gives: every step of i0 reuses the overlap with the previous tile (delta = tile minus
overlap); a step of another loop j reuses it if T_j == T_i0 and otherwise brings the whole tile;
T_j == 0 brings nothing.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box
from ..mapping_arrays import N_DIMS, N_TENSORS


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def spatial_loops(loops, levels, level, spatial, bounds):
    """The spatial loops of `level`'s fan-out, outermost first, and their bounds alone into `bounds` (the values each
    loop's index takes, as `links.spatial_axes` reads them); returns (their count, the children). They are the
    level's last `n_spatial` loops (`nest.loop_nest`: a level's temporal loops, then its Y loops, then its X loops),
    read without testing each loop's kind: whether a loop is spatial follows the random factors, a branch the
    predictor misses."""
    end = levels[level + 1].start
    n = levels[level].n_spatial
    n_children = 1
    for k in range(n):
        lp = loops[end - n + k]
        sp = spatial[k]
        sp.dim = lp.dim
        sp.bound = lp.bound
        sp.step = lp.step
        sp.kind = lp.kind
        bounds[k] = lp.bound
        n_children *= lp.bound
    return n, n_children


@njit(cache=True, inline="always")
def fill_stream(t, temporal, M, co, box_axes, tile):
    """R2 in closed form: the fills of one instance of a level over the M temporal loops above it, and the
    overlap delta (words) of the innermost loop that moves the tensor (0 if none does).

    Loops outside that loop i0 bring the whole tile unless their translation is 0 or T_i0; that needs
    every reset so far on i0's axis, so the scan stops at the first loop on another axis. The loops that
    move t are followed through `moving_loops`' chain.
    """
    i0 = temporal[M - 1].prev[t] if M > 0 else -1
    if i0 < 0:
        return float(tile), 0
    l0 = temporal[i0]
    a = l0.axis[t]
    step0 = co[t, l0.dim] * l0.step
    r = box_axes[a] - step0
    cross = np.int64(1)               # tile // box_axes[a] (tile is their product), without a division
    for x in range(N_AXES):           # and without a branch on the (random) axis a
        cross *= 1 + (box_axes[x] - 1) * np.int64(x != a)
    delta = tile - cross * (r if r > 0 else 0)
    fills = tile + (l0.bound - 1) * l0.outer * delta + (l0.outer - 1) * tile
    reset_a = co[t, l0.dim] * (l0.bound - 1) * l0.step
    j = temporal[i0 - 1].prev[t] if i0 > 0 else -1
    while j >= 0:
        lj = temporal[j]
        if lj.axis[t] != a:
            break
        cj = co[t, lj.dim]
        tj = cj * lj.step - reset_a
        # what each of its steps does not bring: the whole tile (tj == 0), the overlap (tj == T_i0) or nothing,
        # chosen without a branch (the translations are random, and a mispredicted branch costs more than the
        # product); less 0.0 leaves fills as it was
        reused = tile if tj == 0 else (tile - delta if tj == step0 else 0)
        fills -= (lj.bound - 1) * lj.outer * reused
        reset_a += cj * (lj.bound - 1) * lj.step
        j = temporal[j - 1].prev[t] if j > 0 else -1
    return fills, delta


@njit(cache=True, inline="always")
def moving_loops(ax, temporal, n_temporal):
    """Per temporal loop and tensor: the axis of the tensor it moves (-1: none), and the innermost loop at or
    outside it that moves the tensor (prev, -1: none): `fill_stream` follows them without a search."""
    p0 = np.int64(-1)                  # per tensor, the innermost loop so far that moves it
    p1 = np.int64(-1)
    p2 = np.int64(-1)
    for j in range(n_temporal):
        tl = temporal[j]
        d = tl.dim
        a0 = ax[0, d]
        a1 = ax[1, d]
        a2 = ax[2, d]
        p0 = j if a0 >= 0 else p0
        p1 = j if a1 >= 0 else p1
        p2 = j if a2 >= 0 else p2
        tl.axis[0] = a0
        tl.axis[1] = a1
        tl.axis[2] = a2
        tl.prev[0] = p0
        tl.prev[1] = p1
        tl.prev[2] = p2


@njit(cache=True, inline="always")
def closed_form_fills(t, temporal, M, child, is_mac, layer, ws):
    """R2 of one (level, tensor) of a perfect mapping, as if the level kept the tensor: (fills of one instance over
    the M temporal loops above the level (`fill_stream`), its tile's words, the overlap delta of its innermost moving
    loop); the tile's axis extents (all 1 at the MAC) left in ws.scratch[0].box, for the links R3 that its caller
    counts (`accesses.level_accesses`); `child`: the level's record."""
    E = ws.scratch[0].box
    delta = 0
    if is_mac:
        E[:] = 1
        tile = 1
        F = temporal[M].outer                      # the MAC takes its whole operand every step (R4)
    else:
        for a in range(E.shape[0]):
            E[a] = child.axes[t, a]
        tile = child.tiles[t]
        F, delta = fill_stream(t, temporal, M, layer.co, E, tile)
    return F, tile, delta


_EXACT = float(2 ** 53)
"""Integers below it are exact in a float64."""


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def output_partitions(coef, loops, levels, scratch):
    """R6: Outputs' partition size per level. The outermost level holds the whole tensor; going down,
    P_child = floor(P_parent x child tile / D), D the box over all children's tiles when the parent's
    innermost loops are its fan-out, otherwise the child tile. Takes the arrays it reads (the layer's coef, the
    workspace's loops, levels and scratch), not the layer's and the workspace's tuples: a call passes every array of
    its arguments, seven words each."""
    scratch = scratch[0]
    cover, E = scratch.cover, scratch.box
    L = levels.shape[0] - 1
    part = float(levels[0].tiles[2])  # the parent's partition, carried in a register down the chain of levels
    levels[0].partition = part
    for l in range(1, L):
        lv, up = levels[l], levels[l - 1]
        child = lv.tiles[2]
        if up.n_spatial > 0:          # the parent's innermost loops are its fan-out's (`nest.loop_nest`)
            for d in range(N_DIMS):
                cover[d] = lv.extents[d]
            for i in range(lv.start - up.n_spatial, lv.start):
                lp = loops[i]
                cover[lp.dim] *= lp.bound
            whole = box(np.int64(2), cover, coef, E)    # Outputs; typed, not Literal[int]: box's other callers' compile
            part = float(math.floor(part * child / whole))
        else:
            # floor(P x child / child) is P itself where P x child is exact (an integer below 2**53; the strict
            # bound: a product at or above it rounds to at least 2**53): a division on the chain of levels spared.
            product = part * child
            part = part if product < _EXACT else float(math.floor(product / child))
        lv.partition = part


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def fold_bypass(levels):
    """R5: fold each bypassed level into the next level up, innermost first: the parent's accesses become
    the bypassed level's x the parent's fan-out x (parent's reads / multicast-weighted reads). The fan-out is the
    parent's `fan` (its children's instances used over its own) rather than that quotient: an integer division on
    the chain of folds."""
    L = levels.shape[0] - 1
    for t in range(N_TENSORS):
        for lvl in range(L - 1, 0, -1):
            lv = levels[lvl]
            if lv.kept[t]:
                continue
            up = levels[lvl - 1]
            ratio = up.access[t] / up.mcw[t] if up.mcw[t] > 0 else 0.0
            up.access[t] = lv.access[t] * up.fan * ratio
