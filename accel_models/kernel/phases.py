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
reads each multicast group's fills. Most streams are cleared before the phases run, by a proof from the loops alone
that no step can take a link (`no_link`): they run as without a fan-out, carrying no delta's corners. For the
others the candidates are listed only where two such deltas' corners are within the children's spread
(`link_spread`, `UNCHECKED`): few streams have one.

The nodes live in a borrowed int64 scratch (`NODE` words each); a stream with more nodes than it holds, or a
context the phases do not predict, returns -1 and is left to the walk.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box
from ..mapping_arrays import N_DIMS
from .links import MAX_LISTED_SPATIAL, is_neighbour_diff, neighbour_diffs
from .words import copy_words
from .workspace import MAX_LEVELS, MAX_NEIGHBOUR_DIFFS

A = N_AXES
# A node's record in the scratch: scalars, then 8-dim and N_AXES-axis vectors.
J, N, CM, CL, HAS_MOVE, FM_OK, FM_OVER, FM_WHOLE = 0, 1, 2, 3, 4, 5, 6, 7
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
# shared by both, the last move's translation and delta geometry (its words and corner under either outcome,
# relative to the current child's base, and whether that delta is still kept). Whether the first move is known,
# whether no step was taken yet, the sums and the sums at the start of the iteration, the outcomes simulated, then
# the state now and at the start of the iteration (`ST`: the bits, then the shared last move), vectors.
SC_KNOWN, SC_ENTRY, SC_SUMS, SC_SEG = 0, 1, 2, 4
SC_N_OUT = 6          # the outcomes simulated: 0 before the first move, 2, or 1 once both bits are equal
                      # (outcome 1 is outcome 0's then)
SC_OFFSET = 7         # once merged: outcome 1's sums less outcome 0's
SC_LINKS = 8          # link candidates are checked (a fan-out above the level)
S_O, S_KEEP, S_LOV, S_LWH, S_LT = 0, 2, 3, 4, 5     # a state: the bits [2], kept, words, translation [A]
S_LCO = S_LT + A                      # [A]
S_LCW = S_LCO + A                     # [A]
ST = S_LCW + A
SC_NOW = 9
SC_BEFORE = SC_NOW + ST
SC_T = SC_BEFORE + ST
SC_CORNER = SC_T + A
SC_SHIFT = SC_CORNER + A
SC_EXT = SC_SHIFT + A
SC_CTX = SC_EXT + A
SC_CLIP = SC_CTX + 8
SC_ZERO = SC_CLIP + 8                 # [A] zeros: the corner of a tile's whole delta, relative to the tile
SCRATCH = MAX_NODES * NODE            # where the scratch starts in the pool
SPAN = SCRATCH + SC_ZERO + A          # [A]: per axis, the largest offset difference of two children (0: none)
CAND = SPAN + A         # the link candidates [MAX_CAND x A]
MAX_CAND = 2 * MAX_NEIGHBOUR_DIFFS
REACH = CAND + MAX_CAND * A           # the reach of every temporal loop [8 x (loops + 1)]
POOL_WORDS = REACH + 8 * (8 * MAX_LEVELS + 1)
"""Scratch words `phase_stream` needs: the nodes, the composition's scratch, the children's spread and the link
candidates, the reaches."""
HIT = -1
"""`_step` / `_child`: a link may be taken; the stream is left to the walk."""
UNLISTED = MAX_CAND + 1
"""`n_cand` of a stream under a fan-out whose link candidates are not listed yet (`link_spread`): the phases check
each delta against the children's spread only, and where one is within it return `UNCHECKED`."""
UNCHECKED = -2.0
"""`phase_stream` with `UNLISTED`: a delta is within the children's spread, so the candidates must decide (list them,
`link_candidates`, and run again)."""
NOW = SC_NOW
"""Where the composition's current state starts in its scratch."""


