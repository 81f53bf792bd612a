"""Sizes of the inner loops: the per-layer mapper (`mappings.MapperSettings`) and the subnet evolution. What each
default trades is in docs/defaults.md."""
from __future__ import annotations

from dataclasses import dataclass

from mappings import EvolutionStrategy, MapperSettings

SEARCH_MAPPER = MapperSettings(EvolutionStrategy(islands=1, popsize=8, patience=8, local_restarts=1.0, seed_sigma=0.2,
                                                 cold_islands=4),
                               budget_evals=256, factors="auto")
"""The per-layer mapper of the search's trials: 256 evaluations of one island of 8 that restarts around the best
genes after 8 stalled generations, with a first step of 0.2 around the warm starts (four islands of 8 for a search
without warm starts); residual tiling factors for the layers whose dims leave an axis of the array idle with divisors
(why: docs/defaults.md)."""
SEARCH_POOL_SHARE = 2
"""The search's trials map a pool layer (max, average, global and squeeze-and-excite pools) with 1/2 of the search
mapper's budget (`mappings.MappingCache.pool_share`): over 934 pool searches of 8 default trials, 128 evaluations end
at the cost 256 find in 97% of them (mean ratio 1.0004, 4 above 1%), and the pools are 1-5% of the best subnets'
cycles and energy."""
FINAL_MAPPER = MapperSettings(EvolutionStrategy(), budget_evals=4096, factors="auto")
"""The mapper of the final phase: the best designs re-mapped, and the presets mapped, with a larger budget."""


POLISH_EVALUATIONS = 128
"""Designs the final phase's pattern search (`cosearch.search.polish`) scores around a design, at most (why:
docs/defaults.md)."""
POLISH_TIME_SHARE = 0.15
"""The pattern search's CPU time, all candidates together, at most this share of the search's time limit (none
without a time limit): it runs after the search, so unbounded its time is the machine's, and on a slow machine it
would take the default run past five minutes; 0.15 x 225 s = 33.75 s, 16.9 s of wall time on two workers, which
polish side by side (`finalize.polish_lanes`; why: docs/defaults.md)."""


@dataclass(frozen=True)
class EvolutionSettings:
    """The subnet evolution: population size, generations, share kept as parents, mutation settings.

    Defaults 50 x 10 (OFA's own search uses 100 x 500): with the layer-cost table a subnet costs sums over mapped
    shapes, so depth is cheap once the distinct shapes are mapped; beyond 50 x 10, depth per trial buys less than more
    trials of the outer search (docs/defaults.md)."""

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


POLISH_CANDIDATES = 3
"""The final phase's candidates (its best trials by the final mapper) that the pattern search starts from, one after
another; the best design of all wins (why: docs/defaults.md)."""

__all__ = ["MapperSettings", "SEARCH_MAPPER", "FINAL_MAPPER", "POLISH_EVALUATIONS", "POLISH_TIME_SHARE",
           "POLISH_CANDIDATES", "EvolutionSettings"]
