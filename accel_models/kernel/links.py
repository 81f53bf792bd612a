"""Spatial sharing under a fan-out (R3): multicast groups, the children's grid, and links between neighbours.

`reference._children` and `reference._level_walk` enumerate every child at every step; here the
multicast groups are counted in closed form and children are enumerated only when a link could save
a read (R3's links need a neighbour whose previous delta equals this one's, which the offset
lattice and the grid's possible neighbour differences rule out in most cases), and not even then
where the grid separates into rows and columns (`_separable_link_step`: a full X axis whose loops
move other tensor axes than the Y loops, as a filled array usually has).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from nets import N_AXES

from ..mapping_arrays import LOOP_X
from .state import GOLDEN

MAX_LISTED_SPATIAL = 8
"""Spatial loops of one fan-out beyond which `neighbour_diffs` does not list the 2^loops carry patterns."""


@njit(cache=True, inline="always")
def distinct_pairs(m, n, a, b):
    """How many distinct values a*r + b*p take for 0 <= r < m, 0 <= p < n (a, b >= 1)."""
    g = math.gcd(a, b)
    a1 = a // g
    b1 = b // g
    return m * n - max(0, m - b1) * max(0, n - a1)


@njit(cache=True, inline="always")
def distinct_offsets(t, spatial, n_sp, ax, co, n_digits, s1, m1, s2, m2, k):
    """The distinct offsets in tensor t of children whose index at spatial loop i takes n_digits[i] values (0 up):
    per axis of t, the loops that move along it (at most two: a dim sits on one axis of a fan-out, and an input
    axis has two dims, P with R or Q with S) give the distinct sums of digits x shifts, one loop its digits, two
    `distinct_pairs` (symmetric in its two loops). Per axis into s1, m1, s2, m2 (shift and largest digit of the
    first and the last loop moving it, 0 if none) and k (their count)."""
    for a in range(N_AXES):
        s1[a] = 0
        m1[a] = 0
        s2[a] = 0
        m2[a] = 0
        k[a] = 0
    for i in range(n_sp):
        sp = spatial[i]
        a = ax[t, sp.dim]
        if a < 0:
            continue
        if k[a] == 0:
            s1[a] = co[t, sp.dim] * sp.step
            m1[a] = n_digits[i] - 1
        else:
            s2[a] = co[t, sp.dim] * sp.step
            m2[a] = n_digits[i] - 1
        k[a] += 1
    count = np.int64(1)              # not Literal[int](1): see `kernel`'s docstring
    for a in range(N_AXES):
        if k[a] == 2:
            count *= distinct_pairs(m1[a] + 1, m2[a] + 1, s1[a], s2[a])
        else:                        # m1 is 0 where no loop moves the axis: a product without a branch
            count *= m1[a] + 1
    return count


@njit(cache=True, inline="always")
def spatial_axes(t, spatial, n_sp, ax, co, scratch):
    """Per axis of tensor t, the spatial loops of one fan-out that move along it (`distinct_offsets` over all the
    children: scratch's s1, m1, s2, m2, n_on_axis) and the farthest offset difference they reach, m1*s1 + m2*s2
    (reach). Returns the distinct child offsets: the multicast groups (read-only tensors) or spatial-reduction
    groups (Outputs). The loops' bounds are in scratch.n_digits, where `counts.spatial_loops` leaves them once per
    level: a copy here, once per tensor, would be a loop LLVM vectorizes, whose exit (after the fan-out's few loops)
    the branch predictor misses."""
    s1, m1, s2, m2 = scratch.s1, scratch.m1, scratch.s2, scratch.m2
    groups = distinct_offsets(t, spatial, n_sp, ax, co, scratch.n_digits, s1, m1, s2, m2, scratch.n_on_axis)
    for a in range(N_AXES):
        scratch.reach[a] = m1[a] * s1[a] + m2[a] * s2[a]
    return groups


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _grid(spatial, n_sp):
    """(children, product of the X loops, product of the Y loops) of one fan-out's spatial loops."""
    n_children = 1
    px = 1
    py = 1
    for i in range(n_sp):
        sp = spatial[i]
        n_children *= sp.bound
        if sp.kind == LOOP_X:
            px *= sp.bound
        else:
            py *= sp.bound
    return n_children, px, py


@njit(cache=True, inline="always")
def _same_offset(ca, cb, n_words):
    for a in range(n_words):
        if ca.offset[a] != cb.offset[a]:
            return False
    return True


@njit(cache=True, inline="always")
def _slot(children, k, table, mask, stamp, n_words):
    """The hash table's slot for children[k]'s offset (its first n_words words: N_AXES, or 1 for `_list_keys`'
    keys): the one holding an earlier child of equal offset in this call (`stamp`), else the empty one where it goes
    (open addressing, linear probing)."""
    ck = children[k]
    h = 0
    for a in range(n_words):
        h = (h + ck.offset[a]) * GOLDEN
    h = (h >> 32) & mask
    while table[h].stamp == stamp and not _same_offset(children[table[h].child], ck, n_words):
        h = (h + 1) & mask
    return h


@njit(cache=True, inline="always")
def new_stamp(table):
    """A new stamp for a hash table (`workspace.HASH_SLOT`, `PAIR_SLOT`) whose last slot counts its uses in its
    stamp: the slots of earlier stamps are free without clearing them."""
    stamp = table[-1].stamp + 1
    table[-1].stamp = stamp
    return stamp


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _group_children(children, n_children, table):
    """Dense group ids 0..n_groups-1, equal ids for equal offsets: an open-addressing hash table of child
    indices (`workspace.HASH_SLOT`: a slot holds a group's first child where its stamp is this call's), linear in
    the children where sorting them was 8% of the kernel."""
    mask = table.shape[0] - 2         # the table's size less its counter slot is a power of two
    stamp = new_stamp(table)
    n_groups = 0
    for k in range(n_children):
        h = _slot(children, k, table, mask, stamp, N_AXES)
        if table[h].stamp != stamp:
            table[h].child = k
            table[h].stamp = stamp
            children[k].group = n_groups
            n_groups += 1
        else:
            children[k].group = children[table[h].child].group


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _count_distinct(children, lo, hi, table, n_words):
    """How many distinct offsets (their first n_words words, as `_slot`) children[lo:hi] hold, counting those with
    group >= 0 only (the hash table and stamps of `_group_children`)."""
    mask = table.shape[0] - 2
    stamp = new_stamp(table)
    n = 0
    for k in range(lo, hi):
        if children[k].group < 0:
            continue
        h = _slot(children, k, table, mask, stamp, n_words)
        if table[h].stamp != stamp:
            table[h].child = k
            table[h].stamp = stamp
            n += 1
    return n


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _axis_offsets(spatial, first, last, children, at, count):
    """children[at + i].offset = the offset of index i (0 <= i < count) of the spatial loops first..last-1, the
    last one least significant (`sp.axis`, `sp.shift` set): counted up from i - 1, the loops that wrap to 0
    stepping back and the next one out stepping on."""
    for a in range(N_AXES):
        children[at].offset[a] = 0
    for i in range(1, count):
        off = children[at + i].offset
        for a in range(N_AXES):
            off[a] = children[at + i - 1].offset[a]
        inner = 1                         # the product of the bounds of the loops inside loop q
        for q in range(last - 1, first - 1, -1):
            sp = spatial[q]
            wraps = (i // inner) % sp.bound == 0
            if sp.axis >= 0:
                off[sp.axis] += -(sp.bound - 1) * sp.shift if wraps else sp.shift
            if not wraps:
                break
            inner *= sp.bound


@njit(cache=True, inline="always")
def _moves_to(children, k, j, vstar):
    """Does the offset of children[j] less that of children[k] equal vstar?"""
    for a in range(N_AXES):
        if children[j].offset[a] - children[k].offset[a] != vstar[a]:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _separable_link_step(t, spatial, n_sp, fan_x, ax, co, vstar, children, table):
    """`_link_step`'s (served, distinct) without listing the children, where the grid separates; (-1, -1) where it
    does not. It separates when the X loops fill the grid's width (then child k sits at x = its X digits, y = its
    Y digits), the grid has two rows and columns at least, and the X loops move other axes of tensor t than the Y
    loops do. A child's offset is then offX(x) + offY(y) on disjoint axes: its x +- 1 neighbours differ from it by
    offX alone and its y +- 1 ones by offY alone, so it is served iff its column x or its row y has such a
    neighbour at vstar (nA columns, nB rows: nA*H + nB*W - nA*nB children), and the offsets of the others are
    distinct iff both parts are (distinct = distinct offX of the unserved columns x distinct offY of the unserved
    rows). O(W + H) instead of O(W x H)."""
    n_children, px, py = _grid(spatial, n_sp)
    if px < fan_x or px < 2 or py < 2:
        return -1, -1
    n_y = np.int64(0)                     # typed int64, not Literal[int](0): see `kernel`'s docstring
    x_axes = 0
    y_axes = 0
    for i in range(n_sp):
        sp = spatial[i]
        sp.axis = ax[t, sp.dim]
        sp.shift = co[t, sp.dim] * sp.step
        if sp.kind != LOOP_X:
            if i != n_y:                  # a Y loop after an X loop: not the nest's layout
                return -1, -1
            n_y += 1
            if sp.axis >= 0:
                y_axes |= 1 << sp.axis
        elif sp.axis >= 0:
            x_axes |= 1 << sp.axis
    if x_axes & y_axes:
        return -1, -1
    zero = np.int64(0)
    _axis_offsets(spatial, n_y, n_sp, children, zero, px)   # columns: offX(x) at children[x]
    _axis_offsets(spatial, zero, n_y, children, px, py)     # rows: offY(y) at children[px + y]
    n_a = 0
    for x in range(px):
        served = (x + 1 < px and _moves_to(children, x, x + 1, vstar)) or (x >= 1 and _moves_to(children, x, x - 1,
                                                                                                 vstar))
        children[x].group = -1 if served else 0
        n_a += 1 if served else 0
    n_b = 0
    for y in range(py):
        k = px + y
        served = (y + 1 < py and _moves_to(children, k, k + 1, vstar)) or (y >= 1 and _moves_to(children, k, k - 1,
                                                                                                  vstar))
        children[k].group = -1 if served else 0
        n_b += 1 if served else 0
    served_all = n_a * py + n_b * px - n_a * n_b
    distinct = (_count_distinct(children, zero, px, table, N_AXES)
                * _count_distinct(children, px, px + py, table, N_AXES))
    return served_all, distinct


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _still_pass(t, spatial, n_sp, fan_x, ax, n_on_axis):
    """(children, how many take their word from a grid neighbour at a step where tensor t did not move: the
    children, 0, or -1 when not known without listing them). All do when some of the innermost spatial loops
    that do not index t make runs of equal words (2 or more children) that the grid's rows hold whole or that
    hold whole rows: each child then has a left or right neighbour (above or below, on a one-column grid) in
    its run. None do when every spatial loop indexes t and no axis of t has two of them: then no two children
    hold the same word."""
    n_children, px, _ = _grid(spatial, n_sp)
    width = max(fan_x, px)
    run = 1
    i = n_sp - 1
    while i >= 0 and ax[t, spatial[i].dim] < 0:
        run *= spatial[i].bound
        if width % run == 0 or run % width == 0:
            return n_children, n_children
        i -= 1
    if run > 1:
        return n_children, -1
    for j in range(i):
        if ax[t, spatial[j].dim] < 0:
            return n_children, -1
    for a in range(N_AXES):
        if n_on_axis[a] > 1:
            return n_children, -1
    return n_children, 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _list_offsets(t, spatial, n_sp, ax, co, children, digits):
    """children[k].offset in tensor t for every child k under one fan-out (outermost loop most significant, Y loops
    above X loops), counted up digit by digit (`digits`: scratch for k's digits), each loop's `sp.axis` and
    `sp.shift` set; returns (children, product of the X loops, product of the Y loops)."""
    n_children, px, py = _grid(spatial, n_sp)
    for i in range(n_sp):
        # The projection is linear: loop i moves one axis of t by a fixed shift per index (or none).
        sp = spatial[i]
        sp.axis = ax[t, sp.dim]
        sp.shift = co[t, sp.dim] * sp.step
    for i in range(n_sp):
        digits[i] = 0
    for a in range(N_AXES):
        children[0].offset[a] = 0
    for k in range(1, n_children):       # count up the mixed-radix digits (innermost least significant)
        off = children[k].offset
        for a in range(N_AXES):
            off[a] = children[k - 1].offset[a]
        i = n_sp - 1
        while True:
            sp = spatial[i]
            if digits[i] + 1 < sp.bound:
                digits[i] += 1
                if sp.axis >= 0:
                    off[sp.axis] += sp.shift
                break
            digits[i] = 0                 # carry: the digit resets
            if sp.axis >= 0:
                off[sp.axis] -= (sp.bound - 1) * sp.shift
            i -= 1
    return n_children, px, py


KEY_LIMIT = float(2 ** 56)
"""The largest product of the axes' key radices (`_offset_key`) for which keys, their differences and the sums of
`_is_neighbour_key` (up to `MAX_LISTED_SPATIAL` terms, each below twice the product) stay in int64."""


@njit(cache=True, inline="always")
def _radix(reach, a):
    """Axis a's radix in a child's key (`_offset_key`), 2 reach[a] + 1: a child's offset on the axis lies in
    0..reach[a], so two differences of offsets (or one and a vstar within the reach) differ on it by at most
    2 reach[a], less than the radix."""
    return 2 * reach[a] + 1


@njit(cache=True, inline="always")
def _key_weight(reach, a):
    """The weight of axis a in a child's key (`_offset_key`): the product of the radices of the axes below it."""
    weight = np.int64(1)
    for b in range(a):
        weight *= _radix(reach, b)
    return weight


@njit(cache=True, inline="always")
def _key_step(t, sp, ax, co, reach):
    """What one index of spatial loop `sp` adds to a child's key in tensor t (`_offset_key`): its shift on the axis it
    moves times that axis' weight; 0 where it moves no axis of t."""
    a = ax[t, sp.dim]
    return co[t, sp.dim] * sp.step * _key_weight(reach, a) if a >= 0 else np.int64(0)


@njit(cache=True, inline="always")
def _offset_key(vstar, reach):
    """One word for the offsets of the children under a fan-out (each axis a within 0..reach[a]) and their
    differences: the sum over axes of offset[a] x its weight (`_key_weight`). Two differences of offsets (or a
    difference and a vstar with |vstar[a]| <= reach[a]) are equal iff their keys are: each axis' part of the keys'
    difference is within 2 reach[a], below that axis' radix. Returns (whether the keys fit in int64: the product of
    all the radices below `KEY_LIMIT`; whether vstar is within the reach on every axis; vstar's key, meaningful only
    where the keys fit)."""
    product = 1.0                    # the radices' product, in floats, which do not wrap where the keys would
    key = np.int64(0)
    within = True
    for a in range(N_AXES):
        key += vstar[a] * _key_weight(reach, a)
        within &= abs(vstar[a]) <= reach[a]
        product *= float(_radix(reach, a))
    return product < KEY_LIMIT, within, key


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _list_keys(t, spatial, n_sp, ax, co, reach, children):
    """children[k].offset[0] = the key (`_offset_key`) of child k's offset in tensor t for every child k under one
    fan-out (outermost loop most significant, Y loops above X loops), built inside out: the innermost loop's keys,
    then each loop outward repeats the block of the loops inside it once per index, shifted by its key step.
    A copy per child where `_list_offsets` carries digits and N_AXES words; returns the children."""
    n = np.int64(1)
    children[0].offset[0] = 0
    for i in range(n_sp - 1, -1, -1):
        sp = spatial[i]
        step = _key_step(t, sp, ax, co, reach)
        for r in range(1, sp.bound):
            base = r * n
            shift = r * step
            for k in range(n):
                children[base + k].offset[0] = children[k].offset[0] + shift
        n *= sp.bound
    return n


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def list_children(t, spatial, n_sp, fan_x, fan_y, ax, co, children, table, digits):
    """Offsets (`_list_offsets`), groups and grid neighbours of the children under one fan-out (R3); returns their
    count.

    Children sit on a grid of width max(fan-out X, product of X loops); child k (outermost loop most
    significant, Y loops above X loops) sits at (k mod width, k div width). `digits`: scratch for k's digits.
    """
    n_children, px, py = _list_offsets(t, spatial, n_sp, ax, co, children, digits)
    _group_children(children, n_children, table)
    width = max(fan_x, px)
    height = max(fan_y, py)
    x = 0
    y = 0
    for k in range(n_children):
        ck = children[k]
        ck.n_neighbours = 0
        for q in range(4):
            nx = x + (-1 if q == 0 else (1 if q == 1 else 0))
            ny = y + (-1 if q == 2 else (1 if q == 3 else 0))
            if 0 <= nx < width and 0 <= ny < height:
                j = ny * width + nx
                if j < n_children:
                    ck.neighbours[ck.n_neighbours] = j
                    ck.n_neighbours += 1
        x += 1
        if x == width:
            x = 0
            y += 1
    return n_children


@njit(cache=True, inline="always")
def _moved_by(children, k, j, vstar, vkey, n_words):
    """0 exactly where the offset of children[j] less that of children[k] equals vstar: the OR of the axes'
    differences, without a branch; with keys (n_words 1, `_list_keys`), the keys' difference less vstar's key."""
    if n_words == 1:
        return children[j].offset[0] - children[k].offset[0] - vkey
    d = np.int64(0)
    for a in range(N_AXES):
        d |= children[j].offset[a] - children[k].offset[a] - vstar[a]
    return d


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _grid_link_step(children, n_children, width, vstar, vkey, n_words, table):
    """(children served over a link at offset difference vstar, distinct offsets among the rest) for children whose
    offsets `_list_offsets` listed (n_words N_AXES) or whose keys `_list_keys` did (n_words 1; vkey: vstar's key):
    child k sits at (k mod width, k div width) and is served when a grid neighbour (left, right, above or below, R3)
    holds its offset plus vstar. The neighbours are found from k itself rather than listed, and the distinct offsets
    of the unserved children are counted (`_count_distinct`, on the `group` flags set here) only where some child is
    served: with none, no link saves anything."""
    served = 0
    x = 0
    last = n_children - 1
    for k in range(n_children):
        ok = (((x > 0) & (_moved_by(children, k, max(k - 1, 0), vstar, vkey, n_words) == 0))
              | ((x + 1 < width) & (k < last) & (_moved_by(children, k, min(k + 1, last), vstar, vkey, n_words) == 0))
              | ((k >= width) & (_moved_by(children, k, max(k - width, 0), vstar, vkey, n_words) == 0))
              | ((k + width <= last) & (_moved_by(children, k, min(k + width, last), vstar, vkey, n_words) == 0)))
        children[k].group = -1 if ok else 0
        served += 1 if ok else 0
        x += 1
        if x == width:
            x = 0
    if served == 0:
        return 0, 0
    return served, _count_distinct(children, np.int64(0), n_children, table, n_words)


@njit(cache=True, inline="always")
def _bounded_solution(v, a, ma, b, mb):
    """Are there integers x, y with x*a + y*b == v, |x| <= ma, |y| <= mb? (a, b >= 1; extended gcd)"""
    # a*x0 + b*y0 = g
    old_r, r = a, b
    old_s, s_ = 1, 0
    while r != 0:
        q = old_r // r
        old_r, r = r, old_r - q * r
        old_s, s_ = s_, old_s - q * s_
    g = old_r
    if v % g != 0:
        return False
    x0 = old_s * (v // g)
    y0 = (v - a * x0) // b
    da = b // g                       # x = x0 + k*da, y = y0 - k*db
    db = a // g
    k_lo = max(-((ma + x0) // da), -((mb - y0) // db))          # ceil((-ma - x0)/da), ceil((y0 - mb)/db)
    k_hi = min((ma - x0) // da, (mb + y0) // db)
    return k_lo <= k_hi


@njit(cache=True, inline="always")
def lattice_ok(vstar, s1, m1, s2, m2, reach):
    """Can vstar be the offset difference of two children? (necessary for a link)

    A child's offset is sum_i digit_i * step_i (projected), so a difference is sum_i c_i * step_i with
    |c_i| <= bound_i - 1. Each axis gets at most two spatial dims (width: R and P; height: S and Q).
    s1, m1, s2, m2, reach: `spatial_axes`' per-axis steps, largest digits and reach.
    """
    for a in range(N_AXES):          # without a division first: no loop on the axis, or beyond their reach
        if vstar[a] != 0 and (s1[a] == 0 or abs(vstar[a]) > reach[a]):
            return False
    for a in range(N_AXES):
        v = abs(vstar[a])
        if v == 0:
            continue
        if s2[a] == 0:
            if v % s1[a] != 0 or v // s1[a] > m1[a]:
                return False
            continue
        if not _bounded_solution(v, s1[a], m1[a], s2[a], m2[a]):
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def neighbour_diffs(t, spatial, n_sp, fan_x, ax, co, scratch, diffs):
    """The offset differences grid neighbours (linear indices k +- 1 or k +- width, R3) can have, up to
    sign, into diffs; returns their count, or -1 when there are too many spatial loops to list them.

    k + 1 changes the mixed-radix digits by a carry: digit i up one, the digits inside it reset.
    k + width adds width's digits with some pattern of carries. Either way the offset difference is one
    of a few vectors, far fewer than the children: a necessary condition before enumerating them.
    The projection is linear and each spatial loop moves one axis of t by a fixed shift per index
    (`sp.axis`, `sp.shift`), so a difference is summed on the tensor's axes directly (projecting each dim-space
    vector took most of this function's time).
    """
    if n_sp > MAX_LISTED_SPATIAL:
        return -1
    digits = scratch.digits
    n_children, px, _ = _grid(spatial, n_sp)
    for i in range(n_sp):
        sp = spatial[i]
        sp.axis = ax[t, sp.dim]
        sp.shift = co[t, sp.dim] * sp.step
    count = 0
    for i in range(n_sp):                     # k + 1, carry at digit i (spatial loops: outermost first)
        for a in range(N_AXES):
            diffs[count, a] = 0
        sp = spatial[i]
        if sp.axis >= 0:
            diffs[count, sp.axis] += sp.shift
        for i2 in range(i + 1, n_sp):
            sp2 = spatial[i2]
            if sp2.axis >= 0:
                diffs[count, sp2.axis] -= (sp2.bound - 1) * sp2.shift
        count += 1
    width = max(fan_x, px)
    if width >= n_children:
        return count
    rem = width
    for i in range(n_sp - 1, -1, -1):         # width's digits, innermost least significant
        digits[i] = rem % spatial[i].bound
        rem //= spatial[i].bound
    for mask in range(1 << n_sp):             # carry out of each digit
        if mask & 1:                          # nothing carries out of the outermost digit
            continue
        for a in range(N_AXES):
            diffs[count, a] = 0
        feasible = True
        for i in range(n_sp):
            sp = spatial[i]
            cout = (mask >> i) & 1
            cin = (mask >> (i + 1)) & 1 if i + 1 < n_sp else 0
            s = digits[i] + cin
            if (cout == 1 and s < 1) or (cout == 0 and s > sp.bound - 1):
                feasible = False
                break
            if sp.axis >= 0:
                diffs[count, sp.axis] += (s - sp.bound * cout) * sp.shift
        if feasible:
            count += 1
    return count


@njit(cache=True, inline="always")
def is_neighbour_diff(vstar, diffs, n_diffs):
    """Is vstar (or -vstar) among the first n_diffs rows of diffs? (n_diffs < 0: unknown, so maybe)"""
    if n_diffs < 0:
        return True
    for r in range(n_diffs):
        plus = True
        minus = True
        for a in range(N_AXES):
            if diffs[r, a] != vstar[a]:
                plus = False
            if diffs[r, a] != -vstar[a]:
                minus = False
        if plus or minus:
            return True
    return False


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _is_neighbour_key(vkey, t, spatial, n_sp, fan_x, ax, co, reach, carry):
    """`is_neighbour_diff` for one vstar given by its key (`_offset_key`, within the reach), without listing the
    differences (`neighbour_diffs`): is vkey, or -vkey, the key of a difference grid neighbours can have? A key is
    linear in the digits of a child's index: spatial loop i adds K_i per digit (its shift times its axis' weight). So
    k + 1 with a carry up to loop i differs by K_i less (bound - 1) K of each loop inside it, and k + width by the
    key of width's digits plus, for each loop i that carries out, C_i = K_(i-1) - bound_i K_i; a carry pattern is
    possible unless a loop carries out with nothing to add (its digit of width 0, no carry in) or does not with its
    digit full (the largest, a carry in). Keys of vectors within the reach are equal iff the vectors are, so the
    answer is the listing's; the first match ends the test. `carry`: scratch for K_i, then C_i (MAX_SPATIAL words)."""
    if n_sp > MAX_LISTED_SPATIAL:
        return True                  # unknown, so maybe (as `neighbour_diffs`' -1)
    inner = np.int64(0)              # (bound - 1) K of the loops inside loop i
    found = False
    for i in range(n_sp - 1, -1, -1):
        sp = spatial[i]
        k = _key_step(t, sp, ax, co, reach)
        carry[i] = k
        d = k - inner
        found |= (d == vkey) | (d == -vkey)
        inner += (sp.bound - 1) * k
    n_children, px, _ = _grid(spatial, n_sp)
    width = max(fan_x, px)
    if found or width >= n_children:     # a match, or one row: no neighbour above or below
        return found
    rem = width
    k_width = np.int64(0)
    zero_bits = 0                    # loops whose digit of width is 0
    full_bits = 0                    # loops whose digit of width is their largest
    for i in range(n_sp - 1, -1, -1):
        b = spatial[i].bound
        w = rem % b
        rem //= b
        k_width += w * carry[i]
        zero_bits |= (1 if w == 0 else 0) << i
        full_bits |= (1 if w == b - 1 else 0) << i
        if i + 1 < n_sp:             # carry[i + 1] still holds K_(i+1): C_(i+1) in its place
            carry[i + 1] = carry[i] - spatial[i + 1].bound * carry[i + 1]
    for mask in range(0, 1 << n_sp, 2):  # bit i: loop i carries out; nothing carries out of the outermost (bit 0)
        cin = mask >> 1
        if (mask & ~cin & zero_bits) | (~mask & cin & full_bits):
            continue
        key = k_width
        for i in range(1, n_sp):
            key += carry[i] * ((mask >> i) & 1)
        if key == vkey or key == -vkey:
            return True
    return False


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def link_saving(t, vstar, size, cnt, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children):
    """(reads saved, link transfers, child count) of `cnt` steps whose deltas of `size` words can come
    from a grid neighbour at offset difference vstar; enumerates the children on first need
    (n_children == 0: not enumerated yet). The caller has checked that vstar is on the children's lattice."""
    scratch = ws.scratch[0]
    # The children's offsets as one-word keys where the keys fit (which depends on the reach alone, so every call of
    # one (level, tensor) lists and reads them the same way); a vstar beyond the reach serves no child.
    keyed, within, vkey = _offset_key(vstar, scratch.reach)
    if keyed:
        if not within or not _is_neighbour_key(vkey, t, spatial, n_sp, fan_x, layer.ax, layer.co, scratch.reach,
                                               scratch.digits):
            return 0.0, 0.0, n_children
    else:
        if scratch.n_diffs == -2:     # list the neighbour differences once per (level, tensor)
            scratch.n_diffs = neighbour_diffs(t, spatial, n_sp, fan_x, layer.ax, layer.co, scratch, ws.diffs)
        if not is_neighbour_diff(vstar, ws.diffs, scratch.n_diffs):
            return 0.0, 0.0, n_children
    if n_children == 0:
        served, distinct = _separable_link_step(t, spatial, n_sp, fan_x, layer.ax, layer.co, vstar, ws.children,
                                                ws.table)
        if served >= 0:
            if served > 0 and distinct < groups:
                return (groups - distinct) * size * cnt, served * size * cnt, n_children
            return 0.0, 0.0, n_children
    if n_children == 0:
        if keyed:
            n_children = _list_keys(t, spatial, n_sp, layer.ax, layer.co, scratch.reach, ws.children)
        else:
            n_children, _, _ = _list_offsets(t, spatial, n_sp, layer.ax, layer.co, ws.children, scratch.digits)
    _, px, _ = _grid(spatial, n_sp)
    served, distinct = _grid_link_step(ws.children, n_children, max(fan_x, px), vstar, vkey, 1 if keyed else N_AXES,
                                       ws.table)
    if served > 0 and distinct < groups:
        return (groups - distinct) * size * cnt, served * size * cnt, n_children
    return 0.0, 0.0, n_children


@njit(cache=True, inline="always")
def _translation(Tj, reset, a, c, ra):
    """Tj = loop j's translation (c on axis a, -1: none) less the resets inside it (reset, already advanced
    past loop j on axis a, where it was ra)."""
    for x in range(N_AXES):
        Tj[x] = -reset[x]
    if a >= 0:
        Tj[a] = c - ra


@njit(cache=True, inline="always")
def _loop0(t, l0, co, box_axes, is_mac, scratch):
    """Loop 0, the innermost loop above the level: its translation T0 and the reset it makes (into the scratch's
    t0 and reset, 0 off its axis). Returns (the axis of t it moves, -1: none; whether its own delta covers the
    whole tile, overlapping nothing of the previous one)."""
    T0, reset = scratch.t0, scratch.reset
    reset[:] = 0
    T0[:] = 0
    a0 = l0.axis[t]
    if a0 >= 0:
        T0[a0] = co[t, l0.dim] * l0.step
        reset[a0] = co[t, l0.dim] * (l0.bound - 1) * l0.step
    whole0 = is_mac or (a0 >= 0 and T0[a0] >= box_axes[a0])
    return a0, whole0


@njit(cache=True, inline="always")
def _outer_step(t, lj, co, a0, moves0, T0, reset, reach, n_reset, n_far):
    """Loop j's step (the loops inside it resetting) as `links` needs it, Tj = T(loop j) - reset tracked through
    the counts of axes whose reset is nonzero (n_reset) and beyond the fan-out's reach (n_far), in O(1) per loop:
    (the axis a of t it moves, -1: none; its translation c and the reset ra on that axis before it; whether Tj is
    nonzero (nz), fails `lattice_ok` at once (far), equals T0 (same); n_reset and n_far past it), with the reset
    advanced past it. Tj itself is written out only when a link is tried (`_try_link`)."""
    a = lj.axis[t]
    c = 0
    ra = 0
    if a >= 0:
        c = co[t, lj.dim] * lj.step
        ra = reset[a]
        rest = n_reset - (1 if ra != 0 else 0)      # nonzero resets off axis a
        far_rest = n_far - (1 if abs(ra) > reach[a] else 0)
        nz = rest > 0 or c != ra
        far = far_rest > 0 or abs(c - ra) > reach[a]
        if a == a0:
            same = moves0 and rest == 0 and c - ra == T0[a0]
        else:
            same = moves0 and c == ra and rest - (1 if reset[a0] != 0 else 0) == 0 and -reset[a0] == T0[a0]
        reset[a] = ra + co[t, lj.dim] * (lj.bound - 1) * lj.step
        n_reset = rest + (1 if reset[a] != 0 else 0)
        n_far = far_rest + (1 if abs(reset[a]) > reach[a] else 0)
    else:
        nz = n_reset > 0
        far = n_far > 0
        same = moves0 and n_reset - (1 if reset[a0] != 0 else 0) == 0 and -reset[a0] == T0[a0]
    return a, c, ra, nz, far, same, n_reset, n_far


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def _try_link(t, a, c, ra, size, cnt, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children):
    """`link_saving` for `cnt` steps of `size` words at vstar = Tj (`_translation`) if Tj is on the children's
    lattice: (reads saved, link transfers, children listed). A call, not inlined: few steps get this far (a loop
    whose translation is within the fan-out's reach), and each inlined copy is compile time."""
    scratch = ws.scratch[0]
    Tj = scratch.tj
    _translation(Tj, scratch.reset, a, c, ra)
    if not lattice_ok(Tj, scratch.s1, scratch.m1, scratch.s2, scratch.m2, scratch.reach):
        return 0.0, 0.0, n_children
    return link_saving(t, Tj, size, cnt, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children)


@njit(cache=True, inline="always")
def _outer_loops(t, temporal, M, a0, dead0, whole0, cnt0, still, tile, is_mac, spatial, n_sp, fan_x, fan_y, layer,
                 groups, ws):
    """The steps of the loops outside loop 0, inside out (`links`): loop j steps n_j = outer_{j+1} - outer_j times
    (its iterations that run less its passes: (b_j - 1) x outer_j in a perfect nest, `residual.pass_counts`).
    Adds to cnt0 the steps that pair with vstar = T0 and to `still` the MAC steps whose operand did not move, and
    tries the links at vstar = Tj. Returns (cnt0, still, reads saved, link transfers, children listed)."""
    scratch = ws.scratch[0]
    T0, reset, reach = scratch.t0, scratch.reset, scratch.reach
    moves0 = a0 >= 0
    saved = 0.0
    transfers = 0.0
    n_children = np.int64(0)         # not Literal[int](0): see `kernel`'s docstring
    n_reset = 0
    n_far = 0
    if a0 >= 0:
        n_reset = 1 if reset[a0] != 0 else 0
        n_far = 1 if abs(reset[a0]) > reach[a0] else 0
    for j in range(M - 2, -1, -1):
        if dead0 and n_far >= 2:
            # Resets only grow, so two axes stay beyond the fan-out's reach: every Tj from here out is `far`,
            # and without T0's link nothing else is counted.
            break
        lj = temporal[j]
        a, c, ra, nz, far, same, n_reset, n_far = _outer_step(t, lj, layer.co, a0, moves0, T0, reset, reach, n_reset,
                                                              n_far)
        nj = temporal[j + 1].outer - lj.outer
        if is_mac:
            if moves0:
                cnt0 += nj           # (j, 0)
            if not nz:
                still += nj          # (0, j): loop j's step leaves the operand where it was
            elif nj > 0 and not far:   # (0, j)
                s_, l_, n_children = _try_link(t, a, c, ra, 1.0, nj, groups, spatial, n_sp, fan_x, fan_y, layer, ws,
                                               n_children)
                saved += s_
                transfers += l_
            continue
        if not nz or not moves0:
            continue
        if same:
            cnt0 += 2 * nj           # (j, 0) and (0, j) both pair two overlap deltas of T0
        elif whole0:
            cnt0 += nj               # (j, 0): whole tile then whole tile
            if nj > 0 and not far:
                s_, l_, n_children = _try_link(t, a, c, ra, float(tile), nj, groups, spatial, n_sp, fan_x, fan_y,
                                               layer, ws, n_children)
                saved += s_
                transfers += l_
    return cnt0, still, saved, transfers, n_children


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=False)
def _still_links(t, still, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children):
    """(reads saved, link transfers) of the `still` MAC steps whose operand did not move (vstar = 0): a call, as
    `_try_link`, for a MAC under a fan-out only."""
    scratch = ws.scratch[0]
    count, passing = _still_pass(t, spatial, n_sp, fan_x, layer.ax, scratch.n_on_axis)
    if passing == count:             # no read at a still step: every child takes the word from a neighbour
        return groups * still, count * still
    if passing < 0:
        Tj = scratch.tj
        Tj[:] = 0
        s_, l_, _ = link_saving(t, Tj, 1.0, still, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children)
        return s_, l_
    return 0.0, 0.0


@njit(cache=True, inline="always")
def links(t, temporal, M, box_axes, tile, delta_words, is_mac, spatial, n_sp, fan_x, fan_y, layer, groups, ws):
    """Parent reads saved and link transfers (R3) over the walk of one (level, tensor): `M` temporal loops
    above the level, its tile (`tile` words, axis extents `box_axes`), the overlap delta of its innermost
    moving loop (`delta_words`), and the `groups` distinct offsets of its `n_sp` spatial loops (whose per-axis
    steps `spatial_axes` has left in the scratch).

    Consecutive steps pair up as (first tile, 0), (0, 0), (j, 0) and (0, j), loop 0 being the
    innermost loop above the level, with closed-form counts. A pair can use a link only if both deltas
    have the same shape; then the neighbour must sit at vstar = the step's translation (plus the shift
    between the two shapes' corners, zero whenever the shapes match). Working through the kinds, every
    matching pair has vstar = T_0, except (0, j) when loop 0 brings a whole tile: then vstar = T_j.
    The MAC takes its whole operand every step, so all its deltas are single points and a step's vstar is its
    translation, zero included: a MAC whose operand did not move can take it from a neighbour that used
    the same word in the previous step.
    """
    scratch = ws.scratch[0]
    scratch.n_diffs = -2              # neighbour differences not listed yet
    l0 = temporal[M - 1]             # loop 0, the innermost loop above the level
    a0, whole0 = _loop0(t, l0, layer.co, box_axes, is_mac, scratch)
    lattice0 = lattice_ok(scratch.t0, scratch.s1, scratch.m1, scratch.s2, scratch.m2, scratch.reach)
    if not whole0 and not lattice0:
        return 0.0, 0.0               # every matching pair would need vstar = T0: no link anywhere
    moves0 = a0 >= 0
    b0 = l0.bound
    total = temporal[M].outer
    cnt0 = 0.0                       # steps that pair with vstar = T0
    if moves0:
        if whole0:
            cnt0 += 1.0              # (first tile, 0)
        if b0 >= 3:
            cnt0 += (b0 - 2) * (total / b0)
    still = 0.0                      # MAC steps whose operand did not move (vstar = 0)
    if is_mac and not moves0:
        still += (b0 - 1) * (total / b0)
    dead0 = not moves0 or not lattice0   # no link at vstar = T0: cnt0 is never used
    cnt0, still, saved, transfers, n_children = _outer_loops(t, temporal, M, a0, dead0, whole0, cnt0, still, tile,
                                                             is_mac, spatial, n_sp, fan_x, fan_y, layer, groups, ws)
    if not dead0 and cnt0 > 0:
        size0 = 1.0 if is_mac else float(delta_words)
        s_, l_, n_children = link_saving(t, scratch.t0, size0, cnt0, groups, spatial, n_sp, fan_x, fan_y, layer, ws,
                                          n_children)
        saved += s_
        transfers += l_
    if still > 0:
        s_, l_ = _still_links(t, still, groups, spatial, n_sp, fan_x, fan_y, layer, ws, n_children)
        saved += s_
        transfers += l_
    return saved, transfers
