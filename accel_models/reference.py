"""Pure-Python reference cost model: Timeloop's semantics as a literal walk over the loop iterations.

This follows the cost model's rules R1-R8 (`docs/cost_model.md`, which states them with worked examples) step
by step: every iteration of the loops above a level is visited and every tile delta is a set of points.
It is slow (seconds for a big layer) and exists to define the semantics and to check the compiled
kernel (`cost_model.evaluate_batch`), which counts the same things in closed form.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from nets import DIMS, Layer, axis_terms, check_layer

from .accelerator import TENSORS, Accelerator, check_accelerator
from .limits import check_countable
from .mapping_arrays import MappingArrays, bound_from_factors, dim_loops
from .result import (BAD_BYPASS, BAD_FACTORS, BAD_ORDER, BOTH_AXES, CAPACITY_OVERFLOW, OK, REASONS,
                     SPATIAL_OVERFLOW, SPATIAL_RESIDUAL, EvalResult)

W, I, O = range(3)


def tensor_axes(layer: Layer) -> list[list[list[tuple[int, int]]]]:
    """Per tensor, its axes; per axis, the (dim, coefficient) terms that index it (the layer's projections)."""
    return axis_terms(layer.coefficients)


@dataclass
class _Loop:
    level: int
    kind: str  # "T" temporal, "Y" / "X" spatial
    dim: int
    bound: int     # the loop's end (its regular iteration count)
    step: int = 1  # distance in the dim's coordinates between consecutive iterations


def loop_nest(arrays: MappingArrays, b: int = 0) -> list[_Loop]:
    """R1: the loop nest outermost first; per level its temporal loops, then Y loops, then X loops. A step is
    the product of the ends of the dim's loops inside: residual ends only cut the last block (F2)."""
    nest: list[_Loop] = []
    for l in range(arrays.num_levels):
        for d in arrays.order[b, l]:
            if arrays.temporal[b, l, d] > 1:
                nest.append(_Loop(l, "T", int(d), int(arrays.temporal[b, l, d])))
        for kind, fac in (("Y", arrays.spatial_y), ("X", arrays.spatial_x)):
            for d in arrays.spatial_order[b, l]:
                if fac[b, l, d] > 1:
                    nest.append(_Loop(l, kind, int(d), int(fac[b, l, d])))
    extent = [1] * len(DIMS)
    for loop in reversed(nest):
        loop.step = extent[loop.dim]
        extent[loop.dim] *= loop.bound
    return nest


def _box_extent(axes, dim_extent) -> tuple[int, ...]:
    return tuple(1 + sum((dim_extent[d] - 1) * c for d, c in axis) for axis in axes)


def _project(axes, dim_offset) -> tuple[int, ...]:
    return tuple(sum(dim_offset[d] * c for d, c in axis) for axis in axes)


def _box_points(lo, ext) -> frozenset:
    return frozenset(itertools.product(*(range(a, a + e) for a, e in zip(lo, ext))))


def _overlap(lo, ext, old_lo, old_ext) -> int:
    """Points common to two boxes (corner, extents)."""
    return math.prod(max(0, min(a + e, b + f) - max(a, b)) for a, e, b, f in zip(lo, ext, old_lo, old_ext))


class _Delta:
    """The set of points a tile step brings in: a new box minus (optionally) the previous box (whose extents
    differ from the new one's only when a residual loop clips one of them, F2)."""

    __slots__ = ("lo", "ext", "old_lo", "old_ext", "_points", "size")

    def __init__(self, lo, ext, old_lo, old_ext=None):
        old_ext = ext if old_ext is None else old_ext
        self.lo, self.ext, self.old_lo, self.old_ext = lo, ext, old_lo, old_ext
        full = math.prod(ext)
        self.size = full if old_lo is None else full - _overlap(lo, ext, old_lo, old_ext)
        self._points = None

    def points(self) -> frozenset:
        if self._points is None:
            new = _box_points(self.lo, self.ext)
            self._points = new if self.old_lo is None else new - _box_points(self.old_lo, self.old_ext)
        return self._points

    def shifted_equals(self, other: "_Delta", shift) -> bool:
        """Is self == other + shift as point sets?"""
        if self.size != other.size:
            return False
        if self.size == 0:
            return True
        return self.points() == frozenset(tuple(p + s for p, s in zip(q, shift)) for q in other.points())


def _iterations(loops: list[_Loop], bounds, origin=None):
    """The dim offsets of the iterations of `loops` (outermost first) that exist, in order (F2).

    A loop of ends e runs its residual r iterations exactly when its block would otherwise pass the dim's bound:
    r is the mixed-radix digit the bound equation (F3) fixes, so an iteration exists iff every dim's offset
    (from `origin`) stays below its bound. A perfect nest has every iteration.
    """
    base = list(origin) if origin is not None else [0] * len(DIMS)
    for idx in itertools.product(*(range(lp.bound) for lp in loops)):
        offset = list(base)
        for lp, i in zip(loops, idx):
            offset[lp.dim] += i * lp.step
        if all(o < b for o, b in zip(offset, bounds)):
            yield offset


def _clipped(full, bounds, offset) -> list[int]:
    """A tile's dim extents at `offset`: the full extents, cut at each bound (the residual tile, F2)."""
    return [min(f, b - o) for f, b, o in zip(full, bounds, offset)]


def _shrinks_at_most_one(prev_ext, ext) -> bool:
    """May a tile that moved by the last stride reuse its overlap with the previous one? Only if no axis lost more
    than one word of extent (a tile cut by a residual iteration, F2). A cut by two or more words brings the whole
    tile and forgets the stride, as Timeloop's step-by-step counts show on every temporal-class case of its
    imperfect-factorization corpus (`docs/imperfect.md`, "Cut tiles"); a cut by one word keeps the overlap."""
    return all(p - e <= 1 for p, e in zip(prev_ext, ext))


def _tile_stream(loops_above: list[_Loop], axes, full, bounds, is_mac: bool, origin=None):
    """R2: the sequence of deltas of a tile (one PE's copy) over the iterations of the loops above it.

    Yields a `_Delta` per iteration (the first is the whole tile). `full`: the tile's dim extents (the
    product of the ends at and below the level); a residual iteration's tile is that box cut at the bounds.
    A residual tile reuses its overlap with the previous tile by the same last-stride rule as a full one, unless
    the cut took two or more words off an axis (`_shrinks_at_most_one`).
    The MAC holds nothing between steps: its delta is its whole one-word operand every iteration (R4), moved
    or not, so it gets no reuse rule.
    """
    last_stride = None
    prev_lo = prev_ext = None
    ones = tuple(1 for _ in axes)
    for offset in _iterations(loops_above, bounds, origin):
        lo = _project(axes, offset)
        ext = ones if is_mac else _box_extent(axes, _clipped(full, bounds, offset))
        if prev_lo is None or is_mac:
            delta = _Delta(lo, ext, None)
        else:
            shift = tuple(a - b for a, b in zip(lo, prev_lo))
            if not any(shift) and ext == prev_ext:
                delta = _Delta(lo, (0,) * len(ext), None)
            elif last_stride is None or (last_stride == shift and _shrinks_at_most_one(prev_ext, ext)):
                delta = _Delta(lo, ext, prev_lo, prev_ext)
                last_stride = shift
            else:
                delta = _Delta(lo, ext, None)
                last_stride = None
        prev_lo, prev_ext = lo, ext
        yield delta


def _children(spatial_loops: list[_Loop], fanout_x: int, fanout_y: int, axes):
    """Child offsets (tensor coordinates) and their grid neighbours (R3) under one parent instance."""
    bounds = [lp.bound for lp in spatial_loops]
    offsets = []
    for idx in itertools.product(*(range(bd) for bd in bounds)):
        off = [0] * len(DIMS)
        for lp, i in zip(spatial_loops, idx):
            off[lp.dim] += i * lp.step
        offsets.append(_project(axes, off))
    n = len(offsets)
    width = max(fanout_x, math.prod(lp.bound for lp in spatial_loops if lp.kind == "X"))
    height = max(fanout_y, math.prod(lp.bound for lp in spatial_loops if lp.kind == "Y"))
    neighbours = []
    for k in range(n):
        x, y = k % width, k // width
        nb = []
        for nx, ny in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)):
            if 0 <= nx < width and 0 <= ny < height and ny * width + nx < n:
                nb.append(ny * width + nx)
        neighbours.append(nb)
    return offsets, neighbours


