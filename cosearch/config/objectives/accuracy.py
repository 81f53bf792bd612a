"""`accuracy`: the subnet's estimated top-1, maximised under the budget's hard limits (ProxylessNAS's and OFA's
"most accurate subnet within the latency target"); also a `--pareto` metric. Each layer is mapped for latency,
the figure such a limit is usually on."""
from __future__ import annotations

from dataclasses import dataclass

from .base import ObjectiveSpec, RunFigures


@dataclass(frozen=True)
class Accuracy(ObjectiveSpec):
    name = "accuracy"
    maximize = True
    unit = "top-1"
    label = "accuracy (top-1)"
    mapper_objective = "latency"
    needs_accuracy = True
    penalty = -1.0  # below any accuracy
    pareto = True
    value_format = ".4f"
    formula = "ACC, under the budget's hard limits"
    note = "OFA's and ProxylessNAS's question"

    def value(self, run: RunFigures) -> float:
        if run.accuracy is None:
            raise ValueError("objective accuracy: the run has no accuracy estimate")
        return run.accuracy
