"""A residual stream's counts in closed form: the frame walk's count (`sweep.walk` with `residual.leaf_step`) without
visiting its steps, for a (level, tensor) of a mapping whose instances under each fan-out do the same work (the
temporal class, or one class of instances, `instances`); not the MAC.

Phases. Per dim, the loops above the level run full passes until every one of them outside is at its last
iteration (F2); then the dim is in its last phase, whose offsets and tile cut are one fixed value. A frame (loop j
with the loops inside it, from some base offset) is therefore determined by j and its cut context: per dim, the
bound less the base, capped at the extent the frame's iterations and tiles span (`sweep`'s context). Its
iterations 0..n-2 are frames j + 1 of one context (the dim of loop j in its full phase) and its last one of another
(the context carried on), so the frames form a small tree of distinct (j, context) nodes, at most 2^(dims with a
residual) per depth, built top-down (`_build_tree`) and summarized bottom-up (`_summarize`).

Summary of a node (as a function of the stride memory of R2 when it starts). Its first tile (extents; corner at its
base), its last tile (corner relative to the base, extents) and its steps between them. The steps depend on what
came before only through the stride memory (none, or the last stride) at the first step that changes the tile
(the node's *first move*): that step reuses the overlap when no stride is remembered, or when it repeats the
remembered one and no axis lost two words or more (`state.delta`), and brings its whole tile otherwise. After it
the memory is the move's own (its translation, or none), so the rest of the node's steps and the memory it leaves
are two fixed values, one per outcome of the first move. The memory any move leaves is its own translation after an
overlap and none after a whole tile, so the state after a sequence of moves is the last move's outcome (one bit per
outcome of the first move) and that move's geometry, the same for both: the composition carries two bits and one
last move, and a node's summary per outcome is its rest's fills and its last move's outcome. A node is summarized from its children by running that
rule over their sequence (first child, step, middle child, step, ..., last child): the middle iterations repeat the
same child, so once an iteration leaves both outcomes' states as it found them, every further one adds the same
counts (`_compose`). Counts are integers, as in the walk, so the result is the walk's exactly.

Under a fan-out the walk also serves a step's delta over a link (R3) when the previous step's delta, of the same
size, sits at an offset difference of grid neighbours (`residual._step`). A node's summary therefore also carries,
the delta its last move leaves under either outcome of that move (size and corner; none after a still step or where
the innermost loops that do not move the tensor repeat the tile, `residual.leaf_step`'s forgetting) and its first move's delta, which
meets the delta from before the node only when the move is the node's very first step. Where two consecutive deltas
of equal size have corners an offset difference of grid neighbours apart on the children's lattice
(`link_candidates`), a link may be taken: the stream is left to the walk. Elsewhere no link is, and the parent
reads each multicast group's fills.

The nodes live in a borrowed int64 scratch (`NODE` words each); a stream with more nodes than it holds, or a
context the phases do not predict, returns -1 and is left to the walk.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box
from .links import is_neighbour_diff, neighbour_diffs
from .workspace import MAX_LEVELS, MAX_NEIGHBOUR_DIFFS

A = N_AXES
# A node's record in the scratch: scalars, then 8-dim and N_AXES-axis vectors.
J, N, CM, CL, HAS_MOVE, FM_OK, FM_OVER, FM_WHOLE = range(8)
REST = 8              # [2]: the rest of the node's fills after its first move, per outcome (0 overlap, 1 whole)
EXIT_O = 10           # [2]: per outcome of its first move, the outcome of its last move
FIRST_WORDS = 12
HAS_STEP = 13         # the node has more than one tile (steps inside it)
FM_ENTRY = 14         # its first move is its first step and its first tile keeps its delta: it meets the one before
FIRST_FORGETS = 15    # its first tile's delta is forgotten (the innermost loops that do not move t repeat the tile)
EXIT_KEEP = 16        # the delta of its last move is still kept at its end (links checked; no still step after it)
L_OVER, L_WHOLE = 17, 18              # its last move's words under each of that move's outcomes
CTX = 19              # [8]: the cut context
FM_T = CTX + 8        # [A]: the first move's translation
LAST_T = FM_T + A     # [A]: the last move's translation (the stride it leaves remembered, after an overlap)
FIRST_EXT = LAST_T + A                # [A]
LAST_LO = FIRST_EXT + A               # [A]: the last tile's corner relative to the node's first
LAST_EXT = LAST_LO + A                # [A]
FM_CO = LAST_EXT + A                  # [A]: the first move's delta's corner, overlap outcome (relative to the base)
FM_CW = FM_CO + A                     # [A]: the same, whole outcome (the tile's corner)
L_CO = FM_CW + A                      # [A]: the last move's delta's corner, overlap outcome (relative to the base)
L_CW = L_CO + A                       # [A]: the same, whole outcome
NODE = L_CW + A
MAX_NODES = 1024
"""Nodes a stream may need before it is left to the walk (the dev corpora and random decodes need far fewer)."""

# The composition's scratch. After a node's first move, the state the steps leave per outcome of that move is a
# function of the last move alone: its outcome (a bit per outcome of the first move: 0 overlap, which leaves its
# translation remembered and its overlap delta; 1 whole, which leaves no stride and the whole tile as delta), and,
# shared by both, the last move's translation and delta geometry (its words and corner under either outcome, and
# whether that delta is still kept). The state does not copy the last move's vectors: it holds where they are in the
# pool (a child's record, or the node's step below, both fixed while the node is composed), and the iteration whose
# child's base the corners are relative to (`_corner_now`). Whether the first move is known, whether no step was
# taken yet, the sums and the sums at the start of the iteration, the outcomes simulated, then the state now and at
# the start of the iteration (`ST`: the bits, then the shared last move).
SC_KNOWN, SC_ENTRY, SC_SUMS, SC_SEG = 0, 1, 2, 4
SC_N_OUT = 6          # the outcomes simulated: 0 before the first move, 2, or 1 once both bits are equal
                      # (outcome 1 is outcome 0's then)
SC_OFFSET = 7         # once merged: outcome 1's sums less outcome 0's
SC_LINKS = 8          # link candidates are checked (a fan-out above the level)
S_O, S_KEEP, S_LOV, S_LWH = 0, 2, 3, 4  # a state: the bits [2], whether its delta is kept, its words per outcome
S_LT = 5              # pool offset of the last move's translation [A]
S_LCO, S_LCW = 6, 7   # pool offsets of its delta's corner per outcome [A] (only where links are checked)
S_AT = 8              # the iteration whose child's base those corners are relative to
ST = 9
SC_NOW = 9
SC_BEFORE = SC_NOW + ST
# The node's step (every step of its loop leaves the middle child's last tile, so they all share one translation,
# and differ only by the child they enter: q = 0 the middle one, 1 the last one), computed once per node.
SC_STILL = SC_BEFORE + ST             # [2] per q: the step is still (same corner and extents)
SC_OK = SC_STILL + 2                  # [2] per q: no axis lost two words or more
SC_OVER = SC_OK + 2                   # [2] per q: the words it brings after an overlap
SC_WORDS = SC_OVER + 2                # [2] per q: the entered tile's words
SC_T = SC_WORDS + 2                   # [A] the translation
SC_CORNER = SC_T + A                  # [2 x A] per q: the overlap delta's corner, relative to the entered child's base
SC_SHIFT = SC_CORNER + 2 * A
SC_EXT = SC_SHIFT + A
SC_CTX = SC_EXT + A
SC_CLIP = SC_CTX + 8
SC_CUT = SC_CLIP + 8                  # [8] the dims the bounds cut (`_reaches`), then per dim its index among them
SC_CUTIX = SC_CUT + 8                 # [8] (-1: not cut)
SC_RTAIL = SC_CUTIX + 8               # [8] every dim's reach at the leaves' depth
SC_NCUT = SC_RTAIL + 8                # the count of cut dims
SC_ZERO = SC_NCUT + 1                 # [A] zeros: the corner of a tile's whole delta, relative to the tile
SCRATCH = MAX_NODES * NODE            # where the scratch starts in the pool
SPAN = SCRATCH + SC_ZERO + A          # [A]: per axis, the largest offset difference of two children (0: none)
CAND = SPAN + A         # the link candidates [MAX_CAND x A]
MAX_CAND = 2 * MAX_NEIGHBOUR_DIFFS
REACH = CAND + MAX_CAND * A           # the cut dims' reach of every depth of the tree [8 x (loops + 1)]
MAX_DEPTH = 8 * MAX_LEVELS
DEPTH_DIM = REACH + 8 * (MAX_DEPTH + 1)   # per depth of the tree (`_reaches`): its loop's dim [MAX_DEPTH]
DEPTH_STEP = DEPTH_DIM + MAX_DEPTH        # its step
DEPTH_BOUND = DEPTH_STEP + MAX_DEPTH      # its iterations
DEPTH_LOOP = DEPTH_BOUND + MAX_DEPTH      # the outermost of its temporal loops
POOL_WORDS = DEPTH_LOOP + MAX_DEPTH
"""Scratch words `phase_stream` needs: the nodes, the composition's scratch, the children's spread and the link
candidates, the reaches and the tree's depths."""
HIT = -1
"""`_step` / `_child`: a link may be taken; the stream is left to the walk."""
NOW = SC_NOW
"""Where the composition's current state starts in its scratch."""