@njit(cache=True, inline="always")
def _linkable(psize, pc, po, size, c, co, pool, n_cand):
    """Could a delta of `size` words at corner c[co:] be served over a link after a delta of `psize` words at
    pc[po:]: the same size (> 0) and corners an offset difference among the candidates apart (first: within the
    children's spread on every axis; `UNLISTED`: within it is a maybe)?"""
    if size == 0 or psize != size:
        return False
    for a in range(A):
        if abs(c[co + a] - pc[po + a]) > pool[SPAN + a]:
            return False
    if n_cand == UNLISTED:
        return True
    for k in range(n_cand):
        b = CAND + k * A
        match = True
        for a in range(A):
            if c[co + a] - pc[po + a] != pool[b + a]:
                match = False
                break
        if match:
            return True
    return False


@njit(cache=True, inline="always")
def _may_link(sc, v, size, c, co, pool, n_cand):
    """`_linkable` after the delta outcome v's state keeps (none where the last move's delta is forgotten: 0 words,
    which no delta matches)."""
    psize, pc = _kept(sc, NOW, v)
    return _linkable(psize, sc, pc, size, c, co, pool, n_cand)


@njit(cache=True, inline="always")
def _outcomes(sc, T, t0, ok):
    """R2 on a move by T[t0:] (ok: no axis lost two words or more) after each outcome's state: 0 it reuses the
    overlap (no stride remembered, or the remembered one, the last move's translation, repeated), 1 it brings the
    whole tile. Returns both (outcome 1's is outcome 0's where not simulated)."""
    repeat = ok
    if repeat:
        for a in range(A):
            if sc[NOW + S_LT + a] != T[t0 + a]:
                repeat = False
                break
    o0 = 0 if repeat or sc[NOW + S_O] != 0 else 1
    o1 = 0 if repeat or sc[NOW + S_O + 1] != 0 else 1
    return o0, o1


@njit(cache=True, inline="always")
def _last_move(sc, src, keep, over, whole, T, t0, cs, co, cw):
    """The state's shared last move <- translation T[t0:], kept or not, words under either outcome, corners
    src[co:] / src[cw:] (only where links are checked: nothing else reads a corner)."""
    sc[NOW + S_KEEP] = keep
    sc[NOW + S_LOV] = over
    sc[NOW + S_LWH] = whole
    copy_words(sc, NOW + S_LT, T, t0, A)
    if sc[SC_LINKS] != 0:
        for a in range(A):
            sc[NOW + S_LCO + a] = src[co + a]
            sc[NOW + S_LCW + a] = src[cw + a]


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
    """Node k's first move is child c's (c at iteration i): its record, and the state after it but for the last
    move (`_child` sets that, as it does after any child)."""
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
    sc[SC_KNOWN] = 1
    sc[SC_N_OUT] = 2


@njit(cache=True, inline="always")
def _child(pool, k, c, i, shift, sc, n_cand):
    """The steps inside child node c (at iteration i of node k's loop), in node k's sequence. Before node k's first
    move c's first move becomes k's; after it, each outcome's state takes c through its own first move (which may
    meet the delta before c: then HIT). Returns 0 or HIT. Either way the state's last move is c's, set at one place:
    numba copies an inlined callee's IR with its whole scope, so each inlined site costs compile time."""
    if pool[c + HAS_MOVE] == 0:
        if pool[c + HAS_STEP] != 0:       # still steps only: no delta is left
            sc[SC_ENTRY] = 0
            sc[NOW + S_KEEP] = 0
        return 0
    if sc[SC_KNOWN] == 0:
        _first_move_of_child(pool, k, c, i, shift, sc)
        sc[SC_ENTRY] = 0
    else:
        o0, o1 = _outcomes(sc, pool, c + FM_T, pool[c + FM_OK] != 0)
        if n_cand > 0 and pool[c + FM_ENTRY] != 0:
            for v in range(sc[SC_N_OUT]):
                o = o0 if v == 0 else o1
                if _may_link(sc, v, pool[c + FM_OVER] if o == 0 else pool[c + FM_WHOLE], pool,
                             c + (FM_CO if o == 0 else FM_CW), pool, n_cand):
                    return HIT
        sc[SC_SUMS] += (pool[c + FM_OVER] if o0 == 0 else pool[c + FM_WHOLE]) + pool[c + REST + o0]
        sc[SC_SUMS + 1] += (pool[c + FM_OVER] if o1 == 0 else pool[c + FM_WHOLE]) + pool[c + REST + o1]
        sc[NOW + S_O] = pool[c + EXIT_O + o0]
        sc[NOW + S_O + 1] = pool[c + EXIT_O + o1]
    _last_move(sc, pool, pool[c + EXIT_KEEP], pool[c + L_OVER], pool[c + L_WHOLE], pool, c + LAST_T, pool, c + L_CO,
               c + L_CW)
    _merge(sc)
    return 0


