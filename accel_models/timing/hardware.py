"""`HardwareTiming`: cycles as a chip driven tile by tile runs a mapping, over the cost model's exact counts.

Timeloop's cycles (the cost model's, `timing="timeloop"`) assume every transfer overlaps every computation and a
level's only limit is its bandwidth: a lower bound that real arrays do not reach. This model keeps the compute cycles
of the exact counts and adds what a chip whose DMA engine moves one tile at a time pays:

- **start-up per layer** (`layer_startup_cycles`): configuring the array and the DMA, filling the pipeline, and
  draining its last tile before the next layer starts;
- **per-step command overhead** (`step_overhead_cycles`): each step of the outermost (DRAM) level's loops is issued
  as a group of commands (a DMA request per tensor, a configuration of the array's loops), whose issue and hand-shake
  latency does not overlap;
- **tiles moved whole, in bursts** (`reload_tiles`, `dram_efficiency`): each step brings its input and weight tiles
  on chip and writes its output tile back once (a partial sum a later step continues is not read back: the
  accumulator is taken to hold it), every transfer rounded up to the DRAM's block (burst); the DRAM delivers
  `dram_efficiency` of its peak bandwidth (row activations, refresh, request turnaround). With `reload_tiles`
  False the DRAM moves the exact counts' words (Timeloop's reuse across steps) instead;
- **overlap**: a double-buffered chip computes one step while it moves the next, so the steps take the larger of the
  compute and the transfer time, not their sum.

    cycles = layer_startup_cycles + steps x step_overhead_cycles + max(compute_cycles, dram_bytes / (peak x efficiency))

The three constants are fitted once, to Gemmini's RTL (DOSA's FireSim rows: `benchmarks/bench_rtl_cycles.py --fit`
prints the fit), and are the same for every accelerator and network: a property of a tile-by-tile controller, not a
per-network knob. The systolic fill and drain of each fold (SCALE-Sim's rule, `systolic.scalesim_cycles`) is not a
term here: Gemmini preloads the next weights while the current ones compute, and the RTL rows show no fold cost
beyond the compute cycles (a floor of F cycles per fold, fitted with the three constants, comes out at about 12
cycles and moves under 1% of the rows into the x1.2 band).

Not modelled: scratchpad bank conflicts and port limits beyond the levels' bandwidths (the exact counts' per-level
bandwidth stretch is Timeloop's and is left out: on the RTL rows it predicts worse than the compute cycles alone),
software that re-tiles a layer differently from its mapping (Gemmini's matrix path pads tiles to the array's side),
and the CPU-side work between layers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nets import Layer

from ..accelerator import Accelerator
from ..geometry import layer_arrays, tile_words
from ..mapping_arrays import MappingArrays

# Fitted to the 1,567 FireSim rows of DOSA (Hong et al., MICRO 2023; ../shared/reference/dosa_firesim/, Gemmini
# 128 x 128 RTL): the minimiser of the mean of sqrt(log(model / measured)^2 + 0.003) (a smoothed absolute log error),
# from five starts, by `python benchmarks/bench_rtl_cycles.py --fit`.
FITTED_LAYER_STARTUP_CYCLES = 1015.0
FITTED_STEP_OVERHEAD_CYCLES = 158.0
FITTED_DRAM_EFFICIENCY = 0.82


@dataclass(frozen=True)
class HardwareTiming:
    """Cycles as a tile-by-tile chip runs a mapping (module docstring); the defaults are the fit to Gemmini's RTL."""

    layer_startup_cycles: float = FITTED_LAYER_STARTUP_CYCLES
    step_overhead_cycles: float = FITTED_STEP_OVERHEAD_CYCLES
    dram_efficiency: float = FITTED_DRAM_EFFICIENCY
    reload_tiles: bool = True
    name: str = "hardware"

    def __post_init__(self) -> None:
        for field in ("layer_startup_cycles", "step_overhead_cycles"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value)
                                                                                     and value >= 0):
                raise ValueError(f"HardwareTiming.{field} must be a finite number >= 0 cycles, got {value!r}")
        eff = self.dram_efficiency
        if isinstance(eff, bool) or not isinstance(eff, (int, float)) or not (0 < eff <= 1):
            raise ValueError(f"HardwareTiming.dram_efficiency must be a number in (0, 1], got {eff!r}")
        if not isinstance(self.reload_tiles, bool):
            raise ValueError(f"HardwareTiming.reload_tiles must be True or False, got {self.reload_tiles!r}")

    def cycles(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays, result,
               on_chip: tuple[int, ...] = ()) -> np.ndarray:
        """Cycles [B] of each mapping whose exact counts are `result` (an `accel_models.BatchResult`); invalid
        mappings keep `result`'s entry. `on_chip`: tensors living on chip, never moved from DRAM."""
        timed = self.terms(layer, accelerator, mappings, result.compute_cycles, dram_words(result), on_chip)["cycles"]
        return np.where(result.valid, timed, result.cycles).astype(np.asarray(result.cycles).dtype)

    def terms(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
              compute_cycles: np.ndarray, exact_dram_words: np.ndarray | None = None,
              on_chip: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
        """Each term of the model per mapping of the batch, in cycles: `startup`, `steps` (the command overhead),
        `compute`, `transfer` (DRAM bytes over the sustained bandwidth), and `cycles`, their total.

        compute_cycles [B]: the exact counts' compute cycles (`BatchResult.compute_cycles`); exact_dram_words [B]:
        the exact counts' DRAM words (`dram_words`), needed only with `reload_tiles` False; on_chip: tensors living
        on chip (no DRAM transfer of theirs)."""
        steps = outer_steps(mappings)
        if self.reload_tiles:
            dram_bytes = step_transfer_bytes(layer, accelerator, mappings, on_chip) * steps
        else:
            if exact_dram_words is None:
                raise ValueError("HardwareTiming.terms: reload_tiles=False needs exact_dram_words (the exact DRAM "
                                 "counts)")
            dram_bytes = np.asarray(exact_dram_words, dtype=float) * accelerator.levels[0].word_bits / 8
        compute = np.asarray(compute_cycles, dtype=float)
        transfer = dram_bytes / (dram_bytes_per_cycle(accelerator) * self.dram_efficiency)
        startup = np.full(compute.shape, float(self.layer_startup_cycles))
        overhead = steps * float(self.step_overhead_cycles)
        return {"startup": startup, "steps": overhead, "compute": compute, "transfer": transfer,
                "cycles": np.ceil(startup + overhead + np.maximum(compute, transfer))}


def dram_bytes_per_cycle(accelerator: Accelerator) -> float:
    """The outermost level's peak bandwidth in bytes per cycle: its shared bandwidth, else the larger of its read and
    write bandwidths; a DRAM without any stated is taken to move one block a cycle."""
    dram = accelerator.levels[0]
    words = dram.shared_bandwidth or max(dram.read_bandwidth or 0, dram.write_bandwidth or 0) \
        or dram.block_size_words
    return words * dram.word_bits / 8


def outer_steps(mappings: MappingArrays) -> np.ndarray:
    """Steps of the outermost level's temporal loops per mapping [B] (the product of their ends)."""
    return np.prod(mappings.temporal[:, 0, :].astype(float), axis=1)


def dram_words(result) -> np.ndarray:
    """Words [B] a batch's mappings read from and write to DRAM (the outermost level's reads and updates, exact
    counts of an `accel_models.BatchResult`)."""
    return result.reads[:, 0, :].sum(axis=1) + result.updates[:, 0, :].sum(axis=1)


def step_transfer_bytes(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                        on_chip: tuple[int, ...] = ()) -> np.ndarray:
    """Bytes one step of the outermost loops moves [B]: the weight, input and output tiles of everything below the
    outermost level (its tiles' bounding boxes), each rounded up to whole DRAM blocks; tensors in `on_chip` (indices
    into TENSORS) move nothing."""
    arrays = layer_arrays(layer)
    extents = np.prod(mappings.temporal[:, 1:, :].astype(np.int64), axis=1) \
        * np.prod(mappings.spatial_x.astype(np.int64), axis=1) * np.prod(mappings.spatial_y.astype(np.int64), axis=1)
    extents = np.minimum(extents, arrays.bounds[None, :])
    words = tile_words([extents[:, d] for d in range(extents.shape[1])], arrays.ax, arrays.co)
    dram = accelerator.levels[0]
    block = dram.block_size_words
    blocks = sum(np.ceil(np.asarray(w, dtype=float) / block) for t, w in enumerate(words) if t not in on_chip)
    return blocks * block * dram.word_bits / 8
