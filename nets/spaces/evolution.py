"""Seeded sampling, mutation and crossover of subnet configs of any space, through its gene table.

Follows OFA's evolution finder (mit-han-lab/once-for-all, ofa/tutorial/evolution_finder.py): every gene,
including the genes of inactive slots, is drawn uniformly; mutation redraws each gene with a probability;
crossover takes each gene from either parent with probability 1/2.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .config import SubnetConfig
from .genes import GeneTable
from .protocol import SearchSpace
from .registry import get_space

RngLike = np.random.Generator | int | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed, a Generator (used as is), or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _draw(rng: np.random.Generator, choices: tuple) -> Any:
    return choices[int(rng.integers(len(choices)))]


def _scalars(space: SearchSpace, values: dict[str, tuple]) -> dict[str, Any]:
    """The scalar genes unwrapped from their one-position tuples."""
    return {k: v[0] if k in space.scalar_genes else v for k, v in values.items()}


def sample_config(space: str | SearchSpace, rng: RngLike = None) -> SubnetConfig:
    """A uniformly random subnet config of `space` (every gene independently)."""
    space = get_space(space)
    gen = as_rng(rng)
    values = {field: tuple(_draw(gen, c) for c in per_pos) for field, per_pos in space.genes().items()}
    return space.make(_scalars(space, values))


def sample_configs(space: str | SearchSpace, n: int, rng: RngLike = None) -> list[SubnetConfig]:
    """n random configs from one Generator (deterministic under a seed)."""
    gen = as_rng(rng)
    return [sample_config(space, gen) for _ in range(n)]


def mutate_config(config: SubnetConfig, rng: RngLike = None, prob: float | Mapping[str, float] = 0.1,
                  genes: GeneTable | None = None) -> SubnetConfig:
    """Redraw each gene (each slot's, and each scalar) with probability `prob`: one for every gene, or a table of
    probabilities by gene (OFA's evolution redraws the resolution more often than the rest). `genes`: the choices
    to draw from (default: the space's whole table; a search may narrow them, as to a device's resolutions)."""
    space = config.space_def
    genes = space.genes() if genes is None else genes
    table = prob if isinstance(prob, Mapping) else dict.fromkeys(genes, prob)
    for gene, p in table.items():
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"mutate_config: the probability of gene {gene!r} must be in [0, 1], got {p}")
    gen = as_rng(rng)
    values: dict[str, Any] = {}
    for field, per_pos in genes.items():
        current = getattr(config, field)
        current = (current,) if field in space.scalar_genes else current
        p = table[field]
        values[field] = tuple(_draw(gen, c) if gen.random() < p else v for v, c in zip(current, per_pos))
    return space.make(_scalars(space, values))


def crossover_configs(a: SubnetConfig, b: SubnetConfig, rng: RngLike = None) -> SubnetConfig:
    """A child taking every gene from parent a or b with probability 1/2 each."""
    if a.space != b.space:
        raise ValueError(f"crossover_configs: parents come from different spaces ({a.space!r}, {b.space!r})")
    space = a.space_def
    gen = as_rng(rng)
    values: dict[str, Any] = {}
    for field in space.genes():
        va, vb = getattr(a, field), getattr(b, field)
        if field in space.scalar_genes:
            values[field] = va if gen.random() < 0.5 else vb
        else:
            values[field] = tuple(x if gen.random() < 0.5 else y for x, y in zip(va, vb))
    return space.make(values)


def _extreme_config(space: str | SearchSpace, pick, overrides: dict[str, Any]) -> SubnetConfig:
    space = get_space(space)
    values = _scalars(space, {field: tuple(pick(c) for c in per_pos) for field, per_pos in space.genes().items()})
    values.update({k: v for k, v in overrides.items() if v is not None})
    return space.make(values)


def largest_config(space: str | SearchSpace, r: int | None = None) -> SubnetConfig:
    """Every gene at its largest choice (the resolution `r` instead, where the space has one and it is given)."""
    return _extreme_config(space, max, {"r": r})


def smallest_config(space: str | SearchSpace, r: int | None = None) -> SubnetConfig:
    """Every gene at its smallest choice (the resolution `r` instead, where the space has one and it is given)."""
    return _extreme_config(space, min, {"r": r})


__all__ = ["RngLike", "as_rng", "sample_config", "sample_configs", "mutate_config", "crossover_configs",
           "largest_config", "smallest_config"]
