"""What the cost model returns for one (layer, accelerator, mapping): validity, cycles, energy, counts."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nets.layer import MAX_BOUND

from .accelerator import TENSORS

REASONS: dict[int, str] = {
    0: "ok",
    1: "factors of a dimension do not cover its bound (F3: product of the ends, or acc*e + r-1 with residuals), "
       "a residual is outside 1..its end, or the outermost spatial loop of a dimension has a residual",
    2: "spatial factors exceed the fan-out of a level (more PEs than the mesh)",
    3: "a tile exceeds the capacity of a storage level",
    4: "the outermost level must keep every tensor",
    5: "a loop order is not a permutation of the 8 dimensions",
    6: "a dimension is unrolled on both the X and the Y axis of one fan-out (Timeloop puts a dim on one axis)",
    7: "instances under a fan-out do unequal work (a residual on or below a spatial loop) in more classes than the "
       "compiled kernel's tables hold (32 under one instance, 512 in all); reference.evaluate counts it",
    8: f"an end above {MAX_BOUND} (nets.MAX_BOUND) or a keep flag other than 0 and 1: input, not a mapping; the "
       "compiled kernel flags it in its shape check and cost_model.evaluate_batch refuses it with a ValueError",
}
"""Reason codes of invalid mappings, shared by `reference.evaluate` and the compiled kernel (8: the kernel's alone)."""

(OK, BAD_FACTORS, SPATIAL_OVERFLOW, CAPACITY_OVERFLOW, BAD_BYPASS, BAD_ORDER, BOTH_AXES, SPATIAL_RESIDUAL,
 BAD_INPUT) = range(9)


@dataclass
class EvalResult:
    """One evaluated mapping. Counts are in words, totals over all used instances of a level.

    reads / fills / updates: [levels, 3] (tensor order Weights, Inputs, Outputs); zero where a level
    does not keep a tensor. `*_per_instance`: the count of the busiest instance of the level, per tensor and
    action. When every instance does the same work (perfect mappings and the temporal residual class) that is
    every instance's count, Timeloop's per-instance figure, and the total is it times `instances_used`; when a
    spatial residual makes instances differ (Timeloop's spatial class, F9) the total is the sum of their own
    counts. `instances_used`: per level, the product of the spatial ends above it (F5), idle or not.
    `link_transfers`: per level and tensor, the words the busiest instance's children pass among themselves.
    level_energy_pj: per level, accesses and leakage (as Timeloop's per-level energy).
    """

    valid: bool
    reason: int
    reason_text: str
    level_names: tuple[str, ...]
    macs: int
    cycles: int = 0
    compute_cycles: int = 0
    energy_pj: float = 0.0
    mac_energy_pj: float = 0.0
    utilization: float = 0.0
    reads: np.ndarray | None = None
    fills: np.ndarray | None = None
    updates: np.ndarray | None = None
    reads_per_instance: np.ndarray | None = None
    fills_per_instance: np.ndarray | None = None
    updates_per_instance: np.ndarray | None = None
    instances_used: np.ndarray | None = None
    tile_words: np.ndarray | None = None
    level_energy_pj: np.ndarray | None = None
    tensor_energy_pj: np.ndarray | None = None
    """Energy of each level's accesses per tensor, [levels, 3] pJ (each row plus the level's leakage,
    `level_leak_pj`, sums to `level_energy_pj`)."""
    level_cycles: np.ndarray | None = None
    link_transfers: np.ndarray | None = None
    level_leak_pj: np.ndarray | None = None
    """Leakage per level over the run (pJ), included in level_energy_pj and energy_pj."""
    clock_energy_pj: float = 0.0
    """The clock network's energy over the run (`Accelerator.clock_energy_pj` x cycles, pJ), in energy_pj: with the
    levels' energies and the MACs', the whole."""

    @property
    def edp_pj_cycles(self) -> float:
        """Energy-delay product in pJ x cycles."""
        return self.energy_pj * self.cycles

    def edp_j_s(self, clock_ghz: float) -> float:
        """Energy-delay product in J x s at the given clock."""
        return self.energy_pj * 1e-12 * self.cycles / (clock_ghz * 1e9)

    def breakdown(self) -> str:
        """A per-level table of counts and energy, like Timeloop's stats summary."""
        if not self.valid:
            return f"invalid mapping: {self.reason_text}"
        lines = [f"cycles {self.cycles:,}  energy {self.energy_pj:,.1f} pJ  utilization {self.utilization:.3f}  "
                 f"MACs {self.macs:,}",
                 f"{'level':<24}{'tensor':<9}{'reads':>16}{'fills':>16}{'updates':>16}{'tile':>10}"]
        for l, name in enumerate(self.level_names):
            for t, tn in enumerate(TENSORS):
                if self.tile_words is not None and self.tile_words[l, t] < 0:
                    continue
                lines.append(f"{name:<24}{tn:<9}{self.reads[l, t]:>16,.0f}{self.fills[l, t]:>16,.0f}"
                             f"{self.updates[l, t]:>16,.0f}{self.tile_words[l, t]:>10,.0f}")
            lines.append(f"{'':<24}{'energy':<9}{self.level_energy_pj[l]:>16,.1f} pJ   cycles {self.level_cycles[l]:,}")
        lines.append(f"{'MAC':<24}{'energy':<9}{self.mac_energy_pj:>16,.1f} pJ")
        if self.clock_energy_pj:
            lines.append(f"{'clock network':<24}{'energy':<9}{self.clock_energy_pj:>16,.1f} pJ")
        return "\n".join(lines)
