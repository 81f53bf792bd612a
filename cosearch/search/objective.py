"""The value the outer search minimizes: a design's EDP over its networks, or a penalty when it breaks the budget.

One design runs one network (the subnet found, or the fixed network) or several (`--networks`); its
objective is the geometric mean of their EDPs (J*s) when every run is within the latency / energy /
power limits, and PENALTY_J_S scaled by the summed overshoot otherwise. Trials and the final phase
both score designs with `objective`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..config import Budget
from .evaluate import NetworkCost

PENALTY_J_S = 1.0
"""Objective of a design whose best run is over the latency / energy / power budget: far above any
real EDP (J*s), growing with the overshoot so that samplers are led back into the budget."""
MAX_OVERSHOOT = 1e6
"""The overshoot counted in the penalty at most (keeps the objective finite)."""


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive values (one value is returned as it is)."""
    values = list(values)
    if len(values) == 1:
        return float(values[0])
    return math.exp(sum(math.log(v) for v in values) / len(values))


@dataclass(frozen=True)
class Objective:
    """A design's score: EDP over its networks (geometric mean, J*s) and how far it is over the budget."""

    edp_j_s: float
    violation: float
    """Sum over the networks of the relative overshoots of the latency / energy / power limits (0 = fits)."""

    @property
    def feasible(self) -> bool:
        return self.violation == 0

    @property
    def value(self) -> float:
        """What the outer search minimizes: the EDP, or the penalty of a design over budget."""
        return self.edp_j_s if self.feasible else PENALTY_J_S * (1.0 + min(self.violation, MAX_OVERSHOOT))


def objective(costs: Sequence[NetworkCost], budget: Budget) -> Objective:
    """The objective of one design from the costs of its networks on it (the first network's cost first)."""
    violation = sum(budget.violation(c.latency_s, c.energy_j) for c in costs)
    return Objective(geomean(c.edp_j_s for c in costs), violation)
