"""Mappings whose instances under a fan-out do unequal work (Timeloop's spatial residual class, F9): the real counts
of `reference.evaluate`, per instance class.

A residual on a spatial loop, or on a loop below a spatial loop of its dim, gives some instances less work than
others, or none in some passes. `reference.evaluate` walks every instance from its spatial offset (docs/imperfect.md,
"The spatial class"); here instances are grouped into classes whose work is the same up to a translation, and one
instance of each class is counted.

Classes. Per dim, its loops outermost first have residual ends r whose r - 1 are the mixed-radix digits of bound - 1
(F3): an iteration runs exactly when the digits of its dim offset, read outermost first, stay at or below those
digits (lexicographically). An instance fixes the digits of the spatial loops above it; its work depends, per dim,
only on the first of them that differs from bound - 1's digit and whether it is below or above it (below: the
instance works on full tiles whenever the loops outside decide nothing; above: it idles then), or on none differing
(it follows the bound's digits further in). Where a spatial loop and every loop of its dim inside it are perfect, the
digits below the bound's and the bound's own digit give the same work, and where only the loops inside it are
perfect, its digits up to the bound's do. So the children of one instance fall into at most three groups per dim
that a fan-out splits (`_categories`), and a class is one group per dim: `build_classes` lists them level by level,
each with the instances it holds and one representative (its origin). Dims are independent, so classes multiply.

Counts. Per level and tensor, the children of each parent class are counted by `sweep.sweep` from the parent's
origin when they form one class (they are translations of one another: multicast groups and links as for a perfect
mapping), and by `sweep.joint_sweep` when they form several. The partitions of Outputs (R6) are the words an
instance's cut tiles cover, the bypass fold (R5) sums a parent's children, energy (R8) rounds each instance's counts
to whole blocks and bandwidth (R7) takes the slowest instance: all per class, weighted by its instances.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..mapping_arrays import LOOP_Y, N_DIMS, N_LOOP_KINDS, N_TENSORS
from .counts import moving_loops, spatial_loops
from .energy import blocks_pj, charged_instances, level_cycles, level_tensor_actions
from .links import spatial_axes
from .sweep import joint_sweep, sweep
from .workspace import FAN_X, FAN_Y, MAX_CLASSES, MAX_JOINT


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _last_imperfect(m, last):
    """Per dim, the nest position (3 x level + 0 temporal / 1 Y / 2 X) of its innermost loop with a residual, -1 if
    none."""
    tf, sx, sy = m.temporal, m.spatial_x, m.spatial_y
    rt, rx, ry = m.temporal_residual, m.spatial_x_residual, m.spatial_y_residual
    L = tf.shape[0]
    for d in range(N_DIMS):
        last[d] = -1
        for l in range(L):
            if rt[l, d] != 0 and rt[l, d] != tf[l, d]:
                last[d] = 3 * l
            if ry[l, d] != 0 and ry[l, d] != sy[l, d]:
                last[d] = 3 * l + 1
            if rx[l, d] != 0 and rx[l, d] != sx[l, d]:
                last[d] = 3 * l + 2


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _categories(m, spatial, n_sp, level, decided, jt):
    """How the spatial loops of `level`'s fan-out split the children of an instance whose per-dim `decided` flags are
    given: per loop (jt.split, jt.n_cat, and per category its last digit, digit count, representative digit and
    whether it decides the dim), categories outermost loop first. Returns the number of child classes (their
    product)."""
    rx, ry = m.spatial_x_residual, m.spatial_y_residual
    last = jt.last_imperfect
    n_classes = np.int64(1)
    for i in range(n_sp):
        sp = spatial[i]
        d = sp.dim
        e = sp.bound
        r = ry[level, d] if sp.kind == LOOP_Y else rx[level, d]
        r = e if r == 0 else r
        pos = N_LOOP_KINDS * level + sp.kind
        n = 0
        if decided[d] == 0 and not (r == e and last[d] < pos):
            if last[d] <= pos:          # the loops inside are perfect: up to the bound's digit, full work
                jt.cat_hi[i, 0] = r - 1
                jt.cat_n[i, 0] = r
                jt.cat_rep[i, 0] = 0
                jt.cat_dec[i, 0] = 1
                n = 1
            else:
                if r > 1:                # below the bound's digit
                    jt.cat_hi[i, 0] = r - 2
                    jt.cat_n[i, 0] = r - 1
                    jt.cat_rep[i, 0] = 0
                    jt.cat_dec[i, 0] = 1
                    n = 1
                jt.cat_hi[i, n] = r - 1  # at it: the loops inside decide
                jt.cat_n[i, n] = 1
                jt.cat_rep[i, n] = r - 1
                jt.cat_dec[i, n] = 0
                n += 1
            if e > r:                    # above it
                jt.cat_hi[i, n] = e - 1
                jt.cat_n[i, n] = e - r
                jt.cat_rep[i, n] = r
                jt.cat_dec[i, n] = 1
                n += 1
        jt.split[i] = 1 if n > 1 else 0
        jt.n_cat[i] = n if n > 1 else 1
        n_classes *= jt.n_cat[i]
    return n_classes


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def build_classes(m, ws):
    """The instance classes of every level and the MACs (`workspace.CLASS`, `JOINT.level_start`); False if a fan-out
    splits one instance's children into more than `MAX_JOINT` classes or the levels need more than `MAX_CLASSES`."""
    levels, loops, spatial, cls = ws.levels, ws.loops, ws.spatial, ws.classes
    jt = ws.joint[0]
    L = levels.shape[0] - 1
    _last_imperfect(m, jt.last_imperfect)
    c0 = cls[0]
    c0.parent = -1
    c0.count = 1.0
    c0.per_parent = 1
    for d in range(N_DIMS):
        c0.origin[d] = 0
        c0.decided[d] = 0
    start = jt.level_start
    start[0] = 0
    start[1] = 1
    n = np.int64(1)
    for l in range(L):
        n_sp = np.int64(0)
        if levels[l].n_spatial > 0:
            n_sp, _ = spatial_loops(loops, levels, l, spatial, ws.scratch[0].n_digits)
        for c in range(start[l], start[l + 1]):
            parent = cls[c]
            n_sub = _categories(m, spatial, n_sp, l, parent.decided, jt)
            if n_sub > MAX_JOINT or n + n_sub > MAX_CLASSES:
                return False
            parent.first = n
            parent.n_sub = n_sub
            for k in range(n_sub):       # class k: the categories' mixed-radix digits, the last loop least significant
                sub = cls[n + k]
                sub.parent = c
                per = np.int64(1)
                for d in range(N_DIMS):
                    sub.origin[d] = parent.origin[d]
                    sub.decided[d] = parent.decided[d]
                rest = k
                for i in range(n_sp - 1, -1, -1):
                    sp = spatial[i]
                    if jt.split[i] == 0:
                        per *= sp.bound
                        continue
                    q = rest % jt.n_cat[i]
                    rest //= jt.n_cat[i]
                    per *= jt.cat_n[i, q]
                    sub.origin[sp.dim] += jt.cat_rep[i, q] * sp.step
                    if jt.cat_dec[i, q] != 0:
                        sub.decided[sp.dim] = 1
                sub.per_parent = per
                sub.count = parent.count * per
            n += n_sub
        start[l + 2] = n
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def class_accesses(layer, acc, m, ws, n_temporal, walks):
    """`accesses.level_accesses` per instance class: per level, tensor and class its fills, the accesses each parent
    class serves its children (multicast and links), their multicast-weighted reads and the peer transfers.

    A scaffold of its own rather than a core of `level_accesses`: its unit below a (level, tensor) is a parent class
    (several per level, each counted from its own origin, one class of children by `sweep.sweep` sharing its memo
    with the parent's siblings, several by `sweep.joint_sweep`), and it writes `CLASS` records where `level_accesses`
    writes `LEVEL` ones. One body for both would put the class loop and the joint sweep in the function that counts
    every perfect mapping (a branch per level and tensor on the hottest path, and the joint sweep's compile in its
    step of the compile plan), or take the varying part as a function argument, which numba compiles as one more
    specialization of the whole scaffold per core: the same two compiled scaffolds as now, behind an indirection.
    What the two share is called, not repeated: `counts.moving_loops`, `counts.spatial_loops`,
    `links.spatial_axes`, the bypass shortcut's rule (a parent's accesses and multicast-weighted reads both 1.0)
    and the sweep."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels, cls = ws.temporal, ws.spatial, ws.levels, ws.classes
    scratch = ws.scratch[0]
    jt = ws.joint[0]
    start = jt.level_start
    L = levels.shape[0] - 1
    moving_loops(ax, temporal, n_temporal)
    for c in range(start[0], start[1]):
        for t in range(N_TENSORS):
            cls[c].peer[t] = 0.0
    M = 0
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        while M < n_temporal and temporal[M].level < lvl:
            M += 1
        n_sp = np.int64(0)
        n_children = np.int64(1)
        if levels[p].n_spatial > 0:
            n_sp, n_children = spatial_loops(ws.loops, levels, p, spatial, scratch.n_digits)
        for c in range(start[lvl], start[lvl + 1]):
            for t in range(N_TENSORS):
                cls[c].peer[t] = 0.0
        for t in range(N_TENSORS):
            if n_children == 1 and not is_mac and levels[lvl].kept[t] == 0:
                for c in range(start[p], start[lvl]):
                    cls[c].access[t] = 1.0   # as in `accesses.level_accesses`: the bypass fold's ratio is 1.0
                    cls[c].mcw[t] = 1.0
                continue
            groups = np.int64(1)
            if n_sp > 0:
                groups = spatial_axes(t, spatial, n_sp, ax, co, scratch)
            fresh = np.bool_(True)       # the parent classes of one (level, tensor) share the sweep's memo
            for c in range(start[p], start[lvl]):
                parent = cls[c]
                if parent.n_sub == 1:
                    child = cls[parent.first]
                    F, reads, transfers = sweep(t, temporal, M, levels[lvl], is_mac, layer, groups, n_children,
                                                spatial, n_sp, fanout[p, FAN_X], fanout[p, FAN_Y], ws, parent.origin,
                                                fresh, walks)
                    fresh = False
                    child.fill[t] = F
                    if n_children > 1:
                        child.peer[t] = transfers / n_children
                    parent.access[t] = reads
                    parent.mcw[t] = n_children * F - transfers
                    continue
                _categories(m, spatial, n_sp, p, parent.decided, jt)
                reads, transfers = joint_sweep(t, temporal, M, levels[lvl].extents, is_mac, layer, spatial, n_sp,
                                               n_children, fanout[p, FAN_X], fanout[p, FAN_Y], ws, c, walks)
                weighted = 0.0
                for k in range(parent.n_sub):
                    child = cls[parent.first + k]
                    child.fill[t] = jt.step[k]
                    child.peer[t] = transfers / n_children
                    weighted += child.per_parent * jt.step[k]
                parent.access[t] = reads
                parent.mcw[t] = weighted - transfers


@njit(cache=True, inline="always")
def _words_covered(temporal, n_temporal, level, d, full, bound, origin):
    """The coordinates of dim d that one instance's tiles cover over the run: the tiles of `full` words start at
    origin + the offsets of the temporal loops of d above `level` and stop at the bound. The offsets are a mixed-radix
    set whose steps exceed the tile (each loop's step spans everything inside it), so the tiles are disjoint: all but
    the last that starts below the bound are whole."""
    limit = bound - origin              # a tile starting at offset x covers min(full, limit - x) if x < limit
    if limit <= 0:
        return np.int64(0)
    # whole tiles: offsets x <= limit - full; the last offset below limit may be cut
    whole = np.int64(0)
    below = limit - full                # offsets x <= below give whole tiles
    inner = np.int64(1)
    for j in range(n_temporal):
        lp = temporal[j]
        if lp.level < level and lp.dim == d:
            inner *= lp.bound
    last = np.int64(0)                  # the largest offset below limit, built digit by digit
    rem_whole = below
    rem_last = limit - 1
    counting = rem_whole >= 0
    for j in range(n_temporal):
        lp = temporal[j]
        if lp.level >= level or lp.dim != d:
            continue
        inner //= lp.bound
        if counting:
            q = rem_whole // lp.step
            if q >= lp.bound:
                whole += lp.bound * inner
                counting = False
            else:
                whole += q * inner
                rem_whole -= q * lp.step
        q = min(rem_last // lp.step, lp.bound - 1)
        last += q * lp.step
        rem_last -= q * lp.step
    if counting:
        whole += 1                      # the offset that the digits of `below` spell
    cut = limit - last
    return whole * full + (cut if cut < full else 0)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def class_partitions(layer, ws, n_temporal):
    """R6 per class: the Outputs words an instance holds over the run, the union of its cut tiles (Outputs' axes are
    single dims with coefficient 1, so the union is the product over its dims of the coordinates covered)."""
    levels, cls, temporal = ws.levels, ws.classes, ws.temporal
    ax = layer.ax
    bounds = layer.bounds
    start = ws.joint[0].level_start
    L = levels.shape[0] - 1
    for l in range(L):
        ext = levels[l].extents
        for c in range(start[l], start[l + 1]):
            words = np.int64(1)
            for d in range(N_DIMS):
                if ax[2, d] >= 0:
                    words *= _words_covered(temporal, n_temporal, l, d, ext[d], bounds[d], cls[c].origin[d])
            cls[c].partition = float(words)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def class_fold_bypass(ws):
    """R5 per class: a bypassed level folds into its parent class: the sum over the parent's children of their
    accesses, times the parent's reads over its multicast-weighted reads."""
    levels, cls = ws.levels, ws.classes
    start = ws.joint[0].level_start
    L = levels.shape[0] - 1
    for t in range(N_TENSORS):
        for lvl in range(L - 1, 0, -1):
            if levels[lvl].kept[t]:
                continue
            for c in range(start[lvl - 1], start[lvl]):
                up = cls[c]
                ratio = up.access[t] / up.mcw[t] if up.mcw[t] > 0 else 0.0
                below = 0.0
                for k in range(up.first, up.first + up.n_sub):
                    below += cls[k].per_parent * cls[k].access[t]
                up.access[t] = below * ratio


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def class_energy_and_cycles(acc, ws, compute_cycles, reads, fills, updates):
    """`energy.energy_and_cycles` over instance classes: whole blocks per instance, a level charged its charged
    instances times the mean of its instances' blocks; each instance's own port, a level's cycles those of its
    slowest class; reads / fills / updates [L, 3] the totals over instances, and each class's own in its `rfu`;
    a tensor homed on chip as `energy_and_cycles` has it (level 0's one class's accesses at its home's one class).
    Returns (energy pJ without the MACs, cycles)."""
    levels, cls = ws.levels, ws.classes
    start = ws.joint[0].level_start
    L = reads.shape[0]
    energy, homes = acc.energy_pj, acc.homes
    total_energy = 0.0
    cycles = 0
    for l in range(L):
        lv = levels[l]
        used = lv.used
        blk = acc.block_words[l]
        charged = charged_instances(used, acc.clusters, l)
        for t in range(N_TENSORS):
            reads[l, t] = 0.0
            fills[l, t] = 0.0
            updates[l, t] = 0.0
        for c in range(start[l], start[l + 1]):
            k = cls[c]
            r_rate = 0.0
            w_rate = 0.0
            for t in range(N_TENSORS):
                k.rfu[0, t] = 0.0
                k.rfu[1, t] = 0.0
                k.rfu[2, t] = 0.0
                moves, r_, f_, u_ = level_tensor_actions(t, l, homes[t], lv.kept[t], cls[start[0]], k)
                if not moves:
                    continue
                total_energy += charged * k.count / used * blocks_pj(energy, l, r_ / blk, f_ / blk, u_ / blk)
                k.rfu[0, t] = r_
                k.rfu[1, t] = f_
                k.rfu[2, t] = u_
                r_rate += r_ / compute_cycles
                w_rate += (f_ + u_) / compute_cycles
                reads[l, t] += r_ * k.count
                fills[l, t] += f_ * k.count
                updates[l, t] += u_ * k.count
            lc = level_cycles(acc.bandwidth, l, r_rate, w_rate, compute_cycles)
            if lc > cycles:
                cycles = lc
    return total_energy, cycles


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def class_counts(layer, acc, m, ws, n_temporal, compute_cycles, reads, fills, updates, walks):
    """The counts of a mapping whose instances under a fan-out do unequal work (its classes built: `build_classes`),
    per class: accesses, partitions, the bypass fold, then energy and cycles as `class_energy_and_cycles` returns
    them, its counts written into reads / fills / updates [L, 3]. The driver calls it by address
    (`paths.Paths.class_counts`): the classes' scaffold and the sweeps it calls compile beside the driver; `walks`:
    the walk and the phases the sweeps call by address (`paths.Walks`)."""
    class_accesses(layer, acc, m, ws, n_temporal, walks)
    class_partitions(layer, ws, n_temporal)
    class_fold_bypass(ws)
    return class_energy_and_cycles(acc, ws, compute_cycles, reads, fills, updates)