@njit(cache=True, inline="always")
def _linkable(psize, po, lag, size, co, shift, pool, n_cand):
    """Could a delta of `size` words at corner pool[co:] be served over a link after a delta of `psize` words at
    corner pool[po:] less `lag` times `shift` (both corners then relative to one base): the same size (> 0) and
    corners an offset difference among the candidates apart (first: within the children's spread on every axis)?"""
    if size == 0 or psize != size:
        return False
    for a in range(A):
        if abs(pool[co + a] - pool[po + a] + lag * shift[a]) > pool[SPAN + a]:
            return False
    for k in range(n_cand):
        b = CAND + k * A
        match = True
        for a in range(A):
            if pool[co + a] - pool[po + a] + lag * shift[a] != pool[b + a]:
                match = False
                break
        if match:
            return True
    return False


@njit(cache=True, inline="always")
def _may_link(pool, sc, v, size, co, i, shift, n_cand):
    """`_linkable` for a delta at pool[co:] relative to iteration i's child, after the delta outcome v's state keeps
    (none where the last move's delta is forgotten)."""
    if sc[NOW + S_KEEP] == 0:
        return False
    lag = i - sc[NOW + S_AT]
    if sc[NOW + S_O + v] == 0:
        return _linkable(sc[NOW + S_LOV], sc[NOW + S_LCO], lag, size, co, shift, pool, n_cand)
    return _linkable(sc[NOW + S_LWH], sc[NOW + S_LCW], lag, size, co, shift, pool, n_cand)


