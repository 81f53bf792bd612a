"""`MapperResult`: the best mapping a per-layer mapper found, its cost, and what it cost to find it."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from accel_models import MAPPING_DTYPE, Accelerator, MappingArrays, mapping_to_timeloop_yaml
from nets import Layer

from .fitness import objective_index, objective_value
from .mapping import Mapping


@dataclass
class MapperResult:
    """The best mapping a mapper found and what it cost to find it.

    history: (evaluations, wall_s, best objective value so far) at every improvement; the objective
    is in pJ*cycles (edp), pJ (energy) or cycles (latency). mapping is None if nothing valid was found.
    genes: the best mapping's genes in the search's encoding (strategy "es"), for warm starts.
    """

    layer: Layer
    accelerator: Accelerator
    objective: str
    strategy: str
    arrays: MappingArrays | None
    cycles: int
    energy_pj: float
    evaluations: int
    valid_evaluations: int
    wall_s: float
    seed: int
    history: list[tuple[int, float, float]] = field(default_factory=list)
    genes: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def valid(self) -> bool:
        return self.arrays is not None

    @cached_property
    def mapping(self) -> Mapping | None:
        """The best mapping as a `Mapping` (built on first use), None if nothing valid was found."""
        return None if self.arrays is None else Mapping.from_arrays(self.arrays, 0)

    @property
    def edp_pj_cycles(self) -> float:
        """Energy x cycles in pJ*cycles (inf if no valid mapping)."""
        return self.energy_pj * self.cycles if self.valid else math.inf

    @property
    def edp_j_cycle(self) -> float:
        """Energy x cycles in J*cycles (Timeloop's mapper prints this)."""
        return self.edp_pj_cycles * 1e-12

    @property
    def edp_j_s(self) -> float:
        """Energy x delay in J*s at the accelerator's clock."""
        return self.edp_j_cycle / (self.accelerator.clock_ghz * 1e9)

    @property
    def utilization(self) -> float:
        """MACs / (MAC units x cycles)."""
        return self.layer.macs / (self.accelerator.num_macs * self.cycles) if self.valid else 0.0

    @property
    def objective_value(self) -> float:
        """The searched objective: pJ*cycles, pJ or cycles."""
        if not self.valid:
            return math.inf
        return float(objective_value(self.energy_pj, self.cycles, objective_index(self.objective)))

    def summary(self) -> str:
        if not self.valid:
            return f"{self.strategy}: no valid mapping in {self.evaluations:,} evaluations ({self.wall_s:.2f} s)"
        return (f"{self.strategy}: EDP {self.edp_j_cycle:.4g} J*cycle, {self.cycles:,} cycles, "
                f"{self.energy_pj * 1e-6:.4g} uJ, {self.evaluations:,} evaluations in {self.wall_s:.2f} s")

    def describe(self) -> str:
        """The best mapping as a loop nest."""
        return self.mapping.describe(self.accelerator) if self.valid else "no valid mapping"

    def to_timeloop_yaml(self) -> str:
        """The best mapping as a Timeloop mapping YAML, to confirm in timeloop-model."""
        if not self.valid:
            raise ValueError("MapperResult.to_timeloop_yaml: the mapper found no valid mapping to export")
        return mapping_to_timeloop_yaml(self.arrays, self.accelerator, self.layer, 0)

    def to_dict(self) -> dict:
        """JSON-ready form without the layer and accelerator (the cache's key stands for them)."""
        return {"objective": self.objective, "strategy": self.strategy, "cycles": int(self.cycles),
                "energy_pj": float(self.energy_pj), "evaluations": int(self.evaluations),
                "valid_evaluations": int(self.valid_evaluations), "wall_s": float(self.wall_s),
                "seed": self.seed, "history": [list(h) for h in self.history],
                "arrays": None if self.arrays is None else {k: v.tolist() for k, v in self.arrays._asdict().items()}}

    @classmethod
    def from_dict(cls, d: dict, layer: Layer, accelerator: Accelerator) -> "MapperResult":
        arrays = None
        if d["arrays"] is not None:
            fields = {k: np.array(v, dtype=MAPPING_DTYPE) for k, v in d["arrays"].items()}
            for name in ("temporal", "spatial_x", "spatial_y"):   # saved without residuals: a perfect mapping
                fields.setdefault(f"{name}_residual", np.zeros_like(fields[name]))
            arrays = MappingArrays(**fields)
        return cls(layer, accelerator, d["objective"], d["strategy"], arrays, d["cycles"], d["energy_pj"],
                   d["evaluations"], d["valid_evaluations"], d["wall_s"], d["seed"],
                   [tuple(h) for h in d["history"]])


def with_layer(result: MapperResult, layer: Layer) -> MapperResult:
    """The same result reported for another layer of the same shape (e.g. a cache hit)."""
    renamed = copy.copy(result)
    renamed.layer = layer
    return renamed


__all__ = ["MapperResult", "with_layer"]
