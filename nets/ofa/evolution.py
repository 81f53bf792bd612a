"""Seeded random sampling, mutation and crossover of subnet configs (numpy Generator based).

Follows OFA's evolution finder (ofa/tutorial/evolution_finder.py): every gene, including the genes
of inactive slots, is drawn uniformly; mutation redraws each gene with a probability; crossover takes
each gene from either parent with probability 1/2.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .config import SubnetConfig, config_type
from .spaces import Space, get_space, scalar_genes

RngLike = np.random.Generator | int | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator (used as is), or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _draw(rng: np.random.Generator, choices: tuple) -> Any:
    return choices[int(rng.integers(len(choices)))]


def _build(space: Space, values: dict[str, Any]) -> SubnetConfig:
    return config_type(space)(**values, space=space.name)


def sample_config(space: str | Space, rng: RngLike = None) -> SubnetConfig:
    """A uniformly random subnet config of `space` (every gene independently)."""
    space = get_space(space)
    gen = as_rng(rng)
    values = {field: tuple(_draw(gen, c) for c in per_pos) for field, per_pos in space.genes().items()}
    return _build(space, _scalars(space, values))


def _scalars(space: Space, values: dict[str, tuple]) -> dict[str, Any]:
    """The scalar genes unwrapped from their one-position tuples."""
    return {k: v[0] if k in scalar_genes(space) else v for k, v in values.items()}


def sample_configs(space: str | Space, n: int, rng: RngLike = None) -> list[SubnetConfig]:
    """n random configs from one Generator (deterministic under a seed)."""
    gen = as_rng(rng)
    return [sample_config(space, gen) for _ in range(n)]


def mutate_config(config: SubnetConfig, rng: RngLike = None, prob: float = 0.1) -> SubnetConfig:
    """Redraw each gene (each slot, each depth, the resolution) with probability `prob`."""
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"mutate_config: prob must be in [0, 1], got {prob}")
    space = config.space_def
    gen = as_rng(rng)
    values: dict[str, Any] = {}
    for field, per_pos in space.genes().items():
        current = getattr(config, field)
        current = (current,) if field in scalar_genes(space) else current
        values[field] = tuple(_draw(gen, c) if gen.random() < prob else v for v, c in zip(current, per_pos))
    return _build(space, _scalars(space, values))


def crossover_configs(a: SubnetConfig, b: SubnetConfig, rng: RngLike = None) -> SubnetConfig:
    """A child taking every gene from parent a or b with probability 1/2 each."""
    if a.space != b.space:
        raise ValueError(f"crossover_configs: parents come from different spaces ({a.space!r}, {b.space!r})")
    space = a.space_def
    gen = as_rng(rng)
    values: dict[str, Any] = {}
    for field in space.genes():
        va, vb = getattr(a, field), getattr(b, field)
        if field in scalar_genes(space):
            values[field] = va if gen.random() < 0.5 else vb
        else:
            values[field] = tuple(x if gen.random() < 0.5 else y for x, y in zip(va, vb))
    return _build(space, values)


def _extreme_config(space: str | Space, pick, r: int | None) -> SubnetConfig:
    space = get_space(space)
    values = _scalars(space, {field: tuple(pick(c) for c in per_pos) for field, per_pos in space.genes().items()})
    if r is not None:
        values["r"] = r
    return _build(space, values)


def largest_config(space: str | Space, r: int | None = None) -> SubnetConfig:
    """Every gene at its largest choice (resolution too unless `r` is given)."""
    return _extreme_config(space, max, r)


def smallest_config(space: str | Space, r: int | None = None) -> SubnetConfig:
    """Every gene at its smallest choice (resolution too unless `r` is given)."""
    return _extreme_config(space, min, r)