@njit(cache=True, inline="always")
def _same(pool, x, y):
    """Are the A-vectors at pool[x:] and pool[y:] equal (the same place first)?"""
    if x == y:
        return True
    for a in range(A):
        if pool[x + a] != pool[y + a]:
            return False
    return True


@njit(cache=True, inline="always")
def _outcomes(pool, sc, t0, ok):
    """R2 on a move by pool[t0:] (ok: no axis lost two words or more) after each outcome's state: 0 it reuses the
    overlap (no stride remembered, or the remembered one, the last move's translation, repeated), 1 it brings the
    whole tile. Returns both (outcome 1's is outcome 0's where not simulated)."""
    repeat = ok and _same(pool, sc[NOW + S_LT], t0)
    o0 = 0 if repeat or sc[NOW + S_O] != 0 else 1
    o1 = 0 if repeat or sc[NOW + S_O + 1] != 0 else 1
    return o0, o1


@njit(cache=True, inline="always")
def _last_move(sc, keep, over, whole, t0, co, cw, i):
    """The state's shared last move <- its translation at pool[t0:], kept or not, words under either outcome,
    corners at pool[co:] / pool[cw:] relative to iteration i's child (only where links are checked: nothing else
    reads a corner)."""
    sc[NOW + S_KEEP] = keep
    sc[NOW + S_LOV] = over
    sc[NOW + S_LWH] = whole
    sc[NOW + S_LT] = t0
    sc[NOW + S_LCO] = co
    sc[NOW + S_LCW] = cw
    sc[NOW + S_AT] = i


@njit(cache=True, inline="always")
def _merge(sc):
    """Once both outcomes' bits are equal their states are (the rest is shared), and every later step adds the same
    to both: only outcome 0 is simulated on, outcome 1 keeping its difference in sums (`_finish` restores it)."""
    if sc[SC_N_OUT] == 2 and sc[NOW + S_O] == sc[NOW + S_O + 1]:
        sc[SC_N_OUT] = 1
        sc[SC_OFFSET] = sc[SC_SUMS + 1] - sc[SC_SUMS]


@njit(cache=True, inline="always")
def _delta_corner(pool, p, q, shift, out, o):
    """Lower corner of the bounding box of the overlap delta of the step from child p's last tile to child q's first
    (q's first tile less p's last, the latter `shift` before q's base), relative to q's base, into out[o:o + A]
    (`residual._corner`'s, all axes at once): the old box removes the low end of an axis only where it overlaps the
    tile and spans it on every other axis."""
    spans_not = 0
    for a in range(A):
        out[o + a] = 0
    for a in range(A):
        olo = pool[p + LAST_LO + a] - shift[a]
        ohi = olo + pool[p + LAST_EXT + a]
        ext = pool[q + FIRST_EXT + a]
        if min(ext, ohi) <= max(0, olo):
            return                        # no overlap: the delta is the whole tile
        if olo > 0 or ohi < ext:
            spans_not += 1
    for a in range(A):
        olo = pool[p + LAST_LO + a] - shift[a]
        ohi = olo + pool[p + LAST_EXT + a]
        others = spans_not - (1 if olo > 0 or ohi < pool[q + FIRST_EXT + a] else 0)
        if others == 0 and olo <= 0:
            out[o + a] = min(pool[q + FIRST_EXT + a], ohi)


@njit(cache=True, inline="always")
def _first_move_of_child(pool, k, c, i, shift, sc):
    """Node k's first move is child c's (c at iteration i): its record, and the state after it."""
    pool[k + HAS_MOVE] = 1
    pool[k + FM_OK] = pool[c + FM_OK]
    pool[k + FM_OVER] = pool[c + FM_OVER]
    pool[k + FM_WHOLE] = pool[c + FM_WHOLE]
    pool[k + FM_ENTRY] = pool[c + FM_ENTRY] if sc[SC_ENTRY] != 0 else 0
    for a in range(A):
        pool[k + FM_T + a] = pool[c + FM_T + a]
    if sc[SC_LINKS] != 0:
        for a in range(A):
            pool[k + FM_CO + a] = pool[c + FM_CO + a] + i * shift[a]
            pool[k + FM_CW + a] = pool[c + FM_CW + a] + i * shift[a]
    for v in range(2):
        sc[NOW + S_O + v] = pool[c + EXIT_O + v]
        sc[SC_SUMS + v] = pool[c + REST + v]
    _last_move(sc, pool[c + EXIT_KEEP], pool[c + L_OVER], pool[c + L_WHOLE], c + LAST_T, c + L_CO, c + L_CW, i)
    sc[SC_KNOWN] = 1
    sc[SC_N_OUT] = 2
    _merge(sc)