def _level_walk(nest, level, axes, full, bounds, is_mac, parent_spatial, parent_fanout):
    """Walk level `level`'s tile stream; return (fills per instance, parent accesses, link transfers).

    Parent accesses follow R3: per step, distinct child deltas are read once; links to a grid
    neighbour that held the same delta in the previous step are used when they lower the reads. Under a
    fan-out that feeds the MACs directly this holds for the MACs' operands as for any child's delta: a MAC
    whose operand did not move takes it from a neighbour that used the same word in the previous step, so
    the parent reads an operand only when it changes if every MAC has such a neighbour.
    """
    loops_above = [lp for lp in nest if lp.level < level and lp.kind == "T"]
    if parent_spatial:
        offsets, neighbours = _children(parent_spatial, *parent_fanout, axes)
    else:
        offsets, neighbours = [tuple(0 for _ in axes)], [[]]
    n_groups = len(set(offsets))
    fills = parent = links = 0
    prev = None
    for delta in _tile_stream(loops_above, axes, full, bounds, is_mac):
        size = delta.size
        fills += size
        if size == 0:
            prev = delta
            continue
        reads = n_groups * size
        if prev is not None and prev.size == size and len(offsets) > 1:
            served = []
            for k, nb in enumerate(neighbours):
                served.append(any(delta.shifted_equals(prev, tuple(a - b for a, b in zip(offsets[j], offsets[k])))
                                  for j in nb))
            if any(served):
                rest = len({o for o, s in zip(offsets, served) if not s}) * size
                if rest < reads:
                    reads = rest
                    links += sum(served) * size
        parent += reads
        prev = delta
    return fills, parent, links


