"""Mappings with residual factors: `reference.evaluate`'s walk over the loop iterations, compiled, with what repeats
counted once.

The steps of a (level, tensor) are those of the M temporal loops above the level that run (F2: their dim offsets,
from an origin, stay below the bounds), each counted by the walk's rule: `residual.leaf_step` for one stream (a
uniform sweep: every child under the fan-out does the same work), `joint.joint_step` for the streams of several
classes of children at once (a joint sweep). `walk` visits them in the walk's order, grouped by loop, outermost first:
frame j runs the iterations of loops j..M-1 from a base offset (iteration i of frame j is frame j + 1 at base + i x
the loop's step). A frame's sums and exit state depend only on j, on its cut context (per dim, the bound less the
base, at most the reach beyond which no iteration or tile cut depends on it) and on its entry state relative to the
tile corner at its base (tensor coordinates are linear in the dim offsets): frames are memoized on that key
(`state.memo_find`). A frame's first step is that of its iteration 0 and so on down, and after it the state keeps
little of what came before: frames are also memoized without their first step, on the state after it, which the
chain of first iterations below shares. In a loop's iterations 1..n-2 (all in the same context), an entry state equal
to the previous iteration's means the same sums and exit state, one loop step further, for all the rest of them:
they are added at once. Every count is an integer held in a float64, so the sums are exact (below 2**53) whatever
their order, and the time grows with the distinct cut contexts, not with the iterations.

`accesses.level_accesses` calls `sweep` (through `uniform_stream`) for a residual mapping whose instances do the same
work;
`instances.class_accesses` calls `sweep` and `joint_sweep` per class where they do not.

The sweeps take the walk and the phases by address (`walks`: a `paths.Walks`, called once per stream): numba links a
callee it calls by name into its caller's code and optimizes it again there, so each of the sweeps, `uniform_stream`
and the classes' scaffold above them would compile the walk and the phases' closed form once more; by address each
compiles once, and apart.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import project
from ..mapping_arrays import N_DIMS
from .counts import fill_stream
from .joint import quiet_classes, setup_joint
from .phases import UNCHECKED, link_candidates, link_spread
from .residual import iterations_run, leaf_step, whole_stream
from .state import memo_find, memo_start, memo_store, key_hash, place, relative, same
from .workspace import STATE_LEN


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _start(f, lp, bounds):
    """Frame f (loop lp) set to run its iterations from the first."""
    f.n = min(lp.bound, (bounds[lp.dim] - f.base[lp.dim] + lp.step - 1) // lp.step)
    f.i = 0
    f.p_valid = 0
    for q in range(f.sums.shape[0]):
        f.sums[q] = 0.0


@njit(cache=True, inline="always")
def _take_step(joint, joint_step, t, off, temporal, M, tail, full, is_mac, layer, ws, out):
    """One step of the walk at dim offsets `off`, its sums into `out`: the classes' (`joint.joint_step` by address,
    `joint_step`) or the one stream's with the innermost loops tail..M-1 that do not move it (`residual.leaf_step`)."""
    if joint:
        jt = ws.joint[0]
        joint_step(t, off, full, is_mac, layer, jt.n, jt.n_children, ws, out)
    else:
        sw = ws.sweep[0]
        out[0], out[1], out[2] = leaf_step(t, off, sw.state, full, is_mac, layer, sw.groups, sw.n_children,
                                           ws.spatial, sw.n_sp, sw.fan_x, sw.fan_y, ws, temporal, tail, M)


@njit(cache=True, inline="always")
def _enter(f, c, j, lp, i, bounds):
    """Frame c (loop j + 1) placed at iteration i of frame f (loop j, `lp`): its base offsets, cut context and
    tensor corner; nothing of it taken yet."""
    base, ctx, reach = c.base, c.ctx, c.reach
    for d in range(N_DIMS):
        base[d] = f.base[d]
    base[lp.dim] += i * lp.step
    for d in range(N_DIMS):
        rem = bounds[d] - base[d]
        ctx[d] = rem if rem < reach[d] else reach[d]
    for a in range(N_AXES):
        c.pb[a] = f.pbi[a]
    c.whole = 0