@njit(cache=True, inline="always")
def _first_move_here(pool, k, q, i, ok, over, words, shift, sc, n_cand):
    """Node k's first move is the step into child q (at iteration i): its record, and the state after it but for
    the last move (`_step` sets that, as it does after any step)."""
    pool[k + HAS_MOVE] = 1
    pool[k + FM_OK] = 1 if ok else 0
    pool[k + FM_OVER] = over
    pool[k + FM_WHOLE] = words
    # the first tile's delta meets this one if no step came before (its first child is one tile) and it is kept
    pool[k + FM_ENTRY] = 1 if sc[SC_ENTRY] != 0 and pool[k + FIRST_FORGETS] == 0 else 0
    for a in range(A):
        pool[k + FM_T + a] = sc[SC_T + a]
    if n_cand > 0:
        for a in range(A):
            pool[k + FM_CO + a] = sc[SC_CORNER + a] + i * shift[a]
            pool[k + FM_CW + a] = i * shift[a]
    sc[NOW + S_O] = 0
    sc[NOW + S_O + 1] = 1
    sc[SC_SUMS] = 0
    sc[SC_SUMS + 1] = 0
    sc[SC_KNOWN] = 1
    sc[SC_N_OUT] = 2


@njit(cache=True, inline="always")
def _translation(pool, p, q, shift, sc):
    """The step from child p's last tile to child q's first (`shift`: the loop's step on the tensor's axes): its
    translation into sc[SC_T:], whether it is still (same corner and extents), whether no axis lost two words or
    more, and the words q's tile shares with p's."""
    still = True
    ok = True
    overlap = np.int64(1)
    for a in range(A):
        T = shift[a] - pool[p + LAST_LO + a]
        sc[SC_T + a] = T
        pext = pool[p + LAST_EXT + a]
        ext = pool[q + FIRST_EXT + a]
        if T != 0 or pext != ext:
            still = False
        if pext - ext > 1:
            ok = False
        ov = min(T + ext, pext) - max(T, 0)
        overlap *= ov if ov > 0 else 0
    return still, ok, overlap


