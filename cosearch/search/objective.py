"""The value the outer search optimises: a design's objective over its networks, or a penalty when it breaks the
budget; and the same objective on one run, as the subnet search ranks them.

One design runs one network (the subnet found, or the fixed network) or several (`--networks`). Its objective
(`--objective`, one `cosearch.config.objectives.ObjectiveSpec`, which owns the formula) is, when every run is within
the hard latency / energy / power limits, the objective's figure (the geometric mean over the networks for the
cost objectives). A design over the limits scores a penalty that grows with the summed overshoot and is worse than
any design within them. Trials and the final phase both score designs with `objective`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..config import Budget, CoSearchSettings
from ..config.objectives import EDP, ObjectiveSpec, RunFigures
from .evaluate import NetworkCost
from .pareto import directions, metric_names

PENALTY_J_S = EDP.penalty
"""Objective of a design whose best run is over the latency / energy / power budget under the EDP objective: far
above any real EDP (J*s), growing with the overshoot so that samplers are led back into the budget (each objective's
base is its `penalty`)."""
MAX_OVERSHOOT = 1e6
"""The overshoot counted in the penalty at most (keeps the objective finite)."""


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive values (one value is returned as it is)."""
    values = list(values)
    if len(values) == 1:
        return float(values[0])
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run_metric(spec: ObjectiveSpec, latency_s: float, energy_j: float, accuracy: float | None = None) -> float:
    """The objective's figure of one run (in the objective's unit); `accuracy` where it needs one."""
    return spec.value(RunFigures(latency_s, energy_j, accuracy))


def rank_value(spec: ObjectiveSpec, latency_s: float, energy_j: float, accuracy: float | None = None) -> tuple:
    """A key that sorts runs best first on the objective (ties: lower EDP)."""
    metric = run_metric(spec, latency_s, energy_j, accuracy)
    return (-metric if spec.maximize else metric, energy_j * latency_s)


@dataclass(frozen=True)
class Objective:
    """A design's score: its objective's figure over its networks, its EDP (geometric mean, J*s), and how far it is
    over the budget."""

    edp_j_s: float
    violation: float
    """Sum over the networks of the relative overshoots of the latency / energy / power limits (0 = fits)."""
    metric: float | None = None
    """The objective's figure (None: the EDP)."""
    spec: ObjectiveSpec = EDP()

    @property
    def feasible(self) -> bool:
        return self.violation == 0

    @property
    def value(self) -> float:
        """What the outer search optimises: the objective's figure, or the penalty of a design over budget."""
        if self.feasible:
            return self.edp_j_s if self.metric is None else self.metric
        return self.spec.penalty * (1.0 + min(self.violation, MAX_OVERSHOOT))

    def sort_key(self) -> tuple:
        """Sorts designs best first: within the budget first, then by the objective (lower EDP on ties)."""
        value = -self.value if self.spec.maximize else self.value
        return (not self.feasible, value, self.edp_j_s)


def objective(costs: Sequence[NetworkCost], budget: Budget, spec: ObjectiveSpec = EDP(),
              accuracy: float | None = None) -> Objective:
    """The objective of one design from the costs of its networks on it (the first network's cost first);
    `budget`: the hard limits (`CoSearchSettings.limits`), `accuracy`: the first network's, where the objective
    scores it. An objective that reads accuracy scores the first network; the others take the geometric mean over
    the networks."""
    violation = sum(budget.violation(c.latency_s, c.energy_j) for c in costs)
    edp = geomean(c.edp_j_s for c in costs)
    if spec.needs_accuracy:
        metric = run_metric(spec, costs[0].latency_s, costs[0].energy_j, accuracy)
    else:
        metric = geomean(run_metric(spec, c.latency_s, c.energy_j) for c in costs)
    return Objective(edp, violation, metric, spec)


def study_directions(settings: CoSearchSettings) -> list[str]:
    """Optuna's direction per objective of the study: one for `--objective`, one per metric of `--pareto`."""
    if settings.pareto:
        return directions(settings.pareto)
    return [settings.objective.direction]


def study_metric_names(settings: CoSearchSettings) -> list[str]:
    """The objectives' names and units, as Optuna and optuna-dashboard show them."""
    return metric_names(settings.pareto) if settings.pareto else [settings.objective.label]
