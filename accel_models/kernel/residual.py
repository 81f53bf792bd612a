"""One stream's step under residual factors (Timeloop's `P=e,r`): the step `sweep.walk` takes for a uniform sweep.

A loop (e, r) runs r iterations in a pass where every outer loop of its dim is at its last iteration (rule F2 of
docs/imperfect.md). The bound equation (F3) makes r the mixed-radix digit of the bound, so the iterations that run
are exactly those whose dim offsets stay below the bounds, and a residual iteration's tile is the full tile cut at
the bounds. The closed forms of `counts` and `links` assume that every step of a loop moves the same full tile; a
residual mapping's steps are counted one by one by the walk's rule instead (`leaf_step`: fills and the last-stride
reuse rule R2 of `state.delta`, multicast groups and neighbour links R3, R4), in the order `sweep.walk` visits them.
Here too: which mappings take that path (`uniform_instances`), how many iterations run from an origin
(`iterations_run`), when a stream is a perfect one after all (`whole_stream`), and the streams whose tensor no
residual touches, which the closed forms count with each loop's passes (`pass_counts`, `closed_stream`).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..mapping_arrays import N_DIMS
from .links import lattice_ok, link_saving
from .state import POEXT, POLD, POLO, PEXT, PLO, PSIZE, HAVE, commit, delta, forget_delta
from .workspace import LINK_CACHE


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def uniform_instances(m):
    """True unless a spatial loop has a residual or a residual loop lies below a spatial loop of its dim
    (Timeloop's 'spatial' class, F9: there instances under a fan-out do different work)."""
    tf, sx, sy = m.temporal, m.spatial_x, m.spatial_y
    rt, rx, ry = m.temporal_residual, m.spatial_x_residual, m.spatial_y_residual
    L = tf.shape[0]
    for d in range(N_DIMS):
        spread = False
        for l in range(L):
            if rt[l, d] != 0 and rt[l, d] != tf[l, d] and spread:
                return False
            if sx[l, d] > 1 or sy[l, d] > 1:
                if (rx[l, d] != 0 and rx[l, d] != sx[l, d]) or (ry[l, d] != 0 and ry[l, d] != sy[l, d]):
                    return False
                spread = True
    return True


@njit(cache=True, inline="always")
def _meet(x, v, use_old, use_pold):
    """Words common to the current delta's tile, the previous delta's tile moved by v, and (if asked) the current
    delta's old box and the previous delta's old box moved by v."""
    n = np.int64(1)
    for a in range(N_AXES):
        lo = max(x.lo[a], x.p_lo[a] + v[a])
        hi = min(x.lo[a] + x.ext[a], x.p_lo[a] + x.p_ext[a] + v[a])
        if use_old:
            lo = max(lo, x.d_olo[a])
            hi = min(hi, x.d_olo[a] + x.d_oext[a])
        if use_pold:
            lo = max(lo, x.p_olo[a] + v[a])
            hi = min(hi, x.p_olo[a] + x.p_oext[a] + v[a])
        if hi <= lo:
            return np.int64(0)
        n *= hi - lo
    return n


@njit(cache=True, inline="always")
def _corner(lo, ext, old, olo, oext, a):
    """Axis a of the lower corner of the bounding box of a delta: the tile (lo, ext) less, if old, the box
    (olo, oext). The box removes the low end of axis a only when it spans the tile on every other axis."""
    if not old:
        return lo[a]
    for b in range(N_AXES):
        xl = max(lo[b], olo[b])
        xh = min(lo[b] + ext[b], olo[b] + oext[b])
        if xh <= xl:
            return lo[a]                   # no overlap: the delta is the whole tile
        if b != a and (xl > lo[b] or xh < lo[b] + ext[b]):
            return lo[a]
    xl = max(lo[a], olo[a])
    xh = min(lo[a] + ext[a], olo[a] + oext[a])
    return xh if xl == lo[a] else lo[a]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _translate_of_previous(x, st, size):
    """Is the current delta (x) the previous one (st) moved by some v (both of `size` words)? v into x.vstar."""
    x.p_old = st[POLD]
    for a in range(N_AXES):
        x.p_lo[a] = st[PLO + a]
        x.p_ext[a] = st[PEXT + a]
        x.p_olo[a] = st[POLO + a]
        x.p_oext[a] = st[POEXT + a]
    v = x.vstar
    for a in range(N_AXES):
        v[a] = (_corner(x.lo, x.ext, x.d_old, x.d_olo, x.d_oext, a)
                - _corner(x.p_lo, x.p_ext, x.p_old, x.p_olo, x.p_oext, a))
    common = _meet(x, v, False, False)
    if x.d_old:
        common -= _meet(x, v, True, False)
    if x.p_old:
        common -= _meet(x, v, False, True)
    if x.d_old and x.p_old:
        common += _meet(x, v, True, True)
    return common == size


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _link_per_word(t, x, groups, spatial, n_sp, fan_x, fan_y, layer, ws):
    """(parent reads saved, link transfers) per word of a delta that grid neighbours held in the previous step at
    offset difference x.vstar (R3): `links.link_saving`'s, for one step of one word, after its lattice check. A
    sweep's children are fixed, so the answer depends on vstar alone: the last few are kept."""
    if not lattice_ok(x.vstar, x.s1, x.m1, x.s2, x.m2, x.reach):
        return 0.0, 0.0
    sw = ws.sweep[0]
    for k in range(sw.n_links):
        same = True
        for a in range(N_AXES):
            if sw.link_v[k, a] != x.vstar[a]:
                same = False
                break
        if same:
            return sw.link_saved[k], sw.link_moved[k]
    saved, moved, sw.listed = link_saving(t, x.vstar, 1.0, 1.0, groups, spatial, n_sp, fan_x, fan_y, layer, ws,
                                           sw.listed)
    if sw.n_links < LINK_CACHE:
        k = sw.n_links
        for a in range(N_AXES):
            sw.link_v[k, a] = x.vstar[a]
        sw.link_saved[k] = saved
        sw.link_moved[k] = moved
        sw.n_links = k + 1
    return saved, moved


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _step(t, off, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws):
    """R2-R4 for one iteration at dim offsets `off`: the words the tile brings (`delta`), the reads of its parent
    (multicast groups, less what grid neighbours pass on over links) and the link transfers. Updates the carried
    state `st`; returns (fills, parent reads, link transfers) of the step."""
    x = ws.scratch[0]
    size = delta(t, off, st, full, is_mac, layer, x)
    reads = 0.0
    transfers = 0.0
    if size > 0:
        step_reads = groups * size
        reads = float(step_reads)
        if st[HAVE] != 0 and st[PSIZE] == size and n_children > 1 and _translate_of_previous(x, st, size):
            saved, moved = _link_per_word(t, x, groups, spatial, n_sp, fan_x, fan_y, layer, ws)
            reads -= saved * size
            transfers = moved * size
    commit(st, x.lo, x.ext, x.d_old, x.d_olo, x.d_oext, size)
    return float(size), reads, transfers


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def leaf_step(t, off, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, temporal, tail, M):
    """`_step` at `off`, then the iterations of the innermost loops tail..M-1 (none of which moves tensor t, and
    not at the MAC) that run from there: each finds the tile where the previous one left it and brings nothing, so
    only the first of them changes the state (a still step's), and none the sums."""
    s0, s1, s2 = _step(t, off, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws)
    bounds = layer.bounds
    for k in range(tail, M):
        lp = temporal[k]
        if off[lp.dim] + lp.step < bounds[lp.dim]:      # loop k's iteration 1 runs (its end is > 1)
            forget_delta(st)
            break
    return s0, s1, s2


@njit(cache=True, inline="always")
def _digits(count, rem, lp):
    """Horner's rule for the iterations of a dim's loops that run (F2, F3), one loop further (its dim's loops taken
    outermost first): `count` the digit tuples of the loops so far whose offsets stay below `rem` (the bound less
    the origin, less the offsets of the digits counted whole so far; 0 once every digit runs). Returns (count,
    rem) with loop lp taken; the count for the loops so far is count + (1 if rem > 0 else 0), the last digit
    running what stays below the bound."""
    count *= lp.bound
    if rem > 0:
        q = (rem - 1) // lp.step         # the largest digit whose first offset stays below the bound
        if q >= lp.bound:                # every digit of this loop and every one inside: all run
            count += lp.bound
            rem = 0
        else:
            count += q                   # digits 0..q-1 run whole; digit q runs what stays below the bound
            rem -= q * lp.step
    return count, rem


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def iterations_run(temporal, M, bounds, origin):
    """How many iterations of the M temporal loops run from `origin` (F2: every dim offset below its bound). The
    dims are independent: per dim, the digits of its loops (outermost first, each step above the span of the loops
    inside it) that keep the offset below the bound, counted as a mixed-radix number below it (`_digits`)."""
    total = np.int64(1)
    for d in range(N_DIMS):
        rem = bounds[d] - origin[d]      # offsets from the origin must stay below rem
        count = np.int64(0)
        for j in range(M):
            lp = temporal[j]
            if lp.dim == d:
                count, rem = _digits(count, rem, lp)
        if rem > 0:
            count += 1                   # the last digit of the innermost loop
        total *= count
    return total


@njit(cache=True, inline="always")
def pass_counts(temporal, n_temporal, bounds, scratch):
    """Per temporal loop j of a residual mapping whose instances do the same work (`uniform_instances`): how often it
    starts, the iterations of the loops outside it that run from the origin 0 (F2), into temporal[j].outer (and,
    after the last, the iterations of all of them), where a perfect nest has the product of the bounds outside it
    (`nest.loop_nest`). Read as passes, the closed forms of `counts.fill_stream` and `links.links` count a stream
    whose tensor no residual touches (`closed_stream`) as they count a perfect one. Per dim `_digits`' state in
    scratch.cover (count) and scratch.clip (rem): each loop changes its dim's factor of the product."""
    count, rem = scratch.cover, scratch.clip
    for d in range(N_DIMS):
        count[d] = 0
        rem[d] = bounds[d]
    runs = 1.0                           # the product over the dims of their counts: an integer, exact in a float64
    temporal[0].outer = runs
    for j in range(n_temporal):
        lp = temporal[j]
        d = lp.dim
        before = count[d] + (1 if rem[d] > 0 else 0)
        count[d], rem[d] = _digits(count[d], rem[d], lp)
        after = count[d] + (1 if rem[d] > 0 else 0)
        runs = runs / before * after     # before divides runs: exact
        temporal[j + 1].outer = runs


@njit(cache=True, inline="always")
def _within(d, temporal, M, reach, bound):
    """Does dim d's farthest extent stay within its bound: `reach` (where its tiles start, plus their extent) plus
    each of its loops' last step among the M loops?"""
    for j in range(M):                  # every term is >= 0: the first loop past the bound decides
        lp = temporal[j]
        if lp.dim == d:
            reach += (lp.bound - 1) * lp.step
            if reach > bound:
                return False
    return reach <= bound


@njit(cache=True, inline="always")
def whole_stream(t, temporal, M, bounds, origin, extents, ax):
    """Is the stream of a (level, tensor) from `origin` a perfect one: every iteration of the M temporal loops above
    the level runs and no tile of the tensor is cut? Per dim, the farthest offset the loops reach plus the tile's
    extent (1 for a dim that does not index the tensor: it only decides whether an iteration runs) stays within
    the bound. Then `counts.fill_stream`'s closed form counts the fills."""
    for d in range(N_DIMS):
        if not _within(d, temporal, M, origin[d] + (extents[d] if ax[t, d] >= 0 else 1), bounds[d]):
            return False
    return True


@njit(cache=True, inline="always")
def closed_stream(t, temporal, M, bounds, extents, ax, is_mac, n_children):
    """Do the closed forms (`counts.closed_form_fills`, and `links.links` under a fan-out) count this stream of a
    residual mapping whose instances do the same work exactly, with `pass_counts` in temporal[:].outer? Yes where no
    residual touches tensor t: every loop of a dim that indexes t runs its whole bound in every pass and no tile of t
    is cut (`_within`, as `whole_stream` but over t's dims alone), so every step of a loop moves t's tile by the same
    translation and brings what it brings in a perfect nest; residuals of the other dims change only how many passes
    each loop makes (its `outer`). Under a fan-out the links pair consecutive steps, which needs the innermost loop
    above the level to run its whole bound in every pass too (a pass of one iteration would pair two steps of outer
    loops with no step of it between): its count of iterations is its bound times its passes. The MAC without a
    fan-out above it takes one word a step: its count is the iterations that run, whatever is cut."""
    if is_mac and n_children == 1:
        return True
    for d in range(N_DIMS):
        if ax[t, d] >= 0 and not _within(d, temporal, M, extents[d], bounds[d]):
            return False
    if n_children > 1 and M > 0:
        l0 = temporal[M - 1]
        return temporal[M].outer == l0.bound * l0.outer
    return True