@njit(cache=True, inline="always")
def _child(pool, k, c, i, shift, sc, n_cand):
    """The steps inside child node c (at iteration i of node k's loop), in node k's sequence. Before node k's first
    move c's first move becomes k's; after it, each outcome's state takes c through its own first move (which may
    meet the delta before c: then HIT). Returns 0 or HIT."""
    if pool[c + HAS_MOVE] == 0:
        if pool[c + HAS_STEP] != 0:       # still steps only: no delta is left
            sc[SC_ENTRY] = 0
            sc[NOW + S_KEEP] = 0
        return 0
    if sc[SC_KNOWN] == 0:
        _first_move_of_child(pool, k, c, i, shift, sc)
        sc[SC_ENTRY] = 0
        return 0
    o0, o1 = _outcomes(pool, sc, c + FM_T, pool[c + FM_OK] != 0)
    if n_cand > 0 and pool[c + FM_ENTRY] != 0:
        for v in range(sc[SC_N_OUT]):
            o = o0 if v == 0 else o1
            if _may_link(pool, sc, v, pool[c + FM_OVER] if o == 0 else pool[c + FM_WHOLE],
                         c + (FM_CO if o == 0 else FM_CW), i, shift, n_cand):
                return HIT
    sc[SC_SUMS] += (pool[c + FM_OVER] if o0 == 0 else pool[c + FM_WHOLE]) + pool[c + REST + o0]
    sc[SC_SUMS + 1] += (pool[c + FM_OVER] if o1 == 0 else pool[c + FM_WHOLE]) + pool[c + REST + o1]
    sc[NOW + S_O] = pool[c + EXIT_O + o0]
    sc[NOW + S_O + 1] = pool[c + EXIT_O + o1]
    _last_move(sc, pool[c + EXIT_KEEP], pool[c + L_OVER], pool[c + L_WHOLE], c + LAST_T, c + L_CO, c + L_CW, i)
    _merge(sc)
    return 0


@njit(cache=True, inline="always")
def _first_move_here(pool, k, q, qi, i, shift, sc, n_cand):
    """Node k's first move is the step into child q (the node's step qi, at iteration i): its record, and the state
    after it."""
    pool[k + HAS_MOVE] = 1
    pool[k + FM_OK] = sc[SC_OK + qi]
    pool[k + FM_OVER] = sc[SC_OVER + qi]
    pool[k + FM_WHOLE] = sc[SC_WORDS + qi]
    # the first tile's delta meets this one if no step came before (its first child is one tile) and it is kept
    pool[k + FM_ENTRY] = 1 if sc[SC_ENTRY] != 0 and pool[k + FIRST_FORGETS] == 0 else 0
    for a in range(A):
        pool[k + FM_T + a] = sc[SC_T + a]
    if n_cand > 0:
        for a in range(A):
            pool[k + FM_CO + a] = sc[SC_CORNER + qi * A + a] + i * shift[a]
            pool[k + FM_CW + a] = i * shift[a]
    keep = 1 if n_cand > 0 and pool[q + FIRST_FORGETS] == 0 else 0    # the delta is kept for the next step's link
    sc[NOW + S_O] = 0
    sc[NOW + S_O + 1] = 1
    _last_move(sc, keep, sc[SC_OVER + qi], sc[SC_WORDS + qi], SCRATCH + SC_T, SCRATCH + SC_CORNER + qi * A,
               SCRATCH + SC_ZERO, i)
    sc[SC_SUMS] = 0
    sc[SC_SUMS + 1] = 0
    sc[SC_KNOWN] = 1
    sc[SC_N_OUT] = 2


@njit(cache=True, inline="always")
def _node_steps(pool, cm, cl, shift, sc):
    """The node's steps, each from the middle child cm's last tile to the first of child q (`shift`: the loop's step
    on the tensor's axes; q = 0 cm, 1 cl): their translation into sc[SC_T:], and per q whether the step is still,
    whether no axis lost two words or more, the words it brings after an overlap and the entered tile's words; where
    links are checked, its overlap delta's corner (`_delta_corner`)."""
    for a in range(A):
        sc[SC_T + a] = shift[a] - pool[cm + LAST_LO + a]
    for qi in range(2 if cl != cm else 1):
        q = cm if qi == 0 else cl
        still = True
        ok = True
        overlap = np.int64(1)
        for a in range(A):
            T = sc[SC_T + a]
            pext = pool[cm + LAST_EXT + a]
            ext = pool[q + FIRST_EXT + a]
            if T != 0 or pext != ext:
                still = False
            if pext - ext > 1:
                ok = False
            ov = min(T + ext, pext) - max(T, 0)
            overlap *= ov if ov > 0 else 0
        sc[SC_STILL + qi] = 1 if still else 0
        sc[SC_OK + qi] = 1 if ok else 0
        sc[SC_WORDS + qi] = pool[q + FIRST_WORDS]
        sc[SC_OVER + qi] = pool[q + FIRST_WORDS] - overlap
        if sc[SC_LINKS] != 0:
            _delta_corner(pool, cm, q, shift, sc, SC_CORNER + qi * A)


