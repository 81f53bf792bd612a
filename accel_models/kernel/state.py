"""The carried state of a stream of tiles, the step rule R2 on it, and the memo of the frame walk (`sweep`): what the
uniform sweep (one stream) and the joint sweep (one stream per class of children) share.

A stream's state is `workspace.STATE_LEN` int64 words, laid out as the names below say: whether a step was taken
(HAVE), the previous delta's size (PSIZE) and whether it left out an old box (POLD), whether a last stride is
remembered (HAS_STRIDE); per axis the previous tile's corner (PLO) and extents (PEXT), the previous delta's old box
(POLO, POEXT; zero without one) and the last stride (STRIDE; zero without one). The joint sweep's state is one such
block per class, back to back.

The frame walk memoizes a frame on its state relative to the tile corner at its base (tensor coordinates are
linear in the dim offsets): `relative` and `place` move the coordinates the state holds, `key_hash`, `memo_find`
and `memo_store` keep the frames' sums and exit states in a `workspace.MEMO` record (open addressing; the keys and
exit states in its pool).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from nets import N_AXES

from ..geometry import box, project
from ..mapping_arrays import N_DIMS
from .workspace import JOINT_STATE, MEMO_CAP, STATE_LEN

HAVE, PSIZE, POLD, HAS_STRIDE = 0, 1, 2, 3
PLO = 4
PEXT = PLO + N_AXES
POLO = PEXT + N_AXES
POEXT = POLO + N_AXES
STRIDE = POEXT + N_AXES

GOLDEN = -7046029254386353131
"""2^64 / golden ratio as a wrapping int64 (0x9E3779B97F4A7C15): the multiplier of Knuth's multiplicative hashing
(The Art of Computer Programming, vol. 3, section 6.4), with which the kernel's hash tables mix their keys."""
KEY_MULTIPLIERS = np.array([((2 * k + 1) * GOLDEN) % 2**64 for k in range(8 + JOINT_STATE)],
                           dtype=np.uint64).view(np.int64)
"""The odd multipliers (2k + 1) x GOLDEN (wrapped to 64 bits) of a memo key's fields in `key_hash`: the cut
context's 8, then the state's words (a uniform sweep uses the first STATE_LEN of them)."""


@njit(cache=True, inline="always")
def delta(t, off, st, full, is_mac, layer, x):
    """R2 for one iteration of the loops above a (level, tensor), at dim offsets `off`: its tile (`full`, the level's
    dim extents, cut at the bounds) into x.lo / x.ext, and the words it brings: the whole tile, nothing if it did not
    move, or what the previous tile does not cover when the move repeats the last stride and no axis was cut by two
    words or more (then x.d_old = 1 and x.d_olo / x.d_oext hold the previous tile, the box the delta leaves out).
    Updates the stride memory of the carried state `st`; `commit` records the tile and delta afterwards (the caller
    reads the previous ones in between). Returns the delta's words."""
    bounds, coef = layer.bounds, layer.coef
    lo, ext, clip = x.lo, x.ext, x.clip
    project(t, off, coef, lo)
    if is_mac:
        for a in range(N_AXES):
            ext[a] = 1
    else:
        for d in range(N_DIMS):
            clip[d] = min(full[d], bounds[d] - off[d])
        box(t, clip, coef, ext)
    words = np.int64(1)
    for a in range(N_AXES):
        words *= ext[a]
    size = words
    x.d_old = 0
    if st[HAVE] != 0 and not is_mac:
        still = True
        for a in range(N_AXES):
            if lo[a] != st[PLO + a] or ext[a] != st[PEXT + a]:
                still = False
        if still:
            size = 0
        else:
            match = True
            if st[HAS_STRIDE] != 0:
                for a in range(N_AXES):
                    # the last stride, and no axis cut by two or more words (`reference._shrinks_at_most_one`)
                    if st[STRIDE + a] != lo[a] - st[PLO + a] or st[PEXT + a] - ext[a] > 1:
                        match = False
            if match:
                x.d_old = 1
                overlap = np.int64(1)
                for a in range(N_AXES):
                    plo = st[PLO + a]
                    pext = st[PEXT + a]
                    x.d_olo[a] = plo
                    x.d_oext[a] = pext
                    st[STRIDE + a] = lo[a] - plo
                    ov = min(lo[a] + ext[a], plo + pext) - max(lo[a], plo)
                    overlap *= ov if ov > 0 else 0
                st[HAS_STRIDE] = 1
                size = words - overlap
            else:
                st[HAS_STRIDE] = 0
                for a in range(N_AXES):
                    st[STRIDE + a] = 0
    return size


@njit(cache=True, inline="always")
def commit(st, lo, ext, old, olo, oext, size):
    """The delta `delta` just counted (its tile lo / ext, whether it left out the box olo / oext, `size` words)
    becomes the previous one in `st`."""
    st[HAVE] = 1
    st[PSIZE] = size
    st[POLD] = old
    for a in range(N_AXES):
        st[PLO + a] = lo[a]
        st[PEXT + a] = ext[a]
        st[POLO + a] = olo[a] if old else 0
        st[POEXT + a] = oext[a] if old else 0