@njit(cache=True, inline="always")
def _first_frame(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, origin):
    """The frames' reach and loop steps (ws.frames[M].reach: the innermost), and frame 0 started at `origin` with
    its first step taken."""
    coef = layer.coef
    frames = ws.frames
    at = ws.sweep[0].off
    for j in range(M - 1, -1, -1):        # frames[j].reach: the dim extents frame j's iterations and tiles span
        lp = temporal[j]
        f = frames[j]
        for d in range(N_DIMS):
            f.reach[d] = frames[j + 1].reach[d]
            at[d] = 0
        f.reach[lp.dim] += (lp.bound - 1) * lp.step
        at[lp.dim] = lp.step
        project(t, at, coef, f.pstep)
    f = frames[0]
    for d in range(N_DIMS):
        f.base[d] = origin[d]
    project(t, origin, coef, f.pb)
    f.whole = 0
    _take_step(joint, joint_step, t, origin, temporal, M, tail, full, is_mac, layer, ws, f.first)
    f.hash1 = -1                          # the outermost frame is not memoized
    _start(f, temporal[0], layer.bounds)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def walk(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, origin, state, n_words, n_sums, memo,
         result):
    """The sums (n_sums) of the steps of the M temporal loops above a (level, tensor) that run from `origin`, into
    `result`; the loops tail..M-1 are taken with each step (`_take_step`: `joint_step`, `joint.joint_step` by
    address, where `joint`, else `residual.leaf_step`). `state`: the carried state (n_words),
    `memo` the `workspace.MEMO` the frames are kept in (started by the caller). ws.frames[M].reach must hold the dim
    extents the innermost steps' tiles span from their offsets."""
    bounds = layer.bounds
    frames = ws.frames
    jt = ws.joint[0]
    n = jt.n
    at = ws.sweep[0].off
    base = frames[0].base                 # the origin, as the record's array the steps below take at every offset
    for d in range(N_DIMS):
        base[d] = origin[d]
    if tail == 0:
        _take_step(joint, joint_step, t, base, temporal, M, tail, full, is_mac, layer, ws, result)
        return
    _first_frame(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, base)
    s = frames[M].p_sums                  # the sums of the iteration that just ended
    j = 0
    while True:
        f = frames[j]
        i = f.i
        n_it = f.n
        if i < n_it:
            lp = temporal[j]
            pbi = f.pbi
            for a in range(N_AXES):
                pbi[a] = f.pb[a] + i * f.pstep[a]
            for d in range(N_DIMS):
                at[d] = f.base[d]
            at[lp.dim] += i * lp.step
            quiet = quiet_classes(jt, n, at, bounds, state) if joint else np.int64(0)
            entry = f.entry[i & 1]
            relative(state, n_words, pbi, quiet, entry)
            if f.p_valid != 0 and i <= n_it - 2 and same(entry, f.entry[(i - 1) & 1], n_words):
                # Iterations i..n-2 repeat iteration i-1, one step further each: the same sums, and each leaves
                # the next one this entry state, iteration n-1 too.
                for q in range(n_sums):
                    f.sums[q] += (n_it - 1 - i) * f.p_sums[q]
                for a in range(N_AXES):
                    pbi[a] = f.pb[a] + (n_it - 1) * f.pstep[a]
                place(entry, n_words, pbi, quiet, state)
                f.i = n_it - 1
                f.p_valid = 0
                continue
            if j + 1 == tail:             # a step; iteration 0's is the frame's first, already taken
                if i == 0:
                    for q in range(n_sums):
                        s[q] = 0.0
                else:
                    _take_step(joint, joint_step, t, at, temporal, M, tail, full, is_mac, layer, ws, s)
            elif _enter_frame(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, state, n_words, n_sums,
                              memo, f, j, i, quiet, entry, s):
                j += 1
                continue
        else:
            # frame j is done: memoize it, and return its sums to its parent's iteration
            if j == 0:
                for q in range(n_sums):
                    result[q] = f.sums[q] + f.first[q]
                return
            p = frames[j - 1]
            memo_store(memo, f.hash1, 2 * j + 1, f.ctx, f.s1[:], f.sums[:], ws.sweep[0].zero, n_sums, state, n_words,
                       f.pb, f.quiet1)
            if f.whole != 0:
                memo_store(memo, f.hash, 2 * j, f.ctx, p.entry[p.i & 1], f.sums[:], f.first, n_sums, state,
                           n_words, f.pb, f.quiet)
            for q in range(n_sums):
                s[q] = f.sums[q] + f.first[q]
            j -= 1
            f = p
        # iteration f.i of frame j ended with sums s
        for q in range(n_sums):
            f.sums[q] += s[q]
        if f.i > 0:                       # iteration 0 lacks its first step: no pattern to repeat
            for q in range(n_sums):
                f.p_sums[q] = s[q]
            f.p_valid = 1
        f.i += 1


