"""`edp`: energy x delay of one inference (J*s), minimised: NAAS's objective and the default."""
from __future__ import annotations

from dataclasses import dataclass

from .base import ObjectiveSpec, RunFigures


@dataclass(frozen=True)
class EDP(ObjectiveSpec):
    name = "edp"
    unit = "J*s"
    label = "EDP (J*s)"
    mapper_objective = "edp"
    needs_energy = True
    penalty = 1.0  # J*s: far above any real EDP
    formula = "E x LAT (J*s)"
    note = "NAAS's; with `--networks`, the geometric mean"

    def value(self, run: RunFigures) -> float:
        return run.energy_j * run.latency_s