@njit(cache=True, inline="always")
def _step(pool, k, p, q, i, shift, sc, n_cand):
    """The step of node k's loop from child p's last tile to child q's first (q at iteration i), in node k's
    sequence; the kept delta moves to q's base. Returns 0 or HIT (a link may be taken)."""
    if n_cand > 0 and sc[SC_KNOWN] != 0:
        for a in range(A):
            sc[NOW + S_LCO + a] -= shift[a]
            sc[NOW + S_LCW + a] -= shift[a]
    still, ok, overlap = _translation(pool, p, q, shift, sc)
    if still:                             # nothing brought: no delta left, the memory unchanged
        sc[SC_ENTRY] = 0
        sc[NOW + S_KEEP] = 0
        return 0
    words = pool[q + FIRST_WORDS]
    over = words - overlap
    if n_cand > 0:
        _delta_corner(pool, p, q, shift, sc, SC_CORNER)
    if sc[SC_KNOWN] == 0:
        _first_move_here(pool, k, q, i, ok, over, words, shift, sc, n_cand)
        sc[SC_ENTRY] = 0
    else:
        o0, o1 = _outcomes(sc, sc, SC_T, ok)
        if n_cand > 0:
            for v in range(sc[SC_N_OUT]):
                o = o0 if v == 0 else o1
                if _may_link(sc, v, over if o == 0 else words, sc, SC_CORNER if o == 0 else SC_ZERO, pool, n_cand):
                    return HIT
        sc[SC_SUMS] += over if o0 == 0 else words
        sc[SC_SUMS + 1] += over if o1 == 0 else words
        sc[NOW + S_O] = o0
        sc[NOW + S_O + 1] = o1
    keep = 1 if n_cand > 0 and pool[q + FIRST_FORGETS] == 0 else 0    # the delta is kept for the next step's link
    _last_move(sc, sc, keep, over, words, sc, SC_T, sc, SC_CORNER, SC_ZERO)
    _merge(sc)                            # after a first move a no-op: its outcomes' bits differ
    return 0


@njit(cache=True, inline="always")
def _finish(pool, k, c0, cl, n, shift, sc):
    """Node k's summary once its sequence is run: per outcome the rest and its last move's outcome, and the last
    move (its corners moved from the last child's base to k's); its first and last tiles."""
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
        for a in range(A):
            pool[k + LAST_T + a] = sc[NOW + S_LT + a]
        if sc[SC_LINKS] != 0:
            for a in range(A):
                pool[k + L_CO + a] = sc[NOW + S_LCO + a] + (n - 1) * shift[a]
                pool[k + L_CW + a] = sc[NOW + S_LCW + a] + (n - 1) * shift[a]
    pool[k + FIRST_WORDS] = pool[c0 + FIRST_WORDS]
    for a in range(A):
        pool[k + FIRST_EXT + a] = pool[c0 + FIRST_EXT + a]
        pool[k + LAST_LO + a] = (n - 1) * shift[a] + pool[cl + LAST_LO + a]
        pool[k + LAST_EXT + a] = pool[cl + LAST_EXT + a]


@njit(cache=True, inline="always")
def _kept(sc, b, v):
    """(words, corner offset in sc) of the delta outcome v's state at sc[b:] keeps (0 words: none)."""
    if sc[b + S_KEEP] == 0:
        return np.int64(0), b + S_LCO
    if sc[b + S_O + v] == 0:
        return sc[b + S_LOV], b + S_LCO
    return sc[b + S_LWH], b + S_LCW


@njit(cache=True, inline="always")
def _repeats(sc):
    """Do the outcomes' states equal those at the start of the iteration (once merged, outcome 1 follows 0): the
    same bits, the same stride remembered where one is, and where links are checked the same delta kept?"""
    now, before = SC_NOW, SC_BEFORE
    for v in range(sc[SC_N_OUT]):
        if sc[now + S_O + v] != sc[before + S_O + v]:
            return False
        if sc[now + S_O + v] == 0:
            for a in range(A):
                if sc[now + S_LT + a] != sc[before + S_LT + a]:
                    return False
        if sc[SC_LINKS] != 0:
            size, c = _kept(sc, now, v)
            bsize, bc = _kept(sc, before, v)
            if size != bsize:
                return False
            if size != 0:
                for a in range(A):
                    if sc[c + a] != sc[bc + a]:
                        return False
    return True


