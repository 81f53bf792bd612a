"""What a NAS strategy searches: a subnet space on one device, under hard limits, for one objective, within a budget
of subnet evaluations.

A `NASProblem` scores subnets (their accuracy from the space's estimator, their latency and energy from the device)
and keeps the bookkeeping every strategy shares: the distinct subnets evaluated (each one counted once against
`budget_evals`), the best one (within the limits first, then by the objective), and the anytime history of the best
objective within the limits against evaluations and wall time.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nets import GeneTable, SearchSpace, SubnetConfig

from ...config import Budget
from ...config.objectives import ObjectiveSpec, RunFigures
from ...nas_strategies.base import BudgetSpent
from ..interrupts import raise_if_requested

ACCURACY_CHUNK = 8
"""Under a time limit, subnets' accuracy is estimated this many at a time, the limit checked between: a zero-cost
proxy costs ~0.2-0.4 s a subnet, so a population of 100 estimated at once would run ~30 s past the limit; a trained
predictor's chunk costs well under a millisecond (OFA's gives the same estimates in chunks of 8 as in one batch)."""


@dataclass(frozen=True)
class SubnetCost:
    """Latency (s) and energy (J) of one inference of a subnet on a device (energy NaN where the device has none)."""

    latency_s: float
    energy_j: float

    @property
    def edp_j_s(self) -> float:
        return self.latency_s * self.energy_j

    @property
    def power_w(self) -> float:
        return self.energy_j / self.latency_s


@dataclass
class Evaluated:
    """One subnet scored: accuracy estimate, cost on the device (None: not computed, below the accuracy floor), how
    far it is over the limits (0: within), the objective's value, and when it was scored (evaluation number)."""

    config: SubnetConfig
    accuracy: float
    cost: SubnetCost | None
    violation: float
    value: float
    evaluation: int

    @property
    def feasible(self) -> bool:
        return self.cost is not None and self.violation == 0.0


MAX_DRAWS = 200
"""Draws per sample at most when sampling within the limits (a tight limit in a space of large subnets)."""


