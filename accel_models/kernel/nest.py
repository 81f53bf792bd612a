"""The checks Timeloop makes before counting, and the loop nest (R1): `reference.check_mapping`, `reference.loop_nest`.

Kernel functions unpack the named tuples they read at their top: numba takes a reference on an
array each time a field is read, which inside a loop costs more than the loop's arithmetic.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..geometry import box, fits
from ..mapping_arrays import LOOP_TEMPORAL, LOOP_X, LOOP_Y, N_DIMS, N_LOOP_KINDS, N_TENSORS
from ..result import (BAD_BYPASS, BAD_FACTORS, BAD_INPUT, BAD_ORDER, BOTH_AXES, CAPACITY_OVERFLOW, OK,
                      SPATIAL_OVERFLOW)
from .workspace import FAN_X, FAN_Y


@njit(cache=True, inline="always")
def check_shape(bounds, fanout, m):
    """(reason code, perfect) of a mapping's shape: factors >= 1, residual ends within 1..end, no residual on the
    outermost spatial loop of a dim, factors that cover each bound (F3: acc <- acc * e + r - 1 over the dim's
    loops, outermost first; the product of the ends for a perfect mapping), orders that are permutations,
    every tensor kept at the outermost level, each dim on one axis of a fan-out, spatial ends within each fan-out
    (innermost level first, as Timeloop checks the MAC level first); reason OK if all hold. perfect: no loop
    has a residual other than its end (a residual end of 0 stands for the end).

    First of all, BAD_INPUT: a keep flag other than 0 and 1, input that `cost_model.evaluate_batch` refuses with a
    ValueError after the kernel has flagged it here, in the pass that reads every entry anyway (not in a pass of its
    own over the batch). No end can be above `nets.MAX_BOUND`: the rows are
    `mapping_arrays.MAPPING_DTYPE` (int32), whose largest value it is.

    One pass over each level's rows gathers every per-entry condition without a branch (factors and orders in
    range, the orders' bit sets, whether any residual end is nonzero, a dim on both axes, whether any spatial end is
    above 1, the bits of the keep flags); only a level that fails is scanned again in order
    (`_level_reason`), so the reason is the one the checks' order gives. The spatial products are taken only for a
    level with a spatial end above 1, in a loop of eight that LLVM unrolls, not in the vector loop, where they
    would be 64-bit vector multiplications, which AVX2 lacks and LLVM emulates (~3% of an evaluation). A mapping whose
    residual ends are all 0 is perfect without comparing them to the ends.
    """
    tf, order, sx, sy, sorder, keep = m.temporal, m.order, m.spatial_x, m.spatial_y, m.spatial_order, m.keep
    rt, rx, ry = m.temporal_residual, m.spatial_x_residual, m.spatial_y_residual
    L = tf.shape[0]
    Q = tf.shape[1]                  # 8; a count LLVM does not know, so that it vectorizes the loop, not unrolls it
    residual = 0
    both = False
    over = False
    keep_bits = 0
    for l in range(L):
        bad = False
        seen_t = 0
        seen_s = 0
        spreads = False
        for q in range(Q):
            e, x, y, o, so = tf[l, q], sx[l, q], sy[l, q], order[l, q], sorder[l, q]
            bad |= (e < 1) | (x < 1) | (y < 1) | (o < 0) | (o > 7) | (so < 0) | (so > 7)
            seen_t |= 1 << (o & 7)
            seen_s |= 1 << (so & 7)
            residual |= rt[l, q] | rx[l, q] | ry[l, q]
            both |= (x > 1) & (y > 1)
            spreads |= (x > 1) | (y > 1)
        if bad or seen_t != 255 or seen_s != 255:
            if _bad_keep_flags(keep):
                return BAD_INPUT, False
            return _level_reason(tf[l], order[l], sx[l], sy[l], sorder[l]), False
        if spreads:                  # most levels have no fan-out, or leave it unused
            px = np.int64(1)
            py = np.int64(1)
            for q in range(N_DIMS):       # a constant count: unrolled to scalar multiplications
                px *= sx[l, q]
                py *= sy[l, q]
            over |= (px > fanout[l, FAN_X]) | (py > fanout[l, FAN_Y])
        for t in range(N_TENSORS):
            keep_bits |= keep[l, t]
    if (keep_bits & -2) != 0:
        return BAD_INPUT, False
    perfect = True
    if residual != 0:
        for l in range(L):
            for q in range(N_DIMS):
                perfect &= (((rt[l, q] == 0) | (rt[l, q] == tf[l, q])) & ((rx[l, q] == 0) | (rx[l, q] == sx[l, q]))
                            & ((ry[l, q] == 0) | (ry[l, q] == sy[l, q])))
    if not (_ends_cover_bounds(tf, sx, sy, bounds) if perfect else _residuals_cover_bounds(m, bounds)):
        return BAD_FACTORS, perfect
    for t in range(N_TENSORS):
        if keep[0, t] == 0:
            return BAD_BYPASS, perfect
    if both:
        return BOTH_AXES, perfect
    if over:
        return SPATIAL_OVERFLOW, perfect
    return OK, perfect


@njit(cache=True, inline="always")
def _ends_cover_bounds(tf, sx, sy, bounds):
    """Does the product of each dim's ends over the levels equal its bound (F3 for a perfect mapping)? Eight
    running products, one per dim, each level's row read once: a loop over the dims around one over the levels
    reads the rows column by column, twice as slow."""
    p0 = p1 = p2 = p3 = p4 = p5 = p6 = p7 = np.int64(1)
    for l in range(tf.shape[0]):
        p0 *= tf[l, 0] * sx[l, 0] * sy[l, 0]
        p1 *= tf[l, 1] * sx[l, 1] * sy[l, 1]
        p2 *= tf[l, 2] * sx[l, 2] * sy[l, 2]
        p3 *= tf[l, 3] * sx[l, 3] * sy[l, 3]
        p4 *= tf[l, 4] * sx[l, 4] * sy[l, 4]
        p5 *= tf[l, 5] * sx[l, 5] * sy[l, 5]
        p6 *= tf[l, 6] * sx[l, 6] * sy[l, 6]
        p7 *= tf[l, 7] * sx[l, 7] * sy[l, 7]
    return ((p0 == bounds[0]) & (p1 == bounds[1]) & (p2 == bounds[2]) & (p3 == bounds[3]) & (p4 == bounds[4])
            & (p5 == bounds[5]) & (p6 == bounds[6]) & (p7 == bounds[7]))


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _residuals_cover_bounds(m, bounds):
    """F3 for a mapping with residual ends: per dim, acc <- acc * e + r - 1 over its loops outermost first (per level
    temporal, Y, X; r = e where the residual end is 0) ends at bound - 1, every r within 1..e, and no residual on the
    outermost spatial loop of a dim."""
    tf, sx, sy = m.temporal, m.spatial_x, m.spatial_y
    rt, rx, ry = m.temporal_residual, m.spatial_x_residual, m.spatial_y_residual
    for d in range(N_DIMS):
        acc = 0
        outer = True                 # no loop of d with end > 1 seen yet
        for l in range(tf.shape[0]):
            for k in range(N_LOOP_KINDS):
                e = tf[l, d] if k == LOOP_TEMPORAL else (sy[l, d] if k == LOOP_Y else sx[l, d])
                r = rt[l, d] if k == LOOP_TEMPORAL else (ry[l, d] if k == LOOP_Y else rx[l, d])
                r = e if r == 0 else r          # 0: no residual
                if r < 1 or r > e or (outer and k > 0 and r != e):
                    return False
                acc = acc * e + r - 1
                outer &= e == 1
        if acc + 1 != bounds[d]:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _bad_keep_flags(keep):
    """Is any keep flag other than 0 and 1 (`check_shape`'s BAD_INPUT, on the path of a level that fails its first
    checks)?"""
    for l in range(keep.shape[0]):
        for t in range(N_TENSORS):
            if keep[l, t] != 0 and keep[l, t] != 1:
                return True
    return False


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _level_reason(tf, order, sx, sy, sorder):
    """The reason a level's rows fail `check_shape`'s first checks, in their order: per entry its factors (>= 1),
    then its orders (0..7); then the orders being permutations."""
    for q in range(N_DIMS):
        if tf[q] < 1 or sx[q] < 1 or sy[q] < 1:
            return BAD_FACTORS
        if order[q] < 0 or order[q] > 7 or sorder[q] < 0 or sorder[q] > 7:
            return BAD_ORDER
    return BAD_ORDER


@njit(cache=True, inline="always")
def _spatial_loops(loops, n, l, kind, sorder, bounds):
    """Level l's spatial loops of one kind (LOOP_Y or LOOP_X) in the level's spatial order, bounds from `bounds`
    [L, N_DIMS], written at loops[n:], each kept by advancing n only where its bound is above 1 (no branch on the
    factors); returns the new n."""
    for q in range(N_DIMS):
        d = sorder[l, q]
        b = bounds[l, d]
        lp = loops[n]
        lp.level = l; lp.kind = kind; lp.dim = d; lp.bound = b
        n += 1 if b > 1 else 0
    return n


@njit(cache=True, inline="always")
def loop_nest(m, loops, levels, temporal):
    """R1: the nest outermost first (per level its temporal loops in order, then its Y loops, then its X
    loops; factor-1 loops dropped), each loop's step, each level's first loop, spatial loop count and tile
    extents (levels[L] is the MAC's: no loop, all extents 1), and the temporal loops alone, outermost first,
    with how often each starts. Also each level's instances used (`used`: the spatial ends above it) and the
    children per instance its fan-out uses (`fan`), from the rows this pass reads anyway (a pass of its own over
    them cost ~30 ns a mapping). Returns (the loop count, the temporal loop count, the compute cycles: the product
    of every temporal end)."""
    tf, order, sx, sy, sorder = m.temporal, m.order, m.spatial_x, m.spatial_y, m.spatial_order
    L = tf.shape[0]
    n = np.int64(0)                  # not Literal[int](0): see `kernel`'s docstring
    n_temporal = np.int64(0)
    compute_cycles = np.int64(1)
    levels[0].used = 1
    for l in range(L):
        levels[l].start = n
        # Every candidate is written and kept by advancing n: no branch on the (random) factors.
        ends = np.int64(1)
        for q in range(N_DIMS):
            d = order[l, q]
            b = tf[l, d]
            ends *= b
            lp = loops[n]
            lp.level = l; lp.kind = LOOP_TEMPORAL; lp.dim = d; lp.bound = b
            n += 1 if b > 1 else 0
        compute_cycles *= ends
        n_temporal += n - levels[l].start
        first_spatial = n
        spreads = False
        for d in range(N_DIMS):
            spreads |= (sy[l, d] > 1) | (sx[l, d] > 1)
        fan = np.int64(1)                # every spatial end is 1 where none is above 1 (the shape check: ends >= 1)
        if spreads:                      # most levels have no fan-out, or leave it unused
            for d in range(N_DIMS):
                fan *= sx[l, d] * sy[l, d]
            n = _spatial_loops(loops, n, l, LOOP_Y, sorder, sy)
            n = _spatial_loops(loops, n, l, LOOP_X, sorder, sx)
        levels[l].n_spatial = n - first_spatial
        levels[l].fan = fan
        levels[l + 1].used = levels[l].used * fan
    levels[L].start = n
    levels[L].n_spatial = 0
    # Inside out: a loop's step is the extent of its dim below it; a level's tile spans its loops and all below.
    run = levels[L].extents
    run[:] = 1
    l_cur = L - 1
    j = n_temporal
    for i in range(n - 1, -1, -1):
        lp = loops[i]
        while l_cur > lp.level:
            for d in range(N_DIMS):
                levels[l_cur].extents[d] = run[d]
            l_cur -= 1
        lp.step = run[lp.dim]
        run[lp.dim] *= lp.bound
        if lp.kind == LOOP_TEMPORAL:
            j -= 1
            tl = temporal[j]
            tl.dim = lp.dim; tl.bound = lp.bound; tl.step = lp.step; tl.level = lp.level
    while l_cur >= 0:
        for d in range(N_DIMS):
            levels[l_cur].extents[d] = run[d]
        l_cur -= 1
    levels[L].extents[:] = 1
    outer = 1.0                      # a running product in a register: read back from the record written the step
    temporal[0].outer = outer        # before, each step would wait on that store
    for j in range(n_temporal):
        outer *= temporal[j].bound
        temporal[j + 1].outer = outer
    return n, n_temporal, compute_cycles


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def check_capacity(coef, capacity, tensor_capacity, levels):
    """Each level's tiles (words, and their axis extents) and the capacity rule, innermost level first (the layer's
    coef, the accelerator's capacity_words and tensor_capacity_words). The arrays it reads, not the layer's and the
    accelerator's tuples: a call passes every array of its arguments, seven words each."""
    L = levels.shape[0] - 1
    for l in range(L):
        lv = levels[l]
        for t in range(N_TENSORS):
            lv.tiles[t] = box(t, lv.extents, coef, lv.axes[t])
    for l in range(L - 1, -1, -1):
        lv = levels[l]
        if not fits(lv.kept, lv.tiles, capacity[l], tensor_capacity[l]):
            return CAPACITY_OVERFLOW
    return OK
