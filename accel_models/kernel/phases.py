"""A residual stream's fills, parent reads and link transfers (R2-R4) in closed form: the frame walk's counts
(`sweep.walk` with `residual.leaf_step`) without visiting its steps, for a (level, tensor) of a temporal-class mapping
(every instance under a fan-out does the same work) below the MAC level.

Phases. Per dim, the loops above the level run full passes until every one of them outside is at its last
iteration (F2); then the dim is in its last phase, whose offsets and tile cut are one fixed value. A frame (loop j
with the loops inside it, from some base offset) is therefore determined by j and its cut context: per dim, the
bound less the base, capped at the extent the frame's iterations and tiles span (`sweep`'s context). Its
iterations 0..n-2 are frames j + 1 of one context (the dim of loop j in its full phase) and its last one of another
(the context carried on), so the frames form a small tree of distinct (j, context) nodes, at most 2^(dims with a
residual) per depth, built top-down and summarized bottom-up (`phase_counts`).

Summary of a node, as a function of what the steps before it leave. Its first tile (extents; corner at its base),
its last tile (corner relative to the base, extents) and its steps between them. Two things cross into a node:
- the stride memory of R2 (none, or the last stride), which decides its first step that changes the tile (its
  *first move*): the move reuses the overlap when no stride is remembered, or when it repeats the remembered one and
  no axis lost two words or more (`state.delta`), and brings its whole tile otherwise;
- the previous step's delta (as a set of points, and none after a step that brought nothing), which a step's link
  needs (R3: the delta equals it moved by a grid neighbour's offset difference); only the first move can see one
  from outside the node, and only when it is the node's very first step.
After the first move both are the move's own, so the rest of the node's counts, the memory it leaves and its last
delta are fixed values, one per outcome of the first move (overlap or whole). A node is summarized from its
children by running the step rule over their sequence (first child, step, middle child, step, ..., last child): the
middle iterations repeat one child, so once an iteration leaves both outcomes' memories and last deltas as it found
them (relative to its corner), every further one adds the same counts (`_compose`). Every count is an integer (held
in int64 here, in float64 by the walk), so the result is the walk's exactly. docs/imperfect.md ("The phases") works
an example.

The nodes live in a borrowed int64 scratch (`NODE` words each); a stream with more nodes than it holds, or a
context the phases do not predict, returns -1 fills and is left to the walk.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box
from .residual import link_per_word
from .workspace import MAX_LEVELS

# A delta (a set of points: the tile less, if OLD, the previous tile): its words, then boxes on the tensor's axes.
SIZE, OLD, LO = 0, 1, 2
EXT = LO + N_AXES
OLO = EXT + N_AXES
OEXT = OLO + N_AXES
DESC = OEXT + N_AXES

# A node's record: scalars, then vectors. Per outcome o of the first move (0 overlap, 1 whole): [2] entries.
J, N, CM, CL, HAS_MOVE, FM_OK, FM_OVER, FM_WHOLE, FM_FIRST, HAS_STEP, FIRST_WORDS = range(11)
REST = 11             # [2] fills after the first move
REST_READS = 13       # [2] parent reads after the first move
REST_MOVED = 15       # [2] link transfers after the first move
EXIT_HAS = 17         # [2] whether a stride is left remembered
CTX = 19              # [8] the cut context
FM_T = CTX + 8                        # [N_AXES] the first move's translation
EXIT_STRIDE = FM_T + N_AXES           # [2 x N_AXES] the stride left remembered
FIRST_EXT = EXIT_STRIDE + 2 * N_AXES  # [N_AXES]
LAST_LO = FIRST_EXT + N_AXES          # [N_AXES] the last tile's corner relative to the node's first
LAST_EXT = LAST_LO + N_AXES           # [N_AXES]
FM_DELTA = LAST_EXT + N_AXES          # [2 x DESC] the first move's delta (node coordinates)
LAST_DELTA = FM_DELTA + 2 * DESC      # [2 x DESC] the last step's delta (SIZE 0: none; HAS_STEP 0: no step at all)
NODE = LAST_DELTA + 2 * DESC

# The sequence processor's state per outcome (`VAR` words each, back to back): the stride memory, the previous
# delta (relative to the current child's corner) and the sums.
MEM = 0               # has, stride [N_AXES]
PD = 1 + N_AXES       # [DESC]
SUMS = PD + DESC      # fills, reads, transfers
VAR = SUMS + 3
KNOWN = 2 * VAR       # the first move seen
STEPPED = KNOWN + 1   # a step (still) seen before it
BEFORE = STEPPED + 1  # [2 x VAR] the state before a middle iteration
STEP_T = BEFORE + 2 * VAR             # [N_AXES]
STEP_D = STEP_T + N_AXES              # [2 x DESC] a step's delta per outcome
SHIFT = STEP_D + 2 * DESC             # [N_AXES] the loop's step on the tensor's axes
CTXS = SHIFT + N_AXES                 # [8]
CLIP = CTXS + 8                       # [8]
BOXE = CLIP + 8                       # [N_AXES]
AT = BOXE + N_AXES                    # [N_AXES] the current child's corner in the node's coordinates
SCRATCH = AT + N_AXES

MAX_NODES = 512
"""Nodes a stream may need before it is left to the walk (the dev corpora and random decodes need far fewer)."""
POOL_WORDS = MAX_NODES * NODE + SCRATCH + 8 * (8 * MAX_LEVELS + 1)
"""Scratch words `phase_counts` needs: the nodes, the sequence processor's state, the reach of every temporal loop."""