@njit(cache=True, inline="always")
def _snapshot(sc):
    """The state at the start of an iteration, as `_repeats` reads it: the bits and the stride remembered, and where
    links are checked the delta kept."""
    copy_words(sc, SC_BEFORE + S_O, sc, SC_NOW + S_O, S_KEEP - S_O)             # the bits
    copy_words(sc, SC_BEFORE + S_LT, sc, SC_NOW + S_LT, S_LCO - S_LT)           # the translation
    if sc[SC_LINKS] != 0:
        copy_words(sc, SC_BEFORE + S_KEEP, sc, SC_NOW + S_KEEP, S_LT - S_KEEP)  # kept, words under each outcome
        copy_words(sc, SC_BEFORE + S_LCO, sc, SC_NOW + S_LCO, ST - S_LCO)       # the corners under each outcome


@njit(cache=True, no_cpython_wrapper=True, _nrt=False, forceinline=True)
def _compose(pool, k, shift, sc, n_cand):
    """Node k's summary from its children's (`_summarize`): its sequence is child 0, then per further iteration
    the loop's step and that iteration's child (the middle child up to n-2, the last child at n-1). Returns 0, or
    HIT where a step may be served over a link (`n_cand` > 0: the candidates are checked). LLVM inlines it into
    `_summarize` (`forceinline`: ~12% more temporal-class evaluations/s than a call per node; `kernel`'s
    docstring)."""
    n = pool[k + N]
    cm = pool[k + CM]
    cl = pool[k + CL]
    sc[SC_KNOWN] = 0
    sc[SC_N_OUT] = 0                      # no outcome until the first move: `_step` moves no delta before it
    sc[SC_ENTRY] = 1
    pool[k + HAS_MOVE] = 0
    c0 = cm if n >= 2 else cl
    pool[k + FIRST_FORGETS] = pool[c0 + FIRST_FORGETS]
    pool[k + HAS_STEP] = 1 if n >= 2 or pool[c0 + HAS_STEP] != 0 else 0
    last = n - 2 if cm != cl else n - 1       # the iterations that repeat: the last too when its child is cm
    prev = c0
    i = np.int64(0)
    while i < n:                          # one call site of `_step` and `_child` each: one inlined copy
        c = cl if i == n - 1 else cm
        middle = 1 <= i <= last           # step cm -> cm, then cm
        was = sc[SC_KNOWN]
        if middle and was != 0:
            _snapshot(sc)
            copy_words(sc, SC_SEG, sc, SC_SUMS, 2)
        if i > 0 and _step(pool, k, prev, c, i, shift, sc, n_cand) == HIT:
            return HIT
        if _child(pool, k, c, i, shift, sc, n_cand) == HIT:
            return HIT
        prev = c
        i += 1
        if not middle:
            continue
        if sc[SC_KNOWN] == 0:             # nothing moved: nor will any further middle iteration
            i = last + 1
        elif was != 0 and _repeats(sc):   # the same states again: every further middle iteration adds the same
            left = last + 1 - i
            sc[SC_SUMS] += left * (sc[SC_SUMS] - sc[SC_SEG])
            if sc[SC_N_OUT] == 2:
                sc[SC_SUMS + 1] += left * (sc[SC_SUMS + 1] - sc[SC_SEG + 1])
            i = last + 1
    _finish(pool, k, c0, cl, n, shift, sc)
    return 0