@njit(cache=True, inline="always")
def forget_delta(st):
    """No delta at this step (a still step of the innermost loops, or an idle instance): the next step has no
    previous delta to take over a link (the previous tile and the stride memory stay)."""
    st[PSIZE] = 0
    st[POLD] = 0
    for a in range(N_AXES):
        st[POLO + a] = 0
        st[POEXT + a] = 0


@njit(cache=True, inline="always")
def relative(src, n_words, pb, quiet, out):
    """out = the state src (n_words: a whole number of streams' states) with the tensor coordinates it holds taken
    relative to the corner pb (the memo's form), and the streams whose bit is set in `quiet` zero."""
    for base in range(0, n_words, STATE_LEN):
        if (quiet >> (base // STATE_LEN)) & 1:
            for k in range(STATE_LEN):
                out[base + k] = 0
            continue
        for k in range(STATE_LEN):
            out[base + k] = src[base + k]
        if src[base + HAVE] != 0:
            for a in range(N_AXES):
                out[base + PLO + a] -= pb[a]
        if src[base + POLD] != 0:
            for a in range(N_AXES):
                out[base + POLO + a] -= pb[a]


@njit(cache=True, inline="always")
def place(src, n_words, pb, quiet, state):
    """The live state from a relative one (`relative`) placed at the corner pb; a quiet stream keeps its own."""
    for base in range(0, n_words, STATE_LEN):
        if (quiet >> (base // STATE_LEN)) & 1:
            continue
        for k in range(STATE_LEN):
            state[base + k] = src[base + k]
        if src[base + HAVE] != 0:
            for a in range(N_AXES):
                state[base + PLO + a] += pb[a]
        if src[base + POLD] != 0:
            for a in range(N_AXES):
                state[base + POLO + a] += pb[a]


@njit(cache=True, inline="always")
def same(u, v, n_words):
    """Are the first n_words of two states equal?"""
    for k in range(n_words):
        if u[k] != v[k]:
            return False
    return True


@njit(cache=True, inline="always")
def key_hash(j, ctx, state, n_words):
    """Hash of a memo key (frame kind j, cut context, relative state of n_words): the sum of its fields times
    `KEY_MULTIPLIERS` (independent products rather than a chain), mixed at the end by multiplying by GOLDEN."""
    h = j * np.int64(GOLDEN)
    for d in range(N_DIMS):
        h += ctx[d] * KEY_MULTIPLIERS[d]
    for k in range(n_words):
        h += state[k] * KEY_MULTIPLIERS[8 + k]
    return (h ^ (h >> 31)) * GOLDEN


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def memo_start(memo, fresh):
    """Clear the memo's slots on its first use; `fresh`: a new stamp (the entries of earlier sweeps no longer
    match), else the previous sweep's entries stay valid."""
    if memo.ready == 0:
        for k in range(memo.slot_stamp.shape[0]):
            memo.slot_stamp[k] = 0
        memo.stamp = 0
        memo.ready = 1
    if fresh:
        memo.stamp += 1
        memo.entries = 0
        memo.used = 0


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def memo_find(memo, h, j, ctx, state, n_words):
    """The slot holding key (j, ctx, state) under the memo's current stamp, or the free slot where it would go
    (linear probing)."""
    stamp = memo.stamp
    mask = memo.slot_stamp.shape[0] - 1
    k = (h >> 32) & mask
    while memo.slot_stamp[k] == stamp:
        if memo.slot_j[k] == j and _slot_holds(memo, k, ctx, state, n_words):
            return k
        k = (k + 1) & mask
    return k


@njit(cache=True, inline="always")
def _slot_holds(memo, k, ctx, state, n_words):
    """Whether memo slot k's context and state words are `ctx` and the first n_words of `state`."""
    for d in range(N_DIMS):
        if memo.slot_ctx[k, d] != ctx[d]:
            return False
    o = memo.slot_off[k]
    for w in range(n_words):
        if memo.pool[o + w] != state[w]:
            return False
    return True


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def memo_store(memo, h, j, ctx, key, sums, extra, n_sums, st, n_words, pb, quiet):
    """Memoize (j, ctx, key) -> (sums + extra, the state st relative to the corner pb, the quiet streams zero), if
    the table has room (`workspace.MEMO_CAP` entries, and pool words for the key and the exit state)."""
    if memo.entries >= MEMO_CAP or memo.used + 2 * n_words > memo.pool.shape[0]:
        return
    k = memo_find(memo, h, j, ctx, key, n_words)
    pool = memo.pool
    o = memo.used
    memo.slot_stamp[k] = memo.stamp
    memo.slot_j[k] = j
    for d in range(N_DIMS):
        memo.slot_ctx[k, d] = ctx[d]
    memo.slot_off[k] = o
    for w in range(n_words):
        pool[o + w] = key[w]
    relative(st, n_words, pb, quiet, pool[o + n_words:o + 2 * n_words])
    for q in range(n_sums):
        memo.slot_sums[k, q] = sums[q] + extra[q]
    memo.used = o + 2 * n_words
    memo.entries += 1
