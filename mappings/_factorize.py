"""Integer helpers of the mappers: divisors, balanced tiles, ordered factorizations, padded divisor tables."""
from __future__ import annotations

import math
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


@lru_cache(maxsize=4096)
def balanced_tiles(n: int) -> tuple[int, ...]:
    """The distinct ceil(n / k), k = 1..n, ascending: the tiles that split n iterations into k passes as evenly as
    whole loops can (k - 1 full passes and a last one of 1..tile). The divisors of n are among them; there are
    about 2 sqrt(n). For k > isqrt(n) the tile is at most isqrt(n) + 1, and a t that small is a balanced tile
    exactly when ceil(n / ceil(n / t)) == t (ceil(n / t) is the fewest passes whose tile is at most t)."""
    if n < 1:
        raise ValueError(f"balanced_tiles: n must be an integer >= 1, got {n!r}")
    s = math.isqrt(n)
    large = {-(-n // k) for k in range(1, s + 1)}
    small = {t for t in range(1, s + 2) if -(-n // -(-n // t)) == t}
    return tuple(sorted(large | small))


@lru_cache(maxsize=65536)
def axis_shares(bounds: tuple[int, ...], width: int) -> tuple[float, float]:
    """The largest share of a `width`-wide axis's slots over all passes that one or two of these dims can keep busy
    when unrolled on it: (with divisors only, with balanced tiles). Dims f1, f2 unrolled on the axis (f1 f2 <= width)
    keep b1 b2 of the width x passes slots busy, passes = ceil(b1 / f1) ceil(b2 / f2); with divisors that is
    f1 f2 / width. Per dim pair, each balanced tile of the first (`balanced_tiles`; only those can lower the passes)
    is paired with the fewest passes of the second within what is left of the axis."""
    dims = sorted(b for b in bounds if b > 1)
    perfect = residual = 1.0 / width
    for i, b1 in enumerate(dims):
        for f1 in balanced_tiles(b1):
            if f1 > width:
                break
            p1 = -(-b1 // f1)
            others = [1] + dims[:i] + dims[i + 1:]
            for b2 in others:
                f2 = min(b2, width // f1)
                residual = max(residual, b1 * b2 / (width * p1 * -(-b2 // f2)))
                if b1 % f1 == 0:
                    g2 = max(g for g in divisors(b2) if g <= f2)
                    perfect = max(perfect, f1 * g2 / width)
    return perfect, residual


@lru_cache(maxsize=65536)
def divisor_share(bounds: tuple[int, ...], width: int) -> float:
    """`axis_shares`' first share alone (divisors only), the cheap part: a dim alone first (one look-up each), then
    pairs, each divisor of the first with the largest divisor of the second within what is left of the axis."""
    dims = sorted(b for b in bounds if b > 1)
    share = max([g for b in dims for g in divisors(b) if g <= width], default=1) / width
    for i, b1 in enumerate(dims):
        for b2 in dims[i + 1:]:
            for g1 in divisors(b1):
                if g1 > width or share == 1.0:
                    break
                g2 = max(g for g in divisors(b2) if g <= width // g1)
                share = max(share, g1 * g2 / width)
    return share


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


def _padded(rows: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ascending positive integers as (values [n, width] padded with 0, counts [n], natural logs with +inf
    padding)."""
    out = np.zeros((len(rows), max(len(r) for r in rows)), dtype=np.int64)
    counts = np.zeros(len(rows), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
        counts[i] = len(r)
    with np.errstate(divide="ignore"):
        logs = np.where(out > 0, np.log(np.maximum(out, 1)), np.inf)
    return out, counts, logs


def _quotient_rows(factors: np.ndarray, counts: np.ndarray, vals: list[int], row: dict[int, int]) -> np.ndarray:
    """[n, width]: the row of ceil(vals[i] / factors[i, j]) in `vals` (0 on the padding)."""
    out = np.zeros_like(factors)
    for i, v in enumerate(vals):
        out[i, :counts[i]] = [row[-(-v // int(f))] for f in factors[i, :counts[i]]]
    return out


class DivisorTable:
    """Divisors (and, for residual decodes, balanced tiles) of what can remain of some bounds, padded into arrays
    for batched look-ups.

    values: the distinct numbers that can remain of a bound once factors are split off (sorted): its divisors,
    or with `balanced` every ceil(bound / m), m >= 1 (its balanced tiles: what is left after tiles that need not
    divide, since ceil(ceil(b / x) / y) = ceil(b / (x y)); the set is closed under taking balanced tiles again).
    divs[i, j]: j-th divisor of values[i] (0 = padding); counts[i]: how many; logs[i, j]: the divisor's
    natural log (+inf padding); log_values[i] = log(values[i]).
    tiles / tile_counts / tile_logs: the same for the tiles a residual decode may take from values[i]: its
    balanced tiles (`balanced_tiles`) with `balanced`, else its divisors (the very arrays divs / counts / logs).
    quotient_rows[i, j]: the row of values[i] / divs[i, j]; tile_quotient_rows[i, j]: the row of
    ceil(values[i] / tiles[i, j]) (both in the table, which is closed under them); divisor_tile_index[i, j]: the
    index of divs[i, j] among the tiles of values[i]. With them the compiled decoder carries each dim's row from one
    factor to the next instead of searching for what is left after every division (and dividing).
    Decoders take every log from here, so that the numpy and the numba decoder compare bit-identical numbers and
    break ties alike.
    """

    def __init__(self, bounds: tuple[int, ...] | list[int], balanced: bool = False) -> None:
        remains = balanced_tiles if balanced else divisors
        vals = sorted({v for b in bounds for v in remains(int(b))})
        self.values = np.array(vals, dtype=np.int64)
        self.divs, self.counts, self.logs = _padded([divisors(v) for v in vals])
        self.log_values = np.log(self.values.astype(np.float64))
        row = {v: i for i, v in enumerate(vals)}
        self.quotient_rows = _quotient_rows(self.divs, self.counts, vals, row)
        if balanced:
            self.tiles, self.tile_counts, self.tile_logs = _padded([balanced_tiles(v) for v in vals])
            self.tile_quotient_rows = _quotient_rows(self.tiles, self.tile_counts, vals, row)
            self.divisor_tile_index = np.zeros_like(self.divs)
            for i, v in enumerate(vals):
                at = {t: j for j, t in enumerate(balanced_tiles(v))}
                self.divisor_tile_index[i, :self.counts[i]] = [at[g] for g in divisors(v)]
        else:
            self.tiles, self.tile_counts, self.tile_logs = self.divs, self.counts, self.logs
            self.tile_quotient_rows = self.quotient_rows
            self.divisor_tile_index = np.broadcast_to(np.arange(self.divs.shape[1]), self.divs.shape).copy()

    @staticmethod
    @lru_cache(maxsize=4096)
    def for_bounds(bounds: tuple[int, ...], balanced: bool = False) -> "DivisorTable":
        """The table of `bounds`, built once per distinct bounds and kind (tables are never modified)."""
        return DivisorTable(bounds, balanced)

    def index(self, values: np.ndarray) -> np.ndarray:
        """Row of each value in the table (values must be in `values`)."""
        return np.searchsorted(self.values, values)
