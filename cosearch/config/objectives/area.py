"""`area`: the accelerator's modelled area (mm2), a `--pareto` metric (as a single objective the smallest design
would win whatever it runs, so it is not one)."""
from __future__ import annotations

from dataclasses import dataclass

from .base import ObjectiveSpec, RunFigures


@dataclass(frozen=True)
class Area(ObjectiveSpec):
    name = "area"
    unit = "mm2"
    label = "area (mm2)"
    single = False
    pareto = True
    value_format = ".3f"
    formula = "area (mm2)"
    note = "the accelerator's modelled area"

    def value(self, run: RunFigures) -> float:
        if run.area_mm2 is None:
            raise ValueError("objective area: the run has no accelerator area")
        return run.area_mm2
