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
    popsize: int | None = 8
    """The evolution strategy's first population (None: the default of `best_mapping`, 4 + 3 ln(genes), i.e. 14-16).
    Measured with `benchmarks/bench_inner_mapper.py` at 256 evaluations: 8 instead of the default's 14-16 brings
    the hard pairs' median EDP from 1.39x / 1.46x to 1.14x / 1.23x of the 16k-evaluation best (cold searches);
    6 is worse again (1.34x / 1.55x)."""
    seed: int = 0

    def cache(self) -> MappingCache:
        """A fresh `mappings.MappingCache` (layer-cost tables with warm starts) searching with these settings."""
        return MappingCache(strategy=self.strategy, budget_evals=self.budget_evals, islands=self.islands,
                            popsize=self.popsize, seed=self.seed)


FINAL_MAPPER = MapperSettings(budget_evals=4096, islands=4, popsize=None)
"""The mapper of the final phase: the best designs re-mapped, and the presets mapped, with a larger budget."""


@dataclass(frozen=True)
class EvolutionSettings:
    """The subnet evolution: population size, generations, share kept as parents, mutation settings.

    Defaults 50 x 10 (OFA's own search uses 100 x 500; NAAS's subnet search is of the same kind): with the
    layer-cost table a subnet costs sums over mapped shapes, so depth is cheap once the distinct shapes are
    mapped. Measured on the default budget (workers 1, seed 0, best search-phase EDP in J*s at 125 / 150
    complete trials): 8 x 2 (the old default) 2.17e-6 / 1.89e-6; 50 x 10 1.03e-6 / 8.2e-7, at 1-2 CPU-s a
    trial; 100 x 30 1.02e-6 at 125 trials, for 1.45x the time a trial. Beyond 50 x 10, depth per trial buys
    less than more trials of the outer search."""

    population: int = 50
    generations: int = 10
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
