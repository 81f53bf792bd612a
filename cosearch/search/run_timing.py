"""A network's layer runs under a timing model, and the part of their energy spent in DRAM.

Every run of a network's cost (a layer with its best mapping, what of it lives on chip, and, for a layer a depth-first
group runs tile by tile, its tiles' runs) is timed by one of `accel_models.timing`'s models: "timeloop" keeps the
mapper's cycles; "hardware" re-times the mapping as a tile-by-tile chip runs it, where tensors living on chip
(`Residency.resident`) are not moved from DRAM and each tile run of a depth-first group is a run of its own (its own
start-up and commands). The DRAM energy of a run is its outermost level's energy, counted as the plan priced the run
(a resident run's rehomed counts), plus the DRAM reads a plan charges besides the mapping (residual shortcuts).
"""
from __future__ import annotations

from collections.abc import Callable

from accel_models import Accelerator, evaluate_batch, explain, explain_rehomed
from accel_models.timing import TimingModel, get_timing

from ..fusion import traffic_energy_pj


RunTimer = Callable[..., int]
"""`cycles(layer, result, residency=None, parts=())`: one run's cycles (a `LayerCost`'s or a plan's `LayerRun`'s
fields)."""


def run_timer(timing: str | TimingModel, accelerator: Accelerator) -> RunTimer:
    """The cycles of a run on `accelerator` under `timing`, the model resolved once for a loop over a network's runs:
    under "timeloop" the mapper's own (no count to redo); otherwise the run's mapping counted again and timed, a
    depth-first layer's tile runs each timed and summed."""
    model = get_timing(timing)
    if model.name == "timeloop":
        return lambda layer, result, residency=None, parts=(): int(result.cycles)

    def cycles(layer, result, residency=None, parts=()) -> int:
        if parts:
            return sum(cycles(part.layer, part.result, part.residency, part.parts) * count for part, count in parts)
        counts = evaluate_batch(layer, result.accelerator, result.arrays)
        on_chip = () if residency is None else tuple(residency.resident)
        return int(model.cycles(layer, result.accelerator, result.arrays.with_residuals(), counts, on_chip)[0])
    return cycles


def run_dram_energy_pj(layer, result, residency, parts, traffic, accelerator: Accelerator) -> float:
    """pJ one run spends in DRAM (the outermost level): its accesses as the run was priced (rehomed where tensors
    live on chip), leakage included, plus the DRAM reads its plan charges besides the mapping."""
    if parts:
        return sum(run_dram_energy_pj(part.layer, part.result, part.residency, part.parts, part.traffic,
                                      accelerator) * count for part, count in parts)
    if residency is not None and residency.resident:
        priced = explain_rehomed(layer, accelerator, result.accelerator, result.arrays, residency.home,
                                 residency.resident)
    else:
        priced = explain(layer, result.accelerator, result.arrays)
    energy = float(priced.level_energy_pj[0]) if priced.valid else 0.0
    if traffic is not None and traffic.dram_read_words:
        energy += traffic_energy_pj(traffic, accelerator, None)[0]
    return energy


__all__ = ["RunTimer", "run_timer", "run_dram_energy_pj"]