@njit(cache=True, inline="always")
def _enter_frame(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, state, n_words, n_sums, memo, f,
                 j, i, quiet, entry, s):
    """Iteration i of frame f (loop j), whose relative entry state is `entry`: from the memo if frame j + 1 is
    there from this state (whole), or from the state after its first step (taken here); the sums into s, the state
    moved on, and False. True where neither is: frame j + 1 is started, for the walk to enter."""
    bounds = layer.bounds
    c = ws.frames[j + 1]
    _enter(f, c, j, temporal[j], i, bounds)
    c.quiet = quiet
    first = c.first
    for q in range(n_sums):
        first[q] = 0.0
    ctx = c.ctx
    if i > 0:                             # a whole frame: keyed on its entry state
        h = key_hash(2 * j + 2, ctx, entry, n_words)
        e = memo_find(memo, h, 2 * j + 2, ctx, entry, n_words)
        if memo.slot_stamp[e] == memo.stamp:
            for q in range(n_sums):
                s[q] = memo.slot_sums[e, q]
            o = memo.slot_off[e]
            place(memo.pool[o + n_words:o + 2 * n_words], n_words, c.pb, quiet, state)
            return False
        c.whole = 1
        c.hash = h
        _take_step(joint, joint_step, t, c.base, temporal, M, tail, full, is_mac, layer, ws, first)
    # keyed on the state after its first step
    quiet1 = quiet_classes(ws.joint[0], ws.joint[0].n, c.base, bounds, state) if joint else np.int64(0)
    c.quiet1 = quiet1
    relative(state, n_words, c.pb, quiet1, c.s1)
    h = key_hash(2 * j + 3, ctx, c.s1, n_words)
    e = memo_find(memo, h, 2 * j + 3, ctx, c.s1[:], n_words)
    if memo.slot_stamp[e] == memo.stamp:
        o = memo.slot_off[e]
        place(memo.pool[o + n_words:o + 2 * n_words], n_words, c.pb, quiet1, state)
        for q in range(n_sums):
            s[q] = memo.slot_sums[e, q] + first[q]
        if c.whole != 0:
            memo_store(memo, c.hash, 2 * j + 2, ctx, entry, memo.slot_sums[e], first, n_sums, state, n_words, c.pb,
                       quiet)
        return False
    c.hash1 = h
    _start(c, temporal[j + 1], bounds)
    return True