@njit(cache=True, inline="always")
def _find_or_add(pool, lo, count, j, ctx):
    """The node of depth j with context ctx among nodes lo..count-1, or a new one at `count`; (index, count)."""
    for q in range(lo, count):
        k = q * NODE
        same = True
        for d in range(N_DIMS):
            if pool[k + CTX + d] != ctx[d]:
                same = False
                break
        if same:
            return q, count
    k = count * NODE
    pool[k + J] = j
    for d in range(N_DIMS):
        pool[k + CTX + d] = ctx[d]
    return count, count + 1


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _build_tree(temporal, tail, reach, bounds, origin, pool, ctx):
    """The distinct (depth, context) nodes of the frames of loops 0..tail-1 from `origin`, top-down, depth by depth
    (`reach[j * 8:]`: the dim extents frame j spans); each node's iteration count and its middle and last children.
    Returns the node count, or -1 (too many nodes, or middle iterations that would not share a context)."""
    for d in range(N_DIMS):
        pool[CTX + d] = min(bounds[d] - origin[d], reach[d])
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
            for d in range(N_DIMS):
                ctx[d] = min(pool[k + CTX + d], reach[(j + 1) * 8 + d])
            if n >= 2:                    # iterations 0..n-2: one context (checked at both ends)
                first = min(pool[k + CTX + dim], reach[(j + 1) * 8 + dim])
                ctx[dim] = min(pool[k + CTX + dim] - (n - 2) * step, reach[(j + 1) * 8 + dim])
                if ctx[dim] != first:
                    return -1
                c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
                pool[k + CM] = c * NODE
            last = min(pool[k + CTX + dim] - (n - 1) * step, reach[(j + 1) * 8 + dim])
            if n >= 2 and last == ctx[dim]:   # the last iteration's context is the middle ones': the same node
                pool[k + CL] = pool[k + CM]
            else:
                ctx[dim] = last
                c, count = _find_or_add(pool, nxt, count, j + 1, ctx)
                pool[k + CL] = c * NODE
            if count >= MAX_NODES:
                return -1
        lo = nxt
    return count


@njit(cache=True, inline="always")
def _leaf(pool, k, t, full, coef, temporal, tail, M, sc):
    """Leaf node k: one tile, the level's full tile cut by its context. Its delta is forgotten when an innermost
    loop that does not move t runs a second iteration there (`residual.leaf_step`): all loops here have end >= 2,
    so that is a context beyond the loop's step."""
    clip = sc[SC_CLIP:SC_CLIP + 8]
    ext = sc[SC_EXT:SC_EXT + A]
    for d in range(N_DIMS):
        clip[d] = min(full[d], pool[k + CTX + d])
    pool[k + FIRST_WORDS] = box(t, clip, coef, ext)
    pool[k + HAS_MOVE] = 0
    pool[k + HAS_STEP] = 0
    forgets = 0
    for j in range(tail, M if sc[SC_LINKS] != 0 else tail):
        if pool[k + CTX + temporal[j].dim] > temporal[j].step:
            forgets = 1
    pool[k + FIRST_FORGETS] = forgets
    for a in range(A):
        pool[k + FIRST_EXT + a] = ext[a]
        pool[k + LAST_EXT + a] = ext[a]
        pool[k + LAST_LO + a] = 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def _summarize(t, temporal, M, tail, full, layer, pool, count, n_cand):
    """Every node's summary, bottom-up: leaves (one tile each), then every node from its children. Returns 0 or
    HIT."""
    sc = pool[SCRATCH:CAND]
    shift = sc[SC_SHIFT:SC_SHIFT + A]
    for q in range(count - 1, -1, -1):
        k = q * NODE
        j = pool[k + J]
        if j == tail:
            _leaf(pool, k, t, full, layer.coef, temporal, tail, M, sc)
            continue
        lp = temporal[j]
        for a in range(A):
            shift[a] = 0
        a = layer.ax[t, lp.dim]
        if a >= 0:
            shift[a] = layer.co[t, lp.dim] * lp.step
        if _compose(pool, k, shift, sc, n_cand) == HIT:
            return HIT
    return 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_stream(t, temporal, M, full, layer, origin, pool, n_cand):
    """Fills of one instance of a (level, tensor) over the iterations of the M temporal loops above it that run
    from `origin`, or -1 where the phases do not apply or, `n_cand` > 0 (a fan-out above the level, its link
    candidates in the pool: `link_candidates`), where a step may be served over a link (then the walk counts it);
    `n_cand` = `UNLISTED` (the children's spread alone in the pool: `link_spread`) returns `UNCHECKED` instead where
    a delta is within the spread, so that a stream lists its candidates only where one may be needed.
    `full`: the level's dim extents (its tile is full[d] cut at the bound). Not for the MAC. `pool`: int64 scratch
    of at least `POOL_WORDS`."""
    ax = layer.ax
    sc = pool[SCRATCH:CAND]
    for a in range(A):
        sc[SC_ZERO + a] = 0
    sc[SC_LINKS] = 1 if n_cand > 0 else 0
    reach = pool[REACH:REACH + (M + 1) * 8]
    # reach[j]: the dim extents frame j's iterations and tiles span from its base (`sweep._first_frame`'s)
    for d in range(N_DIMS):
        reach[M * 8 + d] = full[d] if ax[t, d] >= 0 else 1
    for j in range(M - 1, -1, -1):
        lp = temporal[j]
        copy_words(reach, j * 8, reach, (j + 1) * 8, 8)
        reach[j * 8 + lp.dim] += (lp.bound - 1) * lp.step
    # The innermost loops tail..M-1 do not move t: their steps bring nothing and change no stride memory (still
    # steps), so a leaf is a tile with them (as `residual.leaf_step` takes them) and the tree stops at depth tail.
    tail = M
    while tail > 0 and ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    count = _build_tree(temporal, tail, reach, layer.bounds, origin, pool, sc[SC_CTX:SC_CTX + 8])
    if count < 0:
        return -1.0
    maybe = UNCHECKED if n_cand == UNLISTED else -1.0       # what a delta that may take a link returns
    if _summarize(t, temporal, M, tail, full, layer, pool, count, n_cand) == HIT:
        return maybe
    # the stream's first tile is brought whole and leaves no stride: its first move reuses the overlap
    fills = pool[FIRST_WORDS]
    if pool[HAS_MOVE] != 0:
        fills += pool[FM_OVER] + pool[REST]
        if n_cand > 0 and pool[FM_ENTRY] != 0:
            if _linkable(pool[FIRST_WORDS], sc, SC_ZERO, pool[FM_OVER], pool, FM_CO, pool, n_cand):
                return maybe
    return float(fills)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def phase_fills(t, temporal, M, full, layer, origin, pool):
    """`phase_stream` for a level without a fan-out above it (no link to check)."""
    return phase_stream(t, temporal, M, full, layer, origin, pool, np.int64(0))


