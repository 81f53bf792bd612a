"""A layer's price in every residency context from one evaluation: what the subnet search's screen plans with.

The resident planner prices a layer's layer-wise mapping moved onto each view it meets (`view.Residency`): the home
level keeps no tile of the resident tensors, which are homed there (rule H, docs/cost_model.md). A screen plan
(`screen.screen_totals`) meets a new layer shape at almost every layer of a new subnet, and a kernel call per
(shape, resident set) costs more than the rest of its plan. Here one kernel call of two mappings serves all eight
resident sets of a shape:

- the layer-wise mapping (`base`), and the same mapping with no tile kept in the home level (`bypassed`);
- a tensor's counts depend on its own keep flags alone (rules R2-R6 count each tensor on its own), so the moved
  mapping's counts are the base's for the tensors that stay in DRAM and the bypassed mapping's for the resident
  ones; levels below the home count the same in both (rule H: what sits above them does not change their fills);
- rule H then charges a resident tensor's level-0 actions at the home level (its blocks and energies, R8) and
  level 0 moves none of it; level 0 and the home level have one instance each, so their per-tensor energies and
  rates are exact from the kernel's totals;
- cycles (R7): level 0's and the home level's rates are recomputed from those counts; the levels below keep their
  cycles, taken from the base mapping's counts averaged over their instances (exact where instances do equal work).

So a context's energy is the kernel's up to the order of the floating-point additions and its cycles are the
kernel's where the levels below the home level do equal work per instance (`tests/cosearch/fusion/
test_screen.py` holds both to `pricing.homed_price` on random subnets). The bypassed mapping's own contexts (no tile
in the home level: where the moved mapping's tiles do not fit the room left) are priced the same way from its counts.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from accel_models import Accelerator
from accel_models.geometry import accelerator_arrays
from accel_models.jit import compile_for
from accel_models.mapping_arrays import MappingArrays

from .pricing import home_tile_words_by_tensor, kernel_counts, stream_cycles


class ContextPrices(NamedTuple):
    """A layer shape's runs in every resident set (the last index: the set's bit mask), from one kernel call; the
    first index of the [2, 8] arrays is the mapping: 0 the layer-wise mapping moved onto the view, 1 the one with no
    tile in the home level (`valid[1]` False where that one is not valid).

    cycles, energy_pj [2, 8]; tile_words [8]: the words of the moved mapping's tiles in the home level (it fits a
    context whose free capacity holds them; the other keeps none there); dram_read_words, dram_written_words
    [2, 8, 3]: level 0's words per tensor, for R7 when a plan streams more words from DRAM (`plan.PlanTraffic`);
    compute_cycles."""

    valid: np.ndarray
    cycles: np.ndarray
    energy_pj: np.ndarray
    tile_words: np.ndarray
    dram_read_words: np.ndarray
    dram_written_words: np.ndarray
    compute_cycles: int


@njit(cache=True)
def _blocks_pj(energy, block, reads, fills, updates) -> float:
    """R8 for one instance of one (level, tensor): whole blocks per action at the level's read, fill and update
    energies."""
    return (math.ceil(reads / block) * energy[0] + math.ceil(fills / block) * energy[1]
            + math.ceil(updates / block) * energy[2])


@njit(cache=True)
def _context_table(reason, cycles, energy, reads, fills, updates, used, compute_cycles, home, bw, block, pj, leak,
                   tiles, valid, out_cycles, out_energy, out_tiles, out_read, out_written):
    """The module docstring's rule over the kernel's outputs for the two mappings (`reads`, `fills`, `updates`
    [2, L, 3]: totals over instances; `used` [L]: the instances each level uses), into the out arrays."""
    inner = math.ceil(float(compute_cycles))
    for l in range(reads.shape[1]):        # the levels below the home level: as the base mapping counts them
        if l != 0 and l != home:
            c = stream_cycles(bw[l], reads[0, l] / used[l], (fills[0, l] + updates[0, l]) / used[l], 0.0,
                              compute_cycles)
            inner = max(inner, c)
    r0 = np.zeros(3)
    w0 = np.zeros(3)
    rh = np.zeros(3)
    wh = np.zeros(3)
    for m in range(2):
        valid[m] = reason[m] == 0
        if not valid[m]:
            continue
        for mask in range(8):
            e = energy[m] - leak * cycles[m]
            for t in range(3):
                r, f, u = reads[m, 0, t], fills[m, 0, t], updates[m, 0, t]
                hr, hf, hu = reads[m, home, t], fills[m, home, t], updates[m, home, t]
                if mask >> t & 1:
                    e -= _blocks_pj(pj[0], block[0], r, f, u) + _blocks_pj(pj[home], block[home], hr, hf, hu)
                    r, u = reads[1, 0, t], updates[1, 0, t]    # what the levels below ask of the tensor's home
                    e += _blocks_pj(pj[home], block[home], r, 0.0, u)
                    r0[t] = 0.0
                    w0[t] = 0.0
                    rh[t] = r
                    wh[t] = u
                else:
                    r0[t] = r
                    w0[t] = f + u
                    rh[t] = hr
                    wh[t] = hf + hu
                out_read[m, mask, t] = r0[t]
                out_written[m, mask, t] = w0[t]
            c = max(inner, stream_cycles(bw[0], r0, w0, 0.0, compute_cycles),
                    stream_cycles(bw[home], rh, wh, 0.0, compute_cycles))
            out_cycles[m, mask] = c
            out_energy[m, mask] = e + leak * c
    for mask in range(8):
        words = 0
        for t in range(3):
            if not mask >> t & 1:
                words += tiles[t]
        out_tiles[mask] = words


def _instances(arrays: MappingArrays, row: int) -> np.ndarray:
    """Per level, the instances mapping `row` uses: the spatial ends of the levels above it."""
    fan = (arrays.spatial_x[row] * arrays.spatial_y[row]).prod(axis=1).astype(np.float64)
    return np.concatenate(([1.0], np.cumprod(fan)[:-1]))


def context_prices(layer, accelerator: Accelerator, arrays: MappingArrays, home: int) -> ContextPrices | None:
    """`ContextPrices` of mapping 0 of `arrays` (a mapping of `layer` on `accelerator`, whose level `home` is the
    home level: one instance, below level 0 alone); None if it is not valid."""
    arrays = arrays.row(0).with_residuals()
    keep = np.concatenate((arrays.keep, arrays.keep))
    keep[1, home, :] = 0
    both = MappingArrays(*(keep if name == "keep" else np.concatenate((a, a))
                           for name, a in zip(MappingArrays._fields, arrays)))
    aa = accelerator_arrays(accelerator)
    reason, cycles, energy, _, compute, reads, fills, updates = kernel_counts(layer, accelerator, both)
    if reason[0] != 0:
        return None
    tiles = np.array(home_tile_words_by_tensor(layer, accelerator, arrays, home), dtype=np.int64)
    valid = np.zeros(2, dtype=np.bool_)
    out_cycles, out_energy = np.zeros((2, 8), dtype=np.int64), np.full((2, 8), np.nan)
    out_tiles = np.zeros(8, dtype=np.int64)
    out_read, out_written = np.zeros((2, 8, 3)), np.zeros((2, 8, 3))
    _context_table(reason, cycles, energy, reads, fills, updates, _instances(both, 0), int(compute[0]), home,
                   aa.bandwidth, aa.block_words, aa.energy_pj, aa.leak_pj, tiles, valid, out_cycles, out_energy,
                   out_tiles, out_read, out_written)
    return ContextPrices(valid, out_cycles, out_energy, out_tiles, out_read, out_written, int(compute[0]))


def context_table_run():
    """A compile plan step's `run` (`accel_models.jit.compile_for`) that compiles `_context_table` for the types
    `context_prices` passes."""
    i64, f64, f64_3 = np.zeros(2, dtype=np.int64), np.zeros(2), np.zeros((2, 3, 3))
    return compile_for(_context_table, i64, i64, f64, f64_3, f64_3, f64_3, np.zeros(3), 1, 1, np.zeros((3, 3)),
                       np.zeros(3), np.zeros((3, 3)), 1.0, np.zeros(3, dtype=np.int64), np.zeros(2, dtype=np.bool_),
                       np.zeros((2, 8), dtype=np.int64), np.zeros((2, 8)), np.zeros(8, dtype=np.int64),
                       np.zeros((2, 8, 3)), np.zeros((2, 8, 3)))


__all__ = ["ContextPrices", "context_prices", "context_table_run"]
