"""What a layer run with resident tensors costs on the chip: the resident planner prices thousands of mappings per
network and design (`view.Residency.priced`).

A view (`view.Residency.view`) names the resident tensors' home level in its `Accelerator.tensor_homes`, so the
compiled kernel prices a mapping on it as the chip runs it, in one pass (rule H, docs/cost_model.md): the resident
tensors' outermost accesses are the home level's, nothing of them crosses DRAM. `accel_models.explain_rehomed`,
which counts on the view without homes and moves the counts in Python, is the reference (held equal by
tests/cosearch/fusion/test_pricing.py). This module adds what a plan needs beside the kernel's figures: the words
of the tiles a mapping keeps in the home level (`home_tile_words`, the tile rule's batch form) and R7 for one level
with one more read stream (`stream_cycles`, compiled), which the plan's DRAM-read charge and the compiled planner's
prices use.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from accel_models import Accelerator
from accel_models.geometry import accelerator_arrays, layer_arrays, tile_words
from accel_models.kernel import evaluate_batch_serial
from accel_models.mapping_arrays import MAPPING_DTYPE, MappingArrays


class Price(NamedTuple):
    """A run's price on the chip: cycles, energy (pJ), DRAM words read and written, and the words of the tiles the
    mapping keeps in the home level (on the view)."""

    cycles: int
    energy_pj: float
    dram_words: float
    home_tile_words: int


@lru_cache(maxsize=64)
def _keeps(accelerator: Accelerator) -> np.ndarray:
    return accelerator_arrays(accelerator).keeps.astype(bool)


def home_tile_words_by_tensor(layer, view: Accelerator, arrays: MappingArrays, home: int) -> tuple[int, int, int]:
    """The words of the tile of each tensor (Weights, Inputs, Outputs) mapping 0 of `arrays` keeps in level `home`
    of `view`, 0 where it keeps none (rule F6: each dim's extent is the product of its loop ends at and below the
    level, at most its bound)."""
    la = layer_arrays(layer)
    ends = (arrays.temporal[0, home:] * arrays.spatial_x[0, home:] * arrays.spatial_y[0, home:]).prod(axis=0)
    extents = np.minimum(ends, la.bounds)
    words = tile_words([int(e) for e in extents], la.ax, la.co)
    kept = arrays.keep[0, home].astype(bool) & _keeps(view)[home]
    return tuple(int(w) if k else 0 for w, k in zip(words, kept))


def home_tile_words(layer, view: Accelerator, arrays: MappingArrays, home: int) -> int:
    """The words of the tiles mapping 0 of `arrays` keeps in level `home` of `view` (`home_tile_words_by_tensor`,
    summed)."""
    return sum(home_tile_words_by_tensor(layer, view, arrays, home))


@njit(cache=True)
def stream_cycles(bw, read, written, extra_read, compute_cycles) -> int:
    """R7 for one level of one instance (the kernel's `level_cycles`, in the same operations): `read` and `written`
    [3] its words per tensor and `extra_read` words read as one more stream after them (0: none), `bw` [3] its
    read, write and shared words a cycle (< 0: no limit)."""
    if bw[0] < 0 and bw[1] < 0 and bw[2] < 0:
        return math.ceil(float(compute_cycles))
    r_rate = 0.0
    w_rate = 0.0
    for t in range(3):
        r_rate += read[t] / compute_cycles
        w_rate += written[t] / compute_cycles
    if extra_read:
        r_rate += extra_read / compute_cycles
        w_rate += 0.0 / compute_cycles
    slow = 1.0
    if 0 <= bw[0] < r_rate:
        slow = min(slow, bw[0] / r_rate)
    if 0 <= bw[1] < w_rate:
        slow = min(slow, bw[1] / w_rate)
    if 0 <= bw[2] < r_rate + w_rate:
        slow = min(slow, bw[2] / (r_rate + w_rate))
    return math.ceil(compute_cycles / slow)


def homed_price(layer, view: Accelerator, arrays: MappingArrays, home: int) -> Price | None:
    """The price on the chip of mapping 0 of `arrays` (with residual arrays, `MAPPING_DTYPE`) counted on `view`, a
    view whose `tensor_homes` put the resident tensors in level `home`: the compiled kernel's cycles, energy and
    DRAM words (rule H), and the words of the tiles it keeps in the home level; None if it is not valid on `view`."""
    reason, cycles, energy, _, _, reads, _, updates = kernel_counts(layer, view, arrays)
    if reason[0] != 0:
        return None
    dram = float(reads[0, 0].sum() + updates[0, 0].sum())
    return Price(int(cycles[0]), float(energy[0]), dram, home_tile_words(layer, view, arrays, home))


def dram_words(layer, accelerator: Accelerator, arrays: MappingArrays) -> float | None:
    """The words mapping 0 of `arrays` (with residual arrays) reads from and writes to DRAM (level 0's reads and
    updates, the kernel's counts: `explain`'s, without building its readable result); None if it is not valid."""
    reason, _, _, _, _, reads, _, updates = kernel_counts(layer, accelerator, arrays)
    return None if reason[0] != 0 else float(reads[0, 0].sum() + updates[0, 0].sum())


def kernel_counts(layer, accelerator: Accelerator, arrays: MappingArrays):
    """The kernel's outputs (`accel_models.kernel.Outputs`) for `arrays` (with residual arrays, any integer dtype) on
    `accelerator`, its entry called directly: the planner's mappings come from the mapper, already checked arrays."""
    if arrays.temporal.dtype != MAPPING_DTYPE:
        arrays = MappingArrays(*(np.ascontiguousarray(a, dtype=MAPPING_DTYPE) for a in arrays))
    return evaluate_batch_serial(layer_arrays(layer), accelerator_arrays(accelerator), arrays)


__all__ = ["Price", "dram_words", "home_tile_words", "home_tile_words_by_tensor", "homed_price", "kernel_counts",
           "stream_cycles"]
