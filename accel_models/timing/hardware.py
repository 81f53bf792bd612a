"""`HardwareTiming`: cycles as a chip driven tile by tile runs a mapping.

Timeloop's cycles (the cost model's, `timing="timeloop"`) assume every transfer overlaps every computation, the array
runs exactly the mapping's spatial and temporal split, and a level's only limit is its bandwidth: a lower bound that
real arrays do not reach. This model is written after how Gemmini's runtime runs a mapping (its `tiled_conv` /
`tiled_matmul` in gemmini-rocc-tests' `include/gemmini.h`, which DOSA's FireSim flow calls with the mapping's tile
sizes and outer loop order, one `loop_conv_ws` / `loop_ws` command per outer step), and charges:

- **start-up per layer** (`layer_startup_cycles`): configuring the array and the DMA, filling the pipeline, and
  draining its last tile before the next layer starts;
- **per-step command overhead** (`step_overhead_cycles`): each step of the outermost (DRAM) level's loops is issued
  by the host as a group of commands (Gemmini: the runtime's address arithmetic and the `loop_conv_ws`
  configuration, six RoCC words and a start), whose issue and hand-shake latency does not overlap;
- **the array in passes of its full side** (the `compute` term, `array_pass_cycles`): a step's tile is handed to the
  array whole, and the array's control (Gemmini's `LoopConv` execute unit: one preload and compute per block of
  `DIM` input channels by `DIM` output channels) splits each spatially mapped dimension of the tile into passes of
  the array's side, whatever split the mapping wrote: a tile of 2 x 2 channels mapped as 2 in time by 2 in space runs
  as one pass of 4 on a 4-wide array;
- **transfers in requests and bytes** (`dma_row_cycles`, `dram_efficiency`): each step moves its input and weight
  tiles in, and an output tile goes out once, when the last step of its reduction ends (Gemmini's runtime passes no
  output address before that step; the accumulator holds the partial sum). The DMA moves a tile as rows: one request
  per contiguous run of the tensor's innermost dimension in a channels-last layout (inputs [N][H][W][C], weights
  [R][S][C][K], outputs [N][P][Q][K], Gemmini's layouts), a run longer than a request split (Gemmini's DMA moves at
  most `dma_maxbytes` = 64 bytes, a cache line, a request; a DRAM block larger than that is one request). The DMA
  issues a request every `dma_row_cycles` while the DRAM delivers `dram_efficiency` of its peak bandwidth, the two
  pipelined: the transfer takes the longer of the two. With `reload_tiles` False the DRAM moves the exact counts'
  words (Timeloop's reuse across steps) at that bandwidth instead, without the request cost;
- **overlap**: a double-buffered chip (Gemmini's `LoopConv` runs two loops at once, in two halves of the scratchpad
  and accumulator) computes one step while it moves the next, so the steps take the larger of the compute and the
  transfer time, not their sum.

    cycles = layer_startup_cycles + steps x step_overhead_cycles
             + max(array passes, DMA requests x dma_row_cycles, bytes / (peak x efficiency))

The four constants are fitted once, to Gemmini's RTL (DOSA's FireSim rows: `benchmarks/bench_rtl_cycles.py --fit`
prints the fit), and are the same for every accelerator and network: a property of a tile-by-tile controller, not a
per-network knob. The systolic fill and drain of each fold (SCALE-Sim's rule, `systolic.scalesim_cycles`) is not a
term here: Gemmini preloads the next weights while the current ones compute.

Not modelled: the weight-stationary preload as a floor of the array's side per weight block (it fits Gemmini's RTL a
little better but charges arrays that keep weights in per-PE register files, as Eyeriss's row-stationary one does,
many times their cycles), scratchpad bank conflicts and port limits beyond the levels' bandwidths (the exact counts'
per-level bandwidth stretch is Timeloop's and is left out: on the RTL rows it predicts worse than the compute cycles
alone),
the CPU-side work between layers, and a runtime that tiles a layer otherwise than its mapping (DOSA's matrix harness
rounds tiles to whole arrays; `accel_models.timeloop.dosa_harness` writes such runs as their own mapping).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nets import DIMS, TENSORS, Layer

from ..accelerator import Accelerator
from ..geometry import layer_arrays, tile_words
from ..mapping_arrays import MappingArrays

# Fitted to the 1,567 FireSim rows of DOSA (Hong et al., MICRO 2023; ../shared/reference/dosa_firesim/, Gemmini RTL,
# each row as DOSA's flow ran it: `accel_models.timeloop.dosa_harness`): the minimiser of the mean of
# sqrt(log(model / measured)^2 + 0.003) (a smoothed absolute log error), from five starts, by
# `python benchmarks/bench_rtl_cycles.py --fit`.
FITTED_LAYER_STARTUP_CYCLES = 516.0
FITTED_STEP_OVERHEAD_CYCLES = 129.0
FITTED_DRAM_EFFICIENCY = 0.81
FITTED_DMA_ROW_CYCLES = 1.4

DMA_REQUEST_BYTES = 64
"""The most a DMA request moves: Gemmini's `dma_maxbytes` (src/main/scala/gemmini/Configs.scala), the SoC's cache
line; a DRAM whose block is larger moves a block a request."""

# The dim whose contiguous run makes one DMA row of each tensor in a channels-last layout (Gemmini's tiled_conv:
# input[N][H][W][C], weights[R][S][C][K], output[N][P][Q][K]).
_ROW_DIM = {"Weights": DIMS.index("K"), "Inputs": DIMS.index("C"), "Outputs": DIMS.index("K")}


@dataclass(frozen=True)
class HardwareTiming:
    """Cycles as a tile-by-tile chip runs a mapping (module docstring); the defaults are the fit to Gemmini's RTL."""

    layer_startup_cycles: float = FITTED_LAYER_STARTUP_CYCLES
    step_overhead_cycles: float = FITTED_STEP_OVERHEAD_CYCLES
    dram_efficiency: float = FITTED_DRAM_EFFICIENCY
    dma_row_cycles: float = FITTED_DMA_ROW_CYCLES
    reload_tiles: bool = True
    name: str = "hardware"

    def __post_init__(self) -> None:
        for field in ("layer_startup_cycles", "step_overhead_cycles", "dma_row_cycles"):
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
        timed = self.terms(layer, accelerator, mappings, dram_words(result), on_chip)["cycles"]
        return np.where(result.valid, timed, result.cycles).astype(np.asarray(result.cycles).dtype)

    def terms(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
              exact_dram_words: np.ndarray | None = None, on_chip: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
        """Each term of the model per mapping of the batch, in cycles: `startup`, `steps` (the command overhead),
        `compute` (the array's passes), `transfer` (DMA requests or DRAM bytes), and `cycles`, their total.

        exact_dram_words [B]: the exact counts' DRAM words (`dram_words`), needed only with `reload_tiles` False;
        on_chip: tensors living on chip (no DRAM transfer of theirs)."""
        steps = outer_steps(mappings)
        peak = dram_bytes_per_cycle(accelerator)
        if self.reload_tiles:
            requests, moved_bytes = dram_rows_and_bytes(layer, accelerator, mappings, on_chip)
        else:
            if exact_dram_words is None:
                raise ValueError("HardwareTiming.terms: reload_tiles=False needs exact_dram_words (the exact DRAM "
                                 "counts)")
            requests = np.zeros(steps.shape)
            moved_bytes = np.asarray(exact_dram_words, dtype=float) * accelerator.levels[0].word_bits / 8
        compute = array_pass_cycles(layer, accelerator, mappings)
        return {"startup": np.full(compute.shape, float(self.layer_startup_cycles)),
                "steps": steps * float(self.step_overhead_cycles), "compute": compute,
                "transfer": self.transfer(requests, moved_bytes / peak),
                "cycles": np.ceil(self.total(compute, steps, requests, moved_bytes / peak))}

    def transfer(self, requests: np.ndarray, peak_cycles: np.ndarray) -> np.ndarray:
        """Transfer cycles: the longer of `requests` DMA requests at `dma_row_cycles` each and the bytes that take
        `peak_cycles` at the DRAM's peak bandwidth, at `dram_efficiency` of it (the two pipelined)."""
        return np.maximum(np.asarray(requests) * float(self.dma_row_cycles),
                          np.asarray(peak_cycles) / self.dram_efficiency)

    def total(self, compute: np.ndarray, steps: np.ndarray, requests: np.ndarray,
              peak_cycles: np.ndarray) -> np.ndarray:
        """The model's cycles (before rounding up) from its mapping-dependent parts: the array's passes, the outer
        steps, the DMA requests and the DRAM transfer at peak bandwidth, each [B] (module docstring's formula)."""
        return self.layer_startup_cycles + np.asarray(steps) * self.step_overhead_cycles \
            + np.maximum(compute, self.transfer(requests, peak_cycles))


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


def _step_extents(layer: Layer, mappings: MappingArrays) -> np.ndarray:
    """Extents [B, 8] of one outermost step's tile per dim: every loop below the outermost level, within the
    layer's bounds."""
    extents = np.prod(mappings.temporal[:, 1:, :].astype(np.int64), axis=1) \
        * np.prod(mappings.spatial_x.astype(np.int64), axis=1) * np.prod(mappings.spatial_y.astype(np.int64), axis=1)
    return np.minimum(extents, layer_arrays(layer).bounds[None, :])


def array_pass_cycles(layer: Layer, accelerator: Accelerator, mappings: MappingArrays) -> np.ndarray:
    """Cycles [B] the array computes the layer when each step's tile is fed in passes of the array's full side:
    per step, the product of the extents of the dims no fan-out unrolls, times, per fan-out level, ceil(the extent of
    the dims only it unrolls / its fan-out); a dim unrolled at several levels keeps the mapping's split (its temporal
    extent, each of its spatial loops one pass); times the steps. Equal to the exact counts' compute cycles when every
    spatial loop fills its level; fewer when a mapping splits a dim between time and an under-filled array."""
    extents = _step_extents(layer, mappings).astype(float)
    factors = mappings.spatial_x.astype(np.int64) * mappings.spatial_y.astype(np.int64)            # [B, L, 8]
    levels = (factors > 1).sum(axis=1)                                                              # [B, 8]
    folded = levels == 1
    # a dim no level unrolls, or several do, runs its temporal extent
    temporal = np.maximum(extents / np.prod(factors, axis=1), 1.0)
    per_step = np.prod(np.where(folded, 1.0, temporal), axis=1)
    for level, storage in enumerate(accelerator.levels):
        if storage.fanout <= 1:
            continue
        mine = folded & (factors[:, level, :] > 1)
        per_step = per_step * np.ceil(np.prod(np.where(mine, extents, 1.0), axis=1) / storage.fanout)
    return per_step * outer_steps(mappings)


def dram_rows_and_bytes(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                        on_chip: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """DMA requests and bytes [B] the layer moves from and to DRAM: every outermost step brings its weight and input
    tiles in; an output tile goes out once, after the last step of its reduction (the DRAM loops over dims that do
    not index the outputs). A tensor's requests are its tile's contiguous runs of `_ROW_DIM`, a run longer than a
    request (`DMA_REQUEST_BYTES`, or the DRAM block if larger) counting one a request; tensors in `on_chip` (indices
    into TENSORS) move nothing."""
    arrays = layer_arrays(layer)
    extents = _step_extents(layer, mappings)
    words = tile_words([extents[:, d] for d in range(extents.shape[1])], arrays.ax, arrays.co)
    dram = accelerator.levels[0]
    request_words = max(dram.block_size_words, DMA_REQUEST_BYTES * 8 // dram.word_bits)
    steps = outer_steps(mappings)
    reduction = arrays.ax[TENSORS.index("Outputs")] < 0
    output_steps = steps / np.prod(np.where(reduction[None, :], mappings.temporal[:, 0, :], 1).astype(float), axis=1)
    rows = np.zeros(steps.shape)
    moved = np.zeros(steps.shape)
    for t, name in enumerate(TENSORS):
        if t in on_chip:
            continue
        times = output_steps if name == "Outputs" else steps
        run = extents[:, _ROW_DIM[name]].astype(float)
        tile = np.asarray(words[t], dtype=float)
        rows += times * tile / run * np.ceil(run / request_words)
        moved += times * tile
    return rows, moved * dram.word_bits / 8
