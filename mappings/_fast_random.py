"""Random numbers for the compiled evolution: xorshift64* uniforms and normals read from a quantile table.

Written here because numba's np.random draws were measured at a fifth of the compiled mapper's time
(each standard normal a polar-method call with a log and a thread-local state look-up). A
search needs tens of thousands of N(0, 1) steps, not their tails: a normal here is one of 2^16
equally likely quantiles (|z| <= 4.3), picked by the top bits of a xorshift64* draw (Vigna, "An
experimental exploration of Marsaglia's xorshift generators, scrambled", ACM TOMS 2016).
"""
from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import ndtri

_TABLE_BITS = 16
NORMAL_TABLE = ndtri((np.arange(2 ** _TABLE_BITS) + 0.5) / 2 ** _TABLE_BITS)
"""The 2^16 quantiles of N(0, 1) at the midpoints of equal-probability bins."""

_MULT = np.uint64(0x2545F4914F6CDD1D)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def new_state(seed: int) -> np.ndarray:
    """A generator state (one nonzero uint64) from any integer seed (splitmix64's first output)."""
    z = (np.uint64(seed % 2 ** 64) + _GOLDEN)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.array([z if z else _GOLDEN], dtype=np.uint64)


@njit(cache=True, inline="always")
def _next(state):
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * _MULT


@njit(cache=True, inline="always")
def uniform(state):
    """A uniform draw in [0, 1) with 53 random bits."""
    return float(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def normal(state, table):
    """A draw of N(0, 1) from `table` (NORMAL_TABLE)."""
    return table[_next(state) >> np.uint64(64 - _TABLE_BITS)]