@njit(cache=True, inline="always")
def _step(pool, k, q, qi, i, shift, sc, n_cand):
    """The step qi of node k's loop (`_node_steps`) into child q at iteration i, in node k's sequence. Returns 0 or
    HIT (a link may be taken)."""
    if sc[SC_STILL + qi] != 0:            # nothing brought: no delta left, the memory unchanged
        sc[SC_ENTRY] = 0
        sc[NOW + S_KEEP] = 0
        return 0
    if sc[SC_KNOWN] == 0:
        _first_move_here(pool, k, q, qi, i, shift, sc, n_cand)
        sc[SC_ENTRY] = 0
        return 0
    words = sc[SC_WORDS + qi]
    over = sc[SC_OVER + qi]
    corner = SCRATCH + SC_CORNER + qi * A
    o0, o1 = _outcomes(pool, sc, SCRATCH + SC_T, sc[SC_OK + qi] != 0)
    if n_cand > 0:
        for v in range(sc[SC_N_OUT]):
            o = o0 if v == 0 else o1
            if _may_link(pool, sc, v, over if o == 0 else words, corner if o == 0 else SCRATCH + SC_ZERO, i, shift,
                         n_cand):
                return HIT
    sc[SC_SUMS] += over if o0 == 0 else words
    sc[SC_SUMS + 1] += over if o1 == 0 else words
    sc[NOW + S_O] = o0
    sc[NOW + S_O + 1] = o1
    keep = 1 if n_cand > 0 and pool[q + FIRST_FORGETS] == 0 else 0
    _last_move(sc, keep, over, words, SCRATCH + SC_T, corner, SCRATCH + SC_ZERO, i)
    _merge(sc)
    return 0


@njit(cache=True, inline="always")
def _finish(pool, k, c0, cl, n, shift, sc):
    """Node k's summary once its sequence is run: per outcome the rest and its last move's outcome, and the last
    move (its vectors copied, its corners moved to k's base); its first and last tiles."""
    if sc[SC_KNOWN] != 0:
        if sc[SC_N_OUT] == 1:
            sc[SC_SUMS + 1] = sc[SC_SUMS] + sc[SC_OFFSET]
            sc[NOW + S_O + 1] = sc[NOW + S_O]
        for v in range(2):
            pool[k + REST + v] = sc[SC_SUMS + v]
            pool[k + EXIT_O + v] = sc[NOW + S_O + v]
        pool[k + EXIT_KEEP] = sc[NOW + S_KEEP]
        pool[k + L_OVER] = sc[NOW + S_LOV]
        pool[k + L_WHOLE] = sc[NOW + S_LWH]
        lt = sc[NOW + S_LT]
        for a in range(A):
            pool[k + LAST_T + a] = pool[lt + a]
        if sc[SC_LINKS] != 0:
            co, cw, at = sc[NOW + S_LCO], sc[NOW + S_LCW], sc[NOW + S_AT]
            for a in range(A):
                pool[k + L_CO + a] = pool[co + a] + at * shift[a]
                pool[k + L_CW + a] = pool[cw + a] + at * shift[a]
    pool[k + FIRST_WORDS] = pool[c0 + FIRST_WORDS]
    for a in range(A):
        pool[k + FIRST_EXT + a] = pool[c0 + FIRST_EXT + a]
        pool[k + LAST_LO + a] = (n - 1) * shift[a] + pool[cl + LAST_LO + a]
        pool[k + LAST_EXT + a] = pool[cl + LAST_EXT + a]


@njit(cache=True, inline="always")
def _kept(sc, b, v):
    """(words, pool offset of its corner) of the delta outcome v's state at sc[b:] keeps (0 words: none)."""
    if sc[b + S_KEEP] == 0:
        return np.int64(0), sc[b + S_LCO]
    if sc[b + S_O + v] == 0:
        return sc[b + S_LOV], sc[b + S_LCO]
    return sc[b + S_LWH], sc[b + S_LCW]