def _kept(acc: Accelerator, arrays: MappingArrays, b: int, level: int, t: int) -> bool:
    """Does the level keep tensor t: the mapping keeps it and the architecture lets it?"""
    return bool(arrays.keep[b, level, t]) and TENSORS[t] in acc.levels[level].keeps


def factors_problem(arrays: MappingArrays, b: int, bounds) -> str | None:
    """Why mapping b's factors cannot cover the bounds (F3), or None: an end or residual below 1, a residual
    above its end, a residual on the outermost spatial loop of a dim, or loops whose bound equation
    (`mapping_arrays.bound_from_factors`) misses the dim's bound."""
    for d, name in enumerate(DIMS):
        loops = dim_loops(arrays, b, d)
        outer = True
        for l, kind, e, r in loops:
            if e < 1 or r < 1:
                return f"level {l}: {name} has a factor below 1 ({e},{r})"
            if r > e:
                return f"level {l}: {name}={e},{r} has a residual above its end"
            if outer and kind > 0 and r != e:
                return (f"level {l}: {name}={e},{r} is the outermost loop of {name} and spatial: "
                        "it cannot have a residual")
            outer &= e == 1
        got = bound_from_factors([(e, r) for _, _, e, r in loops])
        if got != bounds[d]:
            return f"the factors of {name} cover {got}, but the layer's {name} is {bounds[d]}"
    return None


def uniform_instances(arrays: MappingArrays, b: int) -> bool:
    """False if a spatial loop has a residual, or a residual loop lies below a spatial loop of its dim: then the
    instances under a fan-out do unequal work (Timeloop's 'spatial' class, whose counts it approximates, F9)."""
    for d in range(len(DIMS)):
        spread = False
        for l, kind, e, r in dim_loops(arrays, b, d):
            if r != e and (spread or kind > 0):
                return False
            spread |= kind > 0 and e > 1
    return True


def full_extents(nest: list[_Loop], level: int, bounds) -> list[int]:
    """F6: the dim extents of a level's tile: the product of the ends at and below it, at most the bound."""
    ext = [1] * len(DIMS)
    for lp in nest:
        if lp.level >= level:
            ext[lp.dim] *= lp.bound
    return [min(e, bd) for e, bd in zip(ext, bounds)]


