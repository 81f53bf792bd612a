"""Mappings with residual factors (Timeloop's `P=e,r`): `reference.evaluate`'s walk over the loop iterations, compiled.

A loop (e, r) runs r iterations in a pass where every outer loop of its dim is at its last iteration (rule F2 of
docs/imperfect.md). The bound equation (F3) makes r the mixed-radix digit of the bound, so the iterations that run
are exactly those whose dim offsets stay below the bounds, and a residual iteration's tile is the full tile cut at
the bounds. The closed forms of `counts` and `links` assume that every step of a loop moves the same full tile; here
the steps are walked one by one instead: fills and the last-stride reuse rule (R2), multicast groups and neighbour
links (R3, R4), per level and tensor. The rest (partitions R6, the bypass fold R5, energy R8, cycles R7) is shared
with perfect mappings, on the F6 tiles (ends multiplied, cut at the bound). Compute cycles are the product of the
temporal ends (F7). A perfect mapping never comes here (`driver.evaluate_one`).

Only residuals that leave every instance under a fan-out the same work are modelled: a residual on a spatial loop,
or on a loop below a spatial loop of its dim, is refused (`SPATIAL_RESIDUAL`).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box, project
from ..result import OK, SPATIAL_RESIDUAL
from .counts import fold_bypass, output_partitions, spatial_loops
from .energy import energy_and_cycles
from .links import _link_step, list_children, spatial_axes
from .nest import check_capacity, loop_nest


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
def _translate_of_previous(x, size):
    """Is the current delta the previous one moved by some v (both of `size` words)? v into x.vstar."""
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
def walk(t, temporal, M, full, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws):
    """R2-R4 on one (level, tensor), step by step: (fills of one instance, reads of its parent, link transfers)
    over the iterations of the M temporal loops above the level that run; `full`: the level's dim extents."""
    bounds, coef = layer.bounds, layer.coef
    x = ws.scratch[0]
    digit, off, clip = x.digit, x.off, x.clip
    for d in range(8):
        off[d] = 0
    for i in range(M):
        digit[i] = 0
    listed = np.int64(0)
    fills = 0.0
    reads = 0.0
    transfers = 0.0
    first = True
    have_prev = False
    p_size = np.int64(0)
    x.has_stride = 0
    while True:
        # this iteration's tile
        project(t, off, coef, x.lo)
        if is_mac:
            for a in range(N_AXES):
                x.ext[a] = 1
        else:
            for d in range(8):
                clip[d] = min(full[d], bounds[d] - off[d])
            box(t, clip, coef, x.ext)
        words = np.int64(1)
        for a in range(N_AXES):
            words *= x.ext[a]
        size = words
        x.d_old = 0
        if not first and not is_mac:
            still = True
            for a in range(N_AXES):
                if x.lo[a] != x.plo[a] or x.ext[a] != x.pext[a]:
                    still = False
            if still:
                size = 0
            else:
                match = True
                if x.has_stride:
                    for a in range(N_AXES):
                        # the last stride, and no axis cut by two or more words (`reference._shrinks_at_most_one`)
                        if x.stride[a] != x.lo[a] - x.plo[a] or x.pext[a] - x.ext[a] > 1:
                            match = False
                if match:
                    x.d_old = 1
                    for a in range(N_AXES):
                        x.d_olo[a] = x.plo[a]
                        x.d_oext[a] = x.pext[a]
                        x.stride[a] = x.lo[a] - x.plo[a]
                    x.has_stride = 1
                    overlap = np.int64(1)
                    for a in range(N_AXES):
                        ov = min(x.lo[a] + x.ext[a], x.plo[a] + x.pext[a]) - max(x.lo[a], x.plo[a])
                        overlap *= ov if ov > 0 else 0
                    size = words - overlap
                else:
                    x.has_stride = 0
        first = False
        for a in range(N_AXES):
            x.plo[a] = x.lo[a]
            x.pext[a] = x.ext[a]
        fills += size
        if size > 0:
            step_reads = groups * size
            if have_prev and p_size == size and n_children > 1 and _translate_of_previous(x, size):
                if listed == 0:
                    listed = list_children(t, spatial, n_sp, fan_x, fan_y, layer.ax, layer.co, ws.children,
                                           ws.table, x.digits)
                marks = ws.marks
                stamp = marks[-1] + 1
                marks[-1] = stamp
                served, distinct = _link_step(ws.children, listed, x.vstar, marks, stamp)
                if served > 0 and distinct < groups:
                    step_reads = distinct * size
                    transfers += served * size
            reads += step_reads
        # the current delta becomes the previous one
        have_prev = True
        p_size = size
        x.p_old = x.d_old
        for a in range(N_AXES):
            x.p_lo[a] = x.lo[a]
            x.p_ext[a] = x.ext[a]
            x.p_olo[a] = x.d_olo[a]
            x.p_oext[a] = x.d_oext[a]
        # next iteration that runs: a loop advances while its dim stays below the bound (F2)
        i = M - 1
        while i >= 0:
            lp = temporal[i]
            d = lp.dim
            if digit[i] + 1 < lp.bound and off[d] + lp.step < bounds[d]:
                digit[i] += 1
                off[d] += lp.step
                break
            off[d] -= digit[i] * lp.step
            digit[i] = 0
            i -= 1
        if i < 0:
            break
    return fills, reads, transfers


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def residual_accesses(layer, acc, ws, n_temporal):
    """`counts.level_accesses` for a residual mapping: per level and tensor its fills, the accesses its parent
    serves it (multicast and links), the multicast-weighted reads and the peer transfers, from `walk`."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels = ws.temporal, ws.spatial, ws.levels
    scratch = ws.scratch[0]
    L = levels.shape[0] - 1
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
            F, reads, transfers = walk(t, temporal, M, child.extents, is_mac, layer, groups, n_children, spatial,
                                       n_sp, fanout[p, 0], fanout[p, 1], ws)
            child.fill[t] = F
            if n_children > 1:
                child.peer[t] = transfers / n_children
            parent.access[t] = reads
            parent.mcw[t] = n_children * F - transfers


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def evaluate_residual(layer, acc, m, reads, fills, updates, ws):
    """`driver.evaluate_one` for a mapping whose shape `nest.check_shape` accepted with a residual somewhere."""
    if not uniform_instances(m):
        return SPATIAL_RESIDUAL, 0, 0.0, 0.0, 0
    tf, _, sx, sy, _, keep, _, _, _ = m
    bounds = layer.bounds
    acc_keeps = acc.keeps
    levels = ws.levels
    L = tf.shape[0]
    for l in range(L):
        lv = levels[l]
        for t in range(3):
            lv.kept[t] = 1 if keep[l, t] != 0 and acc_keeps[l, t] != 0 else 0
    _, n_temporal = loop_nest(m, ws.loops, levels, ws.temporal)
    for l in range(L):                 # F6: a tile spans the ends at and below its level, at most the bound
        ext = levels[l].extents
        for d in range(8):
            if ext[d] > bounds[d]:
                ext[d] = bounds[d]
    reason = check_capacity(layer, acc, levels)
    if reason != OK:
        return reason, 0, 0.0, 0.0, 0
    levels[0].used = 1
    for l in range(L):
        used = levels[l].used
        for d in range(8):
            used *= sx[l, d] * sy[l, d]
        levels[l + 1].used = used
    compute_cycles = np.int64(1)
    for l in range(L):
        for d in range(8):
            compute_cycles *= tf[l, d]
    residual_accesses(layer, acc, ws, n_temporal)
    output_partitions(layer, ws)
    fold_bypass(levels)
    energy, cycles = energy_and_cycles(acc, levels, compute_cycles, reads, fills, updates)
    macs = 1
    for d in range(8):
        macs *= bounds[d]
    energy += macs * acc.mac_energy_pj + acc.leak_pj * cycles
    return OK, cycles, energy, macs / (acc.num_macs * cycles), compute_cycles
