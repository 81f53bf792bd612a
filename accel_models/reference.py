"""Pure-Python reference cost model: Timeloop's semantics as a literal walk over the loop iterations.

This follows the cost model's rules R1-R8 (`docs/cost_model.md`, which states them with worked examples) step
by step: every iteration of the loops above a level is visited and every tile delta is a set of points.
It is slow (seconds for a big layer) and exists to define the semantics and to check the compiled
kernel (`cost_model.evaluate_batch`), which counts the same things in closed form.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from nets import DIMS, Layer, check_layer
from nets.problem_shape import axis_terms

from .accelerator import TENSORS, Accelerator, check_accelerator
from .limits import check_countable
from .mapping_arrays import MappingArrays, bound_from_factors, dim_loops
from .result import (BAD_BYPASS, BAD_FACTORS, BAD_ORDER, BOTH_AXES, CAPACITY_OVERFLOW, OK, REASONS,
                     SPATIAL_OVERFLOW, EvalResult)

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


def _overlap(lo, ext, old_lo, old_ext) -> int:
    """Points common to two boxes (corner, extents)."""
    return math.prod(max(0, min(a + e, b + f) - max(a, b)) for a, e, b, f in zip(lo, ext, old_lo, old_ext))


def _delta_key(lo, ext, old_lo, old_ext) -> tuple:
    """A key equal for two non-empty deltas exactly when they are the same set of points.

    A delta is the box (lo, ext) less the part it shares with the previous box. When that difference is itself a
    box (nothing shared, or the shared part spans the box on every axis but one and reaches one end of that one),
    the key is that box, (corner, extents). Otherwise the key is the box and its hole, (corner, extents, hole
    corner, hole extents): such a set's bounding box is the whole box, so both are determined by the set.
    """
    if old_lo is None:
        return (lo, ext)
    c_lo = tuple(max(a, b) for a, b in zip(lo, old_lo))
    c_hi = tuple(min(a + e, b + f) for a, e, b, f in zip(lo, ext, old_lo, old_ext))
    if any(h <= l for l, h in zip(c_lo, c_hi)):
        return (lo, ext)
    partial = [a for a in range(len(lo)) if c_lo[a] > lo[a] or c_hi[a] < lo[a] + ext[a]]
    if len(partial) == 1:
        a = partial[0]
        if c_lo[a] == lo[a]:        # the shared part is the low end: the delta is the high end
            return (lo[:a] + (c_hi[a],) + lo[a + 1:], ext[:a] + (lo[a] + ext[a] - c_hi[a],) + ext[a + 1:])
        if c_hi[a] == lo[a] + ext[a]:
            return (lo, ext[:a] + (c_lo[a] - lo[a],) + ext[a + 1:])
    return (lo, ext, c_lo, tuple(h - l for l, h in zip(c_lo, c_hi)))


def _shift_key(key, shift) -> tuple:
    """The key of a delta moved by `shift` (tensor coordinates)."""
    moved = tuple(a + s for a, s in zip(key[0], shift))
    if len(key) == 2:
        return (moved, key[1])
    return (moved, key[1], tuple(a + s for a, s in zip(key[2], shift)), key[3])


class _Delta:
    """The set of points a tile step brings in: a new box minus (optionally) the previous box (whose extents
    differ from the new one's only when a residual loop clips one of them, F2). `key` identifies the set
    (`_delta_key`; None when it is empty)."""

    __slots__ = ("size", "_box", "_key")

    def __init__(self, lo, ext, old_lo, old_ext=None):
        old_ext = ext if old_ext is None else old_ext
        full = math.prod(ext)
        self.size = full if old_lo is None else full - _overlap(lo, ext, old_lo, old_ext)
        self._box = (lo, ext, old_lo, old_ext)
        self._key = False           # not worked out yet

    @property
    def key(self):
        if self._key is False:
            self._key = _delta_key(*self._box) if self.size else None
        return self._key

    def shifted(self, shift) -> "_Delta":
        """The same delta moved by `shift` (tensor coordinates)."""
        moved = object.__new__(_Delta)
        moved.size, moved._key = self.size, None if self.key is None else _shift_key(self.key, shift)
        return moved


def _iterations(loops: list[_Loop], bounds, origin=None) -> tuple[np.ndarray, np.ndarray]:
    """The iterations of `loops` (outermost first), one row per combination of their indices in order: (dim
    offsets from `origin` [n, 8], whether the iteration exists [n]) (F2).

    A loop of ends e runs its residual r iterations exactly when its block would otherwise pass the dim's bound:
    r is the mixed-radix digit the bound equation (F3) fixes, so an iteration exists iff every dim's offset
    (from `origin`) stays below its bound. A perfect nest has every iteration from origin 0. An instance under a
    fan-out walks from its spatial offset (`origin`): its spatial loops act as loops of their dims.
    """
    base = np.array(origin if origin is not None else [0] * len(DIMS), dtype=np.int64)
    steps = np.zeros((len(loops), len(DIMS)), dtype=np.int64)
    for k, lp in enumerate(loops):
        steps[k, lp.dim] = lp.step
    index = np.indices([lp.bound for lp in loops], dtype=np.int64).reshape(len(loops), -1).T if loops else \
        np.zeros((1, 0), dtype=np.int64)
    offsets = base + index @ steps
    return offsets, (offsets < np.asarray(bounds)).all(axis=1)


def _existing(loops: list[_Loop], bounds, origin) -> int:
    """How many iterations of `loops` exist from `origin` (`_iterations`): existence is a condition on each dim
    alone, so the count is the product over dims of the index combinations of that dim's loops that stay below
    its bound."""
    n = 1
    for d, bound in enumerate(bounds):
        dim_loops_d = [lp for lp in loops if lp.dim == d]
        n *= sum(origin[d] + sum(i * lp.step for lp, i in zip(dim_loops_d, idx)) < bound
                 for idx in itertools.product(*(range(lp.bound) for lp in dim_loops_d)))
    return n


def _shrinks_at_most_one(prev_ext, ext) -> bool:
    """May a tile that moved by the last stride reuse its overlap with the previous one? Only if no axis lost more
    than one word of extent (a tile cut by a residual iteration, F2). A cut by two or more words brings the whole
    tile and forgets the stride, as Timeloop's step-by-step counts show on every temporal-class case of its
    imperfect-factorization corpus (`docs/imperfect.md`, "Cut tiles"); a cut by one word keeps the overlap."""
    return all(p - e <= 1 for p, e in zip(prev_ext, ext))


def _tile_stream(loops_above: list[_Loop], axes, full, bounds, is_mac: bool, origin=None):
    """R2: the deltas of one instance's tile over the iterations of the loops above it.

    Yields, for each combination of the loops' indices, a `_Delta` (the first is the whole tile), or None where
    the instance's tile is empty (`_iterations`: the instance is idle and its stream does not move). `full`: the
    tile's dim extents (the product of the ends at and below the level); a residual iteration's tile is that box
    cut at the bounds. A residual tile reuses its overlap with the previous tile by the same last-stride rule as
    a full one, unless the cut took two or more words off an axis (`_shrinks_at_most_one`). The MAC holds nothing
    between steps: its delta is its whole one-word operand every iteration (R4), moved or not, so it gets no reuse
    rule.
    """
    coef = np.zeros((len(DIMS), len(axes)), dtype=np.int64)
    for a, axis in enumerate(axes):
        for d, c in axis:
            coef[d, a] = c
    offsets, exists = _iterations(loops_above, bounds, origin)
    los = offsets @ coef
    if is_mac:
        exts = np.ones_like(los)
    else:
        exts = 1 + (np.minimum(np.asarray(full), np.asarray(bounds) - offsets) - 1) @ coef
    last_stride = None
    prev_lo = prev_ext = None
    for there, lo, ext in zip(exists.tolist(), map(tuple, los.tolist()), map(tuple, exts.tolist())):
        if not there:
            yield None
            continue
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


def _origins(spatial_loops: list[_Loop]) -> list[list[int]]:
    """The dim offsets of the instances a list of spatial loops spans: one per combination of their indices,
    the outermost loop most significant (instance k's index)."""
    origins = []
    for idx in itertools.product(*(range(lp.bound) for lp in spatial_loops)):
        off = [0] * len(DIMS)
        for lp, i in zip(spatial_loops, idx):
            off[lp.dim] += i * lp.step
        origins.append(off)
    return origins


def _neighbours(spatial_loops: list[_Loop], fanout_x: int, fanout_y: int) -> list[list[int]]:
    """R3's grid: per child of one parent instance, the children left, right, above and below it."""
    n = math.prod(lp.bound for lp in spatial_loops)
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
    return neighbours


def _serve_step(deltas, prev_keys, neighbours) -> tuple[int, int, list]:
    """R3 at one step of one parent instance: (parent reads, link transfers, the children's delta keys).

    `deltas[k]`: child k's delta, None if it is idle (an idle child requests nothing); `prev_keys`: the
    children's keys at the parent's previous step (None before the first). Each distinct non-empty delta (as a
    set of points) is read once (multicast). A child whose delta is the one a grid neighbour received at the
    previous step can take it from that neighbour; if serving those children over links lowers the reads, the
    parent reads only the distinct deltas of the others, and each served child's delta is one link transfer.
    """
    if len(deltas) == 1:            # one child: nothing to share
        return (0 if deltas[0] is None else deltas[0].size), 0, [None]
    keys = [None if d is None else d.key for d in deltas]
    size = {key: d.size for key, d in zip(keys, deltas) if key is not None}
    reads = sum(size.values())
    links = 0
    if reads and prev_keys is not None and len(deltas) > 1:
        served = [key is not None and any(prev_keys[j] == key for j in nb) for key, nb in zip(keys, neighbours)]
        if any(served):
            rest = sum({key: size[key] for key, s in zip(keys, served) if key is not None and not s}.values())
            if rest < reads:
                reads = rest
                links = sum(size[key] for key, s in zip(keys, served) if s)
    return reads, links, keys


def _dim_offsets(loops: list[_Loop]) -> list[list[int]]:
    """Per dim, the distinct offsets from an origin that `loops` reach (sums of index x step of its loops)."""
    out = []
    for d in range(len(DIMS)):
        offs = {0}
        for lp in loops:
            if lp.dim == d:
                offs = {o + i * lp.step for o in offs for i in range(lp.bound)}
        out.append(sorted(offs))
    return out


def _pattern(dim_offsets, full, bounds, origin) -> tuple:
    """Per dim, an instance's tile extent (cut at the bound; 0 where it is empty) at each offset its loops reach
    from `origin`: instances with equal patterns have their tiles, empty or cut alike at every iteration."""
    return tuple(tuple(max(0, min(f, b - o - t)) for t in offs)
                 for offs, f, b, o in zip(dim_offsets, full, bounds, origin))


def _level_walk(nest, level, axes, full, bounds, is_mac, parent_fanout, parents, translated):
    """R2-R4 for one tensor between level `level` (or the MACs) and its parent, one parent instance at a time.

    `parents`: the dim offsets (origins) of the parent instances to walk. Each child under a parent starts at the
    parent's origin plus its own spatial offset and follows its own tile stream (`_tile_stream`); the parent's
    steps are its first child's (a child further along a dim is idle whenever the first one is), and at each
    step `_serve_step` counts the parent's reads and the links. With `translated`, every child's stream is the
    first child's moved by its spatial offset (true when the instances do equal work), and only that one is
    walked. Returns (fills per child instance, reads per parent instance, link transfers per parent instance),
    children in instance order (parent index * children per parent + child index).
    """
    loops_above = [lp for lp in nest if lp.level < level and lp.kind == "T"]
    spatial = [lp for lp in nest if lp.level == level - 1 and lp.kind != "T"]
    offsets = _origins(spatial)
    neighbours = _neighbours(spatial, *parent_fanout)
    # Two instances whose tiles exist and are cut alike at every iteration walk translated copies of one another
    # and count the same: walk one of each `_pattern`.
    parent_offsets = _dim_offsets(loops_above + spatial)
    child_offsets = _dim_offsets(loops_above)
    seen = {}
    fills, reads, links = [], [], []
    for origin in parents:
        room = _pattern(parent_offsets, full, bounds, origin)
        if room in seen:
            child_fills, parent_reads, parent_links = seen[room]
            fills.extend(child_fills)
            reads.append(parent_reads)
            links.append(parent_links)
            continue
        if is_mac and len(offsets) == 1:
            # One MAC under the parent: it reads one word at each iteration it does, with no one to share it.
            n = _existing(loops_above, bounds, origin)
            seen[room] = [n], n, 0
            fills.append(n)
            reads.append(n)
            links.append(0)
            continue
        if translated:
            shifts = [_project(axes, off) for off in offsets]
            steps = (None if d is None else [d.shifted(s) for s in shifts]
                     for d in _tile_stream(loops_above, axes, full, bounds, is_mac, origin))
        else:
            # Children with the same pattern follow translated streams: walk one of each.
            starts = [[o + s for o, s in zip(origin, off)] for off in offsets]
            first, walked, moves = {}, [], []
            for start in starts:
                room_k = _pattern(child_offsets, full, bounds, start)
                if room_k not in first:
                    first[room_k] = len(walked), start
                    walked.append(start)
                j, rep = first[room_k]
                moves.append((j, _project(axes, [a - b for a, b in zip(start, rep)])))
            streams = zip(*(_tile_stream(loops_above, axes, full, bounds, is_mac, s) for s in walked))
            steps = (None if ds[0] is None else
                     [ds[j] if ds[j] is None or not any(v) else ds[j].shifted(v) for j, v in moves]
                     for ds in streams)
        child_fills = [0] * len(offsets)
        parent_reads = parent_links = 0
        prev_keys = None
        for deltas in steps:
            if deltas is None:
                continue
            for k, d in enumerate(deltas):
                if d is not None:
                    child_fills[k] += d.size
            r, lk, prev_keys = _serve_step(deltas, prev_keys, neighbours)
            parent_reads += r
            parent_links += lk
        seen[room] = child_fills, parent_reads, parent_links
        fills.extend(child_fills)
        reads.append(parent_reads)
        links.append(parent_links)
    return fills, reads, links


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
    if spatial_overflow(acc, arrays, b) is not None:
        return SPATIAL_OVERFLOW, tiles, []
    nest = loop_nest(arrays, b)
    for l in range(L):
        ext = full_extents(nest, l, layer.bounds)
        for t in range(3):
            if _kept(acc, arrays, b, l, t):
                tiles[l, t] = math.prod(_box_extent(axes_all[t], ext))
    if capacity_overflow(acc, arrays, b, tiles) is not None:
        return CAPACITY_OVERFLOW, tiles, nest
    return OK, tiles, nest


def spatial_overflow(acc: Accelerator, arrays: MappingArrays, b: int) -> tuple[int, int, int] | None:
    """The first level, innermost first (Timeloop checks the MAC level first), whose spatial factors need more
    instances than its fan-out has on X or Y: (level, X factors' product, Y factors' product); None if they fit."""
    for l in reversed(range(arrays.num_levels)):
        lv = acc.levels[l]
        x, y = math.prod(arrays.spatial_x[b, l].tolist()), math.prod(arrays.spatial_y[b, l].tolist())  # Python ints
        if x > lv.fanout_x or y > lv.fanout_y:
            return l, x, y
    return None


def capacity_overflow(acc: Accelerator, arrays: MappingArrays, b: int,
                      tiles: np.ndarray) -> tuple[int, tuple[int, ...], float] | None:
    """The first level, innermost first, whose kept tiles (`tiles`, words [L, 3]) overflow its capacity:
    (level, the tensors counted, their capacity in words) -- every kept tensor against a shared capacity, or the one
    tensor over its own; None if every tile fits."""
    for l in reversed(range(arrays.num_levels)):
        lv = acc.levels[l]
        kept = tuple(t for t in range(3) if _kept(acc, arrays, b, l, t))
        if lv.capacity_words is not None and sum(tiles[l, t] for t in kept) > lv.capacity_words:
            return l, kept, float(lv.capacity_words)
        if lv.tensor_capacity_words is not None:
            for t in kept:
                cap = lv.tensor_capacity_words[t]
                if cap is not None and tiles[l, t] > cap:
                    return l, (t,), float(cap)
    return None


def _partitions_uniform(nest, axes, bounds, output_words: int, L: int) -> list[float]:
    """R6 when the instances do equal work: per level, the output words one instance holds over the run, from the
    parent's partition, the child's tile and the box all the children's tiles cover together."""
    part = [0.0] * L
    part[0] = float(output_words)
    for l in range(1, L):
        ext_c = full_extents(nest, l, bounds)
        child_tile = math.prod(_box_extent(axes, ext_c))
        if any(lp.level == l - 1 and lp.kind != "T" for lp in nest):
            ext_p = list(ext_c)
            for lp in nest:
                if lp.level == l - 1 and lp.kind != "T":
                    ext_p[lp.dim] *= lp.bound
            ext_p = [min(e, bd) for e, bd in zip(ext_p, bounds)]
            cover = math.prod(_box_extent(axes, ext_p))
        else:
            cover = child_tile
        part[l] = float(math.floor(part[l - 1] * child_tile / cover))
    return part


def _held_words(nest, level, axes, bounds, origin) -> int:
    """R6's partition of one instance: the output words its tiles cover over the run (their union).

    The iterations that exist are those whose every dim offset stays below its bound, a condition on each dim
    alone, so the union is the product over dims of the coordinates the dim's cut tiles cover. Outputs' axes are
    each indexed by one dim with coefficient 1 (nets.PROJECTION)."""
    full = full_extents(nest, level, bounds)
    covered = []
    for d, bound in enumerate(bounds):
        loops = [lp for lp in nest if lp.level < level and lp.kind == "T" and lp.dim == d]
        coords = set()
        for idx in itertools.product(*(range(lp.bound) for lp in loops)):
            start = origin[d] + sum(i * lp.step for lp, i in zip(loops, idx))
            coords.update(range(start, min(start + full[d], bound)))
        covered.append(len(coords))
    assert all(len(axis) == 1 and axis[0][1] == 1 for axis in axes), "outputs' axes are single dims"
    return math.prod(covered[axis[0][0]] for axis in axes)


def _per_parent(child_values: np.ndarray, n_children: int, translated: bool) -> np.ndarray:
    """Per parent instance, the sum of a quantity over its children (instance order: parent-major). With
    `translated`, one value stands for every instance of its level."""
    if translated:
        return child_values * n_children
    return child_values.reshape(-1, n_children).sum(axis=1)


def evaluate(layer: Layer, accelerator: Accelerator, mapping, b: int = 0, *,
             every_instance: bool = False) -> EvalResult:
    """Evaluate one mapping (a `mappings.Mapping`, or row b of a `MappingArrays`) by walking its loops.

    Returns the same numbers as `evaluate_batch`, with a per-level breakdown (`result.breakdown()`).
    Each instance of a level (its spatial index at every fan-out above it) is walked from its own spatial offset
    when a residual makes the instances under a fan-out do unequal work (Timeloop's spatial class, F9): those are
    the real counts, which Timeloop approximates (docs/imperfect.md). Otherwise every instance is a translated
    copy of instance 0 and only that one is walked; `every_instance=True` walks them all anyway (the same numbers;
    a check of that shortcut, slower).
    """
    check_layer("evaluate", layer), check_accelerator("evaluate", accelerator)
    check_countable("evaluate", layer, accelerator)
    arrays = mapping.to_arrays(accelerator) if hasattr(mapping, "to_arrays") else mapping
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 0 <= b < arrays.batch_size:
        raise ValueError(f"evaluate: b = {b!r} is no row of the batch; accepted: an integer in "
                         f"[0, {arrays.batch_size - 1}]")
    # row b alone, widened to int64: the walk's products of numpy scalars then cannot wrap (MAPPING_DTYPE is int32)
    arrays, b = MappingArrays(*(a[b:b + 1].astype(np.int64) for a in arrays.with_residuals())), 0
    acc = accelerator
    L = arrays.num_levels
    macs = layer.macs
    axes_all = tensor_axes(layer)
    reason, tiles, nest = check_mapping(layer, acc, arrays, b, axes_all)
    names = acc.level_names
    if reason != OK:
        return EvalResult(False, reason, REASONS[reason], names, macs, tile_words=tiles)

    # Instances used per level (F5: the product of the spatial ends above it), and those walked.
    used = [1] * (L + 1)
    for l in range(L):
        used[l + 1] = used[l] * int(np.prod(arrays.spatial_x[b, l]) * np.prod(arrays.spatial_y[b, l]))
    compute_cycles = int(np.prod(arrays.temporal[b]))
    translated = not every_instance and uniform_instances(arrays, b)
    origins = [[[0] * len(DIMS)] if translated else _origins([lp for lp in nest if lp.level < l and lp.kind != "T"])
               for l in range(L + 1)]

    reads = [np.zeros((len(origins[l]), 3)) for l in range(L)]
    fills = [np.zeros((len(origins[l]), 3)) for l in range(L)]
    updates = [np.zeros((len(origins[l]), 3)) for l in range(L)]
    links_at = np.zeros((L, 3))
    for t in range(3):
        _tensor_counts(t, layer, acc, arrays, b, nest, axes_all[t], used, origins, translated,
                       reads, fills, updates, links_at)
    if acc.homed_on_chip:
        acc, arrays = rehome_counts(acc, arrays, b, acc.tensor_homes, reads, fills, updates)
    return result_from_counts(layer, acc, arrays, b, reads, fills, updates, used, tiles, compute_cycles, links_at)


def rehome_counts(acc: Accelerator, arrays: MappingArrays, b: int, homes, reads, fills, updates):
    """Rule H (`Accelerator.tensor_homes`): each tensor t with an on-chip home h = homes[t] moves nothing at level 0;
    level 0's reads, fills and updates of it become level h's (in place, in the per-level rows of `reads`, `fills`,
    `updates`: h has one instance, as level 0 has, and keeps no tile of t; counts the compiled kernel made with the
    homes already have them moved, level 0's are zero and nothing changes). Returns
    the accelerator and mapping that price the moved counts (`result_from_counts`): `acc` with each home keeping its
    tensor and every tensor homed at level 0 again, and `arrays` with row b keeping t at h."""
    keep = arrays.keep.copy()
    levels = list(acc.levels)
    for t, h in enumerate(homes):
        if not h:
            continue
        for counts in (reads, fills, updates):
            counts[h][:, t] += counts[0][:, t]
            counts[0][:, t] = 0.0
        keep[b, h, t] = 1
        if TENSORS[t] not in levels[h].keeps:
            levels[h] = replace(levels[h], keeps=levels[h].keeps + (TENSORS[t],))
    return replace(acc, levels=tuple(levels), tensor_homes=(0, 0, 0)), arrays._replace(keep=keep)


def _tensor_counts(t, layer, acc, arrays, b, nest, axes, used, origins, translated, reads, fills, updates, links_at):
    """Tensor t's counts per level and walked instance (into column t of reads / fills / updates, and the busiest
    parent's link transfers into links_at): the walk of every level as if it kept t (R2-R4), Outputs' partitions
    (R6), the bypass fold (R5), then the reads, fills and updates of the levels that keep t."""
    L = arrays.num_levels
    # As if every level kept the tensor (R5): walk every level and the MAC. Per level, one value per walked
    # instance.
    fill_stream = [None] * (L + 1)
    access = [None] * L       # accesses each instance serves its children
    child_mcw = [None] * L    # its children's fills less the words they took over links (R5's ratio)
    link_total = [None] * L   # link transfers among its children
    peer = [np.zeros(len(origins[l])) for l in range(L + 1)]  # each instance's reads for its neighbours
    walked = {}
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        full = full_extents(nest, lvl, layer.bounds)
        parent = lvl - 1
        pl = acc.levels[parent]
        n_children = used[lvl] // used[parent]
        # Links are analysed as if lvl kept t (R5); see the fold below. Levels with the same loops above, tile
        # and parents (e.g. registers with no loop of their own) walk the same streams: walk them once.
        same = (is_mac, tuple(full), (pl.fanout_x, pl.fanout_y), tuple(map(tuple, origins[parent])),
                tuple((lp.kind, lp.dim, lp.bound, lp.step) for lp in nest
                      if lp.level < lvl and (lp.kind == "T" or lp.level == parent)))
        if same not in walked:
            walked[same] = _level_walk(nest, lvl, axes, full, layer.bounds, is_mac, (pl.fanout_x, pl.fanout_y),
                                       origins[parent], translated)
        f, a, lk = walked[same]
        fill_stream[lvl] = np.array(f[:1] if translated else f, dtype=float)
        access[parent] = np.array(a, dtype=float)
        link_total[parent] = np.array(lk, dtype=float)
        child_mcw[parent] = _per_parent(fill_stream[lvl], n_children, translated) - link_total[parent]
        # A sender reads a word it forwards; the transfers are spread over the children of the parent.
        peer[lvl] = np.repeat(link_total[parent] / n_children, 1 if translated else n_children)
    # Outputs: the words each instance holds over the run (R6).
    part = [np.zeros(len(origins[l])) for l in range(L)]
    if t == O:
        if translated:
            part = [np.array([p]) for p in _partitions_uniform(nest, axes, layer.bounds, layer.output_words, L)]
        else:
            part = [np.array([_held_words(nest, l, axes, layer.bounds, o) for o in origins[l]], dtype=float)
                    for l in range(L)]
    # Bypass (R5): fold each bypassed level into the next level up, innermost first, scaling its
    # reads by the parent's reads / multicast-weighted reads (both as if every level kept t).
    keep = [_kept(acc, arrays, b, l, t) for l in range(L)]
    for lvl in reversed(range(1, L)):
        if keep[lvl]:
            continue
        p = lvl - 1
        ratio = np.array([x / y if y else 0.0 for x, y in zip(access[p], child_mcw[p])])
        access[p] = _per_parent(access[lvl], used[p + 1] // used[p], translated) * ratio
    for l in range(L):
        if not keep[l]:
            continue
        if t == O:
            updates[l][:, t] = access[l]
            reads[l][:, t] = access[l] + peer[l] - part[l]
            fills[l][:, t] = 0.0 if l == 0 else fill_stream[l] - part[l]
        else:
            reads[l][:, t] = access[l] + peer[l]
            fills[l][:, t] = 0.0 if l == 0 else fill_stream[l]
        links_at[l, t] = link_total[l].max()


def result_from_counts(layer, acc, arrays, b, reads, fills, updates, used, tiles, compute_cycles, links_at) -> EvalResult:
    """Energy (R8) and cycles (R7) from the per-instance counts, plus the storage leakage: leak per cycle x every
    instance x cycles (Timeloop charges none for the MACs).

    `reads`, `fills`, `updates`: per level, either one row of 3 (tensor order) standing for every instance of the
    level ([L, 3] when the instances do equal work), or one row per used instance ([used[l], 3], instance order).
    Energy: per instance, action and tensor whole blocks (ceil(count / block size)); the instances charged are
    those in use, but at most instances / cluster_size when instances share an access port (a cluster's vector
    access charged once), so a level is charged that many times the mean of its instances' blocks. Cycles: each
    instance has its own port; a level's cycles are those of its slowest instance.
    """
    L = len(acc.levels)
    tensor_energy = np.zeros((L, 3))
    level_cycles = np.zeros(L, dtype=np.int64)
    rows = [[np.atleast_2d(np.asarray(c[l], dtype=float)) for l in range(L)] for c in (reads, fills, updates)]
    for l, lv in enumerate(acc.levels):
        r_rate = np.zeros(len(rows[0][l]))
        w_rate = np.zeros(len(rows[0][l]))
        charged = min(used[l], max(1, acc.instances(l) // lv.cluster_size))
        blk = lv.block_size_words
        for t in range(3):
            if not _kept(acc, arrays, b, l, t):
                continue
            r, f, u = (c[l][:, t] for c in rows)
            blocks = [sum(math.ceil(x / blk) for x in c) / len(c) for c in (r, f, u)]
            tensor_energy[l, t] = charged * (blocks[0] * lv.read_energy_pj + blocks[1] * lv.write_energy_pj
                                             + blocks[2] * lv.update_energy_pj)
            r_rate += r / compute_cycles
            w_rate += (f + u) / compute_cycles
        slowest = 0
        for rr, wr in zip(r_rate, w_rate):
            slow = 1.0
            if lv.read_bandwidth is not None and lv.read_bandwidth < rr:
                slow = min(slow, lv.read_bandwidth / rr)
            if lv.write_bandwidth is not None and lv.write_bandwidth < wr:
                slow = min(slow, lv.write_bandwidth / wr)
            if lv.shared_bandwidth is not None and lv.shared_bandwidth < rr + wr:
                slow = min(slow, lv.shared_bandwidth / (rr + wr))
            slowest = max(slowest, math.ceil(compute_cycles / slow))
        level_cycles[l] = slowest
    level_energy = tensor_energy.sum(axis=1)
    cycles = int(level_cycles.max())
    level_leak = np.array([lv.leak_energy_pj * acc.instances(l) * cycles for l, lv in enumerate(acc.levels)])
    level_energy += level_leak
    mac_energy = layer.macs * acc.mac_energy_pj
    clock_energy = acc.clock_energy_pj * cycles
    energy = float(level_energy.sum() + mac_energy + clock_energy)
    total = [np.array([c[l][0] * used[l] if len(c[l]) == 1 else c[l].sum(axis=0) for l in range(L)]) for c in rows]
    busiest = [np.array([c[l].max(axis=0) for l in range(L)]) for c in rows]
    return EvalResult(
        valid=True, reason=OK, reason_text=REASONS[OK], level_names=acc.level_names, macs=layer.macs,
        cycles=cycles, compute_cycles=compute_cycles, energy_pj=energy, mac_energy_pj=mac_energy,
        clock_energy_pj=clock_energy,
        utilization=layer.macs / (acc.num_macs * cycles),
        reads=total[0], fills=total[1], updates=total[2],
        reads_per_instance=busiest[0], fills_per_instance=busiest[1], updates_per_instance=busiest[2],
        instances_used=np.array(used[:L]), tile_words=tiles, level_energy_pj=level_energy,
        tensor_energy_pj=tensor_energy, level_cycles=level_cycles, link_transfers=links_at, level_leak_pj=level_leak)