def check_mapping(layer: Layer, acc: Accelerator, arrays: MappingArrays, b: int, axes_all) -> tuple[int, np.ndarray, list]:
    """(reason code, tile words [L, 3], loop nest): the checks Timeloop makes before any counting."""
    L = arrays.num_levels
    tiles = np.full((L, 3), -1.0)
    for l in range(L):
        for q in range(len(DIMS)):
            if min(arrays.temporal[b, l, q], arrays.spatial_x[b, l, q], arrays.spatial_y[b, l, q]) < 1:
                return BAD_FACTORS, tiles, []
            if not (0 <= arrays.order[b, l, q] < 8 and 0 <= arrays.spatial_order[b, l, q] < 8):
                return BAD_ORDER, tiles, []
        if sorted(arrays.order[b, l]) != list(range(8)) or sorted(arrays.spatial_order[b, l]) != list(range(8)):
            return BAD_ORDER, tiles, []
    if L != acc.num_levels or factors_problem(arrays, b, layer.bounds) is not None:
        return BAD_FACTORS, tiles, []
    if not all(arrays.keep[b, 0]):
        return BAD_BYPASS, tiles, []
    if ((arrays.spatial_x[b] > 1) & (arrays.spatial_y[b] > 1)).any():
        return BOTH_AXES, tiles, []
    # Spatial fan-out, innermost level first (Timeloop checks the MAC level first).
    for l in reversed(range(L)):
        lv = acc.levels[l]
        if math.prod(arrays.spatial_x[b, l]) > lv.fanout_x or math.prod(arrays.spatial_y[b, l]) > lv.fanout_y:
            return SPATIAL_OVERFLOW, tiles, []
    if not uniform_instances(arrays, b):
        return SPATIAL_RESIDUAL, tiles, []
    nest = loop_nest(arrays, b)
    for l in range(L):
        ext = full_extents(nest, l, layer.bounds)
        for t in range(3):
            if _kept(acc, arrays, b, l, t):
                tiles[l, t] = math.prod(_box_extent(axes_all[t], ext))
    for l in reversed(range(L)):
        lv = acc.levels[l]
        kept = [tiles[l, t] for t in range(3) if _kept(acc, arrays, b, l, t)]
        if lv.capacity_words is not None and sum(kept) > lv.capacity_words:
            return CAPACITY_OVERFLOW, tiles, nest
        if lv.tensor_capacity_words is not None:
            for t in range(3):
                cap = lv.tensor_capacity_words[t]
                if cap is not None and _kept(acc, arrays, b, l, t) and tiles[l, t] > cap:
                    return CAPACITY_OVERFLOW, tiles, nest
    return OK, tiles, nest


def evaluate(layer: Layer, accelerator: Accelerator, mapping, b: int = 0) -> EvalResult:
    """Evaluate one mapping (a `mappings.Mapping`, or row b of a `MappingArrays`) by walking its loops.

    Returns the same numbers as `evaluate_batch`, with a per-level breakdown (`result.breakdown()`).
    """
    check_layer("evaluate", layer), check_accelerator("evaluate", accelerator)
    check_countable("evaluate", layer, accelerator)
    arrays = mapping.to_arrays(accelerator) if hasattr(mapping, "to_arrays") else mapping
    acc = accelerator
    L = arrays.num_levels
    macs = layer.macs
    axes_all = tensor_axes(layer)
    reason, tiles, nest = check_mapping(layer, acc, arrays, b, axes_all)
    names = acc.level_names
    if reason != OK:
        return EvalResult(False, reason, REASONS[reason], names, macs, tile_words=tiles)

    # Per level: dim extents of its tile, its instances used, and its own spatial loops.
    used = [1] * (L + 1)
    for l in range(L):
        used[l + 1] = used[l] * int(np.prod(arrays.spatial_x[b, l]) * np.prod(arrays.spatial_y[b, l]))
    compute_cycles = int(np.prod(arrays.temporal[b]))

    reads = np.zeros((L, 3))
    fills = np.zeros((L, 3))
    updates = np.zeros((L, 3))
    links_at = np.zeros((L, 3))
    for t in range(3):
        axes = axes_all[t]
        # As if every level kept the tensor (R5): walk every level and the MAC.
        fill_stream = [0.0] * (L + 1)
        access = [0.0] * L      # accesses each level serves its children, per instance
        child_mcw = [0.0] * L   # the same weighted by multicast (children x their fills, less link-served)
        peer = [0.0] * (L + 1)  # per-instance peer fills / reads from link transfers
        link_total = [0.0] * L
        for lvl in range(1, L + 1):
            is_mac = lvl == L
            full = full_extents(nest, lvl, layer.bounds)
            parent = lvl - 1
            spatial = [lp for lp in nest if lp.level == parent and lp.kind != "T"]
            pl = acc.levels[parent]
            # Links are analysed as if lvl kept t (R5); see the fold below.
            f, a, lk = _level_walk(nest, lvl, axes, full, layer.bounds, is_mac, spatial, (pl.fanout_x, pl.fanout_y))
            n_children = math.prod(lp.bound for lp in spatial)
            fill_stream[lvl] = f
            access[parent] = a
            child_mcw[parent] = n_children * f - lk   # multicast-weighted reads of children not link-served
            link_total[parent] = lk
            peer[lvl] = lk / n_children
        # Outputs: partition sizes down the chain (R6).
        part = [0.0] * L
        if t == O:
            part[0] = float(layer.output_words)
            for l in range(1, L):
                ext_c = full_extents(nest, l, layer.bounds)
                child_tile = math.prod(_box_extent(axes, ext_c))
                if any(lp.level == l - 1 and lp.kind != "T" for lp in nest):
                    ext_p = list(ext_c)
                    for lp in nest:
                        if lp.level == l - 1 and lp.kind != "T":
                            ext_p[lp.dim] *= lp.bound
                    ext_p = [min(e, bd) for e, bd in zip(ext_p, layer.bounds)]
                    cover = math.prod(_box_extent(axes, ext_p))
                else:
                    cover = child_tile
                part[l] = float(math.floor(part[l - 1] * child_tile / cover))
        # Bypass (R5): fold each bypassed level into the next level up, innermost first, scaling its
        # reads by the parent's reads / multicast-weighted reads (both as if every level kept t).
        keep = [_kept(acc, arrays, b, l, t) for l in range(L)]
        for lvl in reversed(range(1, L)):
            if keep[lvl]:
                continue
            p = lvl - 1
            ratio = access[p] / child_mcw[p] if child_mcw[p] else 0.0
            n_children = used[p + 1] // used[p]
            access[p] = access[lvl] * n_children * ratio
        for l in range(L):
            if not keep[l]:
                continue
            if t == O:
                updates[l, t] = access[l]
                reads[l, t] = access[l] + peer[l] - part[l]
                fills[l, t] = 0.0 if l == 0 else fill_stream[l] - part[l]
            else:
                reads[l, t] = access[l] + peer[l]
                fills[l, t] = 0.0 if l == 0 else fill_stream[l]
            links_at[l, t] = link_total[l]

    return result_from_counts(layer, acc, arrays, b, reads, fills, updates, used, tiles, compute_cycles, links_at)


