"""Mappings with residual factors (Timeloop's `P=e,r`): `reference.evaluate`'s walk over the loop iterations, compiled.

A loop (e, r) runs r iterations in a pass where every outer loop of its dim is at its last iteration (rule F2 of
docs/imperfect.md). The bound equation (F3) makes r the mixed-radix digit of the bound, so the iterations that run
are exactly those whose dim offsets stay below the bounds, and a residual iteration's tile is the full tile cut at
the bounds. The closed forms of `counts` and `links` assume that every step of a loop moves the same full tile; here
each step is counted by the walk's rule (`_step`: fills and the last-stride reuse rule R2, multicast groups and
neighbour links R3, R4), per level and tensor, and only the enumeration differs from the walk: `sweep` visits the
steps loop by loop and reuses what repeats (memoized frames, skipped identical iterations; its docstring says why
that is exact), so its time grows with the distinct cut contexts, not with the iterations. The rest (partitions R6,
the bypass fold R5, energy R8, cycles R7) is shared with perfect mappings, on the F6 tiles (ends multiplied, cut at
the bound). Compute cycles are the product of the temporal ends (F7). `driver.evaluate_one` calls
`residual_accesses` in place of `counts.level_accesses` for a mapping with a residual loop whose instances under
each fan-out do the same work (`uniform_instances`); `sweep` also counts the uniform children of one instance class
where they do not (`instances`), from that class's origin, and `delta` / `commit` are the step rule that
`joint.joint_sweep` applies to each class of unequal children.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box, project
from .counts import fill_stream, moving_loops, spatial_loops
from .links import _GOLDEN, _lattice_ok, _link_saving, spatial_axes
from .workspace import LINK_CACHE, MEMO_CAP, STATE_LEN


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def uniform_instances(m):
    """True unless a spatial loop has a residual or a residual loop lies below a spatial loop of its dim
    (Timeloop's 'spatial' class, F9: there instances under a fan-out do different work)."""
    tf, _, sx, sy, _, _, rt, rx, ry = m
    L = tf.shape[0]
    for d in range(8):
        spread = False
        for l in range(L):
            if rt[l, d] != 0 and rt[l, d] != tf[l, d] and spread:
                return False
            if sx[l, d] > 1 or sy[l, d] > 1:
                if (rx[l, d] != 0 and rx[l, d] != sx[l, d]) or (ry[l, d] != 0 and ry[l, d] != sy[l, d]):
                    return False
                spread = True
    return True


# The walk's carried state (`workspace.STATE_LEN` int64): whether a step was taken, the previous delta's size and
# whether it had an old box, whether a last stride is remembered; per axis the previous tile (corner, extents),
# the previous delta's old box (corner, extents; zero without one) and the last stride (zero without one).
_HAVE, _PSIZE, _POLD, _HAS_STRIDE = 0, 1, 2, 3
_PLO = 4
_PEXT = _PLO + N_AXES
_POLO = _PEXT + N_AXES
_POEXT = _POLO + N_AXES
_STRIDE = _POEXT + N_AXES


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
    x.p_old = st[_POLD]
    for a in range(N_AXES):
        x.p_lo[a] = st[_PLO + a]
        x.p_ext[a] = st[_PEXT + a]
        x.p_olo[a] = st[_POLO + a]
        x.p_oext[a] = st[_POEXT + a]
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
    offset difference x.vstar (R3): `links._link_saving`'s, for one step of one word, after its lattice check. A
    sweep's children are fixed, so the answer depends on vstar alone: the last few are kept."""
    if not _lattice_ok(x.vstar, x.s1, x.m1, x.s2, x.m2, x.reach):
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
    saved, moved, sw.listed = _link_saving(t, x.vstar, 1.0, 1.0, groups, spatial, n_sp, fan_x, fan_y, layer, ws,
                                           sw.listed)
    if sw.n_links < LINK_CACHE:
        k = sw.n_links
        for a in range(N_AXES):
            sw.link_v[k, a] = x.vstar[a]
        sw.link_saved[k] = saved
        sw.link_moved[k] = moved
        sw.n_links = k + 1
    return saved, moved


@njit(cache=True, inline="always")
def delta(t, off, st, full, is_mac, layer, x):
    """R2 for one iteration of the loops above a (level, tensor), at dim offsets `off`: its tile (`full`, the level's
    dim extents, cut at the bounds) into x.lo / x.ext, and the words it brings: the whole tile, nothing if it did not
    move, or what the previous tile does not cover when the move repeats the last stride and no axis was cut by two
    words or more (then x.d_old = 1 and x.d_olo / x.d_oext hold the previous tile, the box the delta leaves out).
    Updates the stride memory of the carried state `st`; `commit` records the tile and delta afterwards (the caller
    reads the previous ones in between). Returns the delta's words."""
    bounds, coef = layer.bounds, layer.coef
    lo, ext, clip = x.lo, x.ext, x.clip
    project(t, off, coef, lo)
    if is_mac:
        for a in range(N_AXES):
            ext[a] = 1
    else:
        for d in range(8):
            clip[d] = min(full[d], bounds[d] - off[d])
        box(t, clip, coef, ext)
    words = np.int64(1)
    for a in range(N_AXES):
        words *= ext[a]
    size = words
    x.d_old = 0
    if st[_HAVE] != 0 and not is_mac:
        still = True
        for a in range(N_AXES):
            if lo[a] != st[_PLO + a] or ext[a] != st[_PEXT + a]:
                still = False
        if still:
            size = 0
        else:
            match = True
            if st[_HAS_STRIDE] != 0:
                for a in range(N_AXES):
                    # the last stride, and no axis cut by two or more words (`reference._shrinks_at_most_one`)
                    if st[_STRIDE + a] != lo[a] - st[_PLO + a] or st[_PEXT + a] - ext[a] > 1:
                        match = False
            if match:
                x.d_old = 1
                overlap = np.int64(1)
                for a in range(N_AXES):
                    plo = st[_PLO + a]
                    pext = st[_PEXT + a]
                    x.d_olo[a] = plo
                    x.d_oext[a] = pext
                    st[_STRIDE + a] = lo[a] - plo
                    ov = min(lo[a] + ext[a], plo + pext) - max(lo[a], plo)
                    overlap *= ov if ov > 0 else 0
                st[_HAS_STRIDE] = 1
                size = words - overlap
            else:
                st[_HAS_STRIDE] = 0
                for a in range(N_AXES):
                    st[_STRIDE + a] = 0
    return size


@njit(cache=True, inline="always")
def commit(st, lo, ext, old, olo, oext, size):
    """The delta `delta` just counted (its tile lo / ext, whether it left out the box olo / oext, `size` words)
    becomes the previous one in `st`."""
    st[_HAVE] = 1
    st[_PSIZE] = size
    st[_POLD] = old
    for a in range(N_AXES):
        st[_PLO + a] = lo[a]
        st[_PEXT + a] = ext[a]
        st[_POLO + a] = olo[a] if old else 0
        st[_POEXT + a] = oext[a] if old else 0


@njit(cache=True, inline="always")
def forget_delta(st):
    """No delta at this step (a still step of the innermost loops, or an idle instance): the next step has no
    previous delta to take over a link (the previous tile and the stride memory stay)."""
    st[_PSIZE] = 0
    st[_POLD] = 0
    for a in range(N_AXES):
        st[_POLO + a] = 0
        st[_POEXT + a] = 0


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
        if st[_HAVE] != 0 and st[_PSIZE] == size and n_children > 1 and _translate_of_previous(x, st, size):
            saved, moved = _link_per_word(t, x, groups, spatial, n_sp, fan_x, fan_y, layer, ws)
            reads -= saved * size
            transfers = moved * size
    commit(st, x.lo, x.ext, x.d_old, x.d_olo, x.d_oext, size)
    return float(size), reads, transfers


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _leaf(t, off, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, temporal, tail, M):
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
def _moved(src, pb, sign, out):
    """out = the carried state src with the tensor coordinates it holds moved by sign * pb: sign -1 takes them
    relative to the corner pb (the memo's form), +1 places a relative state back at pb."""
    for k in range(STATE_LEN):
        out[k] = src[k]
    if src[_HAVE] != 0:
        for a in range(N_AXES):
            out[_PLO + a] += sign * pb[a]
    if src[_POLD] != 0:
        for a in range(N_AXES):
            out[_POLO + a] += sign * pb[a]


@njit(cache=True, inline="always")
def _same_state(u, v):
    """Are two carried states (`STATE_LEN`) equal?"""
    for k in range(STATE_LEN):
        if u[k] != v[k]:
            return False
    return True


_MULTIPLIERS = np.array([((2 * k + 1) * _GOLDEN) % 2**64 for k in range(8 + STATE_LEN)],
                        dtype=np.uint64).view(np.int64)
"""The odd multipliers (2k + 1) x `links._GOLDEN` (wrapped to 64 bits) of a memo key's fields in `_key_hash`."""


@njit(cache=True, inline="always")
def _key_hash(j, ctx, state):
    """Hash of a memo key (frame j with its kind, cut context, relative state): the sum of its fields times
    `_MULTIPLIERS` (independent products rather than a chain), mixed at the end by Knuth's multiplicative hashing
    (`links._GOLDEN`)."""
    h = j * np.int64(_GOLDEN)
    for d in range(8):
        h += ctx[d] * _MULTIPLIERS[d]
    for k in range(STATE_LEN):
        h += state[k] * _MULTIPLIERS[8 + k]
    return (h ^ (h >> 31)) * _GOLDEN


@njit(cache=True, inline="always")
def _memo_find(memo, h, j, ctx, state, stamp):
    """The slot holding key (j, ctx, state) in this sweep (`stamp`), or the free slot where it would go
    (open addressing, linear probing)."""
    mask = memo.shape[0] - 1
    k = (h >> 32) & mask
    while memo[k].stamp == stamp:
        e = memo[k]
        if e.j == j:
            same = True
            for d in range(8):
                if e.ctx[d] != ctx[d]:
                    same = False
                    break
            if same and _same_state(e.state, state):
                return k
        k = (k + 1) & mask
    return k


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _memo_store(memo, sw, h, j, ctx, key, sums, extra, st, pb, stamp):
    """Memoize key (j, ctx, key) -> (sums + extra, the state st relative to the corner pb), if the table has room."""
    if sw.entries >= MEMO_CAP:
        return
    e = memo[_memo_find(memo, h, j, ctx, key, stamp)]
    e.stamp = stamp
    e.j = j
    for d in range(8):
        e.ctx[d] = ctx[d]
    for q in range(STATE_LEN):
        e.state[q] = key[q]
    for q in range(3):
        e.sums[q] = sums[q] + extra[q]
    _moved(st, pb, -1, e.exit)
    sw.entries += 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _start(f, temporal, j, bounds):
    """Frame f (loop j) set to run its iterations from the first."""
    lp = temporal[j]
    f.n = min(lp.bound, (bounds[lp.dim] - f.base[lp.dim] + lp.step - 1) // lp.step)
    f.i = 0
    f.p_valid = 0
    for q in range(3):
        f.sums[q] = 0.0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _iterations_run(temporal, M, bounds, origin):
    """How many iterations of the M temporal loops run from `origin` (F2: every dim offset below its bound). The
    dims are independent: per dim, the digits of its loops (outermost first, each step above the span of the loops
    inside it) that keep the offset below the bound, counted as a mixed-radix number below it."""
    total = np.int64(1)
    for d in range(8):
        rem = bounds[d] - origin[d]      # offsets from the origin must stay below rem
        count = np.int64(0)
        inner = np.int64(1)              # product of the ends of d's loops inside the current one
        for j in range(M):
            if temporal[j].dim == d:
                inner *= temporal[j].bound
        for j in range(M):
            lp = temporal[j]
            if lp.dim != d:
                continue
            inner //= lp.bound
            q = (rem - 1) // lp.step     # the largest digit whose first offset stays below the bound
            if q >= lp.bound:            # every digit of this loop and every one inside: all run
                count += lp.bound * inner
                rem = 0
                break
            count += q * inner           # digits 0..q-1 run whole; digit q runs what stays below the bound
            rem -= q * lp.step
        if rem > 0:
            count += 1                   # the last digit of the innermost loop
        total *= count
    return total


@njit(cache=True, inline="always")
def whole_stream(t, temporal, M, bounds, origin, extents, ax):
    """Is the stream of a (level, tensor) from `origin` a perfect one: every iteration of the M temporal loops above
    the level runs and no tile of the tensor is cut? Per dim, the farthest offset the loops reach plus the tile's
    extent (1 for a dim that does not index the tensor: it only decides whether an iteration runs) stays within
    the bound. Then `counts.fill_stream`'s closed form counts the fills."""
    for d in range(8):
        reach = origin[d] + (extents[d] if ax[t, d] >= 0 else 1)
        for j in range(M):
            if temporal[j].dim == d:
                reach += (temporal[j].bound - 1) * temporal[j].step
        if reach > bounds[d]:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def sweep(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin, fresh):
    """(fills of one instance, reads of its parent, link transfers) of one (level, tensor) over the iterations of
    the M temporal loops above the level that run (F2: those whose dim offsets, from `origin`, stay below the
    bounds), each counted by `_step` in the walk's order; `child`: the level's record (its dim extents, and its
    tile of t and that tile's axes for the closed form below).

    The steps are grouped by loop, outermost first: frame j runs the iterations of loops j..M-1 from a base offset
    (iteration i of frame j is frame j + 1 at base + i x the loop's step). A frame's sums and exit state depend only
    on j, on its cut context (per dim, the bound less the base, at most the reach beyond which no iteration or tile
    cut depends on it) and on its entry state relative to the tile corner at its base (tensor coordinates are linear
    in the dim offsets): frames are memoized on that key. A frame's first step is that of its iteration 0 and so on
    down, and after it the state keeps little of what came before: frames are also memoized without their first
    step, on the state after it, which the chain of first iterations below shares. In a loop's iterations 1..n-2
    (all in the same context), an entry state equal to the previous iteration's means the same sums and exit
    state, one loop step further, for all the rest of them: they are added at once. Every count is an integer held
    in a float64, so the sums are exact (below 2**53) whatever their order. Two cases need no frames: the MAC
    without a fan-out above it, whose every step brings one word that the parent reads alone (the count of the
    iterations that run), and the innermost loops that do not move t, which `_leaf` takes with each step. A stream
    that no residual touches (`whole_stream`) at a level without a fan-out above it is a perfect one:
    `counts.fill_stream`'s closed form counts it, and the parent reads what it fills.

    `origin`: the dim offsets where the instance's iterations start (all 0 while every instance under a fan-out does
    the same work; an instance of unequal work would pass the offsets of its spatial indices). Bases, cut contexts
    and the iterations that run are all taken from it. `fresh`: start an empty memo; False keeps the previous
    sweep's, which is exact when that sweep counted the same (level, tensor) from another origin: frames are keyed
    on their cut context and relative state, which do not depend on the origin."""
    bounds, coef = layer.bounds, layer.coef
    frames, memo = ws.frames, ws.memo
    full = child.extents
    sw = ws.sweep[0]
    if sw.ready == 0:                     # the table is cleared on the workspace's first sweep only
        for k in range(memo.shape[0]):
            memo[k].stamp = 0
        sw.ready = 1
    if fresh:                             # before any shortcut: a caller passes fresh once per (level, tensor)
        sw.stamp += 1
        sw.entries = 0
    stamp = sw.stamp
    ax = layer.ax
    if n_children == 1 and not is_mac and whole_stream(t, temporal, M, bounds, origin, full, ax):
        F, _ = fill_stream(t, temporal, M, layer.co, child.axes[t], child.tiles[t])
        return F, F, 0.0
    st = sw.state
    for k in range(STATE_LEN):
        st[k] = 0
    sw.listed = 0                         # the children under the fan-out: not listed yet (`links._link_saving`)
    sw.n_links = 0
    ws.scratch[0].n_diffs = -2            # nor their neighbour differences
    tail = M                              # loops tail..M-1 do not move t: `_leaf` takes them with each step
    while tail > 0 and not is_mac and ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    if tail == 0:
        return _leaf(t, origin, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws,
                     temporal, tail, M)
    if is_mac and n_children == 1:       # every step brings one word, read from the parent alone
        steps = float(_iterations_run(temporal, M, bounds, origin))
        return steps, groups * steps, 0.0
    # frames[j].reach: the dim extents that frame j's iterations and tiles span from its base
    reach = frames[M].reach
    for d in range(8):
        reach[d] = 1 if is_mac or ax[t, d] < 0 else full[d]   # a dim that does not index t cuts none of its tiles
    off = sw.off
    for j in range(M - 1, -1, -1):
        lp = temporal[j]
        f = frames[j]
        for d in range(8):
            f.reach[d] = frames[j + 1].reach[d]
            off[d] = 0
        f.reach[lp.dim] += (lp.bound - 1) * lp.step
        off[lp.dim] = lp.step
        project(t, off, coef, f.pstep)
    f = frames[0]
    for d in range(8):
        f.base[d] = origin[d]
    project(t, origin, coef, f.pb)
    f.whole = 0
    f.first[0], f.first[1], f.first[2] = _leaf(t, origin, st, full, is_mac, layer, groups, n_children, spatial,
                                               n_sp, fan_x, fan_y, ws, temporal, tail, M)
    f.hash1 = -1                          # the outermost frame is not memoized
    _start(f, temporal, 0, bounds)
    j = 0
    while True:
        f = frames[j]
        i = f.i
        n = f.n
        if i < n:
            pbi = f.pbi
            for a in range(N_AXES):
                pbi[a] = f.pb[a] + i * f.pstep[a]
            entry = f.entry[i & 1]
            _moved(st, pbi, -1, entry)
            if f.p_valid != 0 and i <= n - 2 and _same_state(entry, f.entry[(i - 1) & 1]):
                # Iterations i..n-2 repeat iteration i-1, one step further each: the same sums, and each leaves
                # the next one this entry state, iteration n-1 too.
                for q in range(3):
                    f.sums[q] += (n - 1 - i) * f.p_sums[q]
                for a in range(N_AXES):
                    pbi[a] = f.pb[a] + (n - 1) * f.pstep[a]
                _moved(entry, pbi, 1, st)
                f.i = n - 1
                f.p_valid = 0
                continue
            lp = temporal[j]
            if j + 1 == tail:             # a step; iteration 0's is the frame's first, already taken
                if i == 0:
                    s0, s1, s2 = 0.0, 0.0, 0.0
                else:
                    for d in range(8):
                        off[d] = f.base[d]
                    off[lp.dim] += i * lp.step
                    s0, s1, s2 = _leaf(t, off, st, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x,
                                       fan_y, ws, temporal, tail, M)
            else:
                c = frames[j + 1]
                base, ctx, reach = c.base, c.ctx, c.reach
                for d in range(8):
                    base[d] = f.base[d]
                base[lp.dim] += i * lp.step
                for d in range(8):
                    rem = bounds[d] - base[d]
                    ctx[d] = rem if rem < reach[d] else reach[d]
                for a in range(N_AXES):
                    c.pb[a] = pbi[a]
                c.whole = 0
                for q in range(3):
                    c.first[q] = 0.0
                hit = False
                if i > 0:                 # a whole frame: keyed on its entry state
                    h = _key_hash(2 * j + 2, ctx, entry)
                    e = memo[_memo_find(memo, h, 2 * j + 2, ctx, entry, stamp)]
                    if e.stamp == stamp:
                        s0, s1, s2 = e.sums[0], e.sums[1], e.sums[2]
                        _moved(e.exit, c.pb, 1, st)
                        hit = True
                    else:
                        c.whole = 1
                        c.hash = h
                        c.first[0], c.first[1], c.first[2] = _leaf(t, base, st, full, is_mac, layer, groups,
                                                                   n_children, spatial, n_sp, fan_x, fan_y, ws,
                                                                   temporal, tail, M)
                if not hit:               # keyed on the state after its first step
                    _moved(st, c.pb, -1, c.s1)
                    h = _key_hash(2 * j + 3, ctx, c.s1)
                    e = memo[_memo_find(memo, h, 2 * j + 3, ctx, c.s1, stamp)]
                    if e.stamp == stamp:
                        _moved(e.exit, c.pb, 1, st)
                        s0 = e.sums[0] + c.first[0]
                        s1 = e.sums[1] + c.first[1]
                        s2 = e.sums[2] + c.first[2]
                        if c.whole:
                            _memo_store(memo, sw, c.hash, 2 * j + 2, ctx, entry, e.sums, c.first, st, c.pb, stamp)
                    else:
                        c.hash1 = h
                        _start(c, temporal, j + 1, bounds)
                        j += 1
                        continue
        else:
            # frame j is done: memoize it, and return its sums to its parent's iteration
            if j == 0:
                return f.sums[0] + f.first[0], f.sums[1] + f.first[1], f.sums[2] + f.first[2]
            p = frames[j - 1]
            _memo_store(memo, sw, f.hash1, 2 * j + 1, f.ctx, f.s1, f.sums, sw.zero, st, f.pb, stamp)
            if f.whole:
                _memo_store(memo, sw, f.hash, 2 * j, f.ctx, p.entry[p.i & 1], f.sums, f.first, st, f.pb, stamp)
            s0 = f.sums[0] + f.first[0]
            s1 = f.sums[1] + f.first[1]
            s2 = f.sums[2] + f.first[2]
            j -= 1
            f = p
        # iteration f.i of frame j ended with sums (s0, s1, s2)
        f.sums[0] += s0
        f.sums[1] += s1
        f.sums[2] += s2
        if f.i > 0:                       # iteration 0 lacks its first step: no pattern to repeat
            f.p_sums[0] = s0
            f.p_sums[1] = s1
            f.p_sums[2] = s2
            f.p_valid = 1
        f.i += 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def residual_accesses(layer, acc, ws, n_temporal):
    """`counts.level_accesses` for a residual mapping: per level and tensor its fills, the accesses its parent
    serves it (multicast and links), the multicast-weighted reads and the peer transfers, from `sweep`."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels = ws.temporal, ws.spatial, ws.levels
    scratch = ws.scratch[0]
    origin = ws.sweep[0].origin          # every instance under a fan-out starts at the same offsets
    L = levels.shape[0] - 1
    moving_loops(ax, temporal, n_temporal)
    levels[0].peer[:] = 0.0
    M = 0
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        child, parent = levels[lvl], levels[p]
        child.peer[:] = 0.0
        while M < n_temporal and temporal[M].level < lvl:
            M += 1
        n_sp = np.int64(0)
        n_children = np.int64(1)
        if parent.n_spatial > 0:
            n_sp, n_children = spatial_loops(ws.loops, levels, p, spatial)
        for t in range(3):
            if n_children == 1 and not is_mac and child.kept[t] == 0:
                parent.access[t] = 1.0      # as in `counts.level_accesses`: the bypass fold's ratio is 1.0
                parent.mcw[t] = 1.0
                continue
            groups = np.int64(1)
            if n_sp > 0:
                groups = spatial_axes(t, spatial, n_sp, ax, co, scratch)
            F, reads, transfers = sweep(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp,
                                        fanout[p, 0], fanout[p, 1], ws, origin, True)
            child.fill[t] = F
            if n_children > 1:
                child.peer[t] = transfers / n_children
            parent.access[t] = reads
            parent.mcw[t] = n_children * F - transfers
