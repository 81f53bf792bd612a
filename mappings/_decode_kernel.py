"""The compiled decoder: `Encoding.decode` one x at a time in numba, for the mappers' hot loop.

Same steps, same arithmetic and the same tie-breaking as the numpy reference
(`Encoding._decode_numpy`), which the tests hold it equal to: keep/bypass, loop orders (a stable
sort of the importances, highest first), spatial factors in rank order and the axis fill, then
temporal factors from the innermost level out (each level's loops innermost first) with the capacity repair, and in
residual mode the canonical residual ends. Every log comes from the divisor table (`_factorize.DivisorTable`: divisors
and balanced tiles).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from accel_models.geometry import box, fits, project
from accel_models.kernel_views import borrow

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
    for i in range(8):
        nan |= keys[i] != keys[i]
    if not nan:
        for i in range(8):
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
def _row_of(values, v):
    """Index of v in the sorted `values` (v is there): np.searchsorted without numba's generic comparator."""
    lo = 0
    hi = values.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


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
        for i in range(8):
            e2[i] = min(ext[i] * mult[l2, i], full[i])
        e2[d] = min(ext[d] * mult[l2, d] * f, full[d])
        for t in range(3):                 # `fits` reads only the kept tensors' tiles
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
        for k in range(3):
            e = temporal[b, l, d] if k == 0 else (sy[b, l, d] if k == 1 else sx[b, l, d])
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


Genes = namedtuple("Genes", "x order_idx rank_idx axis_idx ratio_idx tile_idx keep_idx fill_idx order_bonus "
                            "default_keep")
"""The genes [B, n] and where each decision reads its gene (`Encoding`'s gene maps, -1: no gene): loop order
importances [L, 8], spatial ranks [L, 8], axes [L, 8], fan-out ratios [L, 8], temporal tile genes [L, 8], keep genes
[L, 3], axis fills [L, 2]; the importances' bonus [L, 8] and the keep without a gene [L, 3]."""
Problem = namedtuple("Problem", "bounds full coef fanout allowed capacity tcap active fan_levels pin_t pin_s rest_at "
                                "residual_ok")
"""The layer, the accelerator and the constraints: `bounds` [8] what the free factors multiply to, `full` [8] the
layer's bounds (tiles are cut there, rule F6), the tensors' projection `coef`, the fan-out [L, 2] and the dims
`allowed` [L, 2, 8] on each axis, capacities in words (`capacity` [L], per tensor `tcap` [L, 3]; -1: unbounded),
the `active` dims, the levels with a fan-out, the pinned temporal / spatial factors `pin_t` / `pin_s` [L, 8] (0:
free), the level taking each dim's rest `rest_at` [8] and the dims that may take residual factors `residual_ok` [8]
(see `decode_batch`)."""
Table = namedtuple("Table", "values divs counts logs logv tiles tile_counts tile_logs qdivs qtiles div_at")
"""The divisor table (`_factorize.DivisorTable`), one row per value: the values, their divisors (ascending, `counts`
of them), the divisors' logs and the value's, the balanced tiles (with their counts and logs), the rows of the
quotients by each divisor and by each tile, and each divisor's index among the tiles."""
Outputs = namedtuple("Outputs", "temporal order sx sy sorder keep rt rx ry")
"""The `MappingArrays` fields the decode writes [B, L, 8] (keep [B, L, 3]); rt / rx / ry: the residual ends."""
Scratch = namedtuple("Scratch", "imp perm rem ext e2 box_axes tiles used mult bounded ax_dims ax_vi ax_j n_ax pinned "
                                "cand reach auto rel")
"""Per-call work arrays: importances and their order [8], each dim's table row of what is left `rem` [8], tile
extents `ext` / `e2` [8], `project`'s axes [5], tiles [3], the fan-out used and pinned per axis [2], spatial
multipliers `mult` [L, 8], the bounded levels [L], each axis's greedy factors (dims, table rows, factor indices
[2, 8], counts [2]), the fill's candidates [16], each dim's outermost spatial level `reach` [8], the auto keeps
[L, 3] and which dims index which tensor `rel` [3, 8]."""


