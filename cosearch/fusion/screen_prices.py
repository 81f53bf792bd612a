"""A layer's price in every residency context from one evaluation: what the subnet search's screen plans with.

The resident planner prices a layer's layer-wise mapping moved onto each view it meets (`view.Residency`): the home
level keeps no tile of the resident tensors, which are homed there (rule H, docs/cost_model.md). A screen plan
(`modes.resident_screen.screen_totals`) meets a new layer shape at almost every layer of a new subnet, and a kernel
call per (shape, resident set) costs more than the rest of its plan. Here one evaluation of two mappings serves all
eight resident sets of a shape, and one compiled call (`price_shapes`) prices all the new shapes of a network:

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
test_screen_prices.py` holds both to `view.Residency.priced`, the kernel on each view). The bypassed mapping's own contexts (no tile
in the home level: where the moved mapping's tiles do not fit the room left) are priced the same way from its counts.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from accel_models import Accelerator, get_preset
from accel_models.geometry import LayerArrays, accelerator_arrays, box, layer_arrays
from accel_models.jit import compile_for, residual_paths
from accel_models.kernel import evaluate_range, make_workspace, max_children, new_outputs
from accel_models.mapping_arrays import MAPPING_DTYPE, N_DIMS, N_TENSORS, MappingArrays
from nets import N_AXES, Layer

from .pricing import stream_cycles


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


@njit(cache=True)
def _price_shapes(slots, bounds, coef, ax, co, acc, maps, out, paths, max_children_, home, valid, cycles, energy,
                  tiles, read, written, compute):
    """Shape i's two mappings (rows 2i and 2i + 1 of `maps`: the layer-wise one and the same with no tile in the home
    level) through the kernel's driver, then the module docstring's rule into row `slots[i]` of the table arrays
    (`valid` [n, 2], `cycles` and `energy` [n, 2, 8], `tiles` [n, 8], `read` and `written` [n, 2, 8, 3], `compute`
    [n]). Shape i's layer: `bounds[i]`, `coef[i]`, `ax[i]`, `co[i]` (`geometry.LayerArrays`). The driver is called
    from here, so that a shape costs its two evaluations, not a Python call of the driver (~50 us, most of it the
    unboxing of its arguments); compiling this links the driver's code (a few seconds of CPU once: a compile step).
    One workspace serves every shape, as one serves a search's mappings one after the other (the kernel stamps its
    memos and hash tables per sweep): a new one per shape, ~1 MB of hash slots zeroed on a large array's fan-out,
    cost about as much as the shape's two evaluations."""
    L = maps.temporal.shape[1]
    extents = np.empty(N_DIMS, dtype=np.int64)
    axes = np.empty(N_AXES, dtype=np.int64)
    tile = np.zeros(N_TENSORS, dtype=np.int64)
    used = np.empty(L)
    workspace = make_workspace(L, max_children_)
    for i in range(slots.shape[0]):
        s = slots[i]
        a, b = 2 * i, 2 * i + 2
        evaluate_range(np.int64(a), np.int64(b), LayerArrays(bounds[i], coef[i], ax[i], co[i]), acc, maps, out,
                       workspace, paths)
        valid[s, 0] = False
        valid[s, 1] = False
        if out.reason[a] != 0:
            continue
        used[0] = 1.0
        for l in range(1, L):           # the instances a level uses: the spatial ends of the levels above it
            fan = 1.0
            for d in range(N_DIMS):
                fan *= maps.spatial_x[a, l - 1, d] * maps.spatial_y[a, l - 1, d]
            used[l] = used[l - 1] * fan
        for d in range(N_DIMS):         # rule F6: the home level's tile extents, at most the bounds
            e = 1
            for l in range(home, L):
                e *= maps.temporal[a, l, d] * maps.spatial_x[a, l, d] * maps.spatial_y[a, l, d]
            extents[d] = min(e, bounds[i, d])
        for t in range(N_TENSORS):
            tile[t] = box(t, extents, coef[i], axes) if maps.keep[a, home, t] and acc.keeps[home, t] else 0
        _context_table(out.reason[a:b], out.cycles[a:b], out.energy_pj[a:b], out.reads[a:b], out.fills[a:b],
                       out.updates[a:b], used, out.compute_cycles[a], home, acc.bandwidth, acc.block_words,
                       acc.energy_pj, acc.leak_pj, tile, valid[s], cycles[s], energy[s], tiles[s], read[s],
                       written[s])
        compute[s] = out.compute_cycles[a]