@njit(cache=True, inline="always")
def link_spread(t, temporal, M, full, layer, origin, n_sp, scratch, pool):
    """The children's spread per axis into the pool (`spatial_axes`' reach, in `scratch`, where a spatial loop moves
    the axis, else 0), for `phase_stream` with `UNLISTED` candidates; returns `UNLISTED`, 0 where no step of the
    stream can take a link (`no_link`: the phases run as without a fan-out, carrying no delta's corners), or -1
    where the neighbour differences could not be listed (more spatial loops than `links.MAX_LISTED_SPATIAL`). The
    candidates are listed on demand (`link_candidates`): few streams have a delta within the spread, and listing
    them costs more than the phases' check."""
    for a in range(A):
        pool[SPAN + a] = scratch.reach[a] if scratch.s1[a] != 0 else 0
    if no_link(t, temporal, M, full, layer, origin, pool[SPAN:SPAN + A], pool[SCRATCH + SC_T:SCRATCH + SC_CLIP]):
        return np.int64(0)
    if n_sp > MAX_LISTED_SPATIAL:
        return np.int64(-1)
    return np.int64(UNLISTED)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def no_link(t, temporal, M, full, layer, origin, span, sc):
    """A proof from the loops alone that no step of tensor t's stream over the M temporal loops above a fan-out
    (from `origin`; `full`: the level's dim extents; `span`: the children's spread per axis) can take a link (R3):
    each step's delta is forgotten before the next one (`_every_delta_forgotten`), or every step moves the tile off
    itself and farther than a neighbour difference (`_steps_apart`). Then the walk takes no link, and the phases
    need not look for one. `sc`: scratch of 3 x `N_AXES` + 8 words. Cheap where it fails, so that the few streams it
    does not clear keep the phases' check (`UNLISTED`)."""
    tail = M                              # loops tail..M-1 do not move t (`phase_stream`'s leaves)
    while tail > 0 and layer.ax[t, temporal[tail - 1].dim] < 0:
        tail -= 1
    return _every_delta_forgotten(temporal, M, tail, layer.bounds, origin) or _steps_apart(
        t, temporal, M, tail, full, layer, origin, span, sc)


