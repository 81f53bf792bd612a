"""`HardwareTiming`: cycles as a chip driven tile by tile runs a mapping.

Timeloop's cycles (the cost model's, `timing="timeloop"`) assume every transfer overlaps every computation, the array
runs exactly the mapping's spatial and temporal split, and a level's only limit is its bandwidth: a lower bound that
real arrays do not reach. This model is written after how Gemmini's runtime runs a mapping (its `tiled_conv` /
`tiled_matmul` in gemmini-rocc-tests' `include/gemmini.h`, which DOSA's FireSim flow calls with the mapping's tile
sizes and outer loop order, one `loop_conv_ws` / `loop_ws` command per outer step, which the accelerator's loop unit,
`LoopConv` / `LoopMatmul` in Gemmini's RTL, expands into moves in, array commands and moves out), and charges:

- **start-up per layer** (`layer_startup_cycles`): configuring the array and the DMA, filling the pipeline, and
  draining its last tile before the next layer starts;
- **the host's issue per step** (`step_overhead_cycles`, `matrix_step_overhead_cycles`): the host walks the outermost
  (DRAM) level's loops and, per step, computes the tile's addresses, sizes and paddings and sends the loop command
  (Gemmini: six or seven RoCC words). A convolution's runtime walks seven loops and clips each step's input window
  to the image; a matrix product's (a layer with one output column and a 1 x 1 kernel) walks three: its step is
  cheaper. The host works ahead of the accelerator (the loop unit holds two loops), so a step takes the longer of the
  host's issue and the accelerator's own step;
- **steps of two sizes**: where an outer loop's whole tiles overrun its dim, the runtime clips the loop's last step to
  what is left (Gemmini's `tiled_conv` and `tiled_matmul` do); such a step moves and computes its smaller tile, so the
  steps are taken in classes of one tile size each (`steps.step_classes`) and every term below is summed over them,
  each class's step being the formula's own;
- **the accelerator's step** (`loop_overhead_cycles` plus the larger of the compute and the transfer): a fixed
  overhead per loop (configuring the loop unit, the first command's latency, the last write-back) and a
  double-buffered body: the loop unit runs two loops at once, in two halves of the scratchpad and accumulator, so a
  step's moves overlap the array's work;
- **the array** (`array_pass_cycles`): a step's tile is handed to the array whole, and the array's control (Gemmini's
  `LoopConv` execute unit: one preload and compute per block of `DIM` input channels by `DIM` output channels) splits
  each spatially mapped dimension of the tile into passes of the array's side, whatever split the mapping wrote: a
  tile of 2 x 2 channels mapped as 2 in time by 2 in space runs as one pass of 4 on a 4-wide array. Each axis of a
  fan-out takes only its own dims, and an axis holding a dim the dataflow keeps whole (a row-stationary filter's
  rows) runs whole sets of it. On an array whose processing elements hold one weight each (a weight-stationary
  systolic array), each weight block is shifted in a row a cycle (the preload: the block's rows, less the first
  command's rows it overlaps), and the streamed rows run as commands of at most the array's side, each at least
  `min_command_rows` cycles (Gemmini: 4, `MIN_COMMAND_ROWS`; none by default);
- **the mesh's commands in flight** (`mesh_matmuls_in_flight`, `mesh_latency_cycles`; none by default): a systolic
  mesh holds only so many commands at once (Gemmini's `MeshWithDelays`: 5, `MESH_MATMULS_IN_FLIGHT`), each until its
  last output row leaves it: its rows, the skew of its inputs into the side's columns and of its outputs out of
  them (2 x the side) and a few cycles of registers (`mesh_latency_cycles`). A command then takes at least that stay
  over the commands in flight: on a 16-wide mesh a command of 4 rows takes (4 + 32 + latency) / 5 cycles, not 4;
- **transfers in requests and bytes** (`dma_row_cycles`, `dram_efficiency`): each step moves its input and weight
  tiles in, and an output tile goes out once, when the last step of its reduction ends (Gemmini's runtime passes no
  output address before that step; the accumulator holds the partial sum). The DMA moves a tile as rows: one request
  per contiguous run of the tensor's innermost dimension in a channels-last layout (inputs [N][H][W][C], weights
  [R][S][C][K], outputs [N][P][Q][K], Gemmini's layouts), a run longer than a request split (Gemmini's DMA moves at
  most `dma_maxbytes` = 64 bytes, a cache line, a request; a DRAM block larger than that is one request). The DMA
  issues a request every `dma_row_cycles` while the memory delivers `dram_efficiency` of its peak bandwidth, the two
  pipelined: the transfer takes the longer of the two. From the DRAM each request also costs `dram_request_cycles`
  (a request moves at most a line, and a short run a part of one: the rows' measured bandwidth grows with the run,
  5 bytes a cycle at 16-24-byte runs, 7.5 at 48-64). With `reload_tiles` False the DRAM moves the exact counts'
  words (Timeloop's reuse across steps) at that bandwidth instead, without the request cost;
- **the outputs' read-back** (`store_block_cycles`): each block of outputs moved out of the array's accumulators
  (`output_blocks`; Gemmini: a convolution's move-out is at most `DIM` output pixels by `DIM` channels, a matrix
  product's as many of a row's channel blocks as fill a DMA request) adds a fixed cost to the transfer (reading the
  32-bit partial sums back, scaling them to the output's words, handing them to the DMA). A convolution's move-outs
  follow its moves in (Gemmini's `LoopConvSt` issues them once its loop's last array command is issued); a matrix
  product's run beside them (`LoopMatmulStC` issues each once the array has passed the blocks it writes, and the
  store controller works apart from the load controller), so its transfer is the longer of the two;
- **a cache in front of the DRAM** (`cache_bytes`, `bus_bytes_per_cycle`; none by default): a chip whose DMA reads
  through a system cache (Gemmini in its SoC: a 512 KiB L2 on a 128-bit system bus) finds a layer's data there when
  the layer's tensors fit in `cache_bytes`, and then moves them at the bus's rate instead of the DRAM's;
- **or a simulated cache** (`cache`, a `CacheGeometry`; `gemmini_soc` uses Gemmini's L2): every byte crosses the bus
  at `bus_efficiency` of its rate, and each line the tiles' moves miss in the cache (`cache.cache_misses`: the outer
  steps replayed through its sets and ways) adds `cache_miss_cycles`, the line's fill from the memory behind it
  (with `reload_tiles`; without, the exact counts' words move at the DRAM's rate as above);
- **the bus's beats** (`read_beats`, `conv_base_offset_bytes`; `gemmini_soc` counts them): with a simulated cache
  the bus's time is the beats of the reads the DMA makes of the moves in, one a cycle at `bus_efficiency`, in place
  of every byte at the bus's rate (the moves out write on the bus's other channel). Gemmini's `StreamReaderCore`
  (DMA.scala) reads each request as aligned powers of two of 16 to 64 bytes, each the one covering the most of the
  bytes left (`cache.read_beats`): a run that starts off a 16-byte boundary takes a larger read, or two, and more
  beats than its bytes. Where a tensor starts thus matters: DOSA's conv harness leaves its arrays 8-byte aligned,
  its matrix harness aligns its matrices (`DOSA_CONV_BASE_OFFSET_BYTES`), so a convolution's 32-byte runs take 3 or 4
  beats where a matrix product's take 2;
- **a simulated cache behind the cache** (`memory_cache`, `memory_miss_cycles`; `gemmini_soc` uses FireSim's
  last-level cache model, `cache.FASED_LLC`): each line the first cache misses is looked up in it in the same replay
  (`cache.memory_misses`), and each of its blocks missed there adds `memory_miss_cycles`, the block's fill from the
  DRAM.
- **each step's transfer its own** (`step_transfers`; `gemmini_soc` sets it; needs a simulated cache): the cache's
  misses, the read beats and the move-outs fall unevenly on a class's steps (a tile's first visit misses, a revisit
  hits; the move-outs go with the steps that end a reduction), and a step whose transfer outlasts its share of the
  compute keeps the array waiting while the others' spare time cannot be lent to it: the class takes the sum over its
  steps of the longer of the two (`step_cycles`, over the steps tallied by the cache replay, `cache.step_tallies`)
  rather than the longer of the two sums.
- **the DMA's commands in flight** (`dma_requests_in_flight`, `command_latency_cycles`, `store_command_cycles`; none
  by default): a DMA whose controllers track whole commands holds only a few at once (Gemmini: its load and store
  controllers size their trackers from its 16 requests in flight, `DMA_REQUESTS_IN_FLIGHT`, one command per side's
  rows: `command_slots`, 2 on a 16-wide array, 1 from 32 wide). A move-in command (`move_in_commands`: at most a
  side's rows of a tile by a request's bytes) holds its slot while its requests issue, `command_latency_cycles` more
  (its last request's round trip) and while the lines it misses are filled, so the transfer takes at least the sum
  of those over the slots; a move-out holds a store slot for `store_command_cycles` (the block of partial sums read
  back, scaled and written), which replaces `store_block_cycles`.

    step     = max(host issue, loop_overhead_cycles + max(array, transfer))          (per outer step)
    transfer = max(requests x dma_row_cycles,
                   bytes / (peak x dram_efficiency) [+ requests x dram_request_cycles from the DRAM])
               + output blocks x store_block_cycles         (a matrix product: the longer of the two)
    (with a simulated cache: bytes / (bus x bus_efficiency) [read beats / bus_efficiency with `read_beats`]
                             + misses x cache_miss_cycles + requests x dram_request_cycles
                             [+ blocks missed behind it x memory_miss_cycles]
                             in place of the bytes' term)
    (with the DMA's commands in flight, the transfer also at least
         (requests x dma_row_cycles + move-in commands x command_latency_cycles + the fills of missed lines) / slots,
         and output blocks x store_command_cycles / slots in place of the read-back)
    cycles  = layer_startup_cycles + the sum over the classes of steps of (their steps x their step)
    (with `step_transfers`, a class's accelerator time is loop_overhead_cycles x steps + the sum over its steps of
     max(array / steps, that step's own transfer): its own misses, read beats and, if it ends a reduction, move-outs)

The constants are fitted once, to Gemmini's RTL (DOSA's FireSim rows: `benchmarks/bench_rtl_cycles.py --fit`
prints the fit: eight with the L2 as a fits-or-not share, then the bus efficiency, the two miss costs, the DMA
commands' two costs and the mesh's latency with the L2 and the last-level cache simulated), and are the same for every
accelerator and network: a property of a tile-by-tile controller, not a per-network knob. The systolic fill and
drain of each fold (SCALE-Sim's rule, `systolic.scalesim_cycles`) is not a term here: Gemmini preloads the next
weights while the current ones compute.

Not modelled: scratchpad bank conflicts and port limits beyond the levels' bandwidths (the exact counts' per-level
bandwidth stretch is Timeloop's and is left out: on the RTL rows it predicts worse than the compute cycles alone),
the DRAM's partial-line and row-buffer effects (the misses of the cache nearest the DRAM all cost the same), and a
runtime that tiles a layer otherwise than its mapping (DOSA's matrix harness rounds tiles to whole arrays;
`accel_models.timeloop.dosa_harness` writes such runs as their own mapping).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from nets import DIMS, N_AXES, TENSORS, Layer

from ..accelerator import Accelerator
from ..geometry import layer_arrays, tile_words
from ..mapping_arrays import MappingArrays
from .cache import FASED_LLC, GEMMINI_L2, CacheGeometry, class_misses, step_tallies
from .steps import StepClass, step_classes

# Fitted to the 1,567 FireSim rows of DOSA (Hong et al., MICRO 2023; ../shared/reference/dosa_firesim/, Gemmini RTL,
# each row as DOSA's flow ran it: `accel_models.timeloop.dosa_harness`, on Gemmini's SoC with its L2 as a fits-or-not
# rule, a layer found there when its tensors fill at most half of it, the share the fit chose among 1/4, 1/2, 3/4 and
# 1): the minimiser of the mean of sqrt(log(model / measured)^2 + 0.003) (a smoothed absolute log error), from five
# starts, by `python benchmarks/bench_rtl_cycles.py --fit`.
FITTED_LAYER_STARTUP_CYCLES = 972.0
FITTED_STEP_OVERHEAD_CYCLES = 273.0
FITTED_DRAM_EFFICIENCY = 0.91
FITTED_DMA_ROW_CYCLES = 1.38
FITTED_MATRIX_STEP_OVERHEAD_CYCLES = 128.0
FITTED_LOOP_OVERHEAD_CYCLES = 28.0
FITTED_DRAM_REQUEST_CYCLES = 0.83
FITTED_STORE_BLOCK_CYCLES = 26.0
# With the eight above, fitted to the same rows on Gemmini's SoC with its L2 simulated (`gemmini_soc`, the bus's time
# its read beats, each step's transfer its own: `step_transfers`): the share of the bus's beats the DMA sustains, and
# the cycles each missed line adds (the line's fill from the memory behind the L2), by
# `python benchmarks/bench_rtl_cycles.py --fit`.
FITTED_BUS_EFFICIENCY = 0.84
FITTED_CACHE_MISS_CYCLES = 6.5
# With the same, the cycles a matrix multiplication stays in Gemmini's mesh beyond its rows and the 2 x side cycles of
# its inputs' skew and its outputs' de-skew (registers at the mesh's edges), fitted in whole cycles (0 .. 8) beside
# the two above by `python benchmarks/bench_rtl_cycles.py --fit`.
FITTED_MESH_LATENCY_CYCLES = 0.0
# With the same, the cycles each block the L2's misses also miss in the memory side's cache adds (FireSim's LLC model:
# the block's fill from its DDR3 model), fitted beside the three above.
FITTED_MEMORY_MISS_CYCLES = 13.1
# With the same, on Gemmini's SoC with its DMA's commands in flight (`gemmini_soc`): the cycles a move-in command holds
# one of the load controller's command slots beyond its requests' issue (the round trip of its last request through
# the bus and the L2), and the cycles a move-out holds one of the store controller's (reading the block of partial sums
# back from the accumulator, scaling it and writing it out), fitted beside the four above.
FITTED_COMMAND_LATENCY_CYCLES = 19.9
FITTED_STORE_COMMAND_CYCLES = 74.6
# With the same, on Gemmini's SoC with the bus's time counted in the beats of the DMA's reads (`read_beats`): a
# request's DRAM cost and its issue, refitted beside the six above (`gemmini_soc` uses these in place of the first
# stage's two).
FITTED_SOC_DRAM_REQUEST_CYCLES = 0.04
FITTED_SOC_DMA_ROW_CYCLES = 1.05

DMA_REQUEST_BYTES = 64
"""The most a DMA request moves: Gemmini's `dma_maxbytes` (src/main/scala/gemmini/Configs.scala), the SoC's cache
line; a DRAM whose block is larger moves a block a request."""

MIN_COMMAND_ROWS = 4
"""The fewest cycles an array command takes on a weight-stationary systolic array: Gemmini's ExecuteController feeds
at least 4 rows a compute (two writes to one accumulator row must be 4 cycles apart; `total_rows`'s floor,
src/main/scala/gemmini/ExecuteController.scala)."""

MESH_MATMULS_IN_FLIGHT = 5
"""The matrix multiplications Gemmini's mesh holds at once: `max_simultaneous_matmuls` = ceil(5 x latency per PE)
(src/main/scala/gemmini/MeshWithDelays.scala), 5 for its one-PE tiles without pipeline registers (`tile_latency` 0,
`tileRows` = `tileColumns` = 1, Configs.scala). A multiplication holds its tag until its last row leaves the mesh:
commands of few rows on a wide mesh queue behind the 5 in flight."""

DMA_REQUESTS_IN_FLIGHT = 16
"""The TileLink reads Gemmini's DMA keeps in flight, `max_in_flight_mem_reqs` (src/main/scala/gemmini/Configs.scala).
Its load and store controllers size their command trackers from it: `nCmds = max_in_flight_reqs / block_rows + 1`
commands at once (LoadController.scala, StoreController.scala), block_rows being the array's side: 5 on a 4-wide
array, 3 on an 8-wide, 2 on a 16-wide, 1 from 32 wide up (`command_slots`)."""

DOSA_CONV_BASE_OFFSET_BYTES = 56
"""Where the tensors of DOSA's convolution runs start relative to a 64-byte line: 56 bytes past one. Its conv harness
(`gemmini-data-collection/templates/conv_tilings.c`, ucb-bar/gemmini-rocc-tests, branch `dosa`) declares its input,
bias, weight and output buffers as plain static arrays, each a whole number of lines long, which RISC-V GCC aligns to
8 bytes only (its `DATA_ALIGNMENT` raises an array to a word); its matrix harness (`matmul_tilings.c`) aligns its
matrices with `row_align(1)`, and they start a line here. Which multiple of 8 the link gave is not recorded: the
offsets 8 past an odd multiple of 16 (8, 24, 40, 56) fit DOSA's rows alike and the aligned ones (0, 16, 32, 48) far
worse (docs/timing.md); 56 fitted them best."""

GEMMINI_L2_BYTES = GEMMINI_L2.capacity_bytes
"""Chipyard's L2 in Gemmini's SoC, 512 KiB (`cache.GEMMINI_L2`)."""

GEMMINI_BUS_BYTES_PER_CYCLE = 16
"""Gemmini's DMA bus, 128 bits (`dma_buswidth`, Configs.scala), with the SoC's system bus set to it
(`WithSystemBusWidth(128)`, Chipyard's Gemmini configurations)."""

# The dim whose contiguous run makes one DMA row of each tensor in a channels-last layout (Gemmini's tiled_conv:
# input[N][H][W][C], weights[R][S][C][K], output[N][P][Q][K]).
_ROW_DIM = {"Weights": DIMS.index("K"), "Inputs": DIMS.index("C"), "Outputs": DIMS.index("K")}
# Dims no weight depends on: the rows a weight-stationary array streams through a weight block; P is the run a
# command takes (Gemmini: up to DIM output pixels of one output row).
_STREAMED = np.array([d in ("P", "Q", "N") for d in DIMS])
_COMMAND_DIM = DIMS.index("P")
# The dim a move-in command's rows run along, a side's worth at most (Gemmini's LoopConv: input pixels of one input
# row; weights' input channels).
_COMMAND_ROWS_DIM = {"Inputs": DIMS.index("P"), "Weights": DIMS.index("C")}

@dataclass(frozen=True)
class HardwareTiming:
    """Cycles as a tile-by-tile chip runs a mapping (module docstring); the defaults are the fit to Gemmini's RTL.
    `gemmini_soc(timing)` adds Gemmini's SoC: its cache, its bus and its command floor."""

    layer_startup_cycles: float = FITTED_LAYER_STARTUP_CYCLES
    step_overhead_cycles: float = FITTED_STEP_OVERHEAD_CYCLES
    dram_efficiency: float = FITTED_DRAM_EFFICIENCY
    dma_row_cycles: float = FITTED_DMA_ROW_CYCLES
    matrix_step_overhead_cycles: float = FITTED_MATRIX_STEP_OVERHEAD_CYCLES
    loop_overhead_cycles: float = FITTED_LOOP_OVERHEAD_CYCLES
    dram_request_cycles: float = FITTED_DRAM_REQUEST_CYCLES
    store_block_cycles: float = FITTED_STORE_BLOCK_CYCLES
    cache_bytes: float = 0.0
    bus_bytes_per_cycle: float = 0.0
    min_command_rows: int = 0
    reload_tiles: bool = True
    name: str = "hardware"
    cache: CacheGeometry | None = None
    bus_efficiency: float = FITTED_BUS_EFFICIENCY
    cache_miss_cycles: float = FITTED_CACHE_MISS_CYCLES
    mesh_matmuls_in_flight: int = 0
    mesh_latency_cycles: float = FITTED_MESH_LATENCY_CYCLES
    memory_cache: CacheGeometry | None = None
    memory_miss_cycles: float = FITTED_MEMORY_MISS_CYCLES
    dma_requests_in_flight: int = 0
    command_latency_cycles: float = FITTED_COMMAND_LATENCY_CYCLES
    store_command_cycles: float = FITTED_STORE_COMMAND_CYCLES
    read_beats: bool = False
    conv_base_offset_bytes: int = 0
    step_transfers: bool = False

    def __post_init__(self) -> None:
        for field in ("layer_startup_cycles", "step_overhead_cycles", "dma_row_cycles", "matrix_step_overhead_cycles",
                      "loop_overhead_cycles", "dram_request_cycles", "store_block_cycles", "cache_bytes",
                      "bus_bytes_per_cycle", "cache_miss_cycles", "mesh_latency_cycles", "memory_miss_cycles",
                      "command_latency_cycles", "store_command_cycles"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value)
                                                                                     and value >= 0):
                unit = {"cache_bytes": "bytes", "bus_bytes_per_cycle": "bytes a cycle"}.get(field, "cycles")
                raise ValueError(f"HardwareTiming.{field} must be a finite number >= 0 {unit}, got {value!r}")
        for field in ("dram_efficiency", "bus_efficiency"):
            eff = getattr(self, field)
            if isinstance(eff, bool) or not isinstance(eff, (int, float)) or not (0 < eff <= 1):
                raise ValueError(f"HardwareTiming.{field} must be a number in (0, 1], got {eff!r}")
        if self.cache is not None and not isinstance(self.cache, CacheGeometry):
            raise ValueError(f"HardwareTiming.cache must be a CacheGeometry or None, got {type(self.cache).__name__}")
        if self.memory_cache is not None and not isinstance(self.memory_cache, CacheGeometry):
            raise ValueError("HardwareTiming.memory_cache must be a CacheGeometry or None, got "
                             f"{type(self.memory_cache).__name__}")
        if self.memory_cache is not None and self.cache is None:
            raise ValueError("HardwareTiming.memory_cache needs a simulated cache in front of it (cache)")
        if self.cache is not None and self.cache_bytes > 0:
            raise ValueError("HardwareTiming: give a simulated cache (cache) or a fits-or-not one (cache_bytes), not "
                             "both")
        if (self.cache_bytes > 0 or self.cache is not None) and self.bus_bytes_per_cycle <= 0:
            raise ValueError("HardwareTiming.bus_bytes_per_cycle must be > 0 bytes a cycle with a cache "
                             f"(cache_bytes {self.cache_bytes!r}, cache {self.cache!r})")
        for field, unit in (("min_command_rows", "cycles"), ("mesh_matmuls_in_flight", "commands"),
                            ("dma_requests_in_flight", "requests")):
            count = getattr(self, field)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"HardwareTiming.{field} must be an integer >= 0 {unit}, got {count!r}")
        if not isinstance(self.reload_tiles, bool):
            raise ValueError(f"HardwareTiming.reload_tiles must be True or False, got {self.reload_tiles!r}")
        if not isinstance(self.read_beats, bool):
            raise ValueError(f"HardwareTiming.read_beats must be True or False, got {self.read_beats!r}")
        if not isinstance(self.step_transfers, bool):
            raise ValueError(f"HardwareTiming.step_transfers must be True or False, got {self.step_transfers!r}")
        if self.step_transfers and self.cache is None:
            raise ValueError("HardwareTiming.step_transfers needs a simulated cache (cache): each step's moves are "
                             "replayed there")
        if self.read_beats and self.cache is None:
            raise ValueError("HardwareTiming.read_beats needs a simulated cache (cache): the reads are replayed there")
        offset = self.conv_base_offset_bytes
        if isinstance(offset, bool) or not isinstance(offset, int) or not (
                0 <= offset < (self.cache.line_bytes if self.cache is not None else DMA_REQUEST_BYTES)):
            raise ValueError("HardwareTiming.conv_base_offset_bytes must be an integer of bytes >= 0 and below a "
                             f"line, got {offset!r}")

    def cycles(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays, result,
               on_chip: tuple[int, ...] = ()) -> np.ndarray:
        """Cycles [B] of each mapping whose exact counts are `result` (an `accel_models.BatchResult`); invalid
        mappings keep `result`'s entry. `on_chip`: tensors living on chip, never moved from DRAM."""
        timed = self.terms(layer, accelerator, mappings, dram_words(result), on_chip)["cycles"]
        return np.where(result.valid, timed, result.cycles).astype(np.asarray(result.cycles).dtype)

    def terms(self, layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
              exact_dram_words: np.ndarray | None = None, on_chip: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
        """Each term of the model per mapping of the batch, in cycles: `startup`, `steps` (the host's issue of every
        step), `loops` (the accelerator's fixed overhead of every step), `compute` (the array), `transfer` (DMA
        requests or bytes), and `cycles`, the model's total (module docstring's formula).

        exact_dram_words [B]: the exact counts' DRAM words (`dram_words`), needed only with `reload_tiles` False;
        on_chip: tensors living on chip (no DRAM transfer of theirs)."""
        classes = step_classes(layer, mappings)
        exact_bytes = None
        if not self.reload_tiles:
            if exact_dram_words is None:
                raise ValueError("HardwareTiming.terms: reload_tiles=False needs exact_dram_words (the exact DRAM "
                                 "counts)")
            exact_bytes = np.asarray(exact_dram_words, dtype=float) * accelerator.levels[0].word_bits / 8
            tiles = [_rows_and_bytes(layer, accelerator, steps, on_chip)[1] for steps in classes]
            whole = np.maximum(sum(tiles), 1e-300)
        simulated = self.cache is not None and self.reload_tiles
        matrix = is_matrix_product(layer)
        tallies = None
        if simulated:
            replay = step_tallies if self.step_transfers else class_misses
            counts = replay(layer, accelerator, mappings, self.cache, self.memory_cache, on_chip,
                            0 if matrix else self.conv_base_offset_bytes,
                            int(self.bus_bytes_per_cycle) if self.read_beats else 0, _request_bytes(accelerator))
            if self.step_transfers:
                counts, tallies = counts
        else:
            counts = None
        cached = self.caches(layer, accelerator, on_chip)
        rate = self.bus_bytes_per_cycle if cached or simulated else dram_bytes_per_cycle(accelerator)
        slots = command_slots(accelerator, self.dma_requests_in_flight) \
            if self.dma_requests_in_flight and self.reload_tiles else 1.0
        shape = (mappings.temporal.shape[0],)
        out = {name: np.zeros(shape) for name in ("steps", "loops", "compute", "transfer", "cycles")}
        for i, steps in enumerate(classes):
            if self.reload_tiles:
                requests, moved_bytes = _rows_and_bytes(layer, accelerator, steps, on_chip)
            else:
                # the exact counts' bytes, shared among the classes as their tiles' bytes are
                requests, moved_bytes = np.zeros(shape), exact_bytes * tiles[i] / whole
            misses = counts[:, steps.last, 0] if simulated else None
            # the bus's time: the read beats of the moves in, one a cycle, or every byte at the bus's rate
            bus = counts[:, steps.last, 2] if simulated and self.read_beats else moved_bytes / rate
            behind = counts[:, steps.last, 1] if simulated and self.memory_cache is not None else None
            commands = _move_in_commands(layer, accelerator, steps, on_chip) \
                if self.dma_requests_in_flight and self.reload_tiles else None
            compute = _array_cycles(layer, accelerator, mappings, steps, self.min_command_rows,
                                    self.mesh_matmuls_in_flight, self.mesh_latency_cycles)
            stores = _output_blocks(layer, accelerator, steps)
            out["steps"] += steps.steps * (self.matrix_step_overhead_cycles if matrix else self.step_overhead_cycles)
            out["loops"] += steps.steps * float(self.loop_overhead_cycles)
            out["compute"] += compute
            out["transfer"] += self.transfer(requests, bus, cached, stores, misses, behind, commands, slots, matrix)
            if tallies is None:
                out["cycles"] += self.total(compute, steps.steps, requests, bus, matrix, cached, stores, misses, behind,
                                            commands, slots) - self.layer_startup_cycles
                continue
            busy = np.zeros(shape)
            for b, (keys, counts_b) in enumerate(tallies):
                mine = keys[:, 0] == steps.last
                if not mine.any():
                    continue
                # without the read beats, each step's bytes are the class's mean at the bus's rate
                beats = keys[mine, 3] if self.read_beats else moved_bytes[b] / rate / steps.steps[b]
                busy[b] = self.step_cycles(compute[b], steps.steps[b], steps.output_steps[b], requests[b],
                                           None if commands is None else commands[b], slots, stores[b], matrix,
                                           counts_b[mine], keys[mine, 1],
                                           keys[mine, 2] if behind is not None else None, beats,
                                           keys[mine, 4]).sum()
            out["cycles"] += self.class_cycles(steps.steps, matrix, busy)
        out["cycles"] = np.ceil(out["cycles"] + self.layer_startup_cycles)
        return {"startup": np.full(shape, float(self.layer_startup_cycles)), **out}

    def caches(self, layer: Layer, accelerator: Accelerator, on_chip: tuple[int, ...] = ()) -> bool:
        """Whether the cache (`cache_bytes`) holds the layer's off-chip tensors, so that its tiles arrive at the
        bus's rate rather than from the DRAM."""
        return self.cache_bytes > 0 and layer_bytes(layer, accelerator, on_chip) <= self.cache_bytes

    def transfer(self, requests: np.ndarray, peak_cycles: np.ndarray, cached: "bool | np.ndarray" = False,
                 store_blocks: "float | np.ndarray" = 0.0, misses: "np.ndarray | None" = None,
                 memory_blocks: "np.ndarray | None" = None, commands: "np.ndarray | None" = None,
                 slots: "float | np.ndarray" = 1.0, matrix: "bool | np.ndarray" = False) -> np.ndarray:
        """Transfer cycles: the longer of `requests` DMA requests at `dma_row_cycles` each and the bytes that take
        `peak_cycles` at the source's peak bandwidth, at `dram_efficiency` of it (the two pipelined); from the DRAM
        (not `cached`) each request adds `dram_request_cycles` to the bytes' time (a partial line's command); and
        `store_blocks` output blocks read back at `store_block_cycles` each. With `misses` (the lines missed in a
        simulated cache; `peak_cycles` then at the bus's rate) the bytes run at `bus_efficiency` of the bus and each
        missed line adds `cache_miss_cycles`, each request `dram_request_cycles`, and each block of those that also
        missed the memory side's cache (`memory_blocks`) `memory_miss_cycles`. With `commands` (the move-in
        commands, `move_in_commands`) the DMA's `slots` command slots (`command_slots`) bound it too: each command
        holds a slot while its requests issue, for `command_latency_cycles` more and for the fills of the lines it
        misses, and each output block is a move-out holding a store slot for `store_command_cycles` (in place of
        `store_block_cycles`). The move-outs follow the moves in, except for a matrix product (`matrix`), whose
        move-outs run beside them: the transfer is then the longer of the two (module docstring)."""
        requests = np.asarray(requests, dtype=float)
        fills = 0.0
        if misses is not None:
            fills = np.asarray(misses, dtype=float) * float(self.cache_miss_cycles)
            if memory_blocks is not None:
                fills = fills + np.asarray(memory_blocks, dtype=float) * float(self.memory_miss_cycles)
            data = np.asarray(peak_cycles) / self.bus_efficiency + fills + requests * float(self.dram_request_cycles)
        else:
            data = np.asarray(peak_cycles) / self.dram_efficiency \
                + np.where(cached, 0.0, requests * float(self.dram_request_cycles))
        issue = requests * float(self.dma_row_cycles)
        moves = np.maximum(issue, data)
        store = float(self.store_block_cycles)
        if commands is not None:
            moves = np.maximum(moves, (issue + np.asarray(commands, dtype=float) * float(self.command_latency_cycles)
                                       + fills) / slots)
            store = float(self.store_command_cycles) / np.asarray(slots, dtype=float)
        stored = np.asarray(store_blocks, dtype=float) * store
        if not np.any(matrix):
            return moves + stored
        return np.where(matrix, np.maximum(moves, stored), moves + stored)

    def step_cycles(self, compute: "float | np.ndarray", steps: "float | np.ndarray",
                    output_steps: "float | np.ndarray", requests: "float | np.ndarray",
                    commands: "float | np.ndarray | None", slots: "float | np.ndarray",
                    store_blocks: "float | np.ndarray", matrix: "bool | np.ndarray", counts: np.ndarray,
                    misses: np.ndarray, memory_blocks: "np.ndarray | None", beats: np.ndarray,
                    ended: np.ndarray) -> np.ndarray:
        """The accelerator's busy cycles [n] (before its loop overhead) of n tallies of a class's steps when each step
        takes the longer of its share of the class's compute and its own transfer (`step_transfers`): tally i is
        `counts[i]` steps that each missed `misses[i]` lines in the simulated cache (and `memory_blocks[i]` blocks
        behind it), read `beats[i]` bus beats (the bus's time of one step, in cycles at its full rate) and, where
        `ended[i]` is 1, ended a reduction, so moved out their output tile: the class's `store_blocks` over its
        `output_steps`. The class's `compute`, `requests` and `commands` (move-in commands, or None) are shared
        evenly by its `steps` (each step moves a tile of the class's size); the other arguments are as `transfer`'s.
        Each argument but the tallies' may be an array of the tallies' length (one class per tally).

        Why per step: the cache's misses fall on some steps and not others (a tile's first visit, a loop that evicts
        what the next step re-reads), and a step's move-outs only on the steps that end a reduction; a step whose
        transfer outlasts its compute holds the array idle while the others' spare transfer time cannot be lent to
        it, so the sum over steps of the longer of the two exceeds the longer of the two sums. A class whose steps all
        move alike gives the class-level formula (`total`)."""
        counts = np.asarray(counts, dtype=float)
        steps = np.asarray(steps, dtype=float)
        share = np.asarray(compute, dtype=float) / steps
        # a step that ends a reduction moves out its share of the class's output blocks
        moved_out = np.asarray(ended, dtype=float) * np.asarray(store_blocks, dtype=float) \
            / np.maximum(np.asarray(output_steps, dtype=float), 1.0)
        transfer = self.transfer(np.broadcast_to(np.asarray(requests, dtype=float) / steps, counts.shape),
                                 np.asarray(beats, dtype=float), False, moved_out, np.asarray(misses, dtype=float),
                                 None if memory_blocks is None else np.asarray(memory_blocks, dtype=float),
                                 None if commands is None else np.asarray(commands, dtype=float) / steps,
                                 slots, matrix)
        return counts * np.maximum(share, transfer)

    def total(self, compute: np.ndarray, steps: np.ndarray, requests: np.ndarray, peak_cycles: np.ndarray,
              matrix: "bool | np.ndarray" = False, cached: "bool | np.ndarray" = False,
              store_blocks: "float | np.ndarray" = 0.0, misses: "np.ndarray | None" = None,
              memory_blocks: "np.ndarray | None" = None, commands: "np.ndarray | None" = None,
              slots: "float | np.ndarray" = 1.0) -> np.ndarray:
        """The model's cycles (before rounding up) from its mapping-dependent parts, each [B]: the array's cycles,
        the outer steps, the DMA requests, the transfer at the source's peak bandwidth, whether the layer runs as a
        matrix product, whether its data comes from the cache, the output blocks read back, the lines missed in a
        simulated cache and the blocks of those missed in the memory side's cache, the move-in commands and the
        DMA's command slots (module docstring's formula)."""
        busy = np.maximum(compute, self.transfer(requests, peak_cycles, cached, store_blocks, misses, memory_blocks,
                                                 commands, slots, matrix))
        return self.layer_startup_cycles + self.class_cycles(steps, matrix, busy)

    def class_cycles(self, steps: "float | np.ndarray", matrix: "bool | np.ndarray",
                     busy: "float | np.ndarray") -> np.ndarray:
        """The cycles of a class of `steps` outer steps (before the layer's start-up) whose accelerator is busy for
        `busy` cycles besides its loop overhead: the host issues each step while the accelerator runs the one before,
        so the class takes the longer of the host's issue and the accelerator's steps."""
        steps = np.asarray(steps, dtype=float)
        host = np.where(matrix, self.matrix_step_overhead_cycles, self.step_overhead_cycles) * steps
        return np.maximum(host, self.loop_overhead_cycles * steps + busy)


def gemmini_soc(timing: HardwareTiming | None = None) -> HardwareTiming:
    """`timing` (default: the fitted model) on Gemmini in its SoC: its DMA reads through the L2, simulated
    (`cache.GEMMINI_L2`), on a 16-byte bus (`GEMMINI_BUS_BYTES_PER_CYCLE`), its array commands take at least
    `MIN_COMMAND_ROWS` cycles, its mesh holds `MESH_MATMULS_IN_FLIGHT` of them at once, the L2's misses go to
    FireSim's memory model, whose last-level cache (`cache.FASED_LLC`) is simulated behind it, its DMA's load and
    store controllers hold the commands `DMA_REQUESTS_IN_FLIGHT` sets (`command_slots`), and the bus's time is the
    beats of the DMA's aligned reads (`read_beats`), a convolution's tensors starting where DOSA's harness put them
    (`DOSA_CONV_BASE_OFFSET_BYTES`), and each outer step takes the longer of its compute and its own transfer
    (`step_transfers`)."""
    timing = timing or HardwareTiming(dram_request_cycles=FITTED_SOC_DRAM_REQUEST_CYCLES,
                                      dma_row_cycles=FITTED_SOC_DMA_ROW_CYCLES)
    return replace(timing, cache=GEMMINI_L2, cache_bytes=0.0,
                   bus_bytes_per_cycle=float(GEMMINI_BUS_BYTES_PER_CYCLE), min_command_rows=MIN_COMMAND_ROWS,
                   mesh_matmuls_in_flight=MESH_MATMULS_IN_FLIGHT, memory_cache=FASED_LLC,
                   dma_requests_in_flight=DMA_REQUESTS_IN_FLIGHT, read_beats=True,
                   conv_base_offset_bytes=DOSA_CONV_BASE_OFFSET_BYTES, step_transfers=True)


def command_slots(accelerator: Accelerator, requests_in_flight: int) -> float:
    """The move-in (and move-out) commands a DMA of `requests_in_flight` requests keeps in flight on the
    accelerator's array: requests_in_flight // its side + 1 (Gemmini's command trackers, `DMA_REQUESTS_IN_FLIGHT`:
    a command moves at most a side's rows)."""
    return float(requests_in_flight // int(_array_side(accelerator)) + 1)


def move_in_commands(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                     on_chip: tuple[int, ...] = (), steps: StepClass | None = None) -> np.ndarray:
    """Move-in commands [B] the layer's input and weight tiles take, over all outer steps: a command moves at most the
    array's side rows of a tile (input pixels along an input row, `P`'s axis; weights' input channels, C) by at most
    a DMA request's bytes of its contiguous run, or the side's words if more (input or output channels: Gemmini's
    `max_block_len` blocks of the side), one command per combination of the tile's other axes (`LoopConvLdInput` and
    `LoopConvLdWeight` in Gemmini's LoopConv.scala; `LoopMatmul` moves a matrix product's tiles alike), each step's
    of its own tile (`steps.step_classes`; `steps`: one class's steps only). Tensors in `on_chip` move nothing."""
    classes = _classes(layer, mappings, steps)
    return sum(_move_in_commands(layer, accelerator, one, on_chip) for one in classes)


def _move_in_commands(layer: Layer, accelerator: Accelerator, steps: StepClass,
                      on_chip: tuple[int, ...] = ()) -> np.ndarray:
    """`move_in_commands` over the steps of one class."""
    arrays = layer_arrays(layer)
    extents = steps.extents
    side = _array_side(accelerator)
    word_bytes = max(1, accelerator.levels[0].word_bits // 8)
    block = max(1, DMA_REQUEST_BYTES // int(side * word_bytes)) * side
    commands = np.zeros(extents.shape[0])
    for name in ("Inputs", "Weights"):
        t = TENSORS.index(name)
        if t in on_chip:
            continue
        spans = np.ones((extents.shape[0], N_AXES))
        for d in range(len(DIMS)):
            if arrays.ax[t, d] >= 0:
                spans[:, arrays.ax[t, d]] += arrays.co[t, d] * (extents[:, d] - 1)
        rows_axis, run_axis = arrays.ax[t, _COMMAND_ROWS_DIM[name]], arrays.ax[t, _ROW_DIM[name]]
        per_axis = [np.ceil(spans[:, a] / side) if a == rows_axis else np.ceil(spans[:, a] / block)
                    if a == run_axis else spans[:, a] for a in range(N_AXES)]
        commands += np.prod(per_axis, axis=0)
    return commands * steps.steps


def _request_bytes(accelerator: Accelerator) -> int:
    """The most bytes one DMA request moves: `DMA_REQUEST_BYTES`, or the DRAM's block if larger."""
    dram = accelerator.levels[0]
    return int(max(dram.block_size_words * dram.word_bits // 8, DMA_REQUEST_BYTES))


def _classes(layer: Layer, mappings: MappingArrays, steps: StepClass | None) -> list[StepClass]:
    """The step classes a term is summed over: the batch's (`steps.step_classes`), or `steps` alone."""
    return step_classes(layer, mappings) if steps is None else [steps]


def _array_side(accelerator: Accelerator) -> float:
    """The array's side: its widest fan-out axis (Gemmini's DIM)."""
    return float(max(max(level.fanout_x, level.fanout_y) for level in accelerator.levels))


def is_matrix_product(layer: Layer) -> bool:
    """Whether a tile-by-tile runtime runs `layer` as a matrix product (Gemmini's `tiled_matmul`, three loops) rather
    than a convolution (`tiled_conv`, seven): one output column and a 1 x 1 kernel."""
    return layer.Q == layer.R == layer.S == 1


def layer_bytes(layer: Layer, accelerator: Accelerator, on_chip: tuple[int, ...] = ()) -> float:
    """Bytes of the layer's tensors that live off chip (every tensor but those in `on_chip`), in the outermost
    level's words."""
    arrays = layer_arrays(layer)
    words = tile_words([arrays.bounds[d] for d in range(len(DIMS))], arrays.ax, arrays.co)
    return float(sum(w for t, w in enumerate(words) if t not in on_chip)) * accelerator.levels[0].word_bits / 8


def dram_bytes_per_cycle(accelerator: Accelerator) -> float:
    """The outermost level's peak bandwidth in bytes per cycle: its shared bandwidth, else the larger of its read and
    write bandwidths; a DRAM without any stated is taken to move one block a cycle."""
    dram = accelerator.levels[0]
    words = dram.shared_bandwidth or max(dram.read_bandwidth or 0, dram.write_bandwidth or 0) \
        or dram.block_size_words
    return words * dram.word_bits / 8


def dram_words(result) -> np.ndarray:
    """Words [B] a batch's mappings read from and write to DRAM (the outermost level's reads and updates, exact
    counts of an `accel_models.BatchResult`)."""
    return result.reads[:, 0, :].sum(axis=1) + result.updates[:, 0, :].sum(axis=1)


def holds_one_weight_per_pe(accelerator: Accelerator) -> bool:
    """Whether the array is weight stationary with one weight a processing element (a systolic array's weight
    register, as Gemmini's): the innermost level keeping Weights lies below every fan-out and holds one word."""
    fanned = [i for i, level in enumerate(accelerator.levels) if level.fanout > 1]
    holders = [i for i, level in enumerate(accelerator.levels) if "Weights" in level.keeps]
    if not fanned or not holders or holders[-1] <= fanned[-1]:
        return False
    level = accelerator.levels[holders[-1]]
    limits = [c for c in (level.capacity_words,
                          (level.tensor_capacity_words or (None,))[0]) if c is not None]
    return bool(limits) and min(limits) <= 1


def array_pass_cycles(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                      min_command_rows: int = 0, matmuls_in_flight: int = 0,
                      mesh_latency_cycles: float = 0.0, steps: StepClass | None = None) -> np.ndarray:
    """Cycles [B] the array computes the layer when each step's tile is fed in passes of the array's full side:
    per step, the product of the extents of the dims no fan-out unrolls, times, per fan-out level and axis (X, Y),
    the passes of the dims only that axis unrolls (`_axis_passes`: ceil(their extent / the axis's side), a dim the
    dataflow holds whole taking its extent of the side as one set); a dim unrolled on several axes or levels keeps
    the mapping's split (its temporal extent, each of its spatial loops one pass); times the steps. A dim on one axis
    does not fill the other's idle side: X and Y are wired apart (a systolic array's rows and columns; Eyeriss's
    row and column IDs). Without the preload this is at most the exact counts' compute cycles, and fewer when a
    mapping splits a dim between time and an under-filled axis.

    On an array holding one weight a processing element (`holds_one_weight_per_pe`), each weight block (a pass of
    the dims that index weights) streams the step's output pixels (P, Q, N) as commands of at most the array's side
    of P's run, each at least `min_command_rows` cycles (Gemmini's: `MIN_COMMAND_ROWS`), and is first shifted in a
    row a cycle: the rows of its innermost fan-out's reduction dims, less the first command's rows it overlaps (the
    preload). With `matmuls_in_flight` (Gemmini's: `MESH_MATMULS_IN_FLIGHT`) a command of r rows stays in the array
    r + 2 x its side + `mesh_latency_cycles` cycles (its inputs skewed in, its outputs de-skewed out) and at most that
    many are in it at once: a command takes at least that stay / `matmuls_in_flight` cycles.

    Each step runs its own tile (`steps.step_classes`: a loop's clipped last step runs the smaller one; `steps`: one
    class's steps only)."""
    classes = _classes(layer, mappings, steps)
    return sum(_array_cycles(layer, accelerator, mappings, one, min_command_rows, matmuls_in_flight,
                             mesh_latency_cycles) for one in classes)


def _array_cycles(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, steps: StepClass,
                  min_command_rows: int = 0, matmuls_in_flight: int = 0,
                  mesh_latency_cycles: float = 0.0) -> np.ndarray:
    """`array_pass_cycles` over the steps of one class."""
    extents = steps.extents
    factors = mappings.spatial_x.astype(np.int64) * mappings.spatial_y.astype(np.int64)            # [B, L, 8]
    slots = (mappings.spatial_x > 1).sum(axis=1) + (mappings.spatial_y > 1).sum(axis=1)             # [B, 8]
    folded = slots == 1
    # a dim no axis unrolls, or several do, runs its temporal extent
    temporal = np.maximum(extents / np.prod(factors, axis=1), 1.0)
    per_step = np.prod(np.where(folded, 1.0, temporal), axis=1)
    fanned = [level for level, storage in enumerate(accelerator.levels) if storage.fanout > 1]
    for level in fanned:
        per_step = per_step * _axis_passes(accelerator, mappings, level, extents, folded)
    if holds_one_weight_per_pe(accelerator):
        arrays = layer_arrays(layer)
        reduction = (arrays.ax[TENSORS.index("Outputs")] < 0) & (arrays.ax[TENSORS.index("Weights")] >= 0)
        inner = fanned[-1]
        on_x = ((mappings.spatial_x[:, inner, :] > 1) & reduction[None, :]).any(axis=1)
        rows_side = np.where(on_x, accelerator.levels[inner].fanout_x, accelerator.levels[inner].fanout_y)
        per_step = _weight_stationary_step(accelerator, mappings, extents, factors, folded, temporal, per_step,
                                           inner, reduction, rows_side.astype(float), float(min_command_rows),
                                           matmuls_in_flight, float(mesh_latency_cycles))
    return per_step * steps.steps


def _axis_passes(accelerator: Accelerator, mappings: MappingArrays, level: int, extents: np.ndarray,
                 dims: np.ndarray) -> np.ndarray:
    """Passes [B] the fan-out below `level` takes over a step's tile: per axis, ceil(the extent of the dims of `dims`
    [B, 8] it unrolls / the sets of the axis), the product over X and Y. The sets of an axis are its side, or, where
    it unrolls a dim the dataflow holds whole (`Dataflow.whole_dims`, its spatial factor the dim's whole extent),
    floor(its side / that extent): a row-stationary PE set is as tall as the filter, so a 12-row side takes two sets
    of a 5-row filter, not 12 / 5 of them."""
    whole_dims = accelerator.dataflow.whole_dims if accelerator.dataflow is not None else ()
    whole = np.array([d in whole_dims for d in DIMS])
    storage = accelerator.levels[level]
    passes = np.ones(extents.shape[0])
    for spatial, side in ((mappings.spatial_x[:, level, :], storage.fanout_x),
                          (mappings.spatial_y[:, level, :], storage.fanout_y)):
        mine = dims & (spatial > 1)
        held = mine & whole[None, :] & (spatial == extents)
        sets = np.maximum(np.floor(side / np.prod(np.where(held, extents, 1.0), axis=1)), 1.0)
        passes = passes * np.ceil(np.prod(np.where(mine & ~held, extents, 1.0), axis=1) / sets)
    return passes


def _weight_stationary_step(accelerator: Accelerator, mappings: MappingArrays, extents: np.ndarray,
                            factors: np.ndarray, folded: np.ndarray, temporal: np.ndarray, per_step: np.ndarray,
                            inner: int, reduction: np.ndarray, rows_side: np.ndarray, floor: float, in_flight: int = 0,
                            latency: float = 0.0) -> np.ndarray:
    """A step's cycles on an array holding one weight a processing element (`array_pass_cycles`' second paragraph),
    from the plain passes `per_step` [B]: per weight block, the streamed rows as commands of at most the array's
    side with a floor of `floor` cycles each (and of (its rows + 2 x the side + `latency`) / `in_flight` with
    `in_flight` commands at most in the array), plus the block's preload beyond its first command. `inner` is the
    fan-out level next to the processing elements; the block's rows are the reduction dims (`reduction` [8]: those
    indexing weights but not outputs) it unrolls, a row of the array each (Gemmini's input channels down its rows),
    in blocks of the array's rows along that axis (`rows_side` [B])."""
    weights = ~_STREAMED[None, :]
    blocks = np.prod(np.where(weights & ~folded, temporal, 1.0), axis=1)
    for level, storage in enumerate(accelerator.levels):
        if storage.fanout > 1:
            blocks = blocks * _axis_passes(accelerator, mappings, level, extents, folded & weights)
    streamed = per_step / blocks
    side = _array_side(accelerator)
    run = np.where(folded[:, _COMMAND_DIM], streamed, temporal[:, _COMMAND_DIM])
    full, rest = np.floor(run / side), np.mod(run, side)

    def command(rows: "float | np.ndarray") -> "float | np.ndarray":
        stay = (rows + 2 * side + latency) / in_flight if in_flight else 0.0
        return np.maximum(np.maximum(rows, floor), stay)

    per_run = full * command(side) + np.where(rest > 0, command(rest), 0.0)
    down = folded & reduction[None, :] & (factors[:, inner, :] > 1)
    rows = np.prod(np.where(down, extents, 1.0), axis=1)
    rows = rows / np.ceil(rows / rows_side)
    preload = np.maximum(rows - np.minimum(run, side), 0.0)
    return blocks * (streamed / run * per_run + preload)


def output_blocks(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                  steps: StepClass | None = None) -> np.ndarray:
    """Blocks [B] of outputs the layer moves out of the array's accumulators, one move-out command each: each output
    tile, once its reduction ends, in blocks of at most the array's side output pixels (along P) by the side's output
    channels (K, and the groups G of a grouped layer), over its other output dims, N and Q (Gemmini's `LoopConvSt`:
    one move-out of I <= DIM rows by J <= DIM columns, LoopConv.scala); a matrix product's move-out
    (`is_matrix_product`) takes as many of a row's channel blocks side by side as fill a DMA request
    (`DMA_REQUEST_BYTES` / (side x word bytes), at least one: Gemmini's `LoopMatmulStC`, `max_blocks` =
    min(the tile's column blocks, `max_block_len` = dma_maxbytes / (DIM x input bytes)), LoopMatmul.scala, so 4
    blocks a move-out on a 16-wide array, 2 on a 32-wide, 1 from 64 wide). A clipped last step's tile in its own
    blocks (`steps.step_classes`; `steps`: one class's steps only)."""
    classes = _classes(layer, mappings, steps)
    return sum(_output_blocks(layer, accelerator, one) for one in classes)


def _output_blocks(layer: Layer, accelerator: Accelerator, steps: StepClass) -> np.ndarray:
    """`output_blocks` over the steps of one class."""
    extents, side = steps.extents, _array_side(accelerator)
    p, q, n = DIMS.index("P"), DIMS.index("Q"), DIMS.index("N")
    channel_blocks = np.ceil(extents[:, DIMS.index("K")] * extents[:, DIMS.index("G")] / side)
    if is_matrix_product(layer):
        word_bytes = max(1, accelerator.levels[0].word_bits // 8)
        channel_blocks = np.ceil(channel_blocks / max(1, DMA_REQUEST_BYTES // int(side * word_bytes)))
    return steps.output_steps * extents[:, n] * extents[:, q] * np.ceil(extents[:, p] / side) * channel_blocks


def dram_rows_and_bytes(layer: Layer, accelerator: Accelerator, mappings: MappingArrays,
                        on_chip: tuple[int, ...] = (),
                        steps: StepClass | None = None) -> tuple[np.ndarray, np.ndarray]:
    """DMA requests and bytes [B] the layer moves from and to DRAM: every outermost step brings its weight and input
    tiles in (a clipped last step its smaller tile: `steps.step_classes`); an output tile goes out once, after the
    last step of its reduction (the DRAM loops over dims that do not index the outputs). A tensor's requests are its
    tile's contiguous runs of `_ROW_DIM`, a run longer than a request (`DMA_REQUEST_BYTES`, or the DRAM block if
    larger) counting one a request; tensors in `on_chip` (indices into TENSORS) move nothing. `steps`: one class's
    steps only."""
    classes = _classes(layer, mappings, steps)
    parts = [_rows_and_bytes(layer, accelerator, one, on_chip) for one in classes]
    return sum(rows for rows, _ in parts), sum(moved for _, moved in parts)


def _rows_and_bytes(layer: Layer, accelerator: Accelerator, steps: StepClass,
                    on_chip: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """`dram_rows_and_bytes` over the steps of one class."""
    arrays = layer_arrays(layer)
    extents = steps.extents
    words = tile_words([extents[:, d] for d in range(extents.shape[1])], arrays.ax, arrays.co)
    dram = accelerator.levels[0]
    request_words = max(dram.block_size_words, DMA_REQUEST_BYTES * 8 // dram.word_bits)
    rows = np.zeros(steps.steps.shape)
    moved = np.zeros(steps.steps.shape)
    for t, name in enumerate(TENSORS):
        if t in on_chip:
            continue
        times = steps.output_steps if name == "Outputs" else steps.steps
        run = extents[:, _ROW_DIM[name]].astype(float)
        tile = np.asarray(words[t], dtype=float)
        rows += times * tile / run * np.ceil(run / request_words)
        moved += times * tile
    return rows, moved * dram.word_bits / 8
