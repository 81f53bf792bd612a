"""Uniformly random mappings of valid shape: the random-search baseline and a test/benchmark source."""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from accel_models import Accelerator, MappingArrays, check_accelerator
from accel_models.cost_model import evaluate_batch
from accel_models.geometry import accelerator_arrays
from nets import Layer, check_layer

from ._factorize import prime_factors


MAX_MAPPINGS = 1 << 20
"""Most mappings one call draws (a mapping of 8 levels takes about 2.5 kB: a call stays within a few GB)."""


def _check_arguments(owner: str, layer, accelerator, n, lo: int, rng) -> None:
    """The arguments every sampler takes: a layer, an accelerator, a count in [lo, MAX_MAPPINGS], a seed."""
    check_layer(owner, layer)
    check_accelerator(owner, accelerator)
    if isinstance(n, bool) or not isinstance(n, Integral) or not lo <= n <= MAX_MAPPINGS:
        raise ValueError(f"{owner}: n must be an integer in [{lo}, {MAX_MAPPINGS}], got {n!r}")
    if not (rng is None or isinstance(rng, np.random.Generator)
            or (isinstance(rng, Integral) and not isinstance(rng, bool) and rng >= 0)):
        raise ValueError(f"{owner}: rng must be a numpy Generator or an integer seed >= 0, got {rng!r}")


def random_mappings(layer: Layer, accelerator: Accelerator, n: int, rng: np.random.Generator | int = 0,
                    spatial_bias: float = 1.0) -> MappingArrays:
    """n random mappings whose factors multiply to the bounds and whose spatial factors fit the fan-outs.

    Each prime factor of each dim goes to a random slot (a level's temporal loop, or its X / Y fan-out
    when it has one); a prime that would overflow a fan-out falls back to that level's temporal loop.
    Loop orders are random permutations; every level keeps what the architecture lets it keep.
    Capacity is not considered: the cost model rejects overflowing tiles.
    """
    _check_arguments("random_mappings", layer, accelerator, n, 0, rng)
    if not (isinstance(spatial_bias, Real) and not isinstance(spatial_bias, bool) and 0 <= spatial_bias < math.inf):
        raise ValueError(f"random_mappings: spatial_bias must be a finite number >= 0, got {spatial_bias!r}")
    rng = np.random.default_rng(rng)
    L = accelerator.num_levels
    arrays = MappingArrays.empty(n, L)
    slots = [(l, 0) for l in range(L)]
    weights = [1.0] * L
    for l, lv in enumerate(accelerator.levels):
        if lv.fanout_x > 1:
            slots.append((l, 1))
            weights.append(spatial_bias)
        if lv.fanout_y > 1:
            slots.append((l, 2))
            weights.append(spatial_bias)
    prob = np.array(weights) / sum(weights)
    slot_level = np.array([s[0] for s in slots])
    slot_kind = np.array([s[1] for s in slots])
    arch = accelerator_arrays(accelerator)
    fan = arch.fanout
    used_x = np.ones((n, L), dtype=np.int64)
    used_y = np.ones((n, L), dtype=np.int64)
    rows = np.arange(n)
    for d, bound in enumerate(layer.bounds):
        for p in prime_factors(bound):
            choice = rng.choice(len(slots), size=n, p=prob)
            lvl = slot_level[choice]
            kind = slot_kind[choice].copy()
            # Fall back to temporal where the fan-out would overflow.
            fx = (kind == 1) & (used_x[rows, lvl] * p > fan[lvl, 0])
            fy = (kind == 2) & (used_y[rows, lvl] * p > fan[lvl, 1])
            kind[fx | fy] = 0
            # A dim uses one spatial axis per level: if it already sits on the other axis, go temporal.
            on_y = arrays.spatial_y[rows, lvl, d] > 1
            on_x = arrays.spatial_x[rows, lvl, d] > 1
            kind[((kind == 1) & on_y) | ((kind == 2) & on_x)] = 0
            for k, target in ((0, arrays.temporal), (1, arrays.spatial_x), (2, arrays.spatial_y)):
                sel = kind == k
                target[rows[sel], lvl[sel], d] *= p
            sx = kind == 1
            used_x[rows[sx], lvl[sx]] *= p
            sy = kind == 2
            used_y[rows[sy], lvl[sy]] *= p
    arrays.order[:] = np.argsort(rng.random((n, L, 8)), axis=2)
    arrays.spatial_order[:] = np.argsort(rng.random((n, L, 8)), axis=2)
    arrays.keep[:] = arch.keeps
    arrays.keep[:, 0, :] = 1
    return arrays


def random_valid_mappings(layer: Layer, accelerator: Accelerator, n: int, rng: np.random.Generator | int = 0,
                          max_tries: int = 200) -> MappingArrays:
    """n random mappings that the cost model accepts (rejection sampling over `random_mappings`)."""
    _check_arguments("random_valid_mappings", layer, accelerator, n, 1, rng)
    if isinstance(max_tries, bool) or not isinstance(max_tries, Integral) or max_tries < 1:
        raise ValueError(f"random_valid_mappings: max_tries must be an integer >= 1, got {max_tries!r}")
    rng = np.random.default_rng(rng)
    parts, have = [], 0
    for _ in range(max_tries):
        batch = random_mappings(layer, accelerator, max(4 * n, 1000), rng)
        ok = evaluate_batch(layer, accelerator, batch).valid
        if ok.any():
            idx = np.flatnonzero(ok)[: n - have]
            parts.append(MappingArrays(*(a[idx] for a in batch)))
            have += len(idx)
        if have >= n:
            return MappingArrays.concatenate(parts)
    raise ValueError(f"random_valid_mappings: found only {have} valid mappings of {n} requested for layer "
                     f"{layer.name or layer.shape_key} on {accelerator.name}; buffers may be too small for it")