@njit(cache=True, inline="always")
def _phased(t, temporal, M, full, layer, n_children, spatial, n_sp, fan_x, ws, origin, walks):
    """The stream's fills by the phases' closed form (`phases.phase_stream`, by address: `walks.phase_stream`, in
    the joint sweep's memo pool, which is free between joint sweeps: the uniform sweep's may hold frames a later
    sweep of the same (level, tensor) reuses), or -1 where it leaves the stream to the walk; under a fan-out, where
    a step may take a link (none where `phases.no_link` proves it from the loops; else the link candidates listed
    only where a delta is within the children's spread)."""
    pool = ws.memo[1].pool
    n_cand = np.int64(0)                  # no candidate: no link to check
    if n_children > 1:
        n_cand = link_spread(t, temporal, M, full, layer, origin, n_sp, ws.scratch[0], pool)
        if n_cand < 0:
            return -1.0
    while True:                           # one call site of the phases: at most two runs
        F = walks.phase_stream(t, temporal, M, full, layer, origin[:], pool, n_cand)
        if F != UNCHECKED:
            return F
        n_cand = link_candidates(t, spatial, n_sp, fan_x, layer, ws.scratch[0], ws.diffs, pool)
        if n_cand < 0:                    # not listed (as `link_spread` would have said): the walk counts it
            return -1.0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def sweep(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin, fresh,
          walks):
    """(fills of one instance, reads of its parent, link transfers) of one (level, tensor) whose children under the
    fan-out above it do the same work, over the iterations of the M temporal loops above the level that run from
    `origin`; `child`: the level's record (its dim extents, and its tile of t and that tile's axes for the closed
    form below).

    Closed forms first: a stream that no residual touches (`residual.whole_stream`) at a level without a fan-out
    above it is a perfect one, which `counts.fill_stream` counts (the parent reads what it fills); any other but
    the MAC's takes the phases (`phases.phase_stream`), where no step can take a link: the parent reads each
    multicast group's fills. The rest is walked (`walk_sweep`).

    `origin`: the dim offsets where the instance's iterations start (all 0 while every instance under a fan-out does
    the same work; the uniform children of one instance class start at its origin, `instances`). `fresh`: start an
    empty memo; False keeps the previous sweep's, which is exact when that sweep counted the same (level, tensor)
    from another origin: frames are keyed on their cut context and relative state, which do not depend on it.
    `walks`: the walk and the phases by address (`paths.Walks`)."""
    full = child.extents
    _start_sweep(ws, fresh)               # before any shortcut: a caller passes fresh once per (level, tensor)
    if n_children == 1 and not is_mac and whole_stream(t, temporal, M, layer.bounds, origin, full, layer.ax):
        F, _ = fill_stream(t, temporal, M, layer.co, child.axes[t], child.tiles[t])
        return F, F, 0.0
    return _touched(t, temporal, M, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
                    walks)


@njit(cache=True, inline="always")
def _start_sweep(ws, fresh):
    """A (level, tensor)'s sweep started: its memo (`fresh`: emptied, else kept from the previous sweep) and the
    children's neighbour differences marked as not listed yet (`links`)."""
    memo_start(ws.memo[0], fresh)
    ws.scratch[0].n_diffs = -2


