"""`TimeloopTiming`: Timeloop's cycles, as the cost model counts them (the default timing model)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimeloopTiming:
    """Compute cycles stretched by each level's bandwidth shortfall, every transfer overlapped with the compute
    (Timeloop's semantics, rule R7 of docs/cost_model.md): the cost model's `cycles` as they are."""

    name: str = "timeloop"

    def cycles(self, layer, accelerator, mappings, result, on_chip=()) -> np.ndarray:
        """The counts' cycles: a run with tensors on chip was already counted on its view (`on_chip` changes
        nothing)."""
        return np.asarray(result.cycles)