@njit(cache=True, inline="always")
def _factor_rows(tab, tiles):
    """The table a dim's factors come from: its balanced tiles when it may take residual factors (`tiles`), else its
    divisors, as (factors, counts, logs, quotient rows)."""
    if tiles:
        return tab.tiles, tab.tile_counts, tab.tile_logs, tab.qtiles
    return tab.divs, tab.counts, tab.logs, tab.qdivs


@njit(cache=True, inline="always")
def _axis_entry(c):
    """A fill candidate (`Scratch.cand`), packed as axis * 8 + its index in that axis's list: (axis, index)."""
    return c // 8, c % 8


@njit(cache=True, inline="always")
def _fill_candidates(b, l, a, allowed, sx, sy, s):
    """The dims the fill of axis a may change, into s.cand (returns how many): a's own greedy dims, then those of the
    other axis left at factor 1 that may go on a and have no factor on it yet; a dim moved by an earlier fill is
    no longer in its axis's list."""
    n = 0
    for src in (a, 1 - a):
        for i in range(s.n_ax[src]):
            d = s.ax_dims[src, i]
            if s.ax_j[src, i] < 0:               # moved to the other axis by its fill
                continue
            if src != a and (s.ax_j[src, i] != 0 or not allowed[l, a, d]
                             or (sx[b, l, d] if a == 1 else sy[b, l, d]) > 1):
                continue
            s.cand[n] = src * 8 + i
            n += 1
    return n


@njit(cache=True, inline="always")
def _greedy_passes(n, residual_ok, tab, s):
    """The passes the greedy factors of the n candidates leave: the product of the values of what is left of each
    (at most the layer's MACs, so int64 holds it)."""
    passes = np.int64(1)
    for j in range(n):
        src, i = _axis_entry(s.cand[j])
        quotients = tab.qtiles if residual_ok[s.ax_dims[src, i]] != 0 else tab.qdivs
        passes *= tab.values[quotients[s.ax_vi[src, i], s.ax_j[src, i]]]
    return passes


@njit(cache=True, inline="always")
def _scan_pair(F, greedy, passes, values, rows_j, vj, cj, rows_k, vk, ck, two, best_passes, best_dist):
    """The best factors of candidate j (and k when `two`) given the best so far: j's factors ascending, k's the
    largest that still fits F beside them (it falls as j's grows); a choice is better with fewer passes, then a
    smaller distance to the greedy factors (sum of |log| differences); the first found wins a tie. rows_j / rows_k:
    `_factor_rows` of each; vj, cj (vk, ck): the table row of what was left and the greedy factor's index. Returns
    (found, passes, distance, j's index, k's index)."""
    fj, nj, lj, qj = rows_j
    fk, nk, lk, qk = rows_k
    rest = greedy // (fj[vj, cj] * (fk[vk, ck] if two else 1))    # the fan-out the other dims of the axis use
    others = passes // (values[qj[vj, cj]] * (values[qk[vk, ck]] if two else 1))
    jb = nk[vk] - 1 if two else 0
    found = False
    best_ja = 0
    best_jb = 0
    for ja in range(nj[vj]):
        used = rest * fj[vj, ja]
        if used > F:
            break
        while jb > 0 and fk[vk, jb] * used > F:
            jb -= 1
        q = others * values[qj[vj, ja]] * (values[qk[vk, jb]] if two else 1)
        if q > best_passes:
            continue
        dist = abs(lj[vj, ja] - lj[vj, cj]) + (abs(lk[vk, jb] - lk[vk, ck]) if two else 0.0)
        if q < best_passes or dist < best_dist:
            best_passes = q
            best_dist = dist
            found = True
            best_ja = ja
            best_jb = jb
    return found, best_passes, best_dist, best_ja, best_jb


