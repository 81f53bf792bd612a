"""The fills (R2) of a residual stream in closed form: the frame walk's count (`sweep.walk` with `residual.leaf_step`)
without visiting its steps, for a (level, tensor) with no fan-out above it in a temporal-class mapping.

Phases. Per dim, the loops above the level run full passes until every one of them outside is at its last
iteration (F2); then the dim is in its last phase, whose offsets and tile cut are one fixed value. A frame (loop j
with the loops inside it, from some base offset) is therefore determined by j and its cut context: per dim, the
bound less the base, capped at the extent the frame's iterations and tiles span (`sweep`'s context). Its
iterations 0..n-2 are frames j + 1 of one context (the dim of loop j in its full phase) and its last one of another
(the context carried on), so the frames form a small tree of distinct (j, context) nodes, at most 2^(dims with a
residual) per depth, built top-down and summarized bottom-up.

Summary of a node (as a function of the stride memory of R2 when it starts). Its first tile (extents; corner at its
base), its last tile (corner relative to the base, extents) and its steps between them. The steps depend on what
came before only through the stride memory (none, or the last stride) at the first step that changes the tile
(the node's *first move*): that step reuses the overlap when no stride is remembered, or when it repeats the
remembered one and no axis lost two words or more (`state.delta`), and brings its whole tile otherwise. After it
the memory is the move's own (its translation, or none), so the rest of the node's steps and the memory it leaves
are two fixed values, one per outcome of the first move. A node is summarized from its children by running that
rule over their sequence (first child, step, middle child, step, ..., last child): the middle iterations repeat the
same child, so once an iteration leaves both outcomes' memories as it found them, every further one adds the same
counts (`_compose`). Counts are integers, as in the walk, so the result is the walk's exactly.

The nodes live in a borrowed int64 scratch (`NODE` words each); a stream with more nodes than it holds, or a
context the phases do not predict, returns -1 and is left to the walk.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box
from .workspace import MAX_LEVELS

# A node's record in the scratch: scalars, then 8-dim and N_AXES-axis vectors.
J, N, CM, CL, HAS_MOVE, FM_OK, FM_OVER, FM_WHOLE = range(8)
REST = 8              # [2]: the rest of the node's fills after its first move, per outcome (0 overlap, 1 whole)
EXIT_HAS = 10         # [2]: per outcome, whether the node leaves a stride remembered
FIRST_WORDS = 12
CTX = 13              # [8]: the cut context
FM_T = CTX + 8        # [N_AXES]: the first move's translation
EXIT_STRIDE = FM_T + N_AXES           # [2 x N_AXES]: per outcome, the stride left remembered
FIRST_EXT = EXIT_STRIDE + 2 * N_AXES  # [N_AXES]
LAST_LO = FIRST_EXT + N_AXES          # [N_AXES]: the last tile's corner relative to the node's first
LAST_EXT = LAST_LO + N_AXES           # [N_AXES]
NODE = LAST_EXT + N_AXES
MEM = 1 + N_AXES      # a stride memory: has, stride [N_AXES]
MAX_NODES = 1024
"""Nodes a stream may need before it is left to the walk (the dev corpora and random decodes need far fewer)."""
POOL_WORDS = MAX_NODES * NODE + 64 + 8 * (8 * MAX_LEVELS + 1)
"""Scratch words `phase_fills` needs: the nodes, 64 for `_compose` and the vectors, the reach of every temporal loop."""


@njit(cache=True, inline="always")
def _outcome(has, stride, T, ok):
    """R2 on a move by T (ok: no axis lost two words or more) after a memory (has, stride): 0 it reuses the
    overlap, 1 it brings the whole tile."""
    if has == 0:
        return 0
    if not ok:
        return 1
    for a in range(N_AXES):
        if stride[a] != T[a]:
            return 1
    return 0


@njit(cache=True, inline="always")
def _set_mem(mem, v, has, src, o):
    """Memory v of `mem` (two memories back to back) <- (has, src[o:o + N_AXES]) (zeros without a stride)."""
    b = v * MEM
    mem[b] = has
    for a in range(N_AXES):
        mem[b + 1 + a] = src[o + a] if has != 0 else 0


@njit(cache=True, inline="always")
def _child(pool, k, c, known, mem, sums):
    """The steps inside child node c, in node k's sequence. Before node k's first move (known[0] == 0) c's first
    move becomes k's; after it, each outcome's memory takes c through its own first move."""
    if pool[c + HAS_MOVE] == 0:
        return
    if known[0] == 0:
        pool[k + HAS_MOVE] = 1
        pool[k + FM_OK] = pool[c + FM_OK]
        pool[k + FM_OVER] = pool[c + FM_OVER]
        pool[k + FM_WHOLE] = pool[c + FM_WHOLE]
        for a in range(N_AXES):
            pool[k + FM_T + a] = pool[c + FM_T + a]
        for v in range(2):
            _set_mem(mem, v, pool[c + EXIT_HAS + v], pool, c + EXIT_STRIDE + v * N_AXES)
            sums[v] = pool[c + REST + v]
        known[0] = 1
        return
    for v in range(2):
        b = v * MEM
        o = _outcome(mem[b], mem[b + 1:b + 1 + N_AXES], pool[c + FM_T:c + FM_T + N_AXES], pool[c + FM_OK] != 0)
        sums[v] += (pool[c + FM_OVER] if o == 0 else pool[c + FM_WHOLE]) + pool[c + REST + o]
        _set_mem(mem, v, pool[c + EXIT_HAS + o], pool, c + EXIT_STRIDE + o * N_AXES)


@njit(cache=True, inline="always")
def _step(pool, k, p, q, shift, known, mem, sums, T):
    """The step of node k's loop from child p's last tile to child q's first (`shift`: the loop's step on the
    tensor's axes), in node k's sequence."""
    still = True
    ok = True
    overlap = np.int64(1)
    for a in range(N_AXES):
        T[a] = shift[a] - pool[p + LAST_LO + a]
        pext = pool[p + LAST_EXT + a]
        ext = pool[q + FIRST_EXT + a]
        if T[a] != 0 or pext != ext:
            still = False
        if pext - ext > 1:
            ok = False
        ov = min(T[a] + ext, pext) - max(T[a], 0)
        overlap *= ov if ov > 0 else 0
    if still:
        return
    words = pool[q + FIRST_WORDS]
    over = words - overlap
    if known[0] == 0:
        pool[k + HAS_MOVE] = 1
        pool[k + FM_OK] = 1 if ok else 0
        pool[k + FM_OVER] = over
        pool[k + FM_WHOLE] = words
        for a in range(N_AXES):
            pool[k + FM_T + a] = T[a]
        _set_mem(mem, 0, 1, T, 0)
        _set_mem(mem, 1, 0, T, 0)
        sums[0] = 0
        sums[1] = 0
        known[0] = 1
        return
    for v in range(2):
        b = v * MEM
        o = _outcome(mem[b], mem[b + 1:b + 1 + N_AXES], T, ok)
        sums[v] += over if o == 0 else words
        _set_mem(mem, v, 1 - o, T, 0)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _compose(pool, k, shift, scratch):
    """Node k's summary from its children's (`phase_fills`' second pass): its sequence is child 0, then per further
    iteration the loop's step and that iteration's child (the middle child up to n-2, the last child at n-1)."""
    n = pool[k + N]
    cm = pool[k + CM]
    cl = pool[k + CL]
    known = scratch[0:1]
    sums = scratch[1:3]
    seg = scratch[3:5]
    mem = scratch[5:5 + 2 * MEM]
    before = scratch[5 + 2 * MEM:5 + 4 * MEM]
    T = scratch[5 + 4 * MEM:5 + 4 * MEM + N_AXES]
    known[0] = 0
    pool[k + HAS_MOVE] = 0
    c0 = cm if n >= 2 else cl
    _child(pool, k, c0, known, mem, sums)
    last = n - 2 if cm != cl else n - 1       # the iterations that repeat: the last too when its child is cm
    i = np.int64(1)
    while i <= last:                      # the middle iterations 1..last: step cm -> cm, then cm
        if known[0] != 0:
            for w in range(2 * MEM):
                before[w] = mem[w]
            seg[0] = sums[0]
            seg[1] = sums[1]
        was = known[0]
        _step(pool, k, cm, cm, shift, known, mem, sums, T)
        _child(pool, k, cm, known, mem, sums)
        i += 1
        if known[0] == 0:                 # nothing moved: nor will any further middle iteration
            i = last + 1
        elif was != 0:
            repeat = True
            for w in range(2 * MEM):
                if before[w] != mem[w]:
                    repeat = False
                    break
            if repeat:                    # the same memories again: every further middle iteration adds the same
                left = last + 1 - i
                sums[0] += left * (sums[0] - seg[0])
                sums[1] += left * (sums[1] - seg[1])
                i = last + 1
    if n >= 2 and cm != cl:
        _step(pool, k, cm, cl, shift, known, mem, sums, T)
        _child(pool, k, cl, known, mem, sums)
    if known[0] != 0:
        for v in range(2):
            pool[k + REST + v] = sums[v]
            pool[k + EXIT_HAS + v] = mem[v * MEM]
            for a in range(N_AXES):
                pool[k + EXIT_STRIDE + v * N_AXES + a] = mem[v * MEM + 1 + a]
    pool[k + FIRST_WORDS] = pool[c0 + FIRST_WORDS]
    for a in range(N_AXES):
        pool[k + FIRST_EXT + a] = pool[c0 + FIRST_EXT + a]
        pool[k + LAST_LO + a] = (n - 1) * shift[a] + pool[cl + LAST_LO + a]
        pool[k + LAST_EXT + a] = pool[cl + LAST_EXT + a]


@njit(cache=True, inline="always")
def _find_or_add(pool, lo, count, j, ctx):
    """The node of depth j with context ctx among nodes lo..count-1, or a new one at `count`; (index, count)."""
    for q in range(lo, count):
        k = q * NODE
        same = True
        for d in range(8):
            if pool[k + CTX + d] != ctx[d]:
                same = False
                break
        if same:
            return q, count
    k = count * NODE
    pool[k + J] = j
    for d in range(8):
        pool[k + CTX + d] = ctx[d]
    return count, count + 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_fills(t, temporal, M, full, layer, origin, pool):
    """Fills of one instance of a (level, tensor) over the iterations of the M temporal loops above it that run
    from `origin`, or -1 where the phases do not apply (then the walk counts it); `full`: the level's dim extents
    (its tile is full[d] cut at the bound). Not for the MAC. `pool`: int64 scratch of at least `POOL_WORDS`."""
    bounds, coef, ax, co = layer.bounds, layer.coef, layer.ax, layer.co
    scratch = pool[MAX_NODES * NODE:MAX_NODES * NODE + 64]
    shift = scratch[40:40 + N_AXES]
    ctx = scratch[48:56]
    clip = scratch[56:64]
    reach = pool[MAX_NODES * NODE + 64:MAX_NODES * NODE + 64 + (M + 1) * 8]
    # reach[j]: the dim extents frame j's iterations and tiles span from its base (`sweep._first_frame`'s)
    for d in range(8):
        reach[M * 8 + d] = full[d] if ax[t, d] >= 0 else 1
    for j in range(M - 1, -1, -1):
        lp = temporal[j]
        for d in range(8):
            reach[j * 8 + d] = reach[(j + 1) * 8 + d]
        reach[j * 8 + lp.dim] += (lp.bound - 1) * lp.step
    # The innermost loops tail..M-1 do not move t: their steps bring nothing and change no stride memory (still
    # steps), so a leaf is a tile with them (as `residual.leaf_step` takes them) and the tree stops at depth tail.
    tail = M
    while tail > 0 and ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    # top-down: the distinct (depth, context) nodes, depth by depth
    for d in range(8):
        rem = bounds[d] - origin[d]
        pool[CTX + d] = min(rem, reach[d])
    pool[J] = 0
    count = np.int64(1)
    lo = np.int64(0)                      # first node of the current depth
    for j in range(tail):
        lp = temporal[j]
        dim, step = lp.dim, lp.step
        hi = count
        nxt = count                       # first node of depth j + 1
        for q in range(lo, hi):
            k = q * NODE
            n = min(lp.bound, (pool[k + CTX + dim] + step - 1) // step)
            pool[k + N] = n
            pool[k + CM] = -1
            for d in range(8):
                ctx[d] = min(pool[k + CTX + d], reach[(j + 1) * 8 + d])
            if n >= 2:                    # iterations 0..n-2: one context (checked at both ends)
                first = min(pool[k + CTX + dim], reach[(j + 1) * 8 + dim])
                ctx[dim] = min(pool[k + CTX + dim] - (n - 2) * step, reach[(j + 1) * 8 + dim])
                if ctx[dim] != first:
                    return -1.0
                c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
                pool[k + CM] = c * NODE
            ctx[dim] = min(pool[k + CTX + dim] - (n - 1) * step, reach[(j + 1) * 8 + dim])
            c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
            pool[k + CL] = c * NODE
            if count >= MAX_NODES:
                return -1.0
        lo = nxt
    # bottom-up: leaves (one tile each), then every node from its children
    ext = scratch[34:34 + N_AXES]
    for q in range(count - 1, -1, -1):
        k = q * NODE
        j = pool[k + J]
        if j == tail:
            for d in range(8):
                clip[d] = min(full[d], pool[k + CTX + d])
            pool[k + FIRST_WORDS] = box(t, clip, coef, ext)
            pool[k + HAS_MOVE] = 0
            for a in range(N_AXES):
                pool[k + FIRST_EXT + a] = ext[a]
                pool[k + LAST_EXT + a] = ext[a]
                pool[k + LAST_LO + a] = 0
            continue
        lp = temporal[j]
        for a in range(N_AXES):
            shift[a] = 0
        a = ax[t, lp.dim]
        if a >= 0:
            shift[a] = co[t, lp.dim] * lp.step
        _compose(pool, k, shift, scratch)
    # the stream's first tile is brought whole and leaves no stride: its first move reuses the overlap
    fills = pool[FIRST_WORDS]
    if pool[HAS_MOVE] != 0:
        fills += pool[FM_OVER] + pool[REST]
    return float(fills)
