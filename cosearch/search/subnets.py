"""The middle loop: an evolutionary search over OFA subnets under an accuracy floor, scored by EDP on one accelerator.

OFA's evolution finder (mit-han-lab/once-for-all, ofa/tutorial/evolution_finder.py) with an accuracy
constraint in place of its efficiency one: a random population of subnets that meet the floor
(warm-started with given seeds), then generations of mutation and crossover of the best ones,
children below the floor redrawn. A subnet's score is its network EDP on the accelerator (each layer
at its best mapping); runs over the latency / energy / power budget rank after every run within it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nets import SubnetConfig, crossover_configs, mutate_config, sample_configs

from ..config import Budget, EvolutionSettings
from .accuracy import AccuracyModel
from .evaluate import NetworkCost, NoValidMapping


@dataclass
class Candidate:
    """A subnet with its estimated accuracy and its cost on the accelerator (None if it has no valid mapping)."""

    config: SubnetConfig
    accuracy: float
    cost: NetworkCost | None
    violation: float = 0.0

    @property
    def feasible(self) -> bool:
        return self.cost is not None and self.violation == 0.0

    @property
    def edp_j_s(self) -> float:
        return math.inf if self.cost is None else self.cost.edp_j_s

    def rank_key(self) -> tuple:
        """Within-budget runs first by EDP, then the rest by how far over budget they are."""
        return (not self.feasible, self.violation, self.edp_j_s)


@dataclass
class SubnetSearchResult:
    best: Candidate
    evaluated: list[Candidate] = field(default_factory=list)


class _Pool:
    """Draws subnets that meet the floor, never the same (canonical) subnet twice."""

    def __init__(self, model: AccuracyModel, floor: float | None, rng: np.random.Generator, max_draws: int) -> None:
        self.model, self.floor, self.rng, self.max_draws = model, floor, rng, max_draws
        self.seen: set[str] = set()
        self.draws = 0

    def admit(self, config: SubnetConfig) -> float | None:
        """The config's accuracy if it is new and meets the floor, else None."""
        key = repr(config.canonical())
        if key in self.seen:
            return None
        accuracy = self.model.score(config)
        if self.floor is not None and accuracy < self.floor:
            return None
        self.seen.add(key)
        return accuracy

    def exhausted(self) -> bool:
        self.draws += 1
        return self.draws > self.max_draws


def search_subnet(model: AccuracyModel, floor: float | None, evaluate: Callable[[SubnetConfig], NetworkCost],
                  budget: Budget, settings: EvolutionSettings, rng: np.random.Generator,
                  seeds: Sequence[SubnetConfig] = ()) -> SubnetSearchResult:
    """The subnet of lowest EDP under `evaluate` (one accelerator) whose accuracy is at least `floor`.

    seeds: configs to start the population with (e.g. the best subnets of earlier trials).
    """
    pool = _Pool(model, floor, rng, settings.max_draws)
    evaluated: list[Candidate] = []

    def score(config: SubnetConfig, accuracy: float) -> None:
        try:
            cost = evaluate(config).with_accuracy(accuracy)
        except NoValidMapping:
            evaluated.append(Candidate(config, accuracy, None, math.inf))
            return
        evaluated.append(Candidate(config, accuracy, cost, budget.violation(cost.latency_s, cost.energy_j)))

    for config in list(seeds)[:settings.population]:
        accuracy = pool.admit(config)
        if accuracy is not None:
            score(config, accuracy)
    while len(evaluated) < settings.population and not pool.exhausted():
        for config in sample_configs(model.space, 16, rng):
            accuracy = pool.admit(config)
            if accuracy is not None and len(evaluated) < settings.population:
                score(config, accuracy)
    if not evaluated:
        raise RuntimeError(f"no subnet of {model.space} meets the accuracy floor {floor} in {pool.draws} draws")

    n_parents = max(1, round(settings.population * settings.parent_ratio))
    for _ in range(settings.generations):
        parents = sorted(evaluated, key=Candidate.rank_key)[:n_parents]
        born = 0
        while born < settings.population - n_parents and not pool.exhausted():
            if len(parents) < 2 or rng.random() < settings.mutation_ratio:
                child = mutate_config(parents[int(rng.integers(len(parents)))].config, rng, settings.mutate_prob)
            else:
                i, j = rng.choice(len(parents), size=2, replace=False)
                child = crossover_configs(parents[int(i)].config, parents[int(j)].config, rng)
            accuracy = pool.admit(child)
            if accuracy is not None:
                score(child, accuracy)
                born += 1
    return SubnetSearchResult(min(evaluated, key=Candidate.rank_key), evaluated)
