"""Sizes of the inner loops: the per-layer mapper and the subnet evolution."""
from __future__ import annotations

from dataclasses import dataclass

from mappings import MappingCache


@dataclass(frozen=True)
class MapperSettings:
    """Settings of the per-layer mapper (`mappings.best_mapping`), as the mapping cache keys them."""

    strategy: str = "es"
    budget_evals: int = 256
    islands: int = 1
    seed: int = 0

    def cache(self) -> MappingCache:
        """A fresh `mappings.MappingCache` (layer-cost tables with warm starts) searching with these settings."""
        return MappingCache(strategy=self.strategy, budget_evals=self.budget_evals, islands=self.islands,
                            seed=self.seed)


FINAL_MAPPER = MapperSettings(budget_evals=4096, islands=4)
"""The mapper of the final phase: the best designs re-mapped, and the presets mapped, with a larger budget."""


@dataclass(frozen=True)
class EvolutionSettings:
    """The subnet evolution: population size, generations, share kept as parents, mutation settings."""

    population: int = 8
    generations: int = 2
    parent_ratio: float = 0.5
    mutation_ratio: float = 0.5
    mutate_prob: float = 0.1
    max_draws: int = 2000

    def __post_init__(self) -> None:
        if self.population < 2:
            raise ValueError(f"EvolutionSettings.population must be >= 2, got {self.population}")
        if self.generations < 0:
            raise ValueError(f"EvolutionSettings.generations must be >= 0, got {self.generations}")
        if not 0 < self.parent_ratio < 1:
            raise ValueError(f"EvolutionSettings.parent_ratio must be in (0, 1), got {self.parent_ratio}")

    @property
    def evaluations(self) -> int:
        """Subnets scored per search (at most; duplicates are not re-scored)."""
        parents = max(1, round(self.population * self.parent_ratio))
        return self.population + self.generations * (self.population - parents)