@njit(cache=True, inline="always")
def _outcome(pool, mem, T, ok):
    """R2 on a move by pool[T:T + N_AXES] (ok: no axis lost two words or more) after the stride memory at `mem`:
    0 it reuses the overlap, 1 it brings the whole tile."""
    if pool[mem] == 0:
        return 0
    if not ok:
        return 1
    for a in range(N_AXES):
        if pool[mem + 1 + a] != pool[T + a]:
            return 1
    return 0


@njit(cache=True, inline="always")
def _copy(pool, dst, src, n):
    for w in range(n):
        pool[dst + w] = pool[src + w]


@njit(cache=True, inline="always")
def _copy_delta(pool, dst, src, shift, sign):
    """The delta at src moved by sign x shift (a vector at `shift`) into dst."""
    _copy(pool, dst, src, DESC)
    for a in range(N_AXES):
        pool[dst + LO + a] += sign * pool[shift + a]
        pool[dst + OLO + a] += sign * pool[shift + a]


@njit(cache=True, inline="always")
def _corner(pool, d, a):
    """Axis a of the lower corner of the bounding box of delta d (`residual._corner`'s rule)."""
    lo = pool[d + LO + a]
    if pool[d + OLD] == 0:
        return lo
    for b in range(N_AXES):
        lb, eb = pool[d + LO + b], pool[d + EXT + b]
        xl = max(lb, pool[d + OLO + b])
        xh = min(lb + eb, pool[d + OLO + b] + pool[d + OEXT + b])
        if xh <= xl:
            return lo
        if b != a and (xl > lb or xh < lb + eb):
            return lo
    xl = max(lo, pool[d + OLO + a])
    xh = min(lo + pool[d + EXT + a], pool[d + OLO + a] + pool[d + OEXT + a])
    return xh if xl == lo else lo


@njit(cache=True, inline="always")
def _meet(pool, x, p, v, use_old, use_pold):
    """Words common to delta x's tile, delta p's tile moved by v and (if asked) x's old box and p's old box moved by
    v (`residual._meet`'s)."""
    n = np.int64(1)
    for a in range(N_AXES):
        lo = max(pool[x + LO + a], pool[p + LO + a] + v[a])
        hi = min(pool[x + LO + a] + pool[x + EXT + a], pool[p + LO + a] + pool[p + EXT + a] + v[a])
        if use_old:
            lo = max(lo, pool[x + OLO + a])
            hi = min(hi, pool[x + OLO + a] + pool[x + OEXT + a])
        if use_pold:
            lo = max(lo, pool[p + OLO + a] + v[a])
            hi = min(hi, pool[p + OLO + a] + pool[p + OEXT + a] + v[a])
        if hi <= lo:
            return np.int64(0)
        n *= hi - lo
    return n


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _served(pool, p, x, t, layer, ws):
    """(parent reads, link transfers) of delta x after delta p (R3, `residual._step`): its multicast groups' reads,
    less what grid neighbours that received x moved by their offset difference at the previous step pass on."""
    sw = ws.sweep[0]
    size = pool[x + SIZE]
    reads = sw.groups * size
    if size == 0 or sw.n_children <= 1 or pool[p + SIZE] != size:
        return reads, np.int64(0)
    xs = ws.scratch[0]
    v = xs.vstar
    for a in range(N_AXES):
        v[a] = _corner(pool, x, a) - _corner(pool, p, a)
    x_old = pool[x + OLD] != 0
    p_old = pool[p + OLD] != 0
    common = _meet(pool, x, p, v, False, False)
    if x_old:
        common -= _meet(pool, x, p, v, True, False)
    if p_old:
        common -= _meet(pool, x, p, v, False, True)
    if x_old and p_old:
        common += _meet(pool, x, p, v, True, True)
    if common != size:
        return reads, np.int64(0)
    saved, moved = link_per_word(t, xs, sw.groups, ws.spatial, sw.n_sp, sw.fan_x, sw.fan_y, layer, ws)
    return reads - np.int64(saved) * size, np.int64(moved) * size