@dataclass
class NASProblem:
    """`space` (its gene table, restricted to `genes` where a device covers less), `accuracy` (an `AccuracyModel`),
    `cost(config) -> SubnetCost` (the device), the objective and the hard `limits` (latency, energy, power, the
    accuracy floor), `budget_evals` distinct subnets at most. `term_costs(i)`, where the device can give it, is the
    (latency, energy) table of the space's layer term i over the joint choices of its genes (the gradient
    strategy's)."""

    space: SearchSpace
    genes: GeneTable
    accuracy: object
    cost: Callable[[SubnetConfig], SubnetCost]
    objective: ObjectiveSpec
    limits: Budget
    budget_evals: int
    seed: int = 0
    term_costs: Callable | None = None
    deadline: float | None = None
    """A `time.time()` after which the problem counts as done (the run's time limit)."""
    seeds: Sequence[SubnetConfig] = ()
    """Subnets a population-based strategy starts from (the smallest subnet, which the limits were checked on)."""
    latency_floor: Callable[[SubnetConfig], float] | None = None
    """A quick estimate (s) below a subnet's latency, where the device has one (`DeviceCosts.latency_floor_s`): a
    draw whose floor is over the latency limit is drawn again without its cost being computed."""
    evaluated: dict[str, Evaluated] = field(default_factory=dict)
    history: list[tuple[int, float, float]] = field(default_factory=list)
    """(evaluations, wall s, best objective value within the limits) at every improvement."""
    best: Evaluated | None = None

    def __post_init__(self) -> None:
        self.t0 = time.perf_counter()
        self.rng = np.random.default_rng(self.seed)
        self._costs: dict[SubnetConfig, SubnetCost] = {}

    @property
    def evaluations(self) -> int:
        return len(self.evaluated)

    @property
    def remaining(self) -> int:
        return self.budget_evals - self.evaluations

    @property
    def done(self) -> bool:
        return self.remaining <= 0 or (self.deadline is not None and time.time() >= self.deadline)

    def _key(self, config: SubnetConfig) -> str:
        return repr(config.canonical())

    def better(self, a: Evaluated, b: Evaluated | None) -> bool:
        """Whether a ranks before b: within the limits first, then less over them, then by the objective."""
        return b is None or self.rank(a) < self.rank(b)

    def rank(self, e: Evaluated) -> tuple:
        """A sort key, best first."""
        value = -e.value if self.objective.maximize else e.value
        return (not e.feasible, e.violation, value)

    def evaluate(self, configs: Sequence[SubnetConfig]) -> list[Evaluated]:
        """Score the configs: one result per config, in their order (a subnet scored before is returned as it was,
        and not counted again); raises `BudgetSpent` rather than score a new subnet past the budget (its accuracy
        included). Past the deadline, the subnets whose cost was already computed (drawn within the limits) are
        still scored before it is raised: their cost is finished work."""
        raise_if_requested()    # an interrupt lost while a kernel compiled (see `cosearch.search.interrupts`)
        keys = [self._key(config) for config in configs]
        fresh: dict[str, SubnetConfig] = {}
        for key, config in zip(keys, configs):
            if key not in self.evaluated:
                fresh.setdefault(key, config)
        if fresh:
            if self.done:
                self._score_checked(list(fresh.values()))
                raise BudgetSpent
            batch = list(fresh.values())[:max(1, self.remaining)]
            accuracy = self._accuracies(batch)
            stopped = False
            for config, acc in zip(batch, accuracy):
                if self.done and (self.remaining <= 0 or config not in self._costs):
                    stopped = True      # past the deadline, only the subnets already costed are scored
                    continue
                self._score(config, float(acc))
            self._score_checked(batch[len(accuracy):])
            if stopped or len(accuracy) < len(batch) or len(batch) < len(fresh):
                raise BudgetSpent
        return [self.evaluated[key] for key in keys]

    def _score_checked(self, configs: list[SubnetConfig]) -> None:
        """Past the deadline, with evaluations left: score the subnets among `configs` whose cost `within_limits`
        has already computed (finished work: what is left is their accuracy, one predictor call), none other."""
        if self.remaining <= 0:
            return
        checked = [config for config in configs if config in self._costs][:self.remaining]
        if not checked:
            return
        accuracy = [math.nan] * len(checked) if self.accuracy is None else self.accuracy.score_batch(checked)
        for config, acc in zip(checked, accuracy):
            self._score(config, float(acc))

    def _accuracies(self, batch: list[SubnetConfig]) -> list[float]:
        """The accuracy estimates of `batch`, in order; with a deadline, `ACCURACY_CHUNK` at a time while it has not
        passed, so the list may be a prefix of the batch (possibly empty)."""
        if self.accuracy is None:
            return [math.nan] * len(batch)
        if self.deadline is None:
            return list(self.accuracy.score_batch(batch))
        scores: list[float] = []
        for i in range(0, len(batch), ACCURACY_CHUNK):
            if self.done:
                break
            scores.extend(self.accuracy.score_batch(batch[i:i + ACCURACY_CHUNK]))
        return scores

    def _score(self, config: SubnetConfig, accuracy: float) -> Evaluated:
        floor = self.limits.accuracy
        if floor is not None and not accuracy >= floor:
            e = Evaluated(config, accuracy, None, (floor - accuracy) / floor + 1.0, self._penalty(),
                          self.evaluations + 1)
        else:
            cost = self._costs.pop(config, None) or self.cost(config)
            violation = self.limits.violation(cost.latency_s, cost.energy_j)
            value = self.objective.value(RunFigures(cost.latency_s, cost.energy_j, accuracy))
            e = Evaluated(config, accuracy, cost, violation, value, self.evaluations + 1)
        self.evaluated[self._key(config)] = e
        if self.better(e, self.best):
            self.best = e
            if e.feasible:
                self.history.append((self.evaluations, time.perf_counter() - self.t0, e.value))
        return e

    def _penalty(self) -> float:
        return self.objective.penalty

    def value_of(self, e: Evaluated) -> float:
        """The value a reward-driven strategy maximises: the objective within the limits; below the worst real value
        otherwise, the more so the further over (MnasNet's hard-constraint form for a latency target)."""
        if e.feasible:
            return e.value if self.objective.maximize else -e.value
        if e.cost is None:
            return -1.0 - e.violation
        base = e.value if self.objective.maximize else -e.value
        return base * (1.0 + e.violation) ** -1 if self.objective.maximize else base * (1.0 + e.violation)

    def within_limits(self, config: SubnetConfig) -> bool:
        """Whether the subnet's cost on the device meets the latency / energy / power limits: the cheap check OFA's
        search makes before it predicts a subnet's accuracy (the cost is kept for its evaluation; not counted as
        one)."""
        if self.limits.latency_s is None and self.limits.energy_j is None and self.limits.power_w is None:
            return True
        cost = self._costs.get(config)
        if cost is None and self.latency_floor is not None and self.limits.latency_s is not None \
                and self.latency_floor(config) > self.limits.latency_s:
            return False
        cost = cost or self.cost(config)
        if self.limits.violation(cost.latency_s, cost.energy_j) > 0:
            return False
        self._costs[config] = cost      # it will be evaluated: keep its cost for that
        return True

    def sample_within(self, draw, attempts: int = MAX_DRAWS) -> SubnetConfig:
        """`draw()` until a subnet within the limits comes (OFA's `random_valid_sample` and its mutation and
        crossover loops), at most `attempts` times, and no more once the problem is `done` (a subnet drawn past
        the deadline is never evaluated: each check costs a subnet's latency, and the draws of a population under a
        tight limit ran minutes past the time limit); then the last one drawn."""
        for _ in range(attempts - 1):
            if self.done:
                break
            config = draw()
            if self.within_limits(config):
                return config
        return draw()

    def sample(self) -> SubnetConfig:
        """A config with every gene drawn uniformly from `genes`."""
        values = {f: tuple(c[int(self.rng.integers(len(c)))] for c in per) for f, per in self.genes.items()}
        return self.space.make({f: v[0] if f in self.space.scalar_genes else v for f, v in values.items()})


__all__ = ["SubnetCost", "Evaluated", "NASProblem"]
