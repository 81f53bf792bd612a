"""Integer helpers of the mappers: divisors, ordered factorizations, padded divisor tables."""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    """All divisors of n >= 1, ascending."""
    if n < 1:
        raise ValueError(f"divisors: n must be an integer >= 1, got {n!r}")
    small, large = [], []
    i = 1
    while i * i <= n:
        if n % i == 0:
            small.append(i)
            if i * i != n:
                large.append(n // i)
        i += 1
    return tuple(small + large[::-1])


def prime_factors(n: int) -> list[int]:
    """Prime factors of n with multiplicity, ascending (1 -> [])."""
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def ordered_factorizations(n: int, slots: int) -> list[tuple[int, ...]]:
    """Every tuple of `slots` positive integers whose product is n (order matters)."""
    if slots == 1:
        return [(n,)]
    return [(f,) + rest for f in divisors(n) for rest in ordered_factorizations(n // f, slots - 1)]


class DivisorTable:
    """Divisors of every divisor of some bounds, padded into arrays for batched look-ups.

    values: the distinct numbers that can remain of a bound once factors are split off (sorted).
    divs[i, j]: j-th divisor of values[i] (0 = padding); counts[i]: how many; logs[i, j]: the divisor's
    natural log (+inf padding); log_values[i] = log(values[i]). Decoders take every log from here, so that the numpy and the
    numba decoder compare bit-identical numbers and break ties alike.
    """

    def __init__(self, bounds: tuple[int, ...] | list[int]) -> None:
        vals = sorted({v for b in bounds for v in divisors(int(b))})
        self.values = np.array(vals, dtype=np.int64)
        width = max(len(divisors(v)) for v in vals)
        self.divs = np.zeros((len(vals), width), dtype=np.int64)
        self.counts = np.zeros(len(vals), dtype=np.int64)
        for i, v in enumerate(vals):
            dv = divisors(v)
            self.divs[i, :len(dv)] = dv
            self.counts[i] = len(dv)
        with np.errstate(divide="ignore"):
            self.logs = np.where(self.divs > 0, np.log(np.maximum(self.divs, 1)), np.inf)
        self.log_values = np.log(self.values.astype(np.float64))

    @staticmethod
    @lru_cache(maxsize=4096)
    def for_bounds(bounds: tuple[int, ...]) -> "DivisorTable":
        """The table of `bounds`, built once per distinct bounds (tables are never modified)."""
        return DivisorTable(bounds)

    def index(self, values: np.ndarray) -> np.ndarray:
        """Row of each value in the table (values must be divisors of the bounds)."""
        return np.searchsorted(self.values, values)
