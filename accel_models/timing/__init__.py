"""Timing models: how many cycles a mapping takes, given the cost model's exact counts.

A timing model is a small protocol (`TimingModel`: a `name` and `cycles(layer, accelerator, mappings, result)`), one
module per member, registered once in `TIMINGS`:

- `"timeloop"` (`TimeloopTiming`, the default everywhere): Timeloop's semantics, the cost model's own cycles (compute
  cycles stretched by each level's bandwidth shortfall). Every Timeloop check uses it; it is a lower bound.
- `"hardware"` (`HardwareTiming`): what a chip driven tile by tile pays: start-up per layer, the host's issue of
  each outer step against the accelerator's step (a loop overhead, the array fed in passes of its full side with a
  weight-stationary array's preloads, tiles moved as DMA rows at the sustained bandwidth, overlapped with the
  compute). Its constants are fitted to Gemmini's RTL (`hardware`'s docstring); `gemmini_soc` adds Gemmini's SoC:
  its bus, its L2 and FireSim's last-level cache behind it, simulated (`cache`), its mesh's commands in flight and
  its DMA's.

`systolic.scalesim_cycles` gives SCALE-Sim's fold rule for a systolic array (a reference, not a member).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from nets import Layer
from nets.registry import Registry

from ..accelerator import Accelerator
from ..mapping_arrays import MappingArrays
from .hardware import (DMA_REQUEST_BYTES, DMA_REQUESTS_IN_FLIGHT, MESH_MATMULS_IN_FLIGHT, MIN_COMMAND_ROWS,
                       HardwareTiming, array_pass_cycles, command_slots, dram_bytes_per_cycle, dram_rows_and_bytes,
                       dram_words, gemmini_soc, holds_one_weight_per_pe, is_matrix_product, layer_bytes,
                       move_in_commands, output_blocks)
from .cache import FASED_LLC, GEMMINI_L2, CacheGeometry, cache_misses, class_misses, memory_misses, step_tallies
from .steps import StepClass, outer_steps, step_classes
from .systolic import scalesim_cycles
from .timeloop import TimeloopTiming


class TimingModel(Protocol):
    """A way to turn a batch's exact counts into cycles."""

    name: str

    def cycles(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays, result,
               on_chip: tuple[int, ...] = ()) -> np.ndarray:
        """Cycles [B] of each mapping of `mappings` (a batch of `layer` on `accelerator`) whose counts are `result`
        (an `accel_models.BatchResult`); an invalid mapping's entry is left as `result` has it. `on_chip`: tensors
        (indices into TENSORS) that live whole on chip during the layer, so none of them crosses the DRAM
        interface (a whole-network plan's residency)."""
        ...


TIMINGS: Registry[TimingModel] = Registry("timing model")
TIMINGS.register(TimeloopTiming())
TIMINGS.register(HardwareTiming())


def get_timing(timing: "str | TimingModel", field: str = "timing") -> TimingModel:
    """The timing model named `timing` (a member of `TIMINGS`), or `timing` itself if it is one; a ValueError naming
    `field` and the accepted names otherwise."""
    if isinstance(timing, str):
        return TIMINGS.get(timing, field)
    if callable(getattr(timing, "cycles", None)) and isinstance(getattr(timing, "name", None), str):
        return timing
    raise ValueError(f"{field}: must be one of {', '.join(TIMINGS.names())} or a timing model object, got "
                     f"{type(timing).__name__}")


__all__ = ["TimingModel", "TIMINGS", "get_timing", "TimeloopTiming", "HardwareTiming", "scalesim_cycles",
           "DMA_REQUEST_BYTES", "DMA_REQUESTS_IN_FLIGHT", "MESH_MATMULS_IN_FLIGHT", "MIN_COMMAND_ROWS",
           "array_pass_cycles", "command_slots", "dram_bytes_per_cycle", "dram_rows_and_bytes", "dram_words",
           "gemmini_soc", "holds_one_weight_per_pe", "is_matrix_product", "layer_bytes", "move_in_commands",
           "outer_steps", "output_blocks", "CacheGeometry", "GEMMINI_L2", "FASED_LLC", "cache_misses", "memory_misses",
           "class_misses", "step_tallies", "StepClass", "step_classes"]
