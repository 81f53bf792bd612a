"""`evaluate_batch`: the compiled cost model on many mappings of one layer (see `kernel`); `explain`: one, readable."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nets import Layer

from . import kernel
from .accelerator import Accelerator
from .geometry import accelerator_arrays, layer_arrays
from .mapping_arrays import MappingArrays
from .reference import check_mapping, result_from_counts, tensor_axes
from .result import REASONS, EvalResult


PARALLEL_MIN_BATCH = 16_384
"""Smaller batches run on the calling thread: waking numba's worker threads costs ~1-20 ms per call
on a busy 2-core machine, more than the kernel spends on thousands of mappings."""


@dataclass
class BatchResult:
    """Arrays over a batch of B mappings; counts are totals over instances, in words, [B, levels, 3]."""

    valid: np.ndarray
    reason: np.ndarray
    cycles: np.ndarray
    energy_pj: np.ndarray
    utilization: np.ndarray
    compute_cycles: np.ndarray
    reads: np.ndarray
    fills: np.ndarray
    updates: np.ndarray

    @property
    def edp_pj_cycles(self) -> np.ndarray:
        """Energy x cycles; +inf for invalid mappings so that argmin never picks them."""
        return np.where(self.valid, self.energy_pj * self.cycles, np.inf)

    def reason_text(self, b: int) -> str:
        return REASONS[int(self.reason[b])]


def evaluate_batch(layer: Layer, accelerator: Accelerator, mappings) -> BatchResult:
    """Evaluate a batch of mappings of `layer` on `accelerator` (a `MappingArrays`, or a list of
    objects with `.to_arrays(accelerator)` such as `mappings.Mapping`).

    Invalid mappings come back with valid=False and a reason code (see `result.REASONS`).
    """
    if not isinstance(mappings, MappingArrays):
        mappings = MappingArrays.concatenate([m.to_arrays(accelerator) for m in mappings])
    if mappings.num_levels != accelerator.num_levels:
        raise ValueError(f"evaluate_batch: mappings have {mappings.num_levels} levels, accelerator "
                         f"{accelerator.name!r} has {accelerator.num_levels}")
    if mappings.num_levels > kernel.MAX_LEVELS:
        raise ValueError(f"evaluate_batch: at most {kernel.MAX_LEVELS} storage levels are supported, "
                         f"got {mappings.num_levels}")
    shapes = {a.shape for a in mappings[:5]}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != 8 \
            or mappings.keep.shape != mappings.temporal.shape[:2] + (3,):
        raise ValueError("evaluate_batch: MappingArrays fields must be [B, levels, 8] (keep: [B, levels, 3]), "
                         f"got {[a.shape for a in mappings]}")
    m = mappings.contiguous()
    run = kernel.evaluate_batch_parallel if m.batch_size >= PARALLEL_MIN_BATCH else kernel.evaluate_batch_serial
    reason, cycles, energy, util, cc, reads, fills, updates = run(layer_arrays(layer), accelerator_arrays(accelerator), m)
    return BatchResult(reason == 0, reason, cycles, energy, util, cc, reads, fills, updates)


def explain(layer: Layer, accelerator: Accelerator, mapping) -> EvalResult:
    """One mapping through the kernel, returned as a readable `EvalResult` with a per-level breakdown
    (`.breakdown()`): the same numbers as `reference.evaluate`, without its slow walk."""
    arrays = mapping if isinstance(mapping, MappingArrays) else mapping.to_arrays(accelerator)
    arrays = arrays.row(0)
    res = evaluate_batch(layer, accelerator, arrays)
    reason, tiles, _ = check_mapping(layer, accelerator, arrays, 0, tensor_axes(layer))
    if not res.valid[0]:
        return EvalResult(False, int(res.reason[0]), REASONS[int(res.reason[0])], accelerator.level_names,
                          layer.macs, tile_words=tiles)
    L = accelerator.num_levels
    used = [1] * (L + 1)
    for l in range(L):
        used[l + 1] = used[l] * int(np.prod(arrays.spatial_x[0, l]) * np.prod(arrays.spatial_y[0, l]))
    inst = np.array(used[:L], dtype=float)[:, None]
    return result_from_counts(layer, accelerator, arrays, 0, res.reads[0] / inst, res.fills[0] / inst,
                              res.updates[0] / inst, used, tiles, int(res.compute_cycles[0]), np.zeros((L, 3)))
