"""`energy`: the energy of one inference (mJ), minimised; also a `--pareto` metric."""
from __future__ import annotations

from dataclasses import dataclass

from .base import ObjectiveSpec, RunFigures


@dataclass(frozen=True)
class Energy(ObjectiveSpec):
    name = "energy"
    unit = "mJ"
    label = "energy (mJ)"
    mapper_objective = "energy"
    needs_energy = True
    penalty = 1e6  # mJ: 1 kJ
    pareto = True
    run_cost = True
    formula = "E (mJ)"

    def value(self, run: RunFigures) -> float:
        return run.energy_j * 1e3