@njit(cache=True, inline="always")
def _repeats(pool, sc, i, shift):
    """After iteration i, do the outcomes' states equal those at its start (once merged, outcome 1 follows 0): the
    same bits, the same stride remembered where one is, and where links are checked the same delta kept, each
    corner relative to its child then (i now, i - 1 at the start)?"""
    now, before = SC_NOW, SC_BEFORE
    for v in range(sc[SC_N_OUT]):
        if sc[now + S_O + v] != sc[before + S_O + v]:
            return False
        if sc[now + S_O + v] == 0 and not _same(pool, sc[now + S_LT], sc[before + S_LT]):
            return False
        if sc[SC_LINKS] != 0:
            size, c = _kept(sc, now, v)
            bsize, bc = _kept(sc, before, v)
            if size != bsize:
                return False
            lag = (i - sc[now + S_AT]) - (i - 1 - sc[before + S_AT])
            if size != 0 and (c != bc or lag != 0):
                for a in range(A):
                    if pool[c + a] - pool[bc + a] - lag * shift[a] != 0:
                        return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _compose(pool, k, shift, sc, n_cand):
    """Node k's summary from its children's (`_summarize`): its sequence is child 0, then per further iteration
    the loop's step and that iteration's child (the middle child up to n-2, the last child at n-1). Returns 0, or
    HIT where a step may be served over a link (`n_cand` > 0: the candidates are checked)."""
    n = pool[k + N]
    cm = pool[k + CM]
    cl = pool[k + CL]
    sc[SC_KNOWN] = 0
    sc[SC_N_OUT] = 0                      # no outcome until the first move
    sc[SC_ENTRY] = 1
    pool[k + HAS_MOVE] = 0
    c0 = cm if n >= 2 else cl
    pool[k + FIRST_FORGETS] = pool[c0 + FIRST_FORGETS]
    pool[k + HAS_STEP] = 1 if n >= 2 or pool[c0 + HAS_STEP] != 0 else 0
    if n >= 2:
        _node_steps(pool, cm, cl, shift, sc)
    last = n - 2 if cm != cl else n - 1       # the iterations that repeat: the last too when its child is cm
    ql = 1 if cm != cl else 0
    i = np.int64(0)
    while i < n:                          # one call site of `_step` and `_child` each: one inlined copy
        c = cl if i == n - 1 else cm
        middle = 1 <= i <= last           # step cm -> cm, then cm
        was = sc[SC_KNOWN]
        if middle and was != 0:
            for w in range(ST):
                sc[SC_BEFORE + w] = sc[SC_NOW + w]
            sc[SC_SEG] = sc[SC_SUMS]
            sc[SC_SEG + 1] = sc[SC_SUMS + 1]
        if i > 0 and _step(pool, k, c, ql if i == n - 1 else 0, i, shift, sc, n_cand) == HIT:
            return HIT
        if _child(pool, k, c, i, shift, sc, n_cand) == HIT:
            return HIT
        i += 1
        if not middle:
            continue
        if sc[SC_KNOWN] == 0:             # nothing moved: nor will any further middle iteration
            i = last + 1
        elif was != 0 and _repeats(pool, sc, i - 1, shift):   # the same states again: every further middle
            left = last + 1 - i                                # iteration adds the same
            sc[NOW + S_AT] += left        # the state as it is after iteration `last`, relative to that child
            sc[SC_SUMS] += left * (sc[SC_SUMS] - sc[SC_SEG])
            if sc[SC_N_OUT] == 2:
                sc[SC_SUMS + 1] += left * (sc[SC_SUMS + 1] - sc[SC_SEG + 1])
            i = last + 1
    _finish(pool, k, c0, cl, n, shift, sc)
    return 0


@njit(cache=True, inline="always")
def _find_or_add(pool, lo, count, j, ctx, nc):
    """The node of depth j with context ctx (its nc cut dims) among nodes lo..count-1, or a new one at `count`;
    (index, count)."""
    for q in range(lo, count):
        k = q * NODE
        same = True
        for i in range(nc):
            if pool[k + CTX + i] != ctx[i]:
                same = False
                break
        if same:
            return q, count
    k = count * NODE
    pool[k + J] = j
    for i in range(nc):
        pool[k + CTX + i] = ctx[i]
    return count, count + 1