@njit(cache=True, inline="always")
def _first_move(pool, k, S, fm_delta, at):
    """Node k's first move is the one at hand (deltas per outcome at fm_delta, in the current child's coordinates;
    `at`: that child's corner in node k's): k takes its delta; each outcome starts from it."""
    pool[k + HAS_MOVE] = 1
    pool[k + FM_FIRST] = 1 - pool[S + STEPPED]
    for o in range(2):
        _copy_delta(pool, k + FM_DELTA + o * DESC, fm_delta + o * DESC, at, 1)
        v = S + o * VAR
        _copy(pool, v + PD, fm_delta + o * DESC, DESC)
        for q in range(3):
            pool[v + SUMS + q] = 0
    pool[S + KNOWN] = 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _child(pool, k, c, S, at, t, layer, ws):
    """The steps inside child node c (placed at the current corner, `at` in node k's coordinates) in node k's
    sequence."""
    if pool[c + HAS_STEP] == 0:
        return
    if pool[c + HAS_MOVE] == 0:               # still steps only: no delta after them
        if pool[S + KNOWN] == 0:
            pool[S + STEPPED] = 1
        else:
            for o in range(2):
                pool[S + o * VAR + PD + SIZE] = 0
        return
    if pool[S + KNOWN] == 0:                  # c's first move is k's
        stepped = pool[S + STEPPED]
        _first_move(pool, k, S, c + FM_DELTA, at)
        pool[k + FM_FIRST] = pool[c + FM_FIRST] if stepped == 0 else 0
        pool[k + FM_OK] = pool[c + FM_OK]
        pool[k + FM_OVER] = pool[c + FM_OVER]
        pool[k + FM_WHOLE] = pool[c + FM_WHOLE]
        _copy(pool, k + FM_T, c + FM_T, N_AXES)
        for o in range(2):
            v = S + o * VAR
            pool[v + MEM] = pool[c + EXIT_HAS + o]
            _copy(pool, v + MEM + 1, c + EXIT_STRIDE + o * N_AXES, N_AXES)
            _copy(pool, v + PD, c + LAST_DELTA + o * DESC, DESC)
            pool[v + SUMS] = pool[c + REST + o]
            pool[v + SUMS + 1] = pool[c + REST_READS + o]
            pool[v + SUMS + 2] = pool[c + REST_MOVED + o]
        return
    for v in range(S, S + 2 * VAR, VAR):
        o = _outcome(pool, v + MEM, c + FM_T, pool[c + FM_OK] != 0)
        size = pool[c + FM_OVER] if o == 0 else pool[c + FM_WHOLE]
        fm = c + FM_DELTA + o * DESC
        if pool[c + FM_FIRST] != 0:
            reads, moved = _served(pool, v + PD, fm, t, layer, ws)
        else:
            reads, moved = ws.sweep[0].groups * size, np.int64(0)
        pool[v + SUMS] += size + pool[c + REST + o]
        pool[v + SUMS + 1] += reads + pool[c + REST_READS + o]
        pool[v + SUMS + 2] += moved + pool[c + REST_MOVED + o]
        pool[v + MEM] = pool[c + EXIT_HAS + o]
        _copy(pool, v + MEM + 1, c + EXIT_STRIDE + o * N_AXES, N_AXES)
        _copy(pool, v + PD, c + LAST_DELTA + o * DESC, DESC)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _step(pool, k, p, q, S, at, t, layer, ws):
    """The step of node k's loop from child p's last tile to child q's first (q's corner at `at` in node k's
    coordinates) in node k's sequence; the previous deltas are moved into q's coordinates first."""
    shift = S + SHIFT
    T = S + STEP_T
    for o in range(2):
        pd = S + o * VAR + PD
        if pool[pd + SIZE] != 0:
            _copy_delta(pool, pd, pd, shift, -1)
    still = True
    ok = True
    overlap = np.int64(1)
    for a in range(N_AXES):
        ta = pool[shift + a] - pool[p + LAST_LO + a]
        pool[T + a] = ta
        pext = pool[p + LAST_EXT + a]
        ext = pool[q + FIRST_EXT + a]
        if ta != 0 or pext != ext:
            still = False
        if pext - ext > 1:
            ok = False
        ov = min(ta + ext, pext) - max(ta, 0)
        overlap *= ov if ov > 0 else 0
    if still:                                 # brings nothing, leaves the stride memory, and no delta after it
        if pool[S + KNOWN] == 0:
            pool[S + STEPPED] = 1
        else:
            for o in range(2):
                pool[S + o * VAR + PD + SIZE] = 0
        return
    words = pool[q + FIRST_WORDS]
    D = S + STEP_D
    for o in range(2):                        # the delta per outcome, in q's coordinates
        d = D + o * DESC
        pool[d + SIZE] = words - overlap if o == 0 else words
        pool[d + OLD] = 1 - o
        for a in range(N_AXES):
            pool[d + LO + a] = 0
            pool[d + EXT + a] = pool[q + FIRST_EXT + a]
            pool[d + OLO + a] = -pool[T + a] if o == 0 else 0
            pool[d + OEXT + a] = pool[p + LAST_EXT + a] if o == 0 else 0
    if pool[S + KNOWN] == 0:
        _first_move(pool, k, S, D, at)
        pool[k + FM_OK] = 1 if ok else 0
        pool[k + FM_OVER] = words - overlap
        pool[k + FM_WHOLE] = words
        _copy(pool, k + FM_T, T, N_AXES)
        for o in range(2):
            v = S + o * VAR
            pool[v + MEM] = 1 - o
            for a in range(N_AXES):
                pool[v + MEM + 1 + a] = pool[T + a] if o == 0 else 0
        return
    for v in range(S, S + 2 * VAR, VAR):
        o = _outcome(pool, v + MEM, T, ok)
        d = D + o * DESC
        reads, moved = _served(pool, v + PD, d, t, layer, ws)
        pool[v + SUMS] += pool[d + SIZE]
        pool[v + SUMS + 1] += reads
        pool[v + SUMS + 2] += moved
        pool[v + MEM] = 1 - o
        for a in range(N_AXES):
            pool[v + MEM + 1 + a] = pool[T + a] if o == 0 else 0
        _copy(pool, v + PD, d, DESC)


