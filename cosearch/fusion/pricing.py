"""What a layer run with resident tensors costs on the chip, fast: the resident planner prices thousands of
mappings per network and design (`view.Residency.priced`).

`accel_models.explain_rehomed` is the reference (held equal to this to the last bit by
tests/cosearch/fusion/test_pricing.py): it evaluates the mapping on the view with the compiled kernel, then walks
the mapping's checks and tiles in Python (`reference.check_mapping`), and prices the moved counts with
`reference.result_from_counts`, building a whole readable `EvalResult`; 0.5 ms a mapping (uniform instances; tens of ms with
per-instance counts on a large array), a fifth of a resident trial's CPU. This module keeps the kernel's counts and restates, on [levels, 3] arrays with numpy, the three
things a price needs: the home level's tile words (`geometry.tile_words`, the tile rule's batch form), whether
every instance does equal work (rule F9, `reference.uniform_instances`), and energy (R8) and cycles (R7) from the
moved per-instance counts, operation for operation as `result_from_counts` does them (the same IEEE operations in
the same order, so the same bits). Where instances do unequal work (residual factors under a fan-out) the counts
are the kernel's per class of instances (`kernel.instance_classes`, as `explain` takes them) with the class's
instances as a weight, where the reference repeats a row per instance (thousands on a large array).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from accel_models import Accelerator, evaluate_batch
from accel_models.geometry import accelerator_arrays, layer_arrays, tile_words
from accel_models.kernel import instance_classes
from accel_models.mapping_arrays import MappingArrays
from accel_models.numba_cache import ensure_fresh_kernel_cache


class Price(NamedTuple):
    """A run's price on the chip: cycles, energy (pJ), DRAM words read and written, and the words of the tiles the
    mapping keeps in the home level (on the view)."""

    cycles: int
    energy_pj: float
    dram_words: float
    home_tile_words: int


class _Prices(NamedTuple):
    keeps: np.ndarray          # [L, 3] bool: the level may keep the tensor
    block: np.ndarray          # [L] words per block
    pj: np.ndarray             # [L, 3]: read, fill (write), update energy per block
    bandwidth: np.ndarray      # [L, 3]: read, write, shared words/cycle per instance; < 0 none
    clusters: np.ndarray       # [L] int: instances / cluster size, at least 1
    leak_pj: np.ndarray        # [L]: leakage per cycle of all the level's instances
    mac_energy_pj: float


@lru_cache(maxsize=64)
def _prices(accelerator: Accelerator) -> _Prices:
    arrays = accelerator_arrays(accelerator)
    return _Prices(arrays.keeps.astype(bool), arrays.block_words, arrays.energy_pj, arrays.bandwidth,
                   np.array([max(1, accelerator.instances(l) // lv.cluster_size)
                             for l, lv in enumerate(accelerator.levels)], dtype=np.int64),
                   np.array([lv.leak_energy_pj * accelerator.instances(l) for l, lv in enumerate(accelerator.levels)]),
                   float(accelerator.mac_energy_pj))


def uniform_instances(arrays: MappingArrays) -> bool:
    """Rule F9 on mapping 0 of `arrays` (with residual arrays), `reference.uniform_instances` in numpy: False if
    a spatial loop has a residual, or a residual loop lies below (inside) a spatial loop of its dim with an end
    above 1."""
    ends = np.stack((arrays.temporal[0], arrays.spatial_y[0], arrays.spatial_x[0]), axis=1)         # [L, 3, 8]
    res = np.stack((arrays.temporal_residual[0], arrays.spatial_y_residual[0], arrays.spatial_x_residual[0]), axis=1)
    ends, res = ends.reshape(-1, ends.shape[-1]), res.reshape(-1, res.shape[-1])   # loops outermost first, per dim
    residual = (res != 0) & (res != ends)
    spatial = np.tile(np.array([False, True, True]), len(ends) // 3)[:, None]
    spread = spatial & (ends > 1)
    below_spread = (np.cumsum(spread, axis=0) - spread) > 0
    return not (residual & (spatial | below_spread)).any()


def home_tile_words(layer, view: Accelerator, arrays: MappingArrays, home: int) -> int:
    """The words of the tiles mapping 0 of `arrays` keeps in level `home` of `view` (rule F6: each dim's extent is
    the product of its loop ends at and below the level, at most its bound)."""
    la = layer_arrays(layer)
    ends = (arrays.temporal[0, home:] * arrays.spatial_x[0, home:] * arrays.spatial_y[0, home:]).prod(axis=0)
    extents = np.minimum(ends, la.bounds)
    words = tile_words([int(e) for e in extents], la.ax, la.co)
    kept = arrays.keep[0, home].astype(bool) & _prices(view).keeps[home]
    return int(sum(w for w, k in zip(words, kept) if k))


def bandwidth_cycles(read_words: np.ndarray, written_words: np.ndarray, bandwidth: np.ndarray,
                     compute_cycles: int) -> np.ndarray:
    """Rule R7 (docs/cost_model.md) on arrays: the cycles of a level's instance that reads `read_words` and writes
    `written_words` ([..., T]: per stream, the tensors in tensor order, 0 for a tensor it does not keep) while the
    MACs take `compute_cycles`, with `bandwidth` ([..., 3], broadcast against [...]: read, write and shared words a
    cycle per instance, < 0 none). The read and write rates are each stream's words over the compute cycles summed in
    stream order (dividing first: summing the words first rounds differently), the slow-down is the least of
    limit / rate over the limits below their rates (the shared one against read + write), and the cycles are
    ceil(compute cycles / slow-down), as floats [...]. The same IEEE operations in the same order as
    `reference.result_from_counts`, so the same bits."""
    r_q, w_q = read_words / compute_cycles, written_words / compute_cycles
    r_rate, w_rate = r_q[..., 0], w_q[..., 0]
    for t in range(1, r_q.shape[-1]):
        r_rate, w_rate = r_rate + r_q[..., t], w_rate + w_q[..., t]
    slow = np.ones(np.shape(r_rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        for limit, rate in ((bandwidth[..., 0], r_rate), (bandwidth[..., 1], w_rate),
                            (bandwidth[..., 2], r_rate + w_rate)):
            slow = np.where((limit >= 0) & (limit < rate), np.minimum(slow, limit / rate), slow)
    return np.ceil(compute_cycles / slow)


def rehomed_price(layer, accelerator: Accelerator, view: Accelerator, arrays: MappingArrays, home: int,
                  resident: tuple[int, ...]) -> Price | None:
    """The price of mapping 0 of `arrays` (counted on `view`) on `accelerator` with the tensors `resident` living
    in level `home` (the arguments of `accel_models.explain_rehomed`, whose numbers these are); None if the
    mapping is not valid on `view`."""
    ensure_fresh_kernel_cache()     # before the compiled instance_classes below (evaluate_batch runs it too)
    arrays = arrays.row(0).with_residuals()
    res = evaluate_batch(layer, view, arrays)
    if not res.valid[0]:
        return None
    L = accelerator.num_levels
    used = np.ones(L, dtype=np.int64)
    spread = arrays.spatial_x[0].prod(axis=1) * arrays.spatial_y[0].prod(axis=1)
    used[1:] = np.cumprod(spread[:-1])
    if uniform_instances(arrays):   # one row per level stands for each of its instances
        rows = np.stack((res.reads[0], res.fills[0], res.updates[0])) / used.astype(float)[None, :, None]
        rows = rows[:, :, None, :]                                              # [action, L, 1, 3]
        weights = np.ones((L, 1), dtype=np.int64)
    else:                           # one row per class of instances doing equal work, and its instances
        _, start, per_class, rfu = instance_classes(layer_arrays(layer), accelerator_arrays(view), arrays)
        K = int(np.diff(start[:L + 1]).max())
        rows = np.zeros((3, L, K, 3))
        weights = np.zeros((L, K), dtype=np.int64)                              # 0: no such class
        for l in range(L):
            n = start[l + 1] - start[l]
            rows[:, l, :n] = rfu[start[l]:start[l + 1]].transpose(1, 0, 2)
            weights[l, :n] = per_class[start[l]:start[l + 1]]
    keep = arrays.keep[0].astype(bool)
    for t in resident:              # level 0 and the home level have one instance each: one row
        rows[:, home, 0, t] += rows[:, 0, 0, t]
        rows[:, 0, 0, t] = 0.0
        keep[home, t] = True
    p = _prices(accelerator)
    kept = (keep & p.keeps)[:, None, :]                                         # [L, 1, 3]
    compute_cycles = int(res.compute_cycles[0])
    # R8: per instance, action and tensor whole blocks, their mean over the level's instances (exact integer sums,
    # one division); charged to the instances in use, at most one per cluster
    whole_blocks = (np.ceil(rows / p.block[None, :, None, None]).astype(np.int64) * weights[None, :, :, None]).sum(axis=2)
    blocks = whole_blocks / weights.sum(axis=1)[None, :, None]                  # [action, L, 3]
    charged = np.minimum(used, p.clusters)[:, None]
    tensor_energy = np.where(kept[:, 0], charged * (blocks[0] * p.pj[:, 0:1] + blocks[1] * p.pj[:, 1:2]
                                                    + blocks[2] * p.pj[:, 2:3]), 0.0)
    # R7 per instance (class); a level's cycles are its slowest instance's
    instance_cycles = bandwidth_cycles(np.where(kept, rows[0], 0.0), np.where(kept, rows[1] + rows[2], 0.0),
                                       p.bandwidth[:, None, :], compute_cycles)            # [L, K]
    cycles = int(np.where(weights > 0, instance_cycles, 0.0).max())
    level_energy = tensor_energy.sum(axis=1)
    level_energy += p.leak_pj * cycles
    energy = float(level_energy.sum() + layer.macs * p.mac_energy_pj)
    dram = float((rows[0, 0, 0] * used[0]).sum() + (rows[2, 0, 0] * used[0]).sum())
    return Price(cycles, energy, dram, home_tile_words(layer, view, arrays, home))


__all__ = ["Price", "bandwidth_cycles", "home_tile_words", "rehomed_price", "uniform_instances"]
