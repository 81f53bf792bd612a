"""The middle loop: an evolutionary search over OFA subnets under an accuracy floor, scored on one accelerator by
the co-search's objective (EDP by default).

OFA's evolution finder (mit-han-lab/once-for-all, ofa/tutorial/evolution_finder.py) with an accuracy
constraint beside its efficiency one: a random population of subnets that meet the floor, within the
latency / energy / power limits where there are some (`WITHIN_LIMITS_DRAWS`; warm-started with given seeds), then
generations of mutation and crossover of the best ones, children below the floor redrawn. A subnet's score is the
objective of its run on the accelerator (each layer at its best mapping): `score(accuracy, run)`, a key that sorts
best first; runs over the latency / energy / power budget rank after every run within it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nets import SubnetConfig, crossover_configs, mutate_config, sample_configs

from ..config import Budget, EvolutionSettings, UsageError
from .accuracy import AccuracyModel
from .evaluate import NoValidMapping, RunCost


WITHIN_LIMITS_DRAWS = 4
"""Under a latency / energy / power limit, the first population is drawn within the limits, as OFA's evolution draws
its first population within its efficiency constraint (once-for-all, ofa/tutorial/evolution_finder.py,
`random_valid_sample`): subnets are scored until the population is full of runs within the limits, at most this many
times the population size; the best of them by `Candidate.rank_key` start the evolution."""


@dataclass
class Candidate:
    """A subnet with its estimated accuracy and its run on the accelerator (None if it has no valid mapping)."""

    config: SubnetConfig
    accuracy: float
    run: RunCost | None
    violation: float = 0.0
    score: tuple = ()
    """The objective's sort key of the run (lower first; empty: by EDP)."""

    @property
    def feasible(self) -> bool:
        return self.run is not None and self.violation == 0.0

    @property
    def edp_j_s(self) -> float:
        return math.inf if self.run is None else self.run.edp_j_s

    def rank_key(self) -> tuple:
        """Within-budget runs first by the objective, then the rest by how far over budget they are."""
        return (not self.feasible, self.violation, *(self.score or (self.edp_j_s,)))


@dataclass
class SubnetSearchResult:
    best: Candidate
    evaluated: list[Candidate] = field(default_factory=list)
    draws: int = 0
    """Subnets drawn (sampled, mutated or crossed over) to find the evaluated ones."""


class NoSubnetMeetsTheFloor(UsageError):
    """The accuracy floor admits no subnet the search could draw: the run's input asks for what it cannot give."""


class _Pool:
    """Admits new subnets that meet the floor, scoring their accuracy in batches, never the same subnet twice."""

    def __init__(self, model: AccuracyModel, floor: float | None, max_draws: int) -> None:
        self.model, self.floor, self.max_draws = model, floor, max_draws
        self.seen: set[str] = set()
        self.draws = 0

    def admit(self, configs: Sequence[SubnetConfig]) -> list[tuple[SubnetConfig, float]]:
        """The new configs that meet the floor, with their accuracy (in order; duplicates dropped)."""
        self.draws += len(configs)
        fresh, keys = [], []
        for config in configs:
            key = repr(config.canonical())
            if key not in self.seen and key not in keys:
                fresh.append(config)
                keys.append(key)
        if not fresh:
            return []
        accuracy = self.model.score_batch(fresh)
        out = []
        for config, key, a in zip(fresh, keys, accuracy):
            if self.floor is None or a >= self.floor:
                self.seen.add(key)
                out.append((config, float(a)))
        return out

    @property
    def exhausted(self) -> bool:
        return self.draws >= self.max_draws


def search_subnet(model: AccuracyModel, floor: float | None, evaluate: Callable[[SubnetConfig], RunCost],
                  budget: Budget, settings: EvolutionSettings, rng: np.random.Generator,
                  seeds: Sequence[SubnetConfig] = (),
                  score: Callable[[float, RunCost], tuple] | None = None) -> SubnetSearchResult:
    """The best subnet under `evaluate` (one accelerator) whose accuracy is at least `floor`: by `score(accuracy,
    run)`, a sort key (lower first), or the lowest EDP without one.

    seeds: configs to start the population with (e.g. the best subnets of earlier trials). Raises
    `NoSubnetMeetsTheFloor` when no subnet drawn within `settings.max_draws` meets the floor.
    """
    pool = _Pool(model, floor, settings.max_draws)
    evaluated: list[Candidate] = []

    def scored(batch: list[tuple[SubnetConfig, float]]) -> list[Candidate]:
        out = []
        for config, accuracy in batch:
            try:
                run = evaluate(config)
            except NoValidMapping:
                out.append(Candidate(config, accuracy, None, math.inf))
                continue
            out.append(Candidate(config, accuracy, run, budget.violation(run.latency_s, run.energy_j),
                                 () if score is None else score(accuracy, run)))
        evaluated.extend(out)
        return out

    population = scored(pool.admit(list(seeds)[:settings.population]))
    limited = any(x is not None for x in (budget.latency_s, budget.energy_j, budget.power_w))
    fill_evals = settings.population * (WITHIN_LIMITS_DRAWS if limited else 1)

    def filled() -> int:    # the runs that count towards the first population
        return sum(c.feasible for c in population) if limited else len(population)

    while filled() < settings.population and len(population) < fill_evals and not pool.exhausted:
        need = min(settings.population - filled(), fill_evals - len(population))
        population += scored(pool.admit(sample_configs(model.space, max(16, 2 * need), rng))[:need])
    population = sorted(population, key=Candidate.rank_key)[:settings.population]
    if not population:
        raise NoSubnetMeetsTheFloor(f"--accuracy: no subnet of {model.space} meets the accuracy floor {floor:g} "
                                    f"({model.source.label}) in {pool.draws} draws; accepted: a lower floor")
    n_parents = max(1, round(settings.population * settings.parent_ratio))
    for _ in range(settings.generations):
        parents = sorted(population, key=Candidate.rank_key)[:n_parents]
        children: list[Candidate] = []
        while len(children) < settings.population - n_parents and not pool.exhausted:
            need = settings.population - n_parents - len(children)
            drawn = []
            for _ in range(max(8, 2 * need)):
                if len(parents) < 2 or rng.random() < settings.mutation_ratio:
                    drawn.append(mutate_config(parents[int(rng.integers(len(parents)))].config, rng,
                                               settings.mutate_prob))
                else:
                    i, j = rng.choice(len(parents), size=2, replace=False)
                    drawn.append(crossover_configs(parents[int(i)].config, parents[int(j)].config, rng))
            children += scored(pool.admit(drawn)[:need])
        population = parents + children
    return SubnetSearchResult(min(evaluated, key=Candidate.rank_key), evaluated, pool.draws)