@njit(cache=True, inline="always")
def _place(pool, S, i, at):
    """at <- i x the loop's step (the corner of iteration i in the node's coordinates)."""
    for a in range(N_AXES):
        pool[at + a] = i * pool[S + SHIFT + a]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _compose(pool, k, S, t, layer, ws):
    """Node k's summary from its children's (`phase_counts`' second pass): its sequence is child 0, then per further
    iteration the loop's step and that iteration's child (the middle child up to n-2, the last child at n-1)."""
    n = pool[k + N]
    cm = pool[k + CM]
    cl = pool[k + CL]
    at = S + AT
    pool[S + KNOWN] = 0
    pool[S + STEPPED] = 0
    pool[k + HAS_MOVE] = 0
    pool[k + FM_FIRST] = 0
    c0 = cm if n >= 2 else cl
    _place(pool, S, 0, at)
    _child(pool, k, c0, S, at, t, layer, ws)
    i = np.int64(1)
    while i <= n - 2:                         # the middle iterations 1..n-2: step cm -> cm, then cm
        was = pool[S + KNOWN]
        if was != 0:
            _copy(pool, S + BEFORE, S, 2 * VAR)
        _place(pool, S, i, at)
        _step(pool, k, cm, cm, S, at, t, layer, ws)
        _child(pool, k, cm, S, at, t, layer, ws)
        i += 1
        if pool[S + KNOWN] == 0:              # nothing moved: nor will any further middle iteration
            i = n - 1
        elif was != 0:
            repeat = True
            for v in range(0, 2 * VAR, VAR):
                for w in range(SUMS):
                    if pool[S + BEFORE + v + w] != pool[S + v + w]:
                        repeat = False
            if repeat:                        # the same memories and deltas again: each further iteration adds
                left = n - 1 - i              # the same counts
                for v in range(0, 2 * VAR, VAR):
                    for q in range(3):
                        pool[S + v + SUMS + q] += left * (pool[S + v + SUMS + q] - pool[S + BEFORE + v + SUMS + q])
                i = n - 1
    if n >= 2:
        _place(pool, S, n - 1, at)
        _step(pool, k, cm, cl, S, at, t, layer, ws)
        _child(pool, k, cl, S, at, t, layer, ws)
    pool[k + HAS_STEP] = 1 if n >= 2 or pool[c0 + HAS_STEP] != 0 else 0
    for o in range(2):
        v = S + o * VAR
        if pool[S + KNOWN] != 0:
            pool[k + REST + o] = pool[v + SUMS]
            pool[k + REST_READS + o] = pool[v + SUMS + 1]
            pool[k + REST_MOVED + o] = pool[v + SUMS + 2]
            pool[k + EXIT_HAS + o] = pool[v + MEM]
            _copy(pool, k + EXIT_STRIDE + o * N_AXES, v + MEM + 1, N_AXES)
            _copy_delta(pool, k + LAST_DELTA + o * DESC, v + PD, at, 1)
        else:
            pool[k + LAST_DELTA + o * DESC + SIZE] = 0       # still steps only (or none)
    pool[k + FIRST_WORDS] = pool[c0 + FIRST_WORDS]
    for a in range(N_AXES):
        pool[k + FIRST_EXT + a] = pool[c0 + FIRST_EXT + a]
        pool[k + LAST_LO + a] = (n - 1) * pool[S + SHIFT + a] + pool[cl + LAST_LO + a]
        pool[k + LAST_EXT + a] = pool[cl + LAST_EXT + a]