@njit(cache=True, inline="always")
def _best_fill(n, F, greedy, passes, residual_ok, tab, s):
    """The fill's choice among the n candidates: every candidate alone (when it is the only one) or every pair, in
    candidate order (`_scan_pair` keeps the first of equals). Returns (j, k, j's factor index, k's); j < 0 when no
    choice beats the greedy factors, k == n for one candidate alone."""
    best_passes = passes
    best_dist = 0.0
    best_j = -1
    best_k = -1
    best_ja = 0
    best_jb = 0
    for j in range(n):
        sj, ij = _axis_entry(s.cand[j])
        rows_j = _factor_rows(tab, residual_ok[s.ax_dims[sj, ij]] != 0)
        for k in range(j + 1, n + 1 if n == 1 else n):   # one dim alone: k == n (no second dim)
            two = k < n
            rows_k = rows_j
            vk = 0
            ck = 0
            if two:
                sk, ik = _axis_entry(s.cand[k])
                vk, ck = s.ax_vi[sk, ik], s.ax_j[sk, ik]
                rows_k = _factor_rows(tab, residual_ok[s.ax_dims[sk, ik]] != 0)
            found, q, dist, ja, jb = _scan_pair(F, greedy, passes, tab.values, rows_j, s.ax_vi[sj, ij], s.ax_j[sj, ij],
                                                rows_k, vk, ck, two, best_passes, best_dist)
            if found:
                best_passes = q
                best_dist = dist
                best_j = j
                best_k = k
                best_ja = ja
                best_jb = jb
    return best_j, best_k, best_ja, best_jb


@njit(cache=True, inline="always")
def _fill_axis(b, l, a, F, greedy, p, tab, out, s):
    """Fill axis a of level l's fan-out (free fan-out F, of which the greedy decode used `greedy`): among its dims
    and the dims left unrolled (factor 1) on the other axis that may go on a, change the factors of at most two,
    within F, to leave the fewest passes (the product over those dims of ceil(what was left / factor); with
    divisors, the most of F), and among those the nearest to their greedy factors; ties go to the first found, dims
    in rank order, factors ascending. A dim's factors are the divisors of what was left of it at this level, or
    with residual_ok its balanced tiles. Two, not all: an exact search over every dim's divisors grows
    exponentially with the dims (a 1024-wide axis open to six dims took 0.1-0.3 ms a row)."""
    n = _fill_candidates(b, l, a, p.allowed, out.sx, out.sy, s)
    passes = _greedy_passes(n, p.residual_ok, tab, s)
    best_j, best_k, best_ja, best_jb = _best_fill(n, F, greedy, passes, p.residual_ok, tab, s)
    if best_j < 0:
        return
    for k, jn in ((best_j, best_ja), (best_k, best_jb)):
        if k >= n:
            continue
        src, i = _axis_entry(s.cand[k])
        d = s.ax_dims[src, i]
        factors, _, _, quotients = _factor_rows(tab, p.residual_ok[d] != 0)
        f = factors[s.ax_vi[src, i], jn]
        s.rem[d] = quotients[s.ax_vi[src, i], jn]      # the row of what was left of d at this level, over f
        if a == 0:
            out.sx[b, l, d] = f
        else:
            out.sy[b, l, d] = f
        if src != a and f > 1:             # the dim moved to this axis: the other axis no longer offers it
            s.ax_j[src, i] = -1