_KEEP = MappingArrays._fields.index("keep")


def _shape_args(layers, accelerator: Accelerator, mappings: list, home: int) -> tuple:
    """`_price_shapes`' arguments after `slots` and before the table's, for mapping 0 of each of `mappings` (one per
    layer of `layers`)."""
    n, levels = len(mappings), mappings[0].num_levels
    both = MappingArrays(*(np.zeros((2 * n, levels, N_DIMS if f != _KEEP else N_TENSORS), dtype=MAPPING_DTYPE)
                           for f in range(len(MappingArrays._fields))))
    for f, field in enumerate(both):        # mapping 0 of each, in rows 2i and 2i + 1 (a residual None stays 0)
        for i, m in enumerate(mappings):
            if m[f] is not None:
                field[2 * i:2 * i + 2] = m[f][0]
    both.keep[1::2, home, :] = 0
    shapes = [layer_arrays(layer) for layer in layers]
    ax, co = np.stack([la.ax for la in shapes]), np.stack([la.co for la in shapes])
    ax.flags.writeable = co.flags.writeable = False       # the driver's type: read-only projection tables
    aa = accelerator_arrays(accelerator)
    return (np.stack([la.bounds for la in shapes]), np.stack([la.coef for la in shapes]), ax, co, aa, both,
            new_outputs.py_func(2 * n, levels), residual_paths(shapes[0], aa),
            max_children.py_func(aa.fanout), home)


class PriceRows(NamedTuple):
    """A table of shapes' prices, one row per shape, as `price_shapes` fills them: `ContextPrices`' fields with a
    leading row index (`energy` its `energy_pj`, `read` and `written` its DRAM words, `compute` its compute cycles)."""

    valid: np.ndarray
    cycles: np.ndarray
    energy: np.ndarray
    tiles: np.ndarray
    read: np.ndarray
    written: np.ndarray
    compute: np.ndarray

    @classmethod
    def empty(cls, n: int) -> "PriceRows":
        return cls(np.zeros((n, 2), dtype=np.bool_), np.zeros((n, 2, 8), dtype=np.int64), np.full((n, 2, 8), np.nan),
                   np.zeros((n, 8), dtype=np.int64), np.zeros((n, 2, 8, 3)), np.zeros((n, 2, 8, 3)),
                   np.zeros(n, dtype=np.int64))


def price_shapes(layers, accelerator: Accelerator, mappings: list, home: int, slots: np.ndarray,
                 table: PriceRows) -> None:
    """Price each layer of `layers` in every resident set (its mapping: mapping 0 of the same entry of `mappings`, a
    mapping of it on `accelerator`, whose level `home` is the home level: one instance, below level 0 alone), into
    row `slots[i]` of `table`; `table.valid[slot, 0]` is False where the mapping is not valid."""
    if len(layers):
        _price_shapes(np.asarray(slots, dtype=np.int64), *_shape_args(layers, accelerator, mappings, home), *table)


def context_prices(layer, accelerator: Accelerator, arrays: MappingArrays, home: int) -> ContextPrices | None:
    """`ContextPrices` of mapping 0 of `arrays` (a mapping of `layer` on `accelerator`, whose level `home` is the
    home level: one instance, below level 0 alone); None if it is not valid."""
    rows = PriceRows.empty(1)
    price_shapes([layer], accelerator, [arrays], home, np.zeros(1, dtype=np.int64), rows)
    if not rows.valid[0, 0]:
        return None
    return ContextPrices(rows.valid[0], rows.cycles[0], rows.energy[0], rows.tiles[0], rows.read[0],
                         rows.written[0], int(rows.compute[0]))


def price_shapes_run():
    """A compile plan step's `run` (`accel_models.jit.compile_for`): `_price_shapes`, and the context table it calls,
    for the types `price_shapes` passes (those of a small layer's mapping on a preset)."""
    layer, accelerator = Layer.conv(8, 8, 3, 8, name="compile"), get_preset("eyeriss")
    mapping = MappingArrays.empty(1, accelerator.num_levels)
    return compile_for(_price_shapes, np.zeros(1, dtype=np.int64),
                       *_shape_args([layer], accelerator, [mapping], 1), *PriceRows.empty(1))


__all__ = ["ContextPrices", "PriceRows", "context_prices", "price_shapes", "price_shapes_run"]
