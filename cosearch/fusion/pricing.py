"""What a layer run with resident tensors costs on the chip, fast: the resident planner prices thousands of
mappings per network and design (`view.Residency.priced`).

`accel_models.explain_rehomed` is the reference (held equal to this to the last bit by
tests/cosearch/fusion/test_pricing.py): it evaluates the mapping on the view with the compiled kernel, then walks
the mapping's checks and tiles in Python (`reference.check_mapping`), and prices the moved counts with
`reference.result_from_counts`, building a whole readable `EvalResult`; about 2-3 ms a mapping, a fifth of a resident
trial's CPU. This module keeps the kernel's counts and restates, on [levels, 3] arrays with numpy, the three
things a price needs: the home level's tile words (`geometry.tile_words`, the tile rule's batch form), whether
every instance does equal work (rule F9, `reference.uniform_instances`), and energy (R8) and cycles (R7) from the
moved per-instance counts, operation for operation as `result_from_counts` does them (the same IEEE operations in
the same order, so the same bits). Mappings whose instances do unequal work (residual factors under a fan-out:
per-instance counts) go to the reference.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from accel_models import TENSORS, Accelerator, evaluate_batch, explain_rehomed
from accel_models.geometry import accelerator_arrays, layer_arrays, tile_words
from accel_models.mapping_arrays import MappingArrays


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


def rehomed_price(layer, accelerator: Accelerator, view: Accelerator, arrays: MappingArrays, home: int,
                  resident: tuple[int, ...]) -> Price | None:
    """The price of mapping 0 of `arrays` (counted on `view`) on `accelerator` with the tensors `resident` living
    in level `home` (the arguments of `accel_models.explain_rehomed`, whose numbers these are); None if the
    mapping is not valid on `view`."""
    arrays = arrays.row(0).with_residuals()
    res = evaluate_batch(layer, view, arrays)
    if not res.valid[0]:
        return None
    tiles = home_tile_words(layer, view, arrays, home)
    if not uniform_instances(arrays):
        ev = explain_rehomed(layer, accelerator, view, arrays, home, resident)
        return Price(int(ev.cycles), float(ev.energy_pj), float(ev.reads[0].sum() + ev.updates[0].sum()), tiles)
    L = accelerator.num_levels
    used = np.ones(L, dtype=np.int64)
    spread = arrays.spatial_x[0].prod(axis=1) * arrays.spatial_y[0].prod(axis=1)
    used[1:] = np.cumprod(spread[:-1])
    inst = used.astype(float)[:, None]
    reads, fills, updates = (np.array(c[0], dtype=float) / inst for c in (res.reads, res.fills, res.updates))
    keep = arrays.keep[0].astype(bool)
    for t in resident:                # level 0 and the home level have one instance each
        for c in (reads, fills, updates):
            c[home, t] += c[0, t]
            c[0, t] = 0.0
        keep[home, t] = True
    p = _prices(accelerator)
    kept = keep & p.keeps
    compute_cycles = int(res.compute_cycles[0])
    # R8: per instance, action and tensor whole blocks; charged to the instances in use, at most one per cluster
    blk = p.block[:, None]
    charged = np.minimum(used, p.clusters)[:, None]
    tensor_energy = np.where(kept, charged * (np.ceil(reads / blk) * p.pj[:, 0:1] + np.ceil(fills / blk) * p.pj[:, 1:2]
                                              + np.ceil(updates / blk) * p.pj[:, 2:3]), 0.0)
    # R7: read and write rates summed over the kept tensors in tensor order, each divided first
    r_q = np.where(kept, reads / compute_cycles, 0.0)
    w_q = np.where(kept, (fills + updates) / compute_cycles, 0.0)
    r_rate = r_q[:, 0] + r_q[:, 1] + r_q[:, 2]
    w_rate = w_q[:, 0] + w_q[:, 1] + w_q[:, 2]
    bw = p.bandwidth
    slow = np.ones(L)
    with np.errstate(divide="ignore", invalid="ignore"):
        for limit, rate in ((bw[:, 0], r_rate), (bw[:, 1], w_rate), (bw[:, 2], r_rate + w_rate)):
            slow = np.where((limit >= 0) & (limit < rate), np.minimum(slow, limit / rate), slow)
    cycles = int(max(int(np.ceil(compute_cycles / s)) for s in slow))
    level_energy = tensor_energy.sum(axis=1)
    level_energy += p.leak_pj * cycles
    energy = float(level_energy.sum() + layer.macs * p.mac_energy_pj)
    dram = float((reads[0] * used[0]).sum() + (updates[0] * used[0]).sum())
    return Price(cycles, energy, dram, tiles)


__all__ = ["Price", "home_tile_words", "rehomed_price", "uniform_instances"]