@njit(cache=True, no_cpython_wrapper=True)
def _auto_keep(b, temporal, order, sx, sy, keep, auto, rel, coef, capacity, tcap, full, e2, tiles, box_axes):
    """The keep of row b's auto tensors (auto[l, t]; in place), innermost level first: tensor t is kept at level l if
    its tile there is reused and still fits beside what the level keeps (`encoding`'s "Keep and bypass" says when a
    tile is reused)."""
    L = temporal.shape[1]
    for l in range(L - 1, 0, -1):
        if not (auto[l, 0] or auto[l, 1] or auto[l, 2]):
            continue
        for d in range(8):
            e = np.int64(1)
            for l2 in range(l, L):
                e *= temporal[b, l2, d] * sx[b, l2, d] * sy[b, l2, d]
            e2[d] = min(e, full[d])
        for t in range(3):
            tiles[t] = box(t, e2, coef, box_axes)
        parent = -1                                  # the innermost loop above level l
        for l2 in range(l - 1, -1, -1):
            for q in range(7, -1, -1):
                if parent < 0 and temporal[b, l2, order[b, l2, q]] > 1:
                    parent = order[b, l2, q]
            if parent >= 0:
                break
        for t in range(3):
            if not auto[l, t]:
                continue
            outer_irrelevant = False
            seen_irrelevant = False
            has_relevant = False
            inner = -1
            for q in range(8):                       # the level's loops, outermost first
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
def _table_rows_of_bounds(values, bounds):
    """Each dim's table row of its bound [8]: where what is left of it starts."""
    start = np.empty(8, dtype=np.int64)
    for d in range(8):
        start[d] = _row_of(values, bounds[d])
    return start


@njit(cache=True, inline="always")
def _live_dims(active):
    """The active dims (bound above 1), the dims with loops, as a mask [8]."""
    live = np.zeros(8, dtype=np.bool_)
    for ai in range(active.shape[0]):
        live[active[ai]] = True
    return live


@njit(cache=True, inline="always")
def _tensor_dims_into(rel, coef, e2, box_axes):
    """rel[t, d]: does dim d index tensor t (does a unit extent of d alone project onto one of t's axes)?"""
    for t in range(3):
        for d in range(8):
            e2[d] = 0
        for d in range(8):
            e2[d] = 1
            project(t, e2, coef, box_axes)
            e2[d] = 0
            hit = False
            for a in range(box_axes.shape[0]):
                hit |= box_axes[a] != 0
            rel[t, d] = hit


@njit(cache=True, inline="always")
def _bounded_levels_into(bounded, capacity, tcap):
    """bounded[l]: has level l a capacity (its own or a tensor's; -1 is none) that the temporal factors must fit?"""
    for l in range(bounded.shape[0]):
        bounded[l] = capacity[l] >= 0
        for t in range(3):
            if tcap[l, t] >= 0:
                bounded[l] = True


@njit(cache=True, inline="always")
def _reset_row(b, out):
    """Row b starts from no spatial loop and no residual (a reused buffer may hold an earlier row's)."""
    for l in range(out.sx.shape[1]):
        for d in range(8):
            out.sx[b, l, d] = 1
            out.sy[b, l, d] = 1
            out.sorder[b, l, d] = d
            out.rt[b, l, d] = 0
            out.rx[b, l, d] = 0
            out.ry[b, l, d] = 0


@njit(cache=True, inline="always")
def _keep_from_genes(b, g, keep, auto):
    """Row b's keep / bypass from its keep genes (`KEEP_AUTO`; level 0, the registers, always keeps); auto[l, t]
    marks a tensor left to `_auto_keep` (out of the capacity repair, decided at the end). Returns whether any is."""
    any_auto = False
    for l in range(keep.shape[1]):
        for t in range(3):
            k = g.default_keep[l, t]
            auto[l, t] = False
            if g.keep_idx[l, t] >= 0:
                gene = g.x[b, g.keep_idx[l, t]]
                k = gene >= KEEP_AUTO[1]
                auto[l, t] = l > 0 and g.default_keep[l, t] and KEEP_AUTO[0] <= gene < KEEP_AUTO[1]
                any_auto |= auto[l, t]
            keep[b, l, t] = 1 if (k and g.default_keep[l, t]) or l == 0 else 0
    return any_auto


