"""The compiled decoder: `Encoding.decode` one x at a time in numba, for the mappers' hot loop (`decode_batch`).

Same steps, same arithmetic and the same tie-breaking as the numpy reference
(`Encoding._decode_numpy`), which the tests hold it equal to: keep/bypass, loop orders (a stable
sort of the importances, highest first), spatial factors in rank order and the axis fill, then
temporal factors from the innermost level out (each level's loops innermost first) with the capacity repair, and in
residual mode the canonical residual ends. Every log comes from the divisor table (`_factorize.DivisorTable`: divisors
and balanced tiles).

A factor is the divisor nearest (in log) to its gene's target among those allowed. What is allowed is a prefix of the
divisors: those within the fan-out left (spatial), or those that leave every bounded level room (temporal; tiles only
grow with the factor). So the nearest allowed divisor is the nearest one if allowed, else the largest allowed one,
found by bisection: the numpy reference's scan, without scanning.

The tables (`DecodeTables`, built by `Encoding.kernel_args()`): qdivs / qtiles / div_at are the divisor
table's quotient rows and each divisor's index among the tiles (`DivisorTable.quotient_rows`, `tile_quotient_rows`,
`divisor_tile_index`): what is left of a dim is carried as its table row, the next row read from them after each
factor. pin_t / pin_s [L, 8]: exact temporal / spatial factors (0: free); `start` is then the row of what the free
factors multiply to, and rest_at[d] > 0 names the level that takes the rest of dim d (its outermost factor being
fixed); all zero: the unconstrained decode. residual_ok[d] = 1: dim d may take residual factors (`encoding`'s "Residual
factors"): where a limit binds (the nearest divisor is above what is left of the axis, or overflows a buffer at a
level at or above d's outermost spatial loop) the factor is the largest balanced tile within the limit (`ttiles`, the
balanced tiles of each table value) when it beats the largest divisor, and what is left of d is then ceil(left /
factor); the fill picks among balanced tiles; the residual ends are F3's canonical ones (`canonical_residuals_into`).
The residual fields are written for every row (0 = perfect); all zero: the perfect decode. `full`: the layer's bounds
(tiles are cut there, rule F6).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, typeof, types

from accel_models import MappingArrays
from accel_models.geometry import box, fits
from accel_models.jit import FunctionPointer
from accel_models.kernel_views import borrow
from accel_models.mapping_arrays import LOOP_TEMPORAL, LOOP_Y, N_DIMS, N_LOOP_KINDS, N_TENSORS

_UNUSED = -1.0
KEEP_AUTO = (0.4, 0.6)
"""A keep gene below the first bound bypasses its tensor, at or above the second keeps it, in between leaves it to
`_auto_keep` (`encoding`'s "Keep and bypass")."""


@njit(cache=True, inline="always")
def _gene(x, b, idx):
    return x[b, idx] if idx >= 0 else 0.5


@njit(cache=True, no_cpython_wrapper=True)
def _argsort_desc(keys, out):
    """Stable sort of indices by decreasing key (ties keep index order), as np.argsort(-keys, kind='stable'), of 8
    keys: each key's place is the count of keys that go before it (larger, or equal and earlier), counted without
    a branch (an insertion sort's branches on random genes are coin tosses). With a NaN key the places may collide:
    the insertion sort then gives the order it always gave."""
    nan = False
    for i in range(N_DIMS):
        nan |= keys[i] != keys[i]
    if not nan:
        for i in range(N_DIMS):
            place = 0
            for j in range(i):
                place += keys[j] >= keys[i]
            for j in range(i + 1, 8):
                place += keys[j] > keys[i]
            out[place] = i
        return
    n = keys.shape[0]
    for i in range(n):
        out[i] = i
    for i in range(1, n):
        j = i
        while j > 0 and -keys[out[j - 1]] > -keys[out[j]]:
            tmp = out[j - 1]
            out[j - 1] = out[j]
            out[j] = tmp
            j -= 1


@njit(cache=True, inline="always")
def _nearest(logs, vi, count, target):
    """Index of the divisor (row vi, the first `count` entries) nearest to `target` in log; ties -> the smaller.
    Without a branch (on random genes each would be a coin toss): the logs below the target counted over the whole
    padded row (+inf padding is never below a target), the two neighbours of that place compared by selects."""
    lo = 0                                 # first index whose log >= target
    for i in range(logs.shape[1]):
        lo += logs[vi, i] < target
    below = max(lo - 1, 0)
    above = min(lo, count - 1)
    take_below = (lo == count) | ((lo > 0) & (abs(logs[vi, below] - target) <= abs(logs[vi, above] - target)))
    return below if take_below else above


@njit(cache=True, inline="always")
def _fits_everywhere(b, l, d, f, ext, mult, bounded, keep, coef, capacity, tcap, e2, tiles, box_axes, full):
    """Does temporal factor f of dim d at level l leave every bounded level l2 <= l room for its kept tiles?
    A tile's extent is the product of the ends, cut at the layer's bound `full` (residual loops, rule F6; a perfect
    mapping's products never exceed it). Innermost level first: the smaller buffers, which overflow first."""
    for l2 in range(l, -1, -1):
        if not bounded[l2]:
            continue
        for i in range(N_DIMS):
            e2[i] = min(ext[i] * mult[l2, i], full[i])
        e2[d] = min(ext[d] * mult[l2, d] * f, full[d])
        for t in range(N_TENSORS):                 # `fits` reads only the kept tensors' tiles
            tiles[t] = box(t, e2, coef, box_axes) if keep[b, l2, t] else 0
        if not fits(keep[b, l2], tiles, capacity[l2], tcap[l2]):
            return False
    return True


@njit(cache=True, inline="always")
def _largest_at_most(values, vi, hi, cap):
    """Index of the largest of row vi's first hi + 1 entries (ascending) that is at most cap (0 when none is)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if values[vi, mid] <= cap:
            lo = mid
        else:
            hi = mid - 1
    return lo


@njit(cache=True, inline="always")
def _ceil_div(a, b):
    return (a + b - 1) // b


@njit(cache=True, inline="always")
def canonical_residuals_into(temporal, sx, sy, b, d, bound, rt, rx, ry):
    """Rule F3's canonical form of dim d's loops in row b, in place (`mapping_arrays.canonical_residuals`, compiled):
    outermost first (per level its temporal loop, then Y, then X), each loop's residual end by ceiling division from
    the ends inside it (0 where it equals the end), and the outermost loop with end > 1 perfect, its end lowered to
    its residual. The outermost level's end must already be ceil(bound / the product of the other ends) (the passes
    the decode leaves to it)."""
    L = temporal.shape[1]
    inner = np.int64(1)                    # product of the ends inside the loop being visited (built outside in)
    for l in range(L):
        inner *= temporal[b, l, d] * sx[b, l, d] * sy[b, l, d]
    if inner == bound:                     # perfect: every loop runs its end, no residual, no end lowered
        return
    remaining = np.int64(bound)
    outer = True
    for l in range(L):
        for k in range(N_LOOP_KINDS):
            e = temporal[b, l, d] if k == LOOP_TEMPORAL else (sy[b, l, d] if k == LOOP_Y else sx[b, l, d])
            if e == 1:
                continue
            inner //= e
            r = _ceil_div(remaining, inner)
            remaining -= (r - 1) * inner
            if outer:                      # the outermost loop: its end is the passes it runs
                e = r
                if k == 0:
                    temporal[b, l, d] = r
                elif k == 1:
                    sy[b, l, d] = r
                else:
                    sx[b, l, d] = r
                outer = False
            res = 0 if r == e else r
            if k == 0:
                rt[b, l, d] = res
            elif k == 1:
                ry[b, l, d] = res
            else:
                rx[b, l, d] = res


@njit(cache=True, inline="always")
def _index_of(values, vi, count, v):
    """Index of v in row vi of a table (its first `count` entries, ascending; v is there)."""
    lo = 0
    hi = count - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if values[vi, mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _fill_candidates(b, l, a, n_ax, ax_dims, ax_vi, ax_j, allowed, sx, sy, residual_ok, tvalues, qdivs, qtiles, cand):
    """The dims the fill of axis a at level l may change, into cand as src * 8 + their index in axis src's list: a's
    own greedy dims, then the other axis's dims left at factor 1 that may go on a and have no factor on it yet (a dim
    moved by an earlier fill is out of its list). Returns (how many, the passes their greedy factors leave: the
    product of the values of what is left of each, at most the layer's MACs, so int64 holds it)."""
    n = 0
    for src in (a, 1 - a):
        for i in range(n_ax[src]):
            d = ax_dims[src, i]
            if ax_j[src, i] < 0:               # moved to the other axis by its fill
                continue
            if src != a and (ax_j[src, i] != 0 or not allowed[l, a, d]
                             or (sx[b, l, d] if a == 1 else sy[b, l, d]) > 1):
                continue
            cand[n] = src * 8 + i
            n += 1
    passes = np.int64(1)
    for j in range(n):
        sj, ij = cand[j] // 8, cand[j] % 8
        q0 = qtiles if residual_ok[ax_dims[sj, ij]] != 0 else qdivs
        passes *= tvalues[q0[ax_vi[sj, ij], ax_j[sj, ij]]]
    return n, passes


@njit(cache=True, no_cpython_wrapper=True)
def _fill_axis(b, l, a, F, greedy, n_ax, ax_dims, ax_vi, ax_j, allowed, sx, sy, rem, tvalues, tdivs, tcounts, tlogs,
               ttiles, ttcounts, ttlogs, qdivs, qtiles, residual_ok, cand):
    """Fill axis a of level l's fan-out (free fan-out F, of which the greedy decode used `greedy`): among its dims
    and the dims left unrolled (factor 1) on the other axis that may go on a (`_fill_candidates`), change the factors
    of at most two, within F, to leave the fewest passes (the product over those dims of ceil(what was left /
    factor); with divisors, the most of F), and among those the nearest to their greedy factors (sum of |log|
    differences); ties go to the first found, dims in rank order, factors ascending. A dim's factors are the divisors
    of what was left of it at this level, or with residual_ok its balanced tiles (`ttiles`); ax_vi / ax_j: the table
    row of what was left and the greedy factor's index in that dim's row. Two, not all: an exact search over every
    dim's divisors grows exponentially with the dims (a 1024-wide axis open to six dims took 0.1-0.3 ms a row)."""
    n, passes = _fill_candidates(b, l, a, n_ax, ax_dims, ax_vi, ax_j, allowed, sx, sy, residual_ok, tvalues, qdivs,
                                 qtiles, cand)
    best_passes = passes
    best_dist = 0.0
    best_j = -1
    best_k = -1
    best_ja = 0
    best_jb = 0
    for j in range(n):
        sj, ij = cand[j] // 8, cand[j] % 8
        vj, cj = ax_vi[sj, ij], ax_j[sj, ij]
        fj, nj, lj, qj = tdivs, tcounts, tlogs, qdivs
        if residual_ok[ax_dims[sj, ij]] != 0:
            fj, nj, lj, qj = ttiles, ttcounts, ttlogs, qtiles
        for k in range(j + 1, n + 1 if n == 1 else n):   # one dim alone: k == n (no second dim)
            fk, nk, lk, qk = tdivs, tcounts, tlogs, qdivs
            f_k = 1
            vk = 0
            ck = 0
            if k < n:
                sk, ik = cand[k] // 8, cand[k] % 8
                vk, ck = ax_vi[sk, ik], ax_j[sk, ik]
                if residual_ok[ax_dims[sk, ik]] != 0:
                    fk, nk, lk, qk = ttiles, ttcounts, ttlogs, qtiles
                f_k = fk[vk, ck]
            rest = greedy // (fj[vj, cj] * f_k)
            others = passes // (tvalues[qj[vj, cj]] * (tvalues[qk[vk, ck]] if k < n else 1))
            jb = nk[vk] - 1 if k < n else 0     # k's largest factor within F / (rest x j's): falls as j's grows
            for ja in range(nj[vj]):
                used = rest * fj[vj, ja]
                if used > F:
                    break
                while jb > 0 and fk[vk, jb] * used > F:
                    jb -= 1
                q = others * tvalues[qj[vj, ja]] * (tvalues[qk[vk, jb]] if k < n else 1)
                if q > best_passes:
                    continue
                dist = abs(lj[vj, ja] - lj[vj, cj]) + (abs(lk[vk, jb] - lk[vk, ck]) if k < n else 0.0)
                if q < best_passes or dist < best_dist:
                    best_passes, best_dist, best_j, best_k, best_ja, best_jb = q, dist, j, k, ja, jb
    if best_j < 0:
        return
    for k, jn in ((best_j, best_ja), (best_k, best_jb)):
        if k >= n:
            continue
        src, i = cand[k] // 8, cand[k] % 8
        d = ax_dims[src, i]
        f = ttiles[ax_vi[src, i], jn] if residual_ok[d] != 0 else tdivs[ax_vi[src, i], jn]
        # the row of what was left of d at this level, over its new factor
        rem[d] = qtiles[ax_vi[src, i], jn] if residual_ok[d] != 0 else qdivs[ax_vi[src, i], jn]
        if a == 0:
            sx[b, l, d] = f
        else:
            sy[b, l, d] = f
        if src != a and f > 1:             # the dim moved to this axis: the other axis no longer offers it
            ax_j[src, i] = -1


@njit(cache=True, no_cpython_wrapper=True)
def _auto_keep(b, temporal, order, sx, sy, keep, auto, rel, coef, capacity, tcap, full, e2, tiles, box_axes):
    """The keep of row b's auto tensors (auto[l, t]; in place), innermost level first: tensor t is kept at level l if
    its tile there is reused and still fits beside what the level keeps (`encoding`'s "Keep and bypass" says when a
    tile is reused)."""
    L = temporal.shape[1]
    for l in range(L - 1, 0, -1):
        if not (auto[l, 0] or auto[l, 1] or auto[l, 2]):
            continue
        for d in range(N_DIMS):
            e = np.int64(1)
            for l2 in range(l, L):
                e *= temporal[b, l2, d] * sx[b, l2, d] * sy[b, l2, d]
            e2[d] = min(e, full[d])
        for t in range(N_TENSORS):
            tiles[t] = box(t, e2, coef, box_axes)
        parent = -1                                  # the innermost loop above level l
        for l2 in range(l - 1, -1, -1):
            for q in range(7, -1, -1):
                if parent < 0 and temporal[b, l2, order[b, l2, q]] > 1:
                    parent = order[b, l2, q]
            if parent >= 0:
                break
        for t in range(N_TENSORS):
            if not auto[l, t]:
                continue
            outer_irrelevant = False
            seen_irrelevant = False
            has_relevant = False
            inner = -1
            for q in range(N_DIMS):                       # the level's loops, outermost first
                d = order[b, l, q]
                if temporal[b, l, d] > 1:
                    inner = d
                    if rel[t, d]:
                        has_relevant = True
                        outer_irrelevant |= seen_irrelevant
                    else:
                        seen_irrelevant = True
            below = False
            for l2 in range(l + 1, L):
                below |= keep[b, l2, t] != 0
            still = parent >= 0 and not rel[t, parent]
            inner_irrelevant = inner >= 0 and not rel[t, inner]
            if outer_irrelevant or (not below and (inner_irrelevant or still)) or (has_relevant and still):
                keep[b, l, t] = 1
                if not fits(keep[b, l], tiles, capacity[l], tcap[l]):
                    keep[b, l, t] = 0


@njit(cache=True, inline="always")
def _reset_row(b, sx, sy, sorder, rt, rx, ry):
    """Row b starts from no spatial loop and no residual (a reused buffer may hold an earlier row's)."""
    for l in range(sx.shape[1]):
        for d in range(N_DIMS):
            sx[b, l, d] = 1
            sy[b, l, d] = 1
            sorder[b, l, d] = d
            rt[b, l, d] = 0
            rx[b, l, d] = 0
            ry[b, l, d] = 0


@njit(cache=True, inline="always")
def _keep_from_genes(b, x, keep_idx, default_keep, keep, auto):
    """Row b's keep / bypass from its keep genes (`KEEP_AUTO`); an auto tensor (auto[l, t]) is left out of the
    capacity repair and decided by `_auto_keep` at the end. Returns whether any is auto."""
    any_auto = False
    for l in range(keep.shape[1]):
        for t in range(N_TENSORS):
            k = default_keep[l, t]
            auto[l, t] = False
            if keep_idx[l, t] >= 0:
                g = x[b, keep_idx[l, t]]
                k = g >= KEEP_AUTO[1]
                auto[l, t] = l > 0 and default_keep[l, t] and KEEP_AUTO[0] <= g < KEEP_AUTO[1]
                any_auto |= auto[l, t]
            keep[b, l, t] = 1 if (k and default_keep[l, t]) or l == 0 else 0
    return any_auto


@njit(cache=True, inline="always")
def _loop_orders(b, x, order_idx, order_bonus, imp, perm, order):
    """Row b's loop order at every level: the dims by decreasing importance gene (plus its bonus), stably."""
    for l in range(order.shape[1]):
        for d in range(N_DIMS):
            imp[d] = (x[b, order_idx[l, d]] if order_idx[l, d] >= 0 else _UNUSED) + order_bonus[l, d]
        _argsort_desc(imp, perm)
        for q in range(N_DIMS):
            order[b, l, q] = perm[q]


@njit(cache=True, inline="always")
def _spatial_rank(b, l, x, rank_idx, allowed, imp, perm, sorder):
    """Level l's dims by decreasing rank gene into perm (and row b's spatial order); returns how many may unroll on
    an axis (the first that many of perm, as the others rank _UNUSED)."""
    n_allowed = np.int64(0)                # not a literal 0: _spatial_level would be typed for it too
    for d in range(N_DIMS):
        if allowed[l, 0, d] or allowed[l, 1, d]:
            n_allowed += 1
    if n_allowed == 0:
        return n_allowed
    for d in range(N_DIMS):
        imp[d] = x[b, rank_idx[l, d]] if rank_idx[l, d] >= 0 else _UNUSED
    _argsort_desc(imp, perm)
    for q in range(N_DIMS):
        sorder[b, l, q] = perm[q]
    return n_allowed


@njit(cache=True, inline="always")
def _greedy_spatial_factor(gene, vi, used, fan, residual, tvalues, tdivs, tcounts, tlogs, tlogv, ttiles, ttcounts,
                           div_at):
    """A spatial factor of what is left (table row vi) on an axis of fan-out `fan` of which `used` is taken: the
    divisor nearest to its gene's target, else, where that binds, the largest divisor within the fan-out left, or
    (`residual`) the largest balanced tile within it when that is larger. Returns (factor, its index in row vi's
    divisors, or its tiles when `residual`)."""
    bj = _nearest(tlogs, vi, tcounts[vi], gene * tlogv[vi])
    binds = tdivs[vi, bj] * used > fan
    if binds:
        bj = _largest_at_most(tdivs, vi, bj, fan // used)
    f = tdivs[vi, bj]
    if not residual:
        return f, bj
    if not binds:
        return f, div_at[vi, bj]
    # at least 1: fixed factors may have used more than the fan-out (then no tile is larger than f), and the
    # decoder must not raise (the search calls it by address, which passes no exception back)
    f = max(f, _ceil_div(tvalues[vi], _ceil_div(tvalues[vi], max(fan // used, 1))))
    return f, _index_of(ttiles, vi, ttcounts[vi], f)


@njit(cache=True, inline="always")
def _spatial_axis(b, l, d, x, axis_idx, allowed):
    """The axis (0 = X, 1 = Y) dim d unrolls on at level l: its gene's where both are allowed, else the one that is."""
    if allowed[l, 0, d] and allowed[l, 1, d]:
        return 1 if _gene(x, b, axis_idx[l, d]) >= 0.5 else 0
    return 1 if allowed[l, 1, d] else 0


@njit(cache=True, no_cpython_wrapper=True)
def _spatial_level(b, l, n_allowed, x, axis_idx, ratio_idx, allowed, fanout, pin_s, residual_ok, tvalues, tdivs,
                   tcounts, tlogs, tlogv, ttiles, ttcounts, qdivs, qtiles, div_at, perm, rem, used, pinned, n_ax,
                   ax_dims, ax_vi, ax_j, sx, sy):
    """Level l's greedy spatial factors, the first n_allowed dims of perm in rank order, each on its axis (its gene
    where both are allowed); a pinned factor is taken as given, the others from what is left (rem) within what the
    axis leaves once the pinned factors still to come are set aside. Leaves per axis the fan-out used, the pinned
    part, and the list of greedy dims with their table rows and factor indices (what the fill reads)."""
    used[0] = 1
    used[1] = 1
    n_ax[0] = 0
    n_ax[1] = 0
    pinned[0] = 1
    pinned[1] = 1
    come_x = np.int64(1)                   # the pinned factors still to place, per axis
    come_y = np.int64(1)
    for k in range(n_allowed):
        d = perm[k]
        if pin_s[l, d] > 0:
            if _spatial_axis(b, l, d, x, axis_idx, allowed) == 0:
                come_x *= pin_s[l, d]
            else:
                come_y *= pin_s[l, d]
    for k in range(n_allowed):
        d = perm[k]
        axis = _spatial_axis(b, l, d, x, axis_idx, allowed)
        if pin_s[l, d] > 0:                # a fixed factor: taken as given, not from what is left
            f = pin_s[l, d]
            pinned[axis] *= f
            if axis == 0:
                come_x //= f
            else:
                come_y //= f
        else:
            vi = rem[d]
            f, bj = _greedy_spatial_factor(_gene(x, b, ratio_idx[l, d]), vi,
                                           used[axis] * (come_x if axis == 0 else come_y), fanout[l, axis],
                                           residual_ok[d] != 0, tvalues, tdivs, tcounts, tlogs, tlogv, ttiles,
                                           ttcounts, div_at)
            rem[d] = qtiles[vi, bj] if residual_ok[d] != 0 else qdivs[vi, bj]
            i = n_ax[axis]
            ax_dims[axis, i] = d
            ax_vi[axis, i] = vi
            ax_j[axis, i] = bj
            n_ax[axis] = i + 1
        if axis == 0:
            sx[b, l, d] = f
        else:
            sy[b, l, d] = f
        used[axis] *= f


@njit(cache=True, inline="always")
def _spatial_reach(b, sx, sy, ext, reach):
    """ext[d] = 1 (the temporal walk's extents start there); reach[d]: the outermost level with a spatial loop of d
    (L if none), below which d's temporal tiles stay divisors."""
    L = sx.shape[1]
    for d in range(N_DIMS):
        ext[d] = 1
        reach[d] = L
        for l in range(L - 1, -1, -1):
            if sx[b, l, d] * sy[b, l, d] > 1:
                reach[d] = l


@njit(cache=True, inline="always")
def _level_start(b, l, pin_t, rest_at, tvalues, sx, sy, ext, mult, rem, temporal):
    """Before level l's free temporal factors: its spatial factors into the extents, mult[l2] = the product of the
    spatial factors of levels l2 .. l-1, and its pinned factors and the rest of the dims it takes whole."""
    for d in range(N_DIMS):
        ext[d] *= sx[b, l, d] * sy[b, l, d]
    for d in range(N_DIMS):
        mult[l, d] = 1
    for l2 in range(l - 1, -1, -1):
        for d in range(N_DIMS):
            mult[l2, d] = mult[l2 + 1, d] * sx[b, l2, d] * sy[b, l2, d]
    for d in range(N_DIMS):
        if pin_t[l, d] > 0:
            temporal[b, l, d] = pin_t[l, d]
            ext[d] *= pin_t[l, d]
        elif rest_at[d] == l:
            temporal[b, l, d] = tvalues[rem[d]]
            ext[d] *= tvalues[rem[d]]
            rem[d] = 0                     # the row of 1


@njit(cache=True, inline="always")
def _temporal_factor(b, l, d, gene, vi, tiles_ok, tcounts, tlogs, tlogv, tdivs, qdivs, ttiles, qtiles, div_at, ext,
                     mult, bounded, keep, coef, capacity, tcap, e2, tiles, box_axes, full):
    """Dim d's temporal factor at level l from what is left (table row vi): the divisor nearest to its gene's target
    if every bounded level at or below l still has room, else the largest that does (1 when none does), or with
    `tiles_ok` the largest balanced tile that does. Returns (factor, the table row of what is left over it).

    One bisection over the candidates up to the nearest divisor (the divisors, or the balanced tiles, among which that
    divisor is the `div_at`-th), its first probe the nearest divisor itself: tiles only grow with the factor, so the
    candidates that fit are a prefix, and one call site of the capacity check is compiled, not three."""
    bj = _nearest(tlogs, vi, tcounts[vi], gene * tlogv[vi])
    values, quotients, hi = tdivs, qdivs, bj
    if tiles_ok:
        values, quotients, hi = ttiles, qtiles, div_at[vi, bj]
    lo = 0                                 # a factor of 1 is kept whether it fits or not (the repair falls back to it)
    probe = hi
    while lo < hi:
        if _fits_everywhere(b, l, d, values[vi, probe], ext, mult, bounded, keep, coef, capacity, tcap, e2, tiles,
                            box_axes, full):
            lo = probe
        else:
            hi = probe - 1
        probe = (lo + hi + 1) // 2
    return values[vi, lo], quotients[vi, lo]


class DecodeTables(NamedTuple):
    """An encoding's constant arrays, as `decode_batch` reads them (`Encoding.kernel_args()` builds them once per
    encoding; the module docstring says how the divisor table's rows are read): int64 unless said otherwise. What
    every row reads and the encoding fixes (each dim's first table row, which dims index each tensor, the bounded
    levels) is built here once rather than in every batch: fewer steps for the compiled decoder."""

    order_idx: np.ndarray     # [L, 8]: the gene of each dim's loop-order importance (-1: none)
    rank_idx: np.ndarray      # [L, 8]: the gene of each dim's spatial rank (-1: none)
    axis_idx: np.ndarray      # [L, 8]: the gene choosing each dim's fan-out axis (-1: none)
    ratio_idx: np.ndarray     # [L, 8]: the gene of each dim's spatial factor (-1: none, the gene 0.5)
    tile_idx: np.ndarray      # [L, 8]: the gene of each dim's temporal factor (-1: none, the gene 0.5)
    keep_idx: np.ndarray      # [L, 3]: the gene of each tensor's keep (-1: the default keep)
    fill_idx: np.ndarray      # [L, 2]: the gene of each axis's fill (-1: none)
    order_bonus: np.ndarray   # [L, 8] float: added to the importance genes (stationary orders)
    default_keep: np.ndarray  # [L, 3] bool: the keep of the tensors without a keep gene
    start: np.ndarray         # [8]: each dim's table row of what its free factors multiply to
    live: np.ndarray          # [8] bool: the dim has loops (its bound is above 1)
    rel: np.ndarray           # [3, 8] bool: dim d indexes tensor t
    coef: np.ndarray          # [4]: the layer's strides and dilations (`geometry.box`)
    fanout: np.ndarray        # [L, 2]: each level's fan-out (X, Y)
    allowed: np.ndarray       # [L, 2, 8] bool: dim d may unroll on axis a of level l
    capacity: np.ndarray      # [L] float: each level's shared capacity, words (-1: none)
    tcap: np.ndarray          # [L, 3] float: each level's per-tensor capacity, words (-1: none)
    bounded: np.ndarray       # [L] bool: the level has a capacity (shared or per tensor)
    fan_levels: np.ndarray    # [F]: the levels with a fan-out
    tvalues: np.ndarray       # [V]: the divisor table's values (a table row's value)
    tdivs: np.ndarray         # [V, D]: each value's divisors, ascending (padded)
    tcounts: np.ndarray       # [V]: how many
    tlogs: np.ndarray         # [V, D] float: their logs (+inf padding)
    tlogv: np.ndarray         # [V] float: the value's log
    ttiles: np.ndarray        # [V, T]: each value's balanced tiles, ascending (padded)
    ttcounts: np.ndarray      # [V]: how many
    ttlogs: np.ndarray        # [V, T] float: their logs
    qdivs: np.ndarray         # [V, D]: the table row of value / each divisor
    qtiles: np.ndarray        # [V, T]: the table row of ceil(value / each tile)
    div_at: np.ndarray        # [V, D]: each divisor's index among the tiles
    pin_t: np.ndarray         # [L, 8]: fixed temporal factors (0: free)
    pin_s: np.ndarray         # [L, 8]: fixed spatial factors (0: free)
    rest_at: np.ndarray       # [8]: the level that takes the rest of each dim (0: none, the unconstrained decode)
    residual_ok: np.ndarray   # [8]: 1 where the dim may take residual factors
    full: np.ndarray          # [8]: the layer's bounds (tiles are cut there)


class DecodeScratch(NamedTuple):
    """The decoder's working arrays (`decode_batch`), overwritten by every row: int64 unless said otherwise."""

    imp: np.ndarray           # [8] float: one level's importance (or rank) keys
    perm: np.ndarray          # [8]: the dims sorted by those keys
    rem: np.ndarray           # [8]: per dim, the table row of what is left of its bound
    ext: np.ndarray           # [8]: per dim, the tile extent below the level being decoded
    e2: np.ndarray            # [8]: a tile's extents under test
    box_axes: np.ndarray      # [5]: `geometry.box`'s per-axis extents
    tiles: np.ndarray         # [3]: the tensors' tile sizes (words)
    used: np.ndarray          # [2]: per fan-out axis, the factors taken
    mult: np.ndarray          # [L, 8]: the product of the spatial factors from each level to the one decoded
    ax_dims: np.ndarray       # [2, 8]: per axis, the dims given greedy spatial factors
    ax_vi: np.ndarray         # [2, 8]: their table rows before those factors
    ax_j: np.ndarray          # [2, 8]: their factors' indices in those rows (-1: moved to the other axis)
    n_ax: np.ndarray          # [2]: how many dims each axis lists
    pinned: np.ndarray        # [2]: per axis, the product of the fixed spatial factors
    cand: np.ndarray          # [16]: the fill's candidate dims
    reach: np.ndarray         # [8]: per dim, the outermost level with a spatial loop of it
    auto: np.ndarray          # [L, 3] bool: the (level, tensor) pairs whose keep is decided at the end


@njit(cache=True, inline="always")
def decode_scratch(n_levels):
    """A `DecodeScratch` for an accelerator of `n_levels` levels (its `.py_func` builds one in Python)."""
    L = n_levels
    return DecodeScratch(np.empty(8), np.empty(8, dtype=np.int64), np.empty(8, dtype=np.int64),
                         np.empty(8, dtype=np.int64), np.empty(8, dtype=np.int64), np.empty(5, dtype=np.int64),
                         np.empty(3, dtype=np.int64), np.empty(2, dtype=np.int64), np.empty((L, 8), dtype=np.int64),
                         np.empty((2, 8), dtype=np.int64), np.empty((2, 8), dtype=np.int64),
                         np.empty((2, 8), dtype=np.int64), np.empty(2, dtype=np.int64), np.empty(2, dtype=np.int64),
                         np.empty(16, dtype=np.int64), np.empty(8, dtype=np.int64), np.zeros((L, 3), dtype=np.bool_))


def reset_decode_scratch(scratch: DecodeScratch) -> None:
    """Put a used `DecodeScratch` back in the state `decode_scratch` builds it in (the search reuses one: its
    `mappings.evolution._start_buffers`): no (level, tensor) pair auto, the rest undefined as in a new one."""
    scratch.auto.fill(False)


@njit(cache=True, _nrt=False)
def decode_batch(x, tables, outputs, scratch):
    """Decode genes x [B, n] (already clipped to [0,1]) into rows 0..B-1 of `outputs` (a `MappingArrays` of at least
    B rows), in place; `tables`: the encoding's `DecodeTables` (`Encoding.kernel_args()`, read by field);
    `scratch`: a `DecodeScratch` (`decode_scratch`) for the accelerator's levels. Per row: keep genes, loop orders,
    spatial factors in rank order with the axis fill, temporal factors innermost level first (each level's loops
    innermost first: inner ones claim room first) with the capacity repair, then the residual ends and the auto keep.

    The search calls it by address (`decoder_pointer`), so one compile serves it and `Encoding.decode`, and it
    raises nothing (a call by address passes no exception back; its integer divisions are by factors, bounds and
    fan-outs, all at least 1). Every array is borrowed (`accel_models.kernel_views`: the calls it makes per factor
    would otherwise take a reference on each array they are passed): the caller owns them all for the call."""
    x = borrow(x)
    tb = borrow(tables)
    order_idx, rank_idx, axis_idx, ratio_idx = tb.order_idx, tb.rank_idx, tb.axis_idx, tb.ratio_idx
    tile_idx, keep_idx, fill_idx = tb.tile_idx, tb.keep_idx, tb.fill_idx
    order_bonus, default_keep, start = tb.order_bonus, tb.default_keep, tb.start
    live, rel, coef, fanout, allowed, capacity = tb.live, tb.rel, tb.coef, tb.fanout, tb.allowed, tb.capacity
    tcap, bounded, fan_levels, tvalues, tdivs = tb.tcap, tb.bounded, tb.fan_levels, tb.tvalues, tb.tdivs
    tcounts, tlogs, tlogv, ttiles, ttcounts, ttlogs = tb.tcounts, tb.tlogs, tb.tlogv, tb.ttiles, tb.ttcounts, tb.ttlogs
    qdivs, qtiles, div_at, pin_t, pin_s, rest_at = tb.qdivs, tb.qtiles, tb.div_at, tb.pin_t, tb.pin_s, tb.rest_at
    residual_ok, full = tb.residual_ok, tb.full
    decoded = borrow(outputs)
    temporal, order, sx, sy, sorder, keep = decoded.temporal, decoded.order, decoded.spatial_x, decoded.spatial_y, \
        decoded.spatial_order, decoded.keep
    rt, rx, ry = decoded.temporal_residual, decoded.spatial_x_residual, decoded.spatial_y_residual
    s = borrow(scratch)
    imp, perm, rem, ext, e2, box_axes, tiles, used = s.imp, s.perm, s.rem, s.ext, s.e2, s.box_axes, s.tiles, s.used
    mult, ax_dims, ax_vi, ax_j, n_ax, pinned, cand, reach, auto = s.mult, s.ax_dims, s.ax_vi, s.ax_j, s.n_ax, \
        s.pinned, s.cand, s.reach, s.auto
    L = temporal.shape[1]
    any_residual = False
    for d in range(N_DIMS):
        any_residual |= residual_ok[d] != 0
    for b in range(x.shape[0]):
        _reset_row(b, sx, sy, sorder, rt, rx, ry)
        any_auto = _keep_from_genes(b, x, keep_idx, default_keep, keep, auto)
        _loop_orders(b, x, order_idx, order_bonus, imp, perm, order)
        for d in range(N_DIMS):                          # rem[d]: the table row of what is left of dim d
            rem[d] = start[d]
        for fi in range(fan_levels.shape[0]):
            l = fan_levels[fi]
            n_allowed = _spatial_rank(b, l, x, rank_idx, allowed, imp, perm, sorder)
            if n_allowed == 0:
                continue
            _spatial_level(b, l, n_allowed, x, axis_idx, ratio_idx, allowed, fanout, pin_s, residual_ok, tvalues,
                           tdivs, tcounts, tlogs, tlogv, ttiles, ttcounts, qdivs, qtiles, div_at, perm, rem, used,
                           pinned, n_ax, ax_dims, ax_vi, ax_j, sx, sy)
            for a in range(2):
                if fill_idx[l, a] >= 0 and x[b, fill_idx[l, a]] >= 0.5 and used[a] < fanout[l, a]:
                    _fill_axis(b, l, a, fanout[l, a] // pinned[a], used[a] // pinned[a], n_ax, ax_dims, ax_vi, ax_j,
                               allowed, sx, sy, rem, tvalues, tdivs, tcounts, tlogs, ttiles, ttcounts, ttlogs, qdivs,
                               qtiles, residual_ok, cand)
        _spatial_reach(b, sx, sy, ext, reach)
        for l in range(L - 1, 0, -1):
            _level_start(b, l, pin_t, rest_at, tvalues, sx, sy, ext, mult, rem, temporal)
            for q in range(7, -1, -1):              # the level's loops innermost first: inner ones claim room first
                d = order[b, l, q]
                if not live[d] or pin_t[l, d] > 0 or rest_at[d] == l:     # no loop, or a fixed factor
                    continue
                f, left = _temporal_factor(b, l, d, _gene(x, b, tile_idx[l, d]), rem[d],
                                           residual_ok[d] != 0 and l <= reach[d], tcounts, tlogs, tlogv, tdivs, qdivs,
                                           ttiles, qtiles, div_at, ext, mult, bounded, keep, coef, capacity, tcap, e2,
                                           tiles, box_axes, full)
                temporal[b, l, d] = f
                ext[d] *= f
                rem[d] = left
        for d in range(N_DIMS):
            temporal[b, 0, d] = pin_t[0, d] if pin_t[0, d] > 0 else tvalues[rem[d]]
        if any_residual:
            for d in range(N_DIMS):
                if residual_ok[d] != 0:
                    canonical_residuals_into(temporal, sx, sy, b, d, full[d], rt, rx, ry)
        if any_auto:
            _auto_keep(b, temporal, order, sx, sy, keep, auto, rel, coef, capacity, tcap, full, e2, tiles, box_axes)


_POINTER: list = []
"""The process's `decoder_pointer` (one: the tables' types are the same for every encoding)."""


def decoder_pointer(tables: DecodeTables, n_levels: int) -> FunctionPointer:
    """`decode_batch` by address for an encoding's `tables` (`Encoding.kernel_args()`), as the search calls it:
    decode(x [B, n] float64, tables, a `MappingArrays` of `MAPPING_DTYPE` arrays, a `DecodeScratch`). Every
    encoding's tables have the same types (`tests/mappings/test_encoding.py` holds it), so it is built once per
    process; building it compiles nothing."""
    if not _POINTER:
        genes = np.empty((1, 1))
        sig = types.none(typeof(genes), typeof(tables), typeof(MappingArrays.empty(1, n_levels)),
                         typeof(decode_scratch.py_func(n_levels)))
        _POINTER.append(FunctionPointer(decode_batch, sig))
    return _POINTER[0]
