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
    patience: int = 8
    local_restarts: float = 1.0
    """Restarts: after `patience` generations without progress the search restarts, around the best genes found with
    probability `local_restarts` (else from a random mean with twice the population). Always around the best after 8
    stalled generations, instead of half the time after 40 (which 32 generations of 8 never reach): an iterated local
    search that leaves the local optimum a warm start lands in. Measured with `benchmarks/bench_inner_mapper.py`'s
    protocol at 256 evaluations, share of warm searches within 5% of the 16k-evaluation best, after 4 neighbouring
    accelerators (60 seeds): Eyeriss AlexNet conv2 0.35 -> 0.43, ResNet-50 res2a 0.40 -> 0.53, mesh16 depthwise
    0.12 -> 0.17; after 29 (a co-search's median depth for a shape; 30 seeds): 0.60 -> 0.83, 0.63 -> 0.90,
    0.27 -> 0.20; the three other pairs stay at 1.000. Replaying a default co-search's 24,927 searches (25 trials,
    1,436 shapes) with each: per-search EDP 0.905x the old settings' (geometric mean; 25% of searches better, 4.5%
    worse), for ~8% more CPU per search (1.17 vs 1.07-1.09 ms: rows sampled wider around the best cost more to decode
    and score, e.g. AlexNet conv2 3.1 vs 2.5 µs a row at step 0.2 vs 0.1); the old settings given that CPU (288
    evaluations) reach 0.977x."""
    seed_sigma: float = 0.2
    """The first step around the warm starts' best seed (genes live in [0, 1]; `best_mapping`'s default is 0.1).
    Measured with `benchmarks/bench_inner_mapper.py`'s warm protocol at 256 evaluations with the axis fill (40
    seeds, searches within 5% of the 16k-evaluation best, Eyeriss AlexNet conv2 / mesh16 depthwise / Eyeriss
    ResNet-50 res2a): 0.1: 30 / 26 / 28; 0.2: 35 / 30 / 30; 0.25: 37 / 29 / 31; 0.3: 37 / 29 / 24; 0.05: 31 / 24
    / 20. A wider first step leaves the seed's basin more often, which the warm start alone rarely does."""
    seed: int = 0

    def cache(self, seed: int | None = None, fixed_keep: dict | None = None) -> MappingCache:
        """A fresh `mappings.MappingCache` (layer-cost tables with warm starts) searching with these settings (`seed`
        instead of this one's if given; `fixed_keep` as `best_mapping`'s)."""
        extra = {} if fixed_keep is None else {"fixed_keep": fixed_keep}
        return MappingCache(strategy=self.strategy, budget_evals=self.budget_evals, islands=self.islands,
                            popsize=self.popsize, patience=self.patience, local_restarts=self.local_restarts,
                            seed_sigma=self.seed_sigma, seed=self.seed if seed is None else seed, **extra)


FINAL_MAPPER = MapperSettings(budget_evals=4096, islands=4, popsize=None, patience=40, local_restarts=0.5,
                              seed_sigma=0.1)
"""The mapper of the final phase: the best designs re-mapped, and the presets mapped, with a larger budget."""


POLISH_EVALUATIONS = 128
"""Designs the final phase's pattern search (`cosearch.search.polish`) scores around a design, at most. Measured
on the best designs of 3- and 10-minute default runs (3 seeds each, `benchmarks/bench_cosearch.py` before the polish
existed), EDP after the final mapper: 128 evaluations (7-10 s) took the 3-minute designs to 0.72-0.89x and the
10-minute ones to 0.91-0.98x, so that the 3-minute median (5.00e-7 J*s) came level with the 10-minute one (5.12e-7;
1.26x apart before); 64 evaluations (~5 s) reached 0.77-0.89x and 0.97-0.99x (medians 1.03x apart). Two of the six
searches ended by themselves (no move improving at the smallest step) after 44 and 97. With it in the final phase,
`python benchmarks/bench_cosearch.py --seeds 3`: medians 5.43e-7 / 5.14e-7 / 4.84e-7 J*s at 1 / 3 / 10 minutes (the
3-minute median 1.061x the 10-minute one), the polish taking 5-9 s a run and its design winning in all nine."""


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


POLISH_CANDIDATES = 3
"""The final phase's candidates (its best trials by the final mapper) that the pattern search starts from, one after
another; the best design of all wins. Measured on the stored studies of `benchmarks/bench_cosearch.py --seeds 3`'s 3-
and 10-minute runs (session 6), each of the three best trials polished and re-mapped: the best of them against the
winner's polish alone, 3 minutes 5.43 / 4.76 / 4.73e-7 against 5.71 / 4.75 / 5.14e-7 J*s, 10 minutes 5.21 / 4.69 /
4.63e-7 against 5.23 / 4.59 / 4.84e-7 (medians 1.015x apart instead of 1.061x), for 2-3x the polish's time. With it,
`python benchmarks/bench_cosearch.py --seeds 3` (session 7): medians 5.34e-7 / 4.79e-7 / 4.76e-7 J*s at 1 / 3 / 10
minutes, the 3-minute median 1.006x the 10-minute one, the three polishes taking 16-28 s a run."""
