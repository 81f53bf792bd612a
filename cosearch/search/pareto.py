"""The multi-objective co-search (`--pareto`): Optuna's directions and metric names, each trial's subnet search as an
epsilon-constraint problem, the front over every (accelerator, subnet) pair the search scored, and its re-evaluation.

A trial is one accelerator, as in the single-objective search. Its subnet search cannot optimise two objectives
at once, so each trial draws its own trade-off (seeded by the run's seed and the trial number): an accuracy
level between the floor and the space's best subnet, and weights of the cost metrics. It then looks for the
subnet of least cost (the weighted geometric mean of latency and energy) at or above that accuracy (the
epsilon-constraint method: Haimes, Lasdon, Wismer, IEEE Trans. SMC 1971). Different trials so cover different
parts of the front. The trial returns its best subnet's metrics to Optuna (whose NSGA-II sees the trade-off and
whose dashboard draws the trials' front), and keeps the non-dominated ones of every subnet it scored; the
study's front is the non-dominated set of all of those, which the final phase re-maps with the final mapper.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config.objectives import RunFigures, objective_spec


def directions(metrics: Sequence[str]) -> list[str]:
    return [objective_spec(m)().direction for m in metrics]


def metric_names(metrics: Sequence[str]) -> list[str]:
    """Each metric as Optuna and optuna-dashboard name it (and its unit)."""
    return [objective_spec(m).label for m in metrics]


def point_values(metrics: Sequence[str], accuracy: float | None, latency_s: float, energy_j: float,
                 area_mm2: float) -> tuple[float, ...]:
    """The metrics of one (accelerator, subnet) run, in `metrics`' order and units."""
    run = RunFigures(latency_s, energy_j, accuracy, area_mm2)
    return tuple(float(objective_spec(m)().value(run)) for m in metrics)


def dominates(a: Sequence[float], b: Sequence[float], metrics: Sequence[str]) -> bool:
    """Point a is at least as good as b on every metric and better on one."""
    sign = [-1.0 if objective_spec(m).maximize else 1.0 for m in metrics]
    a = [s * x for s, x in zip(sign, a)]
    b = [s * x for s, x in zip(sign, b)]
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def non_dominated(points: Sequence[Sequence[float]], metrics: Sequence[str]) -> list[int]:
    """Indices of the points no other point dominates (of equal points, the first)."""
    keep = []
    for i, p in enumerate(points):
        if any(dominates(q, p, metrics) for q in points):
            continue
        if any(tuple(points[j]) == tuple(p) for j in keep):
            continue
        keep.append(i)
    return keep


@dataclass(frozen=True)
class TrialTradeOff:
    """One trial's scalarisation: the accuracy level its subnet search aims at (None: none), the weights of the cost
    metrics in the geometric mean it minimises."""

    accuracy_level: float | None
    weights: dict[str, float]

    def cost(self, latency_s: float, energy_j: float) -> float:
        """log of the weighted geometric mean of the cost metrics (scale-free: units do not matter)."""
        run = RunFigures(latency_s, energy_j)
        return sum(w * math.log(objective_spec(m)().value(run)) for m, w in self.weights.items())

    def __call__(self, accuracy: float, run) -> tuple:
        """A sort key of a subnet's run (lower first): at or above the accuracy level by cost, then the rest by
        accuracy; without cost metrics, by accuracy."""
        if not self.weights:
            return (-accuracy,)
        cost = self.cost(run.latency_s, run.energy_j)
        if self.accuracy_level is None:
            return (cost,)
        return (0, cost) if accuracy >= self.accuracy_level else (1, -accuracy)

    def to_dict(self) -> dict:
        return {"accuracy_level": self.accuracy_level, "weights": self.weights}


def trial_trade_off(metrics: Sequence[str], floor: float | None, best_accuracy: float | None,
                    rng: np.random.Generator) -> TrialTradeOff:
    """A trade-off drawn for one trial: an accuracy level uniform in [floor, best_accuracy] (when accuracy is a
    metric) and Dirichlet(1) weights over the cost metrics among `metrics`."""
    costs = [m for m in metrics if objective_spec(m).run_cost]
    weights = dict(zip(costs, (float(w) for w in rng.dirichlet(np.ones(len(costs)))))) if costs else {}
    level = None
    if any(objective_spec(m).needs_accuracy for m in metrics) and best_accuracy is not None:
        lo = floor if floor is not None else best_accuracy - 0.05
        level = float(lo + rng.random() * max(0.0, best_accuracy - lo))
    return TrialTradeOff(level, weights)


def trial_points(metrics: Sequence[str], candidates, area_mm2: float) -> list[dict]:
    """The non-dominated runs among a trial's scored subnets within budget: their metrics and subnet configs."""
    runs = [c for c in candidates if c.feasible]
    values = [point_values(metrics, c.accuracy, c.run.latency_s, c.run.energy_j, area_mm2) for c in runs]
    return [{"values": list(values[i]), "subnet": None if runs[i].config is None else runs[i].config.to_dict()}
            for i in non_dominated(values, metrics)]


@dataclass(frozen=True)
class FrontPoint:
    """One design of the study's front: the trial (its accelerator), the subnet, the metrics the search measured."""

    trial: int
    design: dict
    subnet: dict | None
    values: tuple[float, ...]


def study_front(trials, metrics: Sequence[str]) -> list[FrontPoint]:
    """The non-dominated (accelerator, subnet) pairs of the complete, within-budget trials, ordered by the first
    metric."""
    points = [FrontPoint(t.number, t.user_attrs["design"], p["subnet"], tuple(p["values"]))
              for t in trials if t.user_attrs.get("feasible") for p in t.user_attrs.get("pareto_points", ())]
    front = [points[i] for i in non_dominated([p.values for p in points], metrics)]
    first = -1.0 if objective_spec(metrics[0]).maximize else 1.0
    return sorted(front, key=lambda p: (first * p.values[0], p.trial))


__all__ = ["directions", "metric_names", "point_values", "dominates",
           "non_dominated", "TrialTradeOff", "trial_trade_off", "trial_points", "FrontPoint", "study_front"]