@njit(cache=True, inline="always")
def _touched(t, temporal, M, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
             walks):
    """`sweep`'s counts of a stream that is not a perfect one without a fan-out above it (the memo started): the
    phases where they apply, else the walk."""
    if not is_mac:
        F = _phased(t, temporal, M, full, layer, n_children, spatial, n_sp, fan_x, ws, origin, walks)
        if F >= 0.0:
            return F, groups * F, 0.0
    return _walk_sweep(t, temporal, M, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws,
                       origin, walks)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def uniform_stream(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
                   walks):
    """`sweep` from a fresh memo for `accesses.level_accesses` (a stream of a residual mapping whose instances do
    the same work and whose tensor a residual touches, `residual.closed_stream`, so without `sweep`'s check for a
    perfect one: the phases count any stream exactly, a perfect one too; the MAC's comes here only from under a
    fan-out). Returns (fills of one instance, reads of its parent, link transfers). `level_accesses` calls it by
    name: by address, through its C wrapper, the call cost ~11% of a temporal-class evaluation;
    not inlined by LLVM (`forceinline=False`: inlined, it made the perfect mappings' path, which shares the scaffold,
    ~5% slower)."""
    _start_sweep(ws, np.bool_(True))
    return _touched(t, temporal, M, child.extents, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws,
                    origin, walks)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def no_uniform_stream(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws,
                      origin, walks):
    """`uniform_stream` for the perfect-factor driver's scaffold (`accesses.level_accesses_perfect`): never called
    (that driver raises on a residual mapping before counting it); NaN counts if it were."""
    return np.nan, np.nan, np.nan


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def walk_sweep(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
               fresh, walks):
    """`sweep`'s counts by the walk alone (no closed form but the MAC's below): the reference the tests hold the
    closed forms to."""
    _start_sweep(ws, fresh)
    return _walk_sweep(t, temporal, M, child.extents, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y,
                       ws, origin, walks)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _walk_sweep(t, temporal, M, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin,
                walks):
    """`sweep`'s walk (`walk` by address, `walks.walk`, the memo started): the innermost loops that do not move t, which
    `residual.leaf_step` takes with each step (all of them: one step), and the MAC without a fan-out above it, whose
    every step brings one word that the parent reads alone (the count of the iterations that run), need no
    frames."""
    bounds, ax = layer.bounds, layer.ax
    sw = ws.sweep[0]
    st = sw.state
    for k in range(STATE_LEN):
        st[k] = 0
    sw.listed = 0                         # the children under the fan-out: not listed yet (`links.link_saving`)
    sw.n_links = 0
    sw.groups = groups
    sw.n_children = n_children
    sw.n_sp = n_sp
    sw.fan_x = fan_x
    sw.fan_y = fan_y
    tail = M                              # loops tail..M-1 do not move t: `leaf_step` takes them with each step
    while tail > 0 and not is_mac and ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    if tail > 0 and is_mac and n_children == 1:     # every step brings one word, read from the parent alone
        steps = float(iterations_run(temporal, M, bounds, origin))
        return steps, groups * steps, 0.0
    reach = ws.frames[M].reach
    for d in range(N_DIMS):
        reach[d] = 1 if is_mac or ax[t, d] < 0 else full[d]   # a dim that does not index t cuts none of its tiles
    out = sw.result
    # The walk's signature (`paths.path_signatures`) for both sweeps: np.bool_ / np.int64 are typed bool and int64,
    # not Literal[bool] / Literal[int], and a slice of a record's array is an array whatever its length (the record's
    # own array is typed with its shape, an origin from the tests a plain array); see `kernel`'s docstring
    walks.walk(np.bool_(False), walks.joint_step, t, temporal, M, tail, full, is_mac, layer, ws, origin[:], st[:],
               np.int64(STATE_LEN), np.int64(3), ws.memo[0], out)
    return out[0], out[1], out[2]


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def joint_sweep(t, temporal, M, full, is_mac, layer, spatial, n_sp, n_children, fan_x, fan_y, ws, c, walks):
    """(reads of one instance of parent class c, link transfers among its children) for tensor t over the
    iterations of the M temporal loops above its children's level (those at which its first child works), `walk`
    (by address: `walks.walk`) taking `joint.joint_step` at each (`walks.joint_step`); each child class's fills per
    instance in `joint.step[:n_sub]`. `full`: the children's tile extents (dims). The categories of c's fan-out
    (`instances._categories`) must be in `ws.joint` already. The cut context spans every class's offset, so that
    frames with equal contexts are cut alike for every class."""
    ax = layer.ax
    jt = ws.joint[0]
    parent = ws.classes[c]
    n = parent.n_sub
    jt.n = n
    n_words = n * STATE_LEN
    setup_joint(t, layer, spatial, n_sp, n_children, fan_x, fan_y, ws, c)
    state = jt.state
    for k in range(n_words):
        state[k] = 0
    memo = ws.memo[1]
    memo_start(memo, np.bool_(True))
    reach = ws.frames[M].reach
    for d in range(N_DIMS):
        spread = 0
        for q in range(n):
            spread = max(spread, jt.off[q, d])
        reach[d] = spread + (1 if is_mac or ax[t, d] < 0 else full[d])
    walks.walk(np.bool_(True), walks.joint_step, t, temporal, M, M, full, is_mac, layer, ws, parent.origin[:],
               state[:], n_words, n + 2, memo, jt.step)
    return jt.step[n], jt.step[n + 1]
