"""The value the outer search optimises: a design's objective over its networks, or a penalty when it breaks the
budget; and the same objective on one run, as the subnet search ranks them.

One design runs one network (the subnet found, or the fixed network) or several (`--networks`). Its objective
(`--objective`, `cosearch.config.ObjectiveSpec`) is, when every run is within the hard latency / energy / power
limits: EDP (J*s), latency (ms) or energy (mJ), the geometric mean over the networks, minimised; the subnet's
accuracy, maximised; or MnasNet's reward ACC x (LAT / T)^w with w = alpha if LAT <= T else beta, maximised.
A design over the limits scores a penalty that grows with the summed overshoot and is worse than any design
within them. Trials and the final phase both score designs with `objective`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..config import Budget, CoSearchSettings
from ..config.objectives import ObjectiveSpec
from .evaluate import NetworkCost
from .pareto import directions, metric_names

PENALTY_J_S = 1.0
"""Objective of a design whose best run is over the latency / energy / power budget: far above any
real EDP (J*s), growing with the overshoot so that samplers are led back into the budget."""
PENALTY = {"edp": PENALTY_J_S, "latency": 1e6, "energy": 1e6, "accuracy": -1.0, "mnasnet": -1.0}
"""The penalty's base per objective, in its unit: above any real latency (1000 s in ms) or energy (1 kJ in mJ);
below any real accuracy or reward (both >= 0) for the maximised ones."""
EDP = ObjectiveSpec()
MAX_OVERSHOOT = 1e6
"""The overshoot counted in the penalty at most (keeps the objective finite)."""


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive values (one value is returned as it is)."""
    values = list(values)
    if len(values) == 1:
        return float(values[0])
    return math.exp(sum(math.log(v) for v in values) / len(values))


def mnasnet_reward(accuracy: float, latency_s: float, target_s: float, exponents: tuple[float, float]) -> float:
    """MnasNet's reward ACC x (LAT / T)^w, w = alpha if LAT <= T else beta (Tan et al., CVPR 2019, Eq. 2)."""
    alpha, beta = exponents
    return accuracy * (latency_s / target_s) ** (alpha if latency_s <= target_s else beta)


def run_metric(spec: ObjectiveSpec, latency_s: float, energy_j: float, accuracy: float | None = None) -> float:
    """The objective's figure of one run (J*s, ms, mJ, a fraction or the reward); `accuracy` where it needs one."""
    if spec.name == "edp":
        return energy_j * latency_s
    if spec.name == "latency":
        return latency_s * 1e3
    if spec.name == "energy":
        return energy_j * 1e3
    if accuracy is None or math.isnan(accuracy):
        raise ValueError(f"objective {spec.name}: the run has no accuracy estimate")
    if spec.name == "accuracy":
        return accuracy
    return mnasnet_reward(accuracy, latency_s, spec.target_latency_s, spec.exponents)


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
    spec: ObjectiveSpec = EDP

    @property
    def feasible(self) -> bool:
        return self.violation == 0

    @property
    def value(self) -> float:
        """What the outer search optimises: the objective's figure, or the penalty of a design over budget."""
        if self.feasible:
            return self.edp_j_s if self.metric is None else self.metric
        return PENALTY[self.spec.name] * (1.0 + min(self.violation, MAX_OVERSHOOT))

    def sort_key(self) -> tuple:
        """Sorts designs best first: within the budget first, then by the objective (lower EDP on ties)."""
        value = -self.value if self.spec.maximize else self.value
        return (not self.feasible, value, self.edp_j_s)


def objective(costs: Sequence[NetworkCost], budget: Budget, spec: ObjectiveSpec = EDP,
              accuracy: float | None = None) -> Objective:
    """The objective of one design from the costs of its networks on it (the first network's cost first);
    `budget`: the hard limits (`CoSearchSettings.limits`), `accuracy`: the first network's, where the objective
    scores it."""
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
    return ["maximize" if settings.objective.maximize else "minimize"]


def study_metric_names(settings: CoSearchSettings) -> list[str]:
    """The objectives' names and units, as Optuna and optuna-dashboard show them."""
    return metric_names(settings.pareto) if settings.pareto else [settings.objective.label()]