def result_from_counts(layer, acc, arrays, b, reads, fills, updates, used, tiles, compute_cycles, links_at) -> EvalResult:
    """Energy (R8: whole blocks per instance; a cluster's vector access charged once, to at most
    instances / cluster_size instances) and cycles (R7) from the per-instance counts, plus the storage
    leakage: leak per cycle x every instance x cycles (Timeloop charges none for the MACs)."""
    L = len(acc.levels)
    tensor_energy = np.zeros((L, 3))
    level_cycles = np.zeros(L, dtype=np.int64)
    for l, lv in enumerate(acc.levels):
        r_rate = w_rate = 0.0
        charged = min(used[l], max(1, acc.instances(l) // lv.cluster_size))
        for t in range(3):
            if not _kept(acc, arrays, b, l, t):
                continue
            blk = lv.block_size_words
            tensor_energy[l, t] = charged * (math.ceil(reads[l, t] / blk) * lv.read_energy_pj
                                             + math.ceil(fills[l, t] / blk) * lv.write_energy_pj
                                             + math.ceil(updates[l, t] / blk) * lv.update_energy_pj)
            r_rate += reads[l, t] / compute_cycles
            w_rate += (fills[l, t] + updates[l, t]) / compute_cycles
        slow = 1.0
        if lv.read_bandwidth is not None and lv.read_bandwidth < r_rate:
            slow = min(slow, lv.read_bandwidth / r_rate)
        if lv.write_bandwidth is not None and lv.write_bandwidth < w_rate:
            slow = min(slow, lv.write_bandwidth / w_rate)
        if lv.shared_bandwidth is not None and lv.shared_bandwidth < r_rate + w_rate:
            slow = min(slow, lv.shared_bandwidth / (r_rate + w_rate))
        level_cycles[l] = math.ceil(compute_cycles / slow)
    level_energy = tensor_energy.sum(axis=1)
    cycles = int(level_cycles.max())
    level_leak = np.array([lv.leak_energy_pj * acc.instances(l) * cycles for l, lv in enumerate(acc.levels)])
    level_energy += level_leak
    mac_energy = layer.macs * acc.mac_energy_pj
    energy = float(level_energy.sum() + mac_energy)
    inst = np.array(used[:L], dtype=float)[:, None]
    return EvalResult(
        valid=True, reason=OK, reason_text=REASONS[OK], level_names=acc.level_names, macs=layer.macs,
        cycles=cycles, compute_cycles=compute_cycles, energy_pj=energy, mac_energy_pj=mac_energy,
        utilization=layer.macs / (acc.num_macs * cycles),
        reads=reads * inst, fills=fills * inst, updates=updates * inst,
        reads_per_instance=reads, fills_per_instance=fills, updates_per_instance=updates,
        instances_used=np.array(used[:L]), tile_words=tiles, level_energy_pj=level_energy,
        tensor_energy_pj=tensor_energy, level_cycles=level_cycles, link_transfers=links_at, level_leak_pj=level_leak)
