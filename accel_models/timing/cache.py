"""`CacheGeometry` and `cache_misses`: the lines of a mapping's DRAM-level tile moves that miss in a system cache.

A DMA that reads through a set-associative cache (Gemmini in its SoC: the DMA's requests go to Chipyard's L2) finds a
tile there when the lines it touched earlier have not been evicted since. Whether they were depends on the order of
the outer steps, the tiles' sizes, the tensors' layouts and addresses, and the cache's sets, ways and replacement;
no closed form follows a strided tile through a set-associative cache, so `cache_misses` replays the moves:

- the outermost (DRAM) level's loops run in the mapping's order; each step moves its input and weight tiles in and,
  after the last step of its reduction, its output tile out (the moves `hardware.dram_rows_and_bytes` counts); a
  loop's clipped last step moves the smaller tile it runs, and its misses count in its class of steps
  (`steps.step_classes`, `class_misses`);
- a tile moves as rows: one contiguous run of its innermost dimension per combination of its other dimensions, each
  tensor channels-last (inputs [N][H][W][C], weights [R][S][C][K], outputs [N][P][Q][K], Gemmini's layouts; the
  groups G outermost), the tensors one after another in memory (inputs, then weights, then outputs, each from a line
  boundary);
- each line a run touches is looked up in its set (line address modulo the sets); a miss fills the line, evicting a
  pseudo-random way when the set is full (Chipyard's InclusiveCache picks its victim with an LFSR: sifive-blocks,
  `inclusivecache/Directory.scala`); the generator here is a fixed one, so the count is reproducible;
- optionally, each missed line is looked up in a second cache behind the first (`memory_misses`: the memory side's
  own cache, FireSim's last-level cache model in front of its DRAM model, `FASED_LLC`), in its blocks, with
  pseudo-random replacement too (FASED's `LLCModel` replaces at random);
- optionally (`class_misses` with `beat_bytes`), the same replay counts the bus beats of the reads a DMA makes of
  each input and weight run (`read_beats`: Gemmini's aligned 16- to 64-byte reads), the tensors' bases a given
  number of bytes past a line;
- the layer runs twice and the second run's misses are counted: the caches start with what the layer's own previous
  run left in them (DOSA's FireSim harness runs each layer through Gemmini's own tiler before the timed run:
  `gemmini-data-collection/templates/conv_tilings.c`, ucb-bar/gemmini-rocc-tests, branch `dosa`).

The replay visits every run of every step (about one line per DMA request): milliseconds for small layers, a second
or more for a mapping of tens of millions of requests. It runs only for a timing model given a cache geometry
(`HardwareTiming(cache=...)`, as `gemmini_soc` is).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, types
from numba.typed import Dict

from nets import DIMS, TENSORS, Layer

from ..accelerator import Accelerator
from ..geometry import layer_arrays
from ..mapping_arrays import MappingArrays
from .steps import class_bits, clipped_dims


@dataclass(frozen=True)
class CacheGeometry:
    """A set-associative cache with pseudo-random replacement: `sets` sets of `ways` lines of `line_bytes` bytes."""

    sets: int
    ways: int
    line_bytes: int

    def __post_init__(self) -> None:
        for field in ("sets", "ways", "line_bytes"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"CacheGeometry.{field} must be an integer >= 1, got {value!r}")

    @property
    def capacity_bytes(self) -> int:
        return self.sets * self.ways * self.line_bytes


GEMMINI_L2 = CacheGeometry(sets=1024, ways=8, line_bytes=64)
"""Chipyard's L2 in Gemmini's SoC: 512 KiB, 8 ways (`WithInclusiveCache(nWays = 8, capacityKB = 512)`,
ucb-bar/gemmini `CustomSoCConfigs.scala`), 64-byte lines (the SoC's cache block), one bank: 1,024 sets."""

FASED_LLC = CacheGeometry(sets=4096, ways=8, line_bytes=128)
"""FireSim's last-level cache model in front of its DDR3 model (FASED; the build DOSA's rows ran on,
`..._l2_llc4mb_ddr3`, `WithLLCModel(4096, 8)`): 4 MiB, 8 ways, 128-byte blocks, as FireSim's runtime settings set it
(`+mm_llc_setBits=12 +mm_llc_wayBits=3 +mm_llc_blockBits=7`, firesim/firesim's default runtime configuration)."""

# Each tensor's layout, outermost dim first; a tensor's axes follow from the layer's projection (`layer_arrays`).
_LAYOUT = {"Weights": ("G", "S", "R", "C", "K"), "Inputs": ("N", "G", "Q", "P", "C"),
           "Outputs": ("N", "G", "Q", "P", "K")}
_AXES = 5
# A step's tally key in `_replay`: its class, lines missed, blocks missed behind, read beats, whether it ended a
# reduction.
_TALLY_KEY = types.UniTuple(types.int64, 5)


def cache_misses(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, geometry: CacheGeometry,
                 on_chip: tuple[int, ...] = ()) -> np.ndarray:
    """Lines [B] each mapping's DRAM-level moves miss in a cache of `geometry` (module docstring), the layer's
    second run; tensors in `on_chip` (indices into TENSORS) move nothing."""
    return _misses(layer, accelerator, mappings, geometry, None, on_chip)[:, :, 0].sum(axis=1)


def memory_misses(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, geometry: CacheGeometry,
                  behind: CacheGeometry, on_chip: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The lines [B] each mapping's DRAM-level moves miss in a cache of `geometry` (as `cache_misses`) and the blocks
    [B] those misses miss in the cache `behind` it, the layer's second run (module docstring)."""
    counts = _misses(layer, accelerator, mappings, geometry, behind, on_chip).sum(axis=1)
    return counts[:, 0], counts[:, 1]


def class_misses(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, geometry: CacheGeometry,
                 behind: CacheGeometry | None = None, on_chip: tuple[int, ...] = (), base_offset: int = 0,
                 beat_bytes: int = 0, request_bytes: int = 64) -> np.ndarray:
    """[B, classes, 3]: the lines missed in a cache of `geometry`, the blocks of those missed in the cache `behind`
    it (0 without one) and, with `beat_bytes` > 0, the bus beats of the reads that move the input and weight tiles in
    (`read_beats` of each run, split into DMA requests of `request_bytes`; else 0), by the steps of each class of
    `steps.step_classes`, indexed by the class's `last` bit. `base_offset`: the bytes by which every tensor's base
    address lies past a line boundary (0: each starts a line)."""
    return _misses(layer, accelerator, mappings, geometry, behind, on_chip, base_offset, beat_bytes, request_bytes)


def step_tallies(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, geometry: CacheGeometry,
                 behind: CacheGeometry | None = None, on_chip: tuple[int, ...] = (), base_offset: int = 0,
                 beat_bytes: int = 0,
                 request_bytes: int = 64) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """`class_misses`' counts [B, classes, 3] and, per mapping, its outer steps tallied by what each one moved in the
    same replay (the layer's second run): (keys [n, 5], counts [n]), a key being a step's class (its `last` bit, as
    `class_misses` indexes it), the lines it missed in `geometry`, the blocks of those missed `behind` it, the read
    beats of its moves in (with `beat_bytes`) and 1 if it ended a reduction (its output tile went out), 0 if not;
    counts[i] steps moved keys[i]. A step that misses many lines costs more than its class's mean: a timing model that
    takes each step's longer of compute and transfer (`HardwareTiming.step_transfers`) needs them apart."""
    return _misses(layer, accelerator, mappings, geometry, behind, on_chip, base_offset, beat_bytes, request_bytes,
                   with_tallies=True)


@njit(cache=True)
def read_beats(address: int, nbytes: int, beat_bytes: int, max_bytes: int) -> tuple[int, int]:
    """(reads, bus beats) a DMA makes of `nbytes` bytes from `address`, reading as Gemmini's `StreamReaderCore` does
    (DMA.scala): each read is a naturally aligned power of two from one beat to `max_bytes` (16, 32 or 64 bytes on
    its 128-bit bus), the one that covers the most of the bytes left from the current address (the smallest such on
    a tie), and returns whole beats. An aligned 32-byte run is one read of 2 beats; the same run 8 bytes past a line
    is one 64-byte read of 4 beats (a 16- or 32-byte read would stop at its own boundary)."""
    reads = 0
    beats = 0
    while nbytes > 0:
        best = 0
        size = 0
        s = beat_bytes
        while s <= max_bytes:
            covered = min(s - address % s, nbytes)
            if covered > best:
                best = covered
                size = s
            s *= 2
        reads += 1
        beats += size // beat_bytes
        address += best
        nbytes -= best
    return reads, beats


def _misses(layer: Layer, accelerator: Accelerator, mappings: MappingArrays, geometry: CacheGeometry,
            behind: CacheGeometry | None, on_chip: tuple[int, ...], base_offset: int = 0, beat_bytes: int = 0,
            request_bytes: int = 64, with_tallies: bool = False):
    """[B, classes, 3]: the misses in `geometry`, if `behind` is given in it (else 0), and with `beat_bytes` the read
    beats of the moves in (else 0), by the class of the step that made them (`class_misses`); with `with_tallies`,
    also each mapping's steps tallied by what they moved (`step_tallies`)."""
    arrays = layer_arrays(layer)
    ax, co, bounds = arrays.ax.astype(np.int64), arrays.co.astype(np.int64), arrays.bounds.astype(np.int64)
    word_bytes = max(1, accelerator.levels[0].word_bits // 8)
    full = np.ones((len(TENSORS), _AXES), np.int64)
    for t in range(len(TENSORS)):
        for d in range(len(DIMS)):
            if ax[t, d] >= 0:
                full[t, ax[t, d]] += co[t, d] * (bounds[d] - 1)
    strides = np.zeros((len(TENSORS), _AXES), np.int64)
    nesting = np.zeros((len(TENSORS), _AXES), np.int64)
    inner = np.zeros(len(TENSORS), np.int64)
    base = np.zeros(len(TENSORS), np.int64)
    start = 0
    for t in (TENSORS.index("Inputs"), TENSORS.index("Weights"), TENSORS.index("Outputs")):
        axes = list(dict.fromkeys(int(ax[t, DIMS.index(d)]) for d in _LAYOUT[TENSORS[t]]
                                  if ax[t, DIMS.index(d)] >= 0))
        step = word_bytes
        for a in reversed(axes):
            strides[t, a] = step
            step *= full[t, a]
        inner[t] = axes[-1]
        nesting[t] = [a for a in range(_AXES) if a not in axes] + axes
        base[t] = start + base_offset
        start += -(-step // geometry.line_bytes) * geometry.line_bytes
    moved = np.array([t not in on_chip for t in range(len(TENSORS))])
    reduction = ax[TENSORS.index("Outputs")] < 0
    extents, clipped, last_extents = clipped_dims(layer, mappings)
    bits = class_bits(clipped)
    misses = np.zeros((mappings.temporal.shape[0], 1 << int(bits.any(axis=0).sum()), 3))
    llc = behind if behind is not None else CacheGeometry(1, 1, geometry.line_bytes)
    tallies = []
    for b in range(misses.shape[0]):
        ends = mappings.temporal[b, 0, :].astype(np.int64)
        order = np.array([d for d in mappings.order[b, 0] if ends[d] > 1], np.int64)
        found, found_behind, beats, keys, counts = _replay(order, ends[order], extents[b].astype(np.int64),
                                             last_extents[b].astype(np.int64), bits[b], misses.shape[1], ax, co, full,
                                             strides, nesting, inner, base, moved, reduction, geometry.sets,
                                             geometry.ways, geometry.line_bytes, behind is not None, llc.sets,
                                             llc.ways, llc.line_bytes, beat_bytes, request_bytes)
        misses[b, :, 0], misses[b, :, 1], misses[b, :, 2] = found, found_behind, beats
        tallies.append((keys, counts))
    return (misses, tallies) if with_tallies else misses


@njit(cache=True)
def _victim(counter, ways):
    """A pseudo-random way (a 64-bit linear congruential step of `counter`, its high bits)."""
    x = (counter * 6364136223846793005 + 1442695040888963407) & 0x7FFFFFFFFFFFFFFF
    return (x >> 33) % ways


@njit(cache=True)
def _access(tags, key, counter):
    """Whether `key` is in its set of a set-associative cache's `tags` [sets, ways] (-1: an empty way); a miss fills
    it into the set's first empty way, else a pseudo-random one (`_victim` of `counter`)."""
    s = key % tags.shape[0]
    free = -1
    for w in range(tags.shape[1]):
        if tags[s, w] == key:
            return True
        if tags[s, w] < 0 and free < 0:
            free = w
    tags[s, free if free >= 0 else _victim(counter, tags.shape[1])] = key
    return False


@njit(cache=True)
def _replay(order, ends, extents, last_extents, bits, classes, ax, co, full, strides, nesting, inner, base, moved,
            reduction, sets, ways, line_bytes, behind, llc_sets, llc_ways, llc_bytes, beat_bytes, request_bytes):
    """The second of two runs' misses of the outer steps `order` (dims, outermost first) with `ends` iterations each,
    every tensor t moving its step's tile (the extents `extents` per dim, `last_extents` at a dim's last iteration;
    runs along `inner[t]`, the other axes in address order, `nesting[t]` outermost first, clipped to the tensor)
    from `base[t]` with `strides[t]`: per class of step (the sum of `bits` of the dims at their last iteration, of
    `classes`), the lines missed in the cache of `sets` x `ways` lines and, if `behind`, the blocks those missed in
    the cache of `llc_sets` x `llc_ways` blocks of `llc_bytes` behind it, and, if `beat_bytes` > 0, the bus beats of
    the reads of the moves in (each run in requests of at most `request_bytes`, `read_beats`); and the second run's
    steps tallied by what each one moved (`step_tallies`: [n, 5] rows of class, lines missed, blocks missed behind, read
    beats and whether the step ended a reduction, and [n] how many steps moved each)."""
    tags = -np.ones((sets, ways), np.int64)
    llc = -np.ones((llc_sets, llc_ways), np.int64)
    counter = 0
    llc_counter = 0
    misses = np.zeros(classes, np.int64)
    llc_misses = np.zeros(classes, np.int64)
    beats = np.zeros(classes, np.int64)
    n = order.shape[0]
    n_tensors = full.shape[0]
    n_axes = full.shape[1]
    outputs = n_tensors - 1
    step_extents = np.zeros(extents.shape[0], np.int64)
    tile = np.zeros(n_axes, np.int64)
    tally = Dict.empty(key_type=_TALLY_KEY, value_type=types.int64)
    for run in range(2):
        misses[:] = 0
        llc_misses[:] = 0
        beats[:] = 0
        index = np.zeros(n, np.int64)
        dim_index = np.zeros(extents.shape[0], np.int64)
        origin = np.zeros(n_axes, np.int64)
        count = np.zeros(n_axes, np.int64)
        while True:
            for k in range(n):
                dim_index[order[k]] = index[k]
            reduction_done = True
            for k in range(n):
                if reduction[order[k]] and index[k] != ends[k] - 1:
                    reduction_done = False
            step_class = 0
            for d in range(extents.shape[0]):
                step_extents[d] = extents[d]
            for k in range(n):
                if index[k] == ends[k] - 1 and bits[order[k]] != 0:
                    step_class += bits[order[k]]
                    step_extents[order[k]] = last_extents[order[k]]
            missed_before = misses[step_class]
            behind_before = llc_misses[step_class]
            beats_before = beats[step_class]
            for t in range(n_tensors):
                if not moved[t] or (t == outputs and not reduction_done):
                    continue
                for a in range(n_axes):
                    origin[a] = 0
                    count[a] = 0
                    tile[a] = 1
                for d in range(extents.shape[0]):
                    if ax[t, d] >= 0:
                        origin[ax[t, d]] += co[t, d] * extents[d] * dim_index[d]
                        tile[ax[t, d]] += co[t, d] * (step_extents[d] - 1)
                for a in range(n_axes):
                    tile[a] = min(tile[a], full[t, a])
                    origin[a] = min(origin[a], full[t, a] - tile[a])
                run_bytes = tile[inner[t]] * strides[t, inner[t]]
                while True:
                    address = base[t]
                    for a in range(n_axes):
                        address += (origin[a] + (0 if a == inner[t] else count[a])) * strides[t, a]
                    for line in range(address // line_bytes, (address + run_bytes - 1) // line_bytes + 1):
                        counter += 1
                        if not _access(tags, line, counter):
                            misses[step_class] += 1
                            if behind:
                                llc_counter += 1
                                if not _access(llc, line * line_bytes // llc_bytes, llc_counter):
                                    llc_misses[step_class] += 1
                    if beat_bytes > 0 and t != outputs:
                        left = run_bytes
                        at = address
                        while left > 0:
                            piece = min(left, request_bytes)
                            beats[step_class] += read_beats(at, piece, beat_bytes, line_bytes)[1]
                            at += piece
                            left -= piece
                    k = n_axes - 1
                    while k >= 0:
                        a = nesting[t, k]
                        if a != inner[t]:
                            count[a] += 1
                            if count[a] < tile[a]:
                                break
                            count[a] = 0
                        k -= 1
                    if k < 0:
                        break
            if run == 1:
                key = (step_class, misses[step_class] - missed_before, llc_misses[step_class] - behind_before,
                       beats[step_class] - beats_before, 1 if reduction_done else 0)
                if key in tally:
                    tally[key] += 1
                else:
                    tally[key] = 1
            k = n - 1
            while k >= 0:
                index[k] += 1
                if index[k] < ends[k]:
                    break
                index[k] = 0
                k -= 1
            if k < 0:
                break
    keys = np.zeros((len(tally), 5), np.int64)
    counts = np.zeros(len(tally), np.int64)
    i = 0
    for key, count in tally.items():
        for j in range(5):
            keys[i, j] = key[j]
        counts[i] = count
        i += 1
    return misses, llc_misses, beats, keys, counts
