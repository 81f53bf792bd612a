"""The children of one parent instance counted together where they do unequal work (`instances`): R2-R4 of
`reference._level_walk`, compiled.

Each class of children (`workspace.CLASS`; instances that do the same work up to a translation) follows the stream
of its representative: at each iteration its tile, cut at the bounds, or nothing where it idles (its dim offsets
reach a bound), and the delta R2 gives (`state.delta`: the same rule, stride memory and cut-tile rule as every
other stream). The parent's reads at a step are those of `reference._serve_step`: each distinct non-empty delta,
as a set of points, read once; a child whose delta a grid neighbour received at the previous step can take it over
a link, and the links are used when they lower the reads. A class's children hold its representative's delta moved
by their own offset, so a delta is a shape and an anchor (`_canon`, the walk's `_delta_key`): two children share
one when their classes' deltas have the same shape and their anchors plus offsets meet. The distinct deltas of one
class are its distinct offsets (`npts`); where several classes' deltas share a shape, their union is counted over
the children's offsets (`_union`). A link from class c' to class c needs a grid neighbour at the offset difference
between c's current anchor and c''s previous one: the differences neighbouring children of two classes can have
are listed once per sweep (`setup_joint`, in the `links` table), and the children are visited only when one
matches.

`joint_step` is one step of all the classes; `sweep.joint_sweep` visits the steps with the same memoized frame walk
as a single stream's (`sweep.walk`), over the carried states of every class (`quiet_classes`: those that idle from a
frame's start on stay out of its keys). Every count is an integer held in a float64: the sums are exact.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import project
from ..mapping_arrays import N_DIMS
from .links import distinct_offsets, is_neighbour_diff, list_children, neighbour_diffs, new_stamp
from .state import GOLDEN, HAVE, PEXT, PLO, POEXT, POLD, POLO, PSIZE, commit, delta, forget_delta
from .workspace import KEY_LEN, SERVE_LEN, SERVED, STATE_LEN, UNIONS

_SHAPE = N_AXES                            # a key: its anchor (N_AXES), then its shape from here
_HOLE = 2 * N_AXES                         # whether the delta has a hole, then the hole's corner and extents


@njit(cache=True, inline="always")
def _canon(lo, ext, old, olo, oext, key):
    """The delta of tile (lo, ext) less, if `old`, the box (olo, oext), as the walk's `_delta_key`: its corner, then
    its extents, and whether the set is the box less a hole (then the hole's corner relative to the corner, and its
    extents). Two non-empty deltas are the same set exactly when their keys are equal."""
    for a in range(N_AXES):
        key[a] = lo[a]
        key[_SHAPE + a] = ext[a]
        key[_HOLE + 1 + a] = 0
        key[_HOLE + 1 + N_AXES + a] = 0
    key[_HOLE] = 0
    if not old:
        return
    n_partial = 0
    pa = -1
    for a in range(N_AXES):
        c_lo = max(lo[a], olo[a])
        c_hi = min(lo[a] + ext[a], olo[a] + oext[a])
        if c_hi <= c_lo:
            return                         # nothing shared: the whole tile
        if c_lo > lo[a] or c_hi < lo[a] + ext[a]:
            n_partial += 1
            pa = a
    if n_partial == 1:
        c_lo = max(lo[pa], olo[pa])
        c_hi = min(lo[pa] + ext[pa], olo[pa] + oext[pa])
        if c_lo == lo[pa]:                 # the shared part is the low end: the delta is the high end
            key[pa] = c_hi
            key[_SHAPE + pa] = lo[pa] + ext[pa] - c_hi
            return
        if c_hi == lo[pa] + ext[pa]:
            key[_SHAPE + pa] = c_lo - lo[pa]
            return
    key[_HOLE] = 1
    for a in range(N_AXES):
        c_lo = max(lo[a], olo[a])
        c_hi = min(lo[a] + ext[a], olo[a] + oext[a])
        key[_HOLE + 1 + a] = c_lo - lo[a]
        key[_HOLE + 1 + N_AXES + a] = c_hi - c_lo


@njit(cache=True, inline="always")
def _same_shape(u, v):
    for k in range(_SHAPE, KEY_LEN):
        if u[k] != v[k]:
            return False
    return True


@njit(cache=True, inline="always")
def child_class(k, spatial, n_sp, jt):
    """The class index (0..n_sub-1, as `instances.build_classes` numbers them) of child k of a fan-out whose
    categories `jt` holds (`instances._categories`; child k: the spatial loops' digits, the outermost most
    significant)."""
    idx = np.int64(0)
    radix = np.int64(1)
    rest = k
    for i in range(n_sp - 1, -1, -1):
        digit = rest % spatial[i].bound
        rest //= spatial[i].bound
        if jt.split[i] == 0:
            continue
        q = 0
        while jt.cat_hi[i, q] < digit:
            q += 1
        idx += q * radix
        radix *= jt.n_cat[i]
    return idx


@njit(cache=True, inline="always")
def _hash_point(tag, point):
    h = tag * np.int64(GOLDEN)
    for a in range(N_AXES):
        h = (h + point[a]) * GOLDEN
    return h


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _insert(table, children, k, tag, tags, anchors, point, stamp):
    """Insert child k's `point` under `tag` into the hash table of this stamp (open addressing; an entry is a child,
    whose point is anchors[its class] + its offset and whose tag is tags[its class]); True if no entry with the same
    tag and point was there."""
    mask = table.shape[0] - 2
    h = (_hash_point(tag, point) >> 32) & mask
    while table[h].stamp == stamp:
        j = table[h].child
        q = children[j].cls
        if tags[q] == tag:
            same = True
            for a in range(N_AXES):
                if anchors[q, a] + children[j].offset[a] != point[a]:
                    same = False
                    break
            if same:
                return False
        h = (h + 1) & mask
    table[h].child = k
    table[h].stamp = stamp
    return True


@njit(cache=True, inline="always")
def _pair_hash(q, q2, w):
    h = (q * 64 + q2) * np.int64(GOLDEN)
    for a in range(N_AXES):
        h = (h + w[a]) * GOLDEN
    return h >> 32


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _find_pair(table, children, q, q2, w, stamp):
    """The slot of the `links` table holding a child of class q with a grid neighbour of class q2 at offset
    difference w (an entry: the child pair), or the free slot where it would go."""
    mask = table.shape[0] - 2
    h = _pair_hash(q, q2, w) & mask
    while table[h].stamp == stamp:
        a_, b_ = children[table[h].child], children[table[h].neighbour]
        if a_.cls == q and b_.cls == q2:
            same = True
            for a in range(N_AXES):
                if b_.offset[a] - a_.offset[a] != w[a]:
                    same = False
                    break
            if same:
                return h
        h = (h + 1) & mask
    return h


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def setup_joint(t, layer, spatial, n_sp, n_children, fan_x, fan_y, ws, c):
    """What a joint sweep of parent class c needs from the start: each class's representative offset (dims, and
    projected) and its distinct offsets (`_class_offsets`), and the offset differences grid neighbours can have
    (`links.neighbour_diffs`, a filter for links); the tables of answers emptied. The children are listed on first
    need (`_list`)."""
    jt = ws.joint[0]
    parent = ws.classes[c]
    jt.t = t
    jt.parent = c
    jt.n_sp = n_sp
    jt.fan_x = fan_x
    jt.fan_y = fan_y
    jt.n_children = n_children
    jt.listed = 0
    for q in range(parent.n_sub):
        sub = ws.classes[parent.first + q]
        for d in range(N_DIMS):
            jt.off[q, d] = sub.origin[d] - parent.origin[d]
        project(t, jt.off[q], layer.coef, jt.prep[q])
        jt.npts[q] = _class_offsets(q, t, spatial, n_sp, layer.ax, layer.co, jt)
        jt.tag[q] = q
    scratch = ws.scratch[0]
    scratch.n_diffs = neighbour_diffs(t, spatial, n_sp, fan_x, layer.ax, layer.co, scratch, ws.diffs)
    answers = ws.answers
    if jt.ready == 0:                     # the tables of answers are cleared on the workspace's first joint sweep
        for tb in range(answers.shape[0]):
            for k in range(answers[tb].slot_stamp.shape[0]):
                answers[tb].slot_stamp[k] = 0
        jt.answer_stamp = 0
        jt.ready = 1
    jt.answer_stamp += 1
    for tb in range(answers.shape[0]):
        answers[tb].entries = 0
        answers[tb].words = 0


@njit(cache=True, inline="always")
def _class_offsets(q, t, spatial, n_sp, ax, co, jt):
    """The distinct offsets (in tensor t) of the children of class q: `links.distinct_offsets` with each spatial
    loop that splits the fan-out taking only the class's range of digits."""
    rest = q
    for i in range(n_sp - 1, -1, -1):
        m = spatial[i].bound
        if jt.split[i] != 0:
            m = jt.cat_n[i, rest % jt.n_cat[i]]
            rest //= jt.n_cat[i]
        jt.n_digits[i] = m
    return distinct_offsets(t, spatial, n_sp, ax, co, jt.n_digits, jt.a_s1, jt.a_m1, jt.a_s2, jt.a_m2, jt.a_k)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _list(ws, layer):
    """The children of the sweep's parent class, listed once: offsets and grid neighbours (`links.list_children`),
    their classes, and each class's distinct offsets (a list through `CHILD.next`)."""
    jt = ws.joint[0]
    if jt.listed != 0:
        return
    jt.listed = 1
    cls, children, table, spatial = ws.classes, ws.children, ws.table, ws.spatial
    n_sp, n_children = jt.n_sp, jt.n_children
    n = cls[jt.parent].n_sub
    list_children(jt.t, spatial, n_sp, jt.fan_x, jt.fan_y, layer.ax, layer.co, children, table, ws.scratch[0].digits)
    zero, tail = jt.zeros, jt.tail
    for q in range(n):
        jt.head[q] = -1
        for a in range(N_AXES):
            zero[q, a] = 0
    stamp = new_stamp(table)
    for k in range(n_children):
        ck = children[k]
        q = child_class(k, spatial, n_sp, jt)
        ck.cls = q
        ck.next = -1
        if _insert(table, children, k, q, jt.tag, zero, ck.offset, stamp):
            if jt.head[q] < 0:
                jt.head[q] = k
            else:
                children[tail[q]].next = k
            tail[q] = k


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _list_pairs(ws, layer):
    """The offset differences of neighbouring children per pair of classes, listed once (the `links` table, its
    stamp in jt.p_stamp), the children listed first (`_list`)."""
    jt = ws.joint[0]
    if jt.listed > 1:
        return
    _list(ws, layer)
    jt.listed = 2
    children = ws.children
    pairs = ws.links
    jt.p_stamp = new_stamp(pairs)
    w = jt.gap                            # not jt.point: the caller's offset difference
    for k in range(jt.n_children):
        ck = children[k]
        for i in range(ck.n_neighbours):
            j = ck.neighbours[i]
            cj = children[j]
            for a in range(N_AXES):
                w[a] = cj.offset[a] - ck.offset[a]
            h = _find_pair(pairs, children, ck.cls, cj.cls, w, jt.p_stamp)
            if pairs[h].stamp != jt.p_stamp:
                pairs[h].child = k
                pairs[h].neighbour = j
                pairs[h].stamp = jt.p_stamp


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _union(group, n, ws, layer):
    """Distinct deltas among the children of the classes in `group` (their current deltas share one shape): the
    distinct points anchor + offset over their children's distinct offsets. It depends only on which classes are in
    the group and on their anchors relative to the first one's, a key that few patterns take: answers are kept by
    key (the `u_*` table)."""
    jt = ws.joint[0]
    anchors = jt.key[0]
    key = jt.cfg
    w = 1
    members = np.int64(0)
    for q in range(n):
        if jt.gid[q] == group:
            members |= np.int64(1) << q
            for a in range(N_AXES):
                key[w + a] = anchors[q, a] - anchors[group, a]
            w += N_AXES
    key[0] = members
    unions = ws.answers[UNIONS]
    slot = _table_find(unions, key, w, jt.answer_stamp)
    if unions.slot_stamp[slot] == jt.answer_stamp:
        return unions.points[slot]
    count = _separate_union(group, n, ws, layer.ax)
    if count >= 0:
        if _table_store(unions, slot, key, w, jt.answer_stamp):
            unions.points[slot] = count
        return count
    _list(ws, layer)
    children, table = ws.children, ws.table
    pt = jt.point
    stamp = new_stamp(table)
    count = np.int64(0)
    for q in range(n):
        if jt.gid[q] != group:
            continue
        k = jt.head[q]
        while k >= 0:
            for a in range(N_AXES):
                pt[a] = anchors[q, a] + children[k].offset[a]
            if _insert(table, children, k, group, jt.gid, anchors, pt, stamp):
                count += 1
            k = children[k].next
    if _table_store(unions, slot, key, w, jt.answer_stamp):
        unions.points[slot] = count
    return count


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _separate_union(group, n, ws, ax):
    """`_union` without listing the children, where their classes' offsets are separate sets or the same set: every
    member's anchor is the group's, and each spatial loop that splits classes and moves the tensor moves an axis no
    other spatial loop moves. Then two classes whose categories differ on such a loop have disjoint offsets (that
    axis takes disjoint values), and two that agree on all of them have the same offsets (the other loops do not
    move the tensor, or move it alike): the union counts each distinct set once. -1 where that does not hold."""
    jt = ws.joint[0]
    spatial, n_sp, t = ws.spatial, jt.n_sp, jt.t
    anchors = jt.key[0]
    for q in range(n):
        if jt.gid[q] != group:
            continue
        for a in range(N_AXES):
            if anchors[q, a] != anchors[group, a]:
                return -1
    for i in range(n_sp):
        a = ax[t, spatial[i].dim]
        if jt.split[i] == 0 or a < 0:
            continue
        for i2 in range(n_sp):
            if i2 != i and ax[t, spatial[i2].dim] == a:
                return -1
    # each member's categories on the splitting loops that move t, as one number (mixed radix)
    sig = jt.tail                         # scratch: per member class, that number
    count = np.int64(0)
    for q in range(n):
        if jt.gid[q] != group:
            continue
        s = np.int64(0)
        rest = q
        for i in range(n_sp - 1, -1, -1):
            if jt.split[i] == 0:
                continue
            cat = rest % jt.n_cat[i]
            rest //= jt.n_cat[i]
            if ax[t, spatial[i].dim] >= 0:
                s = s * 3 + cat
        sig[q] = s
        seen = False
        for q2 in range(q):
            if jt.gid[q2] == group and sig[q2] == s:
                seen = True
                break
        if not seen:
            count += jt.npts[q]
    return count