@njit(cache=True, inline="always")
def _loop_orders(b, g, order, imp, perm):
    """Row b's loop order at every level: the dims by decreasing importance (gene plus bonus; dims without a gene
    sort innermost), outermost first."""
    for l in range(order.shape[1]):
        for d in range(8):
            imp[d] = (g.x[b, g.order_idx[l, d]] if g.order_idx[l, d] >= 0 else _UNUSED) + g.order_bonus[l, d]
        _argsort_desc(imp, perm)
        for q in range(8):
            order[b, l, q] = perm[q]


@njit(cache=True, inline="always")
def _spatial_axis(b, l, d, g, allowed):
    """The fan-out axis (0: X, 1: Y) dim d takes at level l: its axis gene's when both are allowed."""
    if allowed[l, 0, d] and allowed[l, 1, d]:
        return 1 if _gene(g.x, b, g.axis_idx[l, d]) >= 0.5 else 0
    return 1 if allowed[l, 1, d] else 0


@njit(cache=True, inline="always")
def _greedy_spatial_factor(gene, vi, used, fanout, residual, tab):
    """The spatial factor of a dim whose left-over is table row vi, on an axis of `fanout` instances of which `used`
    are taken: the divisor nearest (in log) to gene x log(left-over), or the largest divisor within the fan-out left
    when that one is above it; with `residual`, where the limit binds, the largest balanced tile within it if that is
    larger. Returns (factor, its index in the dim's factor row, the row of what is left after it)."""
    bj = _nearest(tab.logs, vi, tab.counts[vi], gene * tab.logv[vi])
    binds = tab.divs[vi, bj] * used > fanout
    if binds:                      # the largest divisor within the fan-out left
        bj = _largest_at_most(tab.divs, vi, bj, fanout // used)
    f = tab.divs[vi, bj]
    if not residual:
        return f, bj, tab.qdivs[vi, bj]
    if binds:                      # the largest balanced tile within the fan-out left, if larger
        cap = fanout // used
        f = max(f, _ceil_div(tab.values[vi], _ceil_div(tab.values[vi], cap)))
        bj = _index_of(tab.tiles, vi, tab.tile_counts[vi], f)
    else:
        bj = tab.div_at[vi, bj]
    return f, bj, tab.qtiles[vi, bj]


@njit(cache=True, inline="always")
def _spatial_level(b, l, g, p, tab, out, s):
    """Level l's spatial factors of row b: the dims in the order of their rank genes, each on its axis (a pinned
    factor as given, else `_greedy_spatial_factor` within the fan-out left), then each axis's fill when its gene asks
    for one and the axis has room (`_fill_axis`). s.rem advances past each factor."""
    n_allowed = 0
    for d in range(8):
        if p.allowed[l, 0, d] or p.allowed[l, 1, d]:
            n_allowed += 1
    if n_allowed == 0:
        return
    for d in range(8):
        s.imp[d] = g.x[b, g.rank_idx[l, d]] if g.rank_idx[l, d] >= 0 else _UNUSED
    _argsort_desc(s.imp, s.perm)
    for q in range(8):
        out.sorder[b, l, q] = s.perm[q]
    for axis in range(2):
        s.used[axis] = 1
        s.n_ax[axis] = 0
        s.pinned[axis] = 1
    for k in range(n_allowed):
        d = s.perm[k]
        axis = _spatial_axis(b, l, d, g, p.allowed)
        if p.pin_s[l, d] > 0:                # a fixed factor: taken as given, not from what is left
            f = p.pin_s[l, d]
            s.pinned[axis] *= f
        else:
            vi = s.rem[d]
            f, bj, s.rem[d] = _greedy_spatial_factor(_gene(g.x, b, g.ratio_idx[l, d]), vi, s.used[axis],
                                                     p.fanout[l, axis], p.residual_ok[d] != 0, tab)
            i = s.n_ax[axis]
            s.ax_dims[axis, i] = d
            s.ax_vi[axis, i] = vi
            s.ax_j[axis, i] = bj
            s.n_ax[axis] = i + 1
        if axis == 0:
            out.sx[b, l, d] = f
        else:
            out.sy[b, l, d] = f
        s.used[axis] *= f
    for a in range(2):
        if g.fill_idx[l, a] >= 0 and g.x[b, g.fill_idx[l, a]] >= 0.5 and s.used[a] < p.fanout[l, a]:
            _fill_axis(b, l, a, p.fanout[l, a] // s.pinned[a], s.used[a] // s.pinned[a], p, tab, out, s)


@njit(cache=True, inline="always")
def _spatial_reach_into(b, out, reach):
    """reach[d]: the outermost level with a spatial loop of d in row b (L if none); below it d's temporal tiles stay
    divisors (a residual tile there would leave a spatial loop a ragged edge)."""
    L = out.sx.shape[1]
    for d in range(8):
        reach[d] = L
        for l in range(L - 1, -1, -1):
            if out.sx[b, l, d] * out.sy[b, l, d] > 1:
                reach[d] = l


@njit(cache=True, inline="always")
def _spatial_multipliers_into(b, l, out, mult):
    """mult[l2, d] for l2 <= l: the product of row b's spatial factors of d at levels l2 .. l-1 (1 at l), what a
    temporal tile at level l is multiplied by at each level inside it."""
    for d in range(8):
        mult[l, d] = 1
    for l2 in range(l - 1, -1, -1):
        for d in range(8):
            mult[l2, d] = mult[l2 + 1, d] * out.sx[b, l2, d] * out.sy[b, l2, d]


@njit(cache=True, inline="always")
def _largest_that_fits(b, l, d, vi, hi, factors, p, out, s):
    """The largest of `factors[vi, :hi + 1]` (ascending; the first is 1) that leaves every bounded level room
    (`_fits_everywhere`; tiles only grow with the factor, so by bisection): its index (0 when none does). Called
    with each table as such, not with one chosen at run time: the bisection over a row picked by a branch measured
    ~80 ns a mapping slower on a ResNet 3x3 layer (`benchmarks/profile_decoder.py`, the repair step)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits_everywhere(b, l, d, factors[vi, mid + 1], s.ext, s.mult, s.bounded, out.keep, p.coef, p.capacity,
                            p.tcap, s.e2, s.tiles, s.box_axes, p.full):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def _temporal_factor(b, l, d, gene, p, tab, out, s):
    """Row b's temporal factor of dim d at level l (its left-over at table row s.rem[d]): the divisor nearest (in log)
    to gene x log(left-over) if every bounded level keeps room for it, else the largest that does (the capacity
    repair): among the balanced tiles when d may take residual factors and no spatial loop of d is outside l, else
    among the divisors (1 when none fits). A factor of 1 is kept whether it fits or not (the repair would fall back
    to it): no check. Returns (factor, the row of what is left after it)."""
    vi = s.rem[d]
    bj = _nearest(tab.logs, vi, tab.counts[vi], gene * tab.logv[vi])
    f = tab.divs[vi, bj]
    if bj == 0 or _fits_everywhere(b, l, d, f, s.ext, s.mult, s.bounded, out.keep, p.coef, p.capacity, p.tcap, s.e2,
                                   s.tiles, s.box_axes, p.full):
        return f, tab.qdivs[vi, bj]
    if p.residual_ok[d] != 0 and l <= s.reach[d]:
        lo = _largest_that_fits(b, l, d, vi, tab.div_at[vi, bj], tab.tiles, p, out, s)
        return tab.tiles[vi, lo], tab.qtiles[vi, lo]
    lo = _largest_that_fits(b, l, d, vi, bj, tab.divs, p, out, s)
    return tab.divs[vi, lo], tab.qdivs[vi, lo]


@njit(cache=True, inline="always")
def _temporal_level(b, l, g, p, tab, out, s, live):
    """Level l's temporal factors of row b (l > 0), s.ext holding the tile extents inside it: first the pinned
    factors and the rest of the dims this level takes, then the other live dims' loops innermost first (inner
    ones claim room first), each by `_temporal_factor`. s.ext and s.rem advance past each factor."""
    for d in range(8):
        if p.pin_t[l, d] > 0:
            out.temporal[b, l, d] = p.pin_t[l, d]
            s.ext[d] *= p.pin_t[l, d]
        elif p.rest_at[d] == l:
            out.temporal[b, l, d] = tab.values[s.rem[d]]
            s.ext[d] *= tab.values[s.rem[d]]
            s.rem[d] = 0                     # the row of 1
    for q in range(7, -1, -1):
        d = out.order[b, l, q]
        if not live[d] or p.pin_t[l, d] > 0 or p.rest_at[d] == l:     # no loop, or a fixed factor
            continue
        f, s.rem[d] = _temporal_factor(b, l, d, _gene(g.x, b, g.tile_idx[l, d]), p, tab, out, s)
        out.temporal[b, l, d] = f
        s.ext[d] *= f


@njit(cache=True, inline="always")
def _temporal_factors(b, g, p, tab, out, s, live):
    """Row b's temporal factors, innermost level first (`_temporal_level`, with the capacity repair); the outermost
    level (the backing store, unbounded) takes what is left of each dim, or its pinned factor."""
    L = out.temporal.shape[1]
    _spatial_reach_into(b, out, s.reach)
    for d in range(8):
        s.ext[d] = 1
    for l in range(L - 1, 0, -1):
        for d in range(8):
            s.ext[d] *= out.sx[b, l, d] * out.sy[b, l, d]
        _spatial_multipliers_into(b, l, out, s.mult)
        _temporal_level(b, l, g, p, tab, out, s, live)
    for d in range(8):
        out.temporal[b, 0, d] = p.pin_t[0, d] if p.pin_t[0, d] > 0 else tab.values[s.rem[d]]


@njit(cache=True)
def decode_batch(x, order_idx, rank_idx, axis_idx, ratio_idx, tile_idx, keep_idx, fill_idx, order_bonus, default_keep,
                 bounds, coef, fanout, allowed, capacity, tcap, active, fan_levels, tvalues, tdivs, tcounts, tlogs,
                 tlogv, ttiles, ttcounts, ttlogs, qdivs, qtiles, div_at, pin_t, pin_s, rest_at, residual_ok,
                 full_bounds, temporal, order, sx, sy, sorder, keep, temporal_residual, sx_residual, sy_residual):
    """Decode genes x [B, n] (already clipped to [0,1]) into the MappingArrays fields, in place.

    A factor is the divisor nearest (in log) to its gene's target among those allowed. What is allowed is
    a prefix of the divisors: those within the fan-out left (spatial), or those that leave every bounded
    level room (temporal; tiles only grow with the factor). So the nearest allowed divisor is the nearest
    one if allowed, else the largest allowed one, found by bisection: the numpy reference's scan, without
    scanning.

    qdivs / qtiles / div_at: the table's quotient rows and each divisor's index among the tiles
    (`DivisorTable.quotient_rows`, `tile_quotient_rows`, `divisor_tile_index`): what is left of a dim is carried as
    its table row, the next row read from them after each factor.

    pin_t / pin_s [L, 8]: exact temporal / spatial factors (0: free); `bounds` is then what the free
    factors multiply to, and rest_at[d] > 0 names the level that takes the rest of dim d (its outermost
    factor being fixed). All zero: the unconstrained decode.

    residual_ok[d] = 1: dim d may take residual factors (`encoding`'s "Residual factors"): where a limit binds (the
    nearest divisor is above what is left of the axis, or overflows a buffer at a level at or above d's outermost
    spatial loop) the factor is the largest balanced tile within the limit (`ttiles`, the balanced tiles of each
    table value) when it beats the largest divisor, and what is left of d is then ceil(left / factor); the fill
    picks among balanced tiles; the residual ends are F3's canonical ones (`canonical_residuals_into`). The residual
    fields are written for every row (0 = perfect).
    full_bounds: the layer's bounds (tiles are cut there, rule F6). residual_ok all zero: the perfect decode.
    """
    L = temporal.shape[1]
    scratch = Scratch(np.empty(8), np.empty(8, dtype=np.int64), np.empty(8, dtype=np.int64),
                      np.empty(8, dtype=np.int64), np.empty(8, dtype=np.int64), np.empty(5, dtype=np.int64),
                      np.empty(3, dtype=np.int64), np.empty(2, dtype=np.int64), np.empty((L, 8), dtype=np.int64),
                      np.zeros(L, dtype=np.bool_), np.empty((2, 8), dtype=np.int64), np.empty((2, 8), dtype=np.int64),
                      np.empty((2, 8), dtype=np.int64), np.empty(2, dtype=np.int64), np.empty(2, dtype=np.int64),
                      np.empty(16, dtype=np.int64), np.empty(8, dtype=np.int64), np.zeros((L, 3), dtype=np.bool_),
                      np.zeros((3, 8), dtype=np.bool_))
    _decode_rows(Genes(x, order_idx, rank_idx, axis_idx, ratio_idx, tile_idx, keep_idx, fill_idx, order_bonus,
                       default_keep),
                 Problem(bounds, full_bounds, coef, fanout, allowed, capacity, tcap, active, fan_levels, pin_t, pin_s,
                         rest_at, residual_ok),
                 Table(tvalues, tdivs, tcounts, tlogs, tlogv, ttiles, ttcounts, ttlogs, qdivs, qtiles, div_at),
                 Outputs(temporal, order, sx, sy, sorder, keep, temporal_residual, sx_residual, sy_residual), scratch)


@njit(cache=True, no_cpython_wrapper=True)
def _decode_rows(genes, problem, table, outputs, scratch):
    """`decode_batch`'s loop, on borrowed views of its arguments (see `accel_models.kernel_views`: the calls it
    makes per factor would otherwise take a reference on every array they are passed); the caller owns them all
    for the call. Per row: keep genes, loop orders, spatial factors, temporal factors, then the residual ends and
    the auto keeps, which need the whole nest."""
    g = borrow(genes)
    p = borrow(problem)
    tab = borrow(table)
    out = borrow(outputs)
    s = borrow(scratch)
    start = _table_rows_of_bounds(tab.values, p.bounds)
    live = _live_dims(p.active)
    any_residual = False
    for d in range(8):
        any_residual |= p.residual_ok[d] != 0
    _tensor_dims_into(s.rel, p.coef, s.e2, s.box_axes)
    _bounded_levels_into(s.bounded, p.capacity, p.tcap)
    for b in range(g.x.shape[0]):
        _reset_row(b, out)
        any_auto = _keep_from_genes(b, g, out.keep, s.auto)
        _loop_orders(b, g, out.order, s.imp, s.perm)
        for d in range(8):                          # s.rem[d]: the table row of what is left of dim d
            s.rem[d] = start[d]
        for fi in range(p.fan_levels.shape[0]):
            _spatial_level(b, p.fan_levels[fi], g, p, tab, out, s)
        _temporal_factors(b, g, p, tab, out, s, live)
        if any_residual:
            for d in range(8):
                if p.residual_ok[d] != 0:
                    canonical_residuals_into(out.temporal, out.sx, out.sy, b, d, p.full[d], out.rt, out.rx, out.ry)
        if any_auto:
            _auto_keep(b, out.temporal, out.order, out.sx, out.sy, out.keep, s.auto, s.rel, p.coef, p.capacity, p.tcap,
                       p.full, s.e2, s.tiles, s.box_axes)