@njit(cache=True, inline="always")
def _reaches(t, temporal, M, tail, full, ax, bounds, origin, pool, sc):
    """The cut dims and the tree's depths. Frame j's reach: the extents its iterations and tiles span from its base
    (`sweep._first_frame`'s). A dim whose root context (the bound less `origin`) is its whole reach keeps its reach
    as context at every depth, where its loops run their bound, so only the other dims, the cut ones, tell nodes
    apart. Leaves the cut dims in sc[SC_CUT:] (their count at SC_NCUT, each dim's index among them or -1 at
    SC_CUTIX), the reach of every dim at depth `tail` in sc[SC_RTAIL:] and the root's context in pool[CTX:].
    The tree's depths are loops 0..tail-1, but a run of adjacent loops that neither move t nor run over a cut dim is
    one depth: each repeats one child in place, its bound times, so the run repeats it the product of their bounds
    times (the same sequence of tiles and steps, one node less a loop). Per depth its loop (DEPTH_DIM, DEPTH_STEP,
    DEPTH_BOUND: the run's product, DEPTH_LOOP: the run's outermost loop) and the cut dims' reaches (nc a depth, at
    pool[REACH:]). Returns (nc, the depths)."""
    rt = sc[SC_RTAIL:SC_RTAIL + 8]
    r0 = sc[SC_CTX:SC_CTX + 8]
    for d in range(8):
        rt[d] = full[d] if ax[t, d] >= 0 else 1
    for j in range(M - 1, tail - 1, -1):
        rt[temporal[j].dim] += (temporal[j].bound - 1) * temporal[j].step
    for d in range(8):
        r0[d] = rt[d]
    for j in range(tail):
        r0[temporal[j].dim] += (temporal[j].bound - 1) * temporal[j].step
    nc = np.int64(0)
    for d in range(8):
        sc[SC_CUTIX + d] = -1
        if bounds[d] - origin[d] < r0[d]:
            sc[SC_CUT + nc] = d
            sc[SC_CUTIX + d] = nc
            pool[CTX + nc] = bounds[d] - origin[d]
            nc += 1
    sc[SC_NCUT] = nc
    for i in range(nc):
        pool[REACH + tail * nc + i] = rt[sc[SC_CUT + i]]
    for j in range(tail - 1, -1, -1):
        for i in range(nc):
            pool[REACH + j * nc + i] = pool[REACH + (j + 1) * nc + i]
        ci = sc[SC_CUTIX + temporal[j].dim]
        if ci >= 0:
            pool[REACH + j * nc + ci] += (temporal[j].bound - 1) * temporal[j].step
    depth = np.int64(0)
    run = False                           # the depth before is such a run
    for j in range(tail):
        lp = temporal[j]
        repeats = ax[t, lp.dim] < 0 and sc[SC_CUTIX + lp.dim] < 0
        if repeats and run:
            pool[DEPTH_BOUND + depth - 1] *= lp.bound
            continue
        pool[DEPTH_DIM + depth] = lp.dim
        pool[DEPTH_STEP + depth] = lp.step
        pool[DEPTH_BOUND + depth] = lp.bound
        pool[DEPTH_LOOP + depth] = j
        depth += 1
        run = repeats
    pool[DEPTH_LOOP + depth] = tail
    for e in range(1, depth + 1):         # the reach rows of the depths (a run's loops add nothing to a cut dim)
        for i in range(nc):
            pool[REACH + e * nc + i] = pool[REACH + pool[DEPTH_LOOP + e] * nc + i]
    return nc, depth


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _build_tree(depths, nc, pool, sc):
    """The distinct (depth, context) nodes of the frames of the tree's depths from the root context, top-down, depth
    by depth (`_reaches`: each depth's loop, the nc cut dims' reaches, their contexts); each node's iteration count
    and its middle and last children. Returns the node count, or -1 (too many nodes, or middle iterations that would
    not share a context)."""
    reach = pool[REACH:REACH + (depths + 1) * nc]
    ctx = sc[SC_CTX:SC_CTX + 8]
    pool[J] = 0
    count = np.int64(1)
    lo = np.int64(0)                      # first node of the current depth
    for j in range(depths):
        step, bound = pool[DEPTH_STEP + j], pool[DEPTH_BOUND + j]
        ci = sc[SC_CUTIX + pool[DEPTH_DIM + j]]   # the loop's dim among the cut ones (-1: not cut, runs its bound)
        below = (j + 1) * nc
        hi = count
        nxt = count                       # first node of depth j + 1
        for q in range(lo, hi):
            k = q * NODE
            n = bound if ci < 0 else min(bound, (pool[k + CTX + ci] + step - 1) // step)
            pool[k + N] = n
            pool[k + CM] = -1
            for i in range(nc):
                ctx[i] = min(pool[k + CTX + i], reach[below + i])
            if n >= 2:                    # iterations 0..n-2: one context (checked at both ends)
                if ci >= 0:
                    first = ctx[ci]
                    ctx[ci] = min(pool[k + CTX + ci] - (n - 2) * step, reach[below + ci])
                    if ctx[ci] != first:
                        return -1
                c, count = _find_or_add(pool, nxt, count, j + 1, ctx, nc)
                pool[k + CM] = c * NODE
            if ci >= 0:
                ctx[ci] = min(pool[k + CTX + ci] - (n - 1) * step, reach[below + ci])
            c, count = _find_or_add(pool, nxt, count, j + 1, ctx, nc)
            pool[k + CL] = c * NODE
            if count >= MAX_NODES:
                return -1
        lo = nxt
    return count


@njit(cache=True, inline="always")
def _leaf(pool, k, t, full, coef, temporal, tail, M, sc):
    """Leaf node k: one tile, the level's full tile cut by its context (a dim not cut: its reach at depth tail). Its
    delta is forgotten when an innermost loop that does not move t runs a second iteration there
    (`residual.leaf_step`): all loops here have end >= 2, so that is a context beyond the loop's step."""
    clip = sc[SC_CLIP:SC_CLIP + 8]
    ext = sc[SC_EXT:SC_EXT + A]
    for d in range(8):
        clip[d] = min(full[d], sc[SC_RTAIL + d])
    for i in range(sc[SC_NCUT]):
        d = sc[SC_CUT + i]
        clip[d] = min(full[d], pool[k + CTX + i])
    pool[k + FIRST_WORDS] = box(t, clip, coef, ext)
    pool[k + HAS_MOVE] = 0
    pool[k + HAS_STEP] = 0
    forgets = 0
    for j in range(tail, M if sc[SC_LINKS] != 0 else tail):
        d = temporal[j].dim
        ci = sc[SC_CUTIX + d]
        if (sc[SC_RTAIL + d] if ci < 0 else pool[k + CTX + ci]) > temporal[j].step:
            forgets = 1
    pool[k + FIRST_FORGETS] = forgets
    for a in range(A):
        pool[k + FIRST_EXT + a] = ext[a]
        pool[k + LAST_EXT + a] = ext[a]
        pool[k + LAST_LO + a] = 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _summarize(t, temporal, M, tail, depths, full, layer, pool, count, n_cand):
    """Every node's summary, bottom-up: leaves (one tile each, at depth `depths`; loops tail..M-1 repeat it), then
    every node from its children. Returns 0 or HIT."""
    sc = pool[SCRATCH:CAND]
    shift = sc[SC_SHIFT:SC_SHIFT + A]
    for q in range(count - 1, -1, -1):
        k = q * NODE
        j = pool[k + J]
        if j == depths:
            _leaf(pool, k, t, full, layer.coef, temporal, tail, M, sc)
            continue
        dim = pool[DEPTH_DIM + j]
        for a in range(A):
            shift[a] = 0
        a = layer.ax[t, dim]
        if a >= 0:
            shift[a] = layer.co[t, dim] * pool[DEPTH_STEP + j]
        if _compose(pool, k, shift, sc, n_cand) == HIT:
            return HIT
    return 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_stream(t, temporal, M, full, layer, origin, pool, n_cand):
    """Fills of one instance of a (level, tensor) over the iterations of the M temporal loops above it that run
    from `origin`, or -1 where the phases do not apply or, `n_cand` > 0 (a fan-out above the level, its link
    candidates in the pool: `link_candidates`), where a step may be served over a link (then the walk counts it).
    `full`: the level's dim extents (its tile is full[d] cut at the bound). Not for the MAC. `pool`: int64 scratch
    of at least `POOL_WORDS`."""
    ax = layer.ax
    sc = pool[SCRATCH:CAND]
    for a in range(A):
        sc[SC_ZERO + a] = 0
    sc[SC_LINKS] = 1 if n_cand > 0 else 0
    # The innermost loops tail..M-1 do not move t: their steps bring nothing and change no stride memory (still
    # steps), so a leaf is a tile with them (as `residual.leaf_step` takes them) and the tree stops at depth tail.
    tail = M
    while tail > 0 and ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    nc, depths = _reaches(t, temporal, M, tail, full, ax, layer.bounds, origin, pool, sc)
    count = _build_tree(depths, nc, pool, sc)
    if count < 0 or _summarize(t, temporal, M, tail, depths, full, layer, pool, count, n_cand) == HIT:
        return -1.0
    # the stream's first tile is brought whole and leaves no stride: its first move reuses the overlap
    fills = pool[FIRST_WORDS]
    if pool[HAS_MOVE] != 0:
        fills += pool[FM_OVER] + pool[REST]
        if n_cand > 0 and pool[FM_ENTRY] != 0:
            if _linkable(pool[FIRST_WORDS], SCRATCH + SC_ZERO, 0, pool[FM_OVER], FM_CO, sc[SC_SHIFT:SC_SHIFT + A], pool,
                         n_cand):
                return -1.0
    return float(fills)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_fills(t, temporal, M, full, layer, origin, pool):
    """`phase_stream` for a level without a fan-out above it (no link to check)."""
    return phase_stream(t, temporal, M, full, layer, origin, pool, np.int64(0))


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def link_candidates(t, spatial, n_sp, fan_x, layer, scratch, diffs, pool):
    """The offset differences at which a step's delta could come from a grid neighbour (R3: a difference of grid
    neighbours' offsets, either sign; `links.neighbour_diffs`), each once, into the pool for `phase_stream`; their
    count, or -1 where the neighbour differences are not listed (too many spatial loops). Each is the difference of
    two children's offsets, so it lies on the children's lattice (`links.lattice_ok` holds for it, with
    `spatial_axes`' per-axis steps in `scratch`) without a check. Leaves the differences listed in `scratch` and
    `diffs`, as `links.link_saving` would."""
    n = neighbour_diffs(t, spatial, n_sp, fan_x, layer.ax, layer.co, scratch, diffs)
    scratch.n_diffs = n
    for a in range(A):
        pool[SPAN + a] = scratch.reach[a] if scratch.s1[a] != 0 else 0
    count = np.int64(0)
    for r in range(n):
        if is_neighbour_diff(diffs[r], diffs, r):       # listed already, up to sign
            continue
        zero = True
        for a in range(A):
            pool[CAND + count * A + a] = diffs[r, a]
            pool[CAND + (count + 1) * A + a] = -diffs[r, a]
            if diffs[r, a] != 0:
                zero = False
        count += 1 if zero else 2
    return count if n >= 0 else np.int64(-1)