@njit(cache=True, inline="always")
def _table_find(tb, key, w, stamp):
    """The slot of a table of answers (`workspace.ANSWERS`) holding key[:w] under this stamp, or the free slot where
    it would go (open addressing on a hash of the key)."""
    h = np.int64(w)
    for k in range(w):
        h = (h + key[k]) * GOLDEN
    slot_stamp, pool = tb.slot_stamp, tb.pool
    mask = slot_stamp.shape[0] - 1
    slot = (h >> 32) & mask
    while slot_stamp[slot] == stamp:
        o = tb.slot_key[slot]
        same = pool[o] == w
        if same:
            for k in range(w):
                if pool[o + 1 + k] != key[k]:
                    same = False
                    break
        if same:
            return slot
        slot = (slot + 1) & mask
    return slot


@njit(cache=True, inline="always")
def _table_store(tb, slot, key, w, stamp):
    """Store key[:w] at the free `slot` found by `_table_find` if the table has room (at most half its slots, and
    its pool); returns whether it did. The caller writes the answer."""
    pool = tb.pool
    if tb.entries >= tb.slot_stamp.shape[0] // 2 or tb.words + w + 1 > pool.shape[0]:
        return False
    o = tb.words
    pool[o] = w
    for k in range(w):
        pool[o + 1 + k] = key[k]
    tb.slot_stamp[slot] = stamp
    tb.slot_key[slot] = o
    tb.entries += 1
    tb.words = o + w + 1
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _serve(n, n_children, ws, layer):
    """R3 at one step of the parent (`reference._serve_step`): (reads, link transfers) from the classes' current
    deltas (jt.here: it brings words; jt.key[0]: anchors relative to each class's representative) and previous ones
    (jt.pon, jt.key[1]). The reads are each group's distinct deltas: a class alone, its distinct offsets; classes
    whose deltas share a shape, their union (`_union`). A child can be served over a link only where a class's
    previous delta has a current one's shape at an offset difference that grid neighbours can have; then the answer
    depends only on the keys with their anchors relative to one of them, and is kept by that pattern (`SERVE_LEN`
    words a class, the `s_*` table): the children are visited only for a new one (`_links`)."""
    jt = ws.joint[0]
    cur, prev = jt.key[0], jt.key[1]
    gid, size, on, pon = jt.gid, jt.size, jt.here, jt.pon
    # groups of classes whose current deltas share a shape; a group's id is its first class
    for q in range(n):
        gid[q] = -1
    reads = 0.0
    ref = -1
    for q in range(n):
        if on[q] == 0 or gid[q] >= 0:
            continue
        ref = q if ref < 0 else ref
        gid[q] = q
        members = 1
        for q2 in range(q + 1, n):
            if on[q2] != 0 and gid[q2] < 0 and _same_shape(cur[q], cur[q2]):
                gid[q2] = q
                members += 1
        if members == 1:
            reads += float(jt.npts[q] * size[q])
        else:
            reads += float(_union(q, n, ws, layer) * size[q])
    if reads == 0.0 or n_children < 2:
        return reads, 0.0
    # a link needs a class whose previous delta has a current one's shape, at an offset difference of neighbours
    w = jt.point
    possible = False
    for q in range(n):
        if on[q] == 0 or possible:
            continue
        for q2 in range(n):
            if pon[q2] == 0 or not _same_shape(cur[q], prev[q2]):
                continue
            for a in range(N_AXES):
                w[a] = cur[q, a] - prev[q2, a]
            if not is_neighbour_diff(w, ws.diffs, ws.scratch[0].n_diffs):
                continue
            _list_pairs(ws, layer)
            if ws.links[_find_pair(ws.links, ws.children, q, q2, w, jt.p_stamp)].stamp == jt.p_stamp:
                possible = True
                break
    if not possible:
        return reads, 0.0
    cfg = jt.cfg
    n_words = 0
    for q in range(n):
        cfg[n_words] = on[q]
        cfg[n_words + KEY_LEN + 1] = pon[q]
        for k in range(KEY_LEN):
            cfg[n_words + 1 + k] = 0
            cfg[n_words + KEY_LEN + 2 + k] = 0
        if on[q] != 0:
            for a in range(N_AXES):
                cfg[n_words + 1 + a] = cur[q, a] - cur[ref, a]
            for k in range(N_AXES, KEY_LEN):
                cfg[n_words + 1 + k] = cur[q, k]
        if pon[q] != 0:
            for a in range(N_AXES):
                cfg[n_words + KEY_LEN + 2 + a] = prev[q, a] - cur[ref, a]
            for k in range(N_AXES, KEY_LEN):
                cfg[n_words + KEY_LEN + 2 + k] = prev[q, k]
        n_words += SERVE_LEN
    served = ws.answers[SERVED]
    slot = _table_find(served, cfg, n_words, jt.answer_stamp)
    if served.slot_stamp[slot] == jt.answer_stamp:
        return served.reads[slot], served.transfers[slot]
    reads, transfers = _links(n, n_children, reads, ws)
    if _table_store(served, slot, cfg, n_words, jt.answer_stamp):
        served.reads[slot] = reads
        served.transfers[slot] = transfers
    return reads, transfers


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _links(n, n_children, reads, ws):
    """(reads, link transfers) of a step whose children may take their delta from a grid neighbour (`_serve`): each
    child whose neighbour, of some class, received at the previous step the delta the child asks for now is served;
    if serving them lowers the reads to the distinct deltas of the others, the parent reads those and every served
    child's delta is one link transfer (`reference._serve_step`)."""
    jt = ws.joint[0]
    cur, prev = jt.key[0], jt.key[1]
    gid, size, on, pon = jt.gid, jt.size, jt.here, jt.pon
    children, table = ws.children, ws.table
    stamp = new_stamp(table)
    rest = 0.0
    links = 0.0
    pt = jt.point
    for k in range(n_children):
        ck = children[k]
        q = ck.cls
        if on[q] == 0:
            continue
        served = False
        for i in range(ck.n_neighbours):
            cj = children[ck.neighbours[i]]
            q2 = cj.cls
            if pon[q2] == 0 or not _same_shape(cur[q], prev[q2]):
                continue
            served = True
            for a in range(N_AXES):
                if cj.offset[a] - ck.offset[a] != cur[q, a] - prev[q2, a]:
                    served = False
                    break
            if served:
                break
        if served:
            links += size[q]
            continue
        for a in range(N_AXES):
            pt[a] = cur[q, a] + ck.offset[a]
        if _insert(table, children, k, gid[q], gid, cur, pt, stamp):
            rest += size[q]
    if links > 0 and rest < reads:
        return rest, links
    return reads, 0.0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def joint_step(t, off, full, is_mac, layer, n, n_children, ws, out):
    """One iteration of the parent at dim offsets `off` (its first child's): each class's delta (R2; an idle class
    brings nothing and keeps its stream), the parent's reads and link transfers (`_serve`); the carried states move
    on. Writes (each class's fills, reads, transfers) into `out`."""
    jt = ws.joint[0]
    x = ws.scratch[0]
    bounds = layer.bounds
    at = jt.pos                           # not jt.at: the caller's `off`
    for q in range(n):
        st = jt.state[q * STATE_LEN:(q + 1) * STATE_LEN]
        # the previous step's delta as a key (the class's previous tile less its old box), before `delta` moves on
        jt.pon[q] = 1 if st[HAVE] != 0 and st[PSIZE] > 0 else 0
        if jt.pon[q] != 0:
            pk = jt.key[1, q]
            _canon(st[PLO:PLO + N_AXES], st[PEXT:PEXT + N_AXES], st[POLD] != 0, st[POLO:POLO + N_AXES],
                   st[POEXT:POEXT + N_AXES], pk)
            for a in range(N_AXES):
                pk[a] -= jt.prep[q, a]
        here = True
        for d in range(N_DIMS):
            at[d] = off[d] + jt.off[q, d]
            here &= at[d] < bounds[d]
        if not here:
            jt.here[q] = 0
            jt.size[q] = -1               # idle: no delta, and none to pass on at the next step
            out[q] = 0.0
            continue
        size = delta(t, at, st, full, is_mac, layer, x)
        jt.size[q] = size
        jt.here[q] = 1 if size > 0 else 0
        jt.old[q] = x.d_old
        for a in range(N_AXES):
            jt.lo[q, a] = x.lo[a]
            jt.ext[q, a] = x.ext[a]
            jt.olo[q, a] = x.d_olo[a]
            jt.oext[q, a] = x.d_oext[a]
        if size > 0:
            ck = jt.key[0, q]
            _canon(jt.lo[q], jt.ext[q], x.d_old != 0, jt.olo[q], jt.oext[q], ck)
            for a in range(N_AXES):
                ck[a] -= jt.prep[q, a]
        out[q] = float(size)
    reads, transfers = _serve(n, n_children, ws, layer)
    out[n] = reads
    out[n + 1] = transfers
    for q in range(n):
        st = jt.state[q * STATE_LEN:(q + 1) * STATE_LEN]
        if jt.size[q] < 0:
            forget_delta(st)
        else:
            commit(st, jt.lo[q], jt.ext[q], jt.old[q], jt.olo[q], jt.oext[q], jt.size[q])


@njit(cache=True, inline="always")
def quiet_classes(jt, n, base, bounds, state):
    """The classes (bit q) that idle at every iteration from dim offsets `base` (a dim offset of theirs reaches its
    bound there, and inner loops only add) and have no previous delta to pass on: they add nothing to a frame from
    there, and leave it as they entered it. Their states stay out of the frame's memo keys, so that an idle class's
    stream, frozen where it stopped, does not make every frame it idles through a new one."""
    mask = np.int64(0)
    for q in range(n):
        if state[q * STATE_LEN + PSIZE] != 0:
            continue
        for d in range(N_DIMS):
            if base[d] + jt.off[q, d] >= bounds[d]:
                mask |= np.int64(1) << q
                break
    return mask
