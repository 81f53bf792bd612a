"""The compiled encoder: `Encoding.encode`'s genes of one mapping, for the warm starts of every search.

The inverse of `_decode_kernel` on the loops that exist: a loop order becomes importances by position,
a keep flag 0.25 / 0.75, a spatial or temporal factor that divides what is left of the dim its log-ratio to it, one
that does not (a balanced tile of a residual decode) 1.0, an axis fill gene 0.75 where the axis is full (filling
changes nothing) and 0.45 elsewhere (off, yet near on: see `encoding`'s "Axis fill"). What is left after a factor f
is ceil(left / f), as the residual decode counts it (left / f for a divisor). Compiled
because the warm starts encode one or more mappings per search, a thousand searches per co-search trial.
"""
from __future__ import annotations

import math

from numba import njit

from accel_models.mapping_arrays import N_DIMS, N_TENSORS


@njit(cache=True, inline="always")
def _log_ratio(f, rem):
    """The gene r with rem ** r == f (0 when nothing is left to split); 1.0 for a factor that does not divide rem:
    the residual decode takes such a tile only where a limit binds (the fan-out left, a buffer), and a gene asking
    for all of rem gives the largest tile within that limit."""
    if rem <= 1 or f < 1:
        return 0.0
    if rem % f != 0:
        return 1.0
    return math.log(f) / math.log(rem)


@njit(cache=True)
def encode_into(temporal, order, sx, sy, sorder, keep, order_idx, rank_idx, axis_idx, ratio_idx, tile_idx, keep_idx,
                fill_idx, fanout, bounds, active, fan_levels, rem, x):
    """Genes of the mapping given by its [L, 8] / [L, 3] rows into x (filled with 0.5 first); rem: scratch [8].
    bounds: what the free factors multiply to (`Encoding.free_bounds`)."""
    L = temporal.shape[0]
    x[:] = 0.5
    for l in range(L):
        for pos in range(N_DIMS):
            d = order[l, pos]
            if order_idx[l, d] >= 0:
                x[order_idx[l, d]] = 1.0 - (pos + 0.5) / 8
        for t in range(N_TENSORS):
            if keep_idx[l, t] >= 0:
                x[keep_idx[l, t]] = 0.75 if keep[l, t] else 0.25
        for a in range(2):
            if fill_idx[l, a] >= 0:
                used = 1
                for d in range(N_DIMS):
                    used *= sx[l, d] if a == 0 else sy[l, d]
                x[fill_idx[l, a]] = 0.75 if used == fanout[l, a] else 0.45
    for d in range(N_DIMS):
        rem[d] = bounds[d]
    for fi in range(fan_levels.shape[0]):
        l = fan_levels[fi]
        for pos in range(N_DIMS):
            d = sorder[l, pos]
            if rank_idx[l, d] < 0:
                continue
            x[rank_idx[l, d]] = 1.0 - (pos + 0.5) / 8
            f = sx[l, d] * sy[l, d]
            if axis_idx[l, d] >= 0:
                x[axis_idx[l, d]] = 0.75 if sy[l, d] > 1 else 0.25
            if ratio_idx[l, d] >= 0:           # (none for a factor fixed by a constraint)
                x[ratio_idx[l, d]] = _log_ratio(f, rem[d])
                rem[d] = (rem[d] + f - 1) // f
    for l in range(L - 1, 0, -1):
        for ai in range(active.shape[0]):
            d = active[ai]
            if tile_idx[l, d] < 0:               # fixed by a constraint, or the level taking the rest
                continue
            f = temporal[l, d]
            x[tile_idx[l, d]] = _log_ratio(f, rem[d])
            rem[d] = (rem[d] + max(f, 1) - 1) // max(f, 1)   # ceiling: a residual tile leaves ceil(rem / f) passes