@njit(cache=True, inline="always")
def _every_delta_forgotten(temporal, M, tail, bounds, origin):
    """Does one of the innermost loops tail..M-1 (none of which moves the tensor) run a second iteration after every
    step, the stream's first and last too? Then each step's delta is forgotten before the next step
    (`residual.leaf_step`), so no two deltas are consecutive. Loop j of dim d runs its second iteration where the
    offsets left on d from the step's base exceed its step; they are fewest at the last base of the loops
    0..tail-1 on d (the largest offset that runs, digit by digit from the outermost)."""
    for j in range(tail, M):
        d = temporal[j].dim
        left = bounds[d] - origin[d]      # offsets left on d from the last base
        for i in range(tail):
            lp = temporal[i]
            if lp.dim == d:
                left -= min(lp.bound - 1, (left - 1) // lp.step) * lp.step
        if left > temporal[j].step:
            return True
    return False


@njit(cache=True, inline="always")
def _steps_apart(t, temporal, M, tail, full, layer, origin, span, sc):
    """Does every step move tensor t's tile off itself (on some axis by at least the level's full tile extent) and,
    on some axis a, farther than the children's spread span[a] (0 where no spatial loop moves the axis)? Then every
    delta is its whole tile, two consecutive ones are a step's translation T apart, and a link, which serves a
    delta that is the one before it moved by a neighbour difference v (|v[a]| <= span[a]: the difference of two
    children's offsets), would need v = T. A step of loop j (loops j+1..tail-1 reset) translates axis a by loop
    j's shift there less each inner loop's last digit times its shift; a digit is at most the loop's bound - 1,
    and that where every iteration runs on its dim. `sc`: scratch of 3 x `N_AXES` + 8 words."""
    ax, co = layer.ax, layer.co
    ext = sc[0:A]
    reset_max = sc[A:2 * A]               # per axis, the inner loops' largest reset (every last digit bound - 1)
    reset_min = sc[2 * A:3 * A]           # the least: a loop whose dim may stop short counts 0
    dims = sc[3 * A:3 * A + 8]
    for d in range(N_DIMS):                    # in the scratch: `box` as the leaves call it, no other signature
        dims[d] = full[d]
    box(t, dims, layer.coef, ext)
    for a in range(A):
        reset_max[a] = 0
        reset_min[a] = 0
    for j in range(tail - 1, -1, -1):
        lp = temporal[j]
        aj = ax[t, lp.dim]
        shift = co[t, lp.dim] * lp.step if aj >= 0 else 0
        off_itself = False
        beyond = False
        for a in range(A):
            lo = (shift if a == aj else 0) - reset_max[a]     # T[a] within [lo, hi]
            hi = (shift if a == aj else 0) - reset_min[a]
            off_itself = off_itself or lo >= ext[a] or hi <= -ext[a]
            beyond = beyond or lo > span[a] or hi < -span[a]
        if not (off_itself and beyond):
            return False
        if aj >= 0:
            reset_max[aj] += (lp.bound - 1) * shift
            last = origin[lp.dim]         # every iteration runs on the dim: its last digit is bound - 1
            for i in range(M):
                if temporal[i].dim == lp.dim:
                    last += (temporal[i].bound - 1) * temporal[i].step
            if last < layer.bounds[lp.dim]:
                reset_min[aj] += (lp.bound - 1) * shift
    return True


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