@njit(cache=True, inline="always")
def _find_or_add(pool, lo, count, j, ctx):
    """The node of depth j with context pool[ctx:ctx + 8] among nodes lo..count-1, or a new one at `count`;
    (index, count)."""
    for q in range(lo, count):
        k = q * NODE
        same = True
        for d in range(8):
            if pool[k + CTX + d] != pool[ctx + d]:
                same = False
                break
        if same:
            return q, count
    k = count * NODE
    pool[k + J] = j
    _copy(pool, k + CTX, ctx, 8)
    return count, count + 1


@njit(cache=True, inline="always")
def _nodes(temporal, M, reach, bounds, origin, pool, S):
    """Top-down: the distinct (depth, context) nodes of the stream, depth by depth, each with its iterations and
    children (`CM` for iterations 0..n-2, `CL` for n-1); their count, or -1 past MAX_NODES or where iterations 0..n-2
    would not share a context."""
    ctx = S + CTXS
    for d in range(8):
        pool[CTX + d] = min(bounds[d] - origin[d], reach[d])
    pool[J] = 0
    count = np.int64(1)
    lo = np.int64(0)                          # first node of the current depth
    for j in range(M):
        lp = temporal[j]
        dim, step = lp.dim, lp.step
        nxt = count                           # first node of depth j + 1
        for q in range(lo, nxt):
            k = q * NODE
            rem = pool[k + CTX + dim]
            n = min(lp.bound, (rem + step - 1) // step)
            pool[k + N] = n
            for d in range(8):
                pool[ctx + d] = min(pool[k + CTX + d], reach[(j + 1) * 8 + d])
            inner = reach[(j + 1) * 8 + dim]
            if n >= 2:
                pool[ctx + dim] = min(rem - (n - 2) * step, inner)
                if pool[ctx + dim] != min(rem, inner):
                    return np.int64(-1)
                c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
                pool[k + CM] = c * NODE
            pool[ctx + dim] = min(rem - (n - 1) * step, inner)
            c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
            pool[k + CL] = c * NODE
            if count >= MAX_NODES:
                return np.int64(-1)
        lo = nxt
    return count


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_counts(t, temporal, M, full, layer, origin, pool, groups, n_children, n_sp, fan_x, fan_y, ws):
    """(fills of one instance, reads of its parent, link transfers) of a (level, tensor) over the iterations of the
    M temporal loops above it that run from `origin`, as `sweep.sweep` counts them for a level that is not the MAC;
    fills -1 where the phases do not apply (then the walk counts it). `full`: the level's dim extents (its tile is
    full[d] cut at the bound); `groups`, `n_children`, `n_sp`, `fan_x`, `fan_y`: its fan-out as `sweep` takes it
    (`ws.spatial` its spatial loops). `pool`: int64 scratch of at least `POOL_WORDS` words."""
    bounds, coef, ax, co = layer.bounds, layer.coef, layer.ax, layer.co
    S = MAX_NODES * NODE
    reach = pool[S + SCRATCH:S + SCRATCH + (M + 1) * 8]
    # reach[j]: the dim extents frame j's iterations and tiles span from its base (`sweep._first_frame`'s)
    for d in range(8):
        reach[M * 8 + d] = full[d] if ax[t, d] >= 0 else 1
    for j in range(M - 1, -1, -1):
        lp = temporal[j]
        for d in range(8):
            reach[j * 8 + d] = reach[(j + 1) * 8 + d]
        reach[j * 8 + lp.dim] += (lp.bound - 1) * lp.step
    count = _nodes(temporal, M, reach, bounds, origin, pool, S)
    if count < 0:
        return -1.0, 0.0, 0.0
    sw = ws.sweep[0]                          # the links' set-up, as `sweep.sweep` makes it
    sw.listed = 0
    sw.n_links = 0
    ws.scratch[0].n_diffs = -2
    sw.groups = groups
    sw.n_children = n_children
    sw.n_sp = n_sp
    sw.fan_x = fan_x
    sw.fan_y = fan_y
    clip = pool[S + CLIP:S + CLIP + 8]
    ext = pool[S + BOXE:S + BOXE + N_AXES]
    for q in range(count - 1, -1, -1):        # bottom-up: leaves (one tile each), then nodes from their children
        k = q * NODE
        j = pool[k + J]
        if j == M:
            for d in range(8):
                clip[d] = min(full[d], pool[k + CTX + d])
            pool[k + FIRST_WORDS] = box(t, clip, coef, ext)
            pool[k + HAS_MOVE] = 0
            pool[k + HAS_STEP] = 0
            for a in range(N_AXES):
                pool[k + FIRST_EXT + a] = ext[a]
                pool[k + LAST_EXT + a] = ext[a]
                pool[k + LAST_LO + a] = 0
            continue
        lp = temporal[j]
        for a in range(N_AXES):
            pool[S + SHIFT + a] = 0
        a = ax[t, lp.dim]
        if a >= 0:
            pool[S + SHIFT + a] = co[t, lp.dim] * lp.step
        _compose(pool, k, S, t, layer, ws)
    # The stream's first tile comes whole, with no link (nothing before it) and no stride: its first move reuses the
    # overlap, and takes a link only from that tile's delta (when it is the stream's second step).
    words = pool[FIRST_WORDS]
    fills = words
    reads = groups * words
    moved = np.int64(0)
    if pool[HAS_MOVE] != 0:
        first = S + STEP_D                    # the first tile's delta, whole
        pool[first + SIZE] = words
        pool[first + OLD] = 0
        for a in range(N_AXES):
            pool[first + LO + a] = 0
            pool[first + EXT + a] = pool[FIRST_EXT + a]
            pool[first + OLO + a] = 0
            pool[first + OEXT + a] = 0
        fm = FM_DELTA                         # node 0's, outcome 0
        if pool[FM_FIRST] != 0:
            r, m = _served(pool, first, fm, t, layer, ws)
        else:
            r, m = groups * pool[FM_OVER], np.int64(0)
        fills += pool[FM_OVER] + pool[REST]
        reads += r + pool[REST_READS]
        moved += m + pool[REST_MOVED]
    return float(fills), float(reads), float(moved)
