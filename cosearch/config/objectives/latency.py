"""`latency`: the latency of one inference (ms), minimised; also a `--pareto` metric."""
from __future__ import annotations

from dataclasses import dataclass

from .base import ObjectiveSpec, RunFigures


@dataclass(frozen=True)
class Latency(ObjectiveSpec):
    name = "latency"
    unit = "ms"
    label = "latency (ms)"
    mapper_objective = "latency"
    penalty = 1e6  # ms: 1000 s
    pareto = True
    run_cost = True
    formula = "LAT (ms)"

    def value(self, run: RunFigures) -> float:
        return run.latency_s * 1e3
