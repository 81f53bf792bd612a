"""The phases' closed form of a residual stream's fills (`kernel.phases.phase_fills`) against the frame walk
(`kernel.sweep.walk_sweep`) it replaces: the same count, bit for bit, on every (level, tensor) it is given; and
`sweep.sweep` (the phases where no link can be taken, under a fan-out too) against the walk alone
(`sweep.walk_sweep`): the same fills, parent reads and link transfers."""
import numpy as np
import pytest
from numba import njit

from accel_models import Accelerator, MappingArrays, StorageLevel, get_preset
from accel_models.geometry import accelerator_arrays, box, layer_arrays
from accel_models.kernel.counts import moving_loops, spatial_loops
from accel_models.kernel.links import is_neighbour_diff, lattice_ok, spatial_axes
from accel_models.kernel.driver import max_children
from accel_models.kernel.paths import residual_paths
from accel_models.kernel.nest import check_shape, loop_nest
from accel_models.kernel.phases import (CAND, POOL_WORDS, SPAN, UNCHECKED, UNLISTED, link_candidates, link_spread,
                                         no_link, phase_fills, phase_stream)
from accel_models.kernel.sweep import sweep, walk_sweep
from accel_models.kernel.workspace import make_workspace
from accel_models.reference import uniform_instances
from accel_models.result import OK
from mappings import Encoding, random_mappings
from nets import DIMS, N_AXES, Layer

from _residual_cut import cut_to_bounds

pytestmark = pytest.mark.slow
"""Each test compiles a caller of the kernel's functions of its own (numba: seconds to tens of seconds)."""

NOT_COMPARED = -2.0

ORIGIN = np.dtype([("origin", np.int64, (8,))])
"""Streams' origins held as the kernel's callers hold them, in a record's (8,) field, so that `sweep` and the walk
are called with the argument types they are compiled for (numba compiles a function again for each new set of types);
`phase_stream`'s callers pass a slice (`origin[:]`)."""


@njit
def _nest(layer, acc, maps, b, ws):
    """Mapping b's loop nest into the workspace, its tiles cut at the bounds (F6) and its moving loops listed;
    False if its shape is invalid."""
    temporal, order, sx, sy, so, keep, rt, rx, ry = maps
    m = MappingArrays(temporal[b], order[b], sx[b], sy[b], so[b], keep[b], rt[b], rx[b], ry[b])
    reason, _ = check_shape(layer.bounds, acc.fanout, m)
    if reason != OK:
        return False
    levels = ws.levels
    _, n_temporal, _ = loop_nest(m, ws.loops, levels, ws.temporal)
    for lv in range(temporal.shape[1]):
        for d in range(8):
            levels[lv].extents[d] = min(levels[lv].extents[d], layer.bounds[d])
        for t in range(3):
            levels[lv].tiles[t] = box(t, levels[lv].extents, layer.coef, levels[lv].axes[t])
    moving_loops(layer.ax, ws.temporal, n_temporal)
    return True


@njit
def _fills_both(layer, acc, maps, out, walks):
    """Per mapping, level (below a level without fan-out, not the MAC) and tensor: the phases' fills and the walk's
    into out[b, level, t, 0 | 1] (NOT_COMPARED elsewhere; -1 in column 0: left to the walk); `walks`: the walk the
    sweeps call by address (`paths.Walks`)."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    origin = ws.sweep[0].origin
    out[:] = NOT_COMPARED
    for b in range(maps.temporal.shape[0]):
        if not _nest(layer, acc, maps, b, ws):
            continue
        spatial_above = 0
        for lvl in range(1, L):
            child, parent = levels[lvl], levels[lvl - 1]
            spatial_above += parent.n_spatial
            bounds = ws.scratch[0].n_digits
            if parent.n_spatial > 0 and spatial_loops(ws.loops, levels, lvl - 1, ws.spatial, bounds)[1] > 1:
                continue
            M = child.start - spatial_above
            for t in range(3):
                out[b, lvl, t, 0] = phase_fills(t, ws.temporal, M, child.extents, layer, origin[:], ws.memo[0].pool)
                out[b, lvl, t, 1] = walk_sweep(t, ws.temporal, M, child, np.bool_(False), layer, np.int64(1),
                                               np.int64(1), ws.spatial, np.int64(0), np.int64(0), np.int64(0), ws,
                                               origin, np.bool_(True), walks)[0]


def _random_layer(rng) -> Layer:
    kernel = int(rng.choice([1, 3, 5, 7]))
    return Layer(R=kernel, S=int(rng.choice([1, kernel])), P=int(rng.integers(1, 30)), Q=int(rng.integers(1, 15)),
                 C=int(rng.integers(1, 20)), K=int(rng.integers(1, 20)), N=int(rng.choice([1, 1, 2, 3])),
                 stride_w=int(rng.choice([1, 2, 3])), stride_h=int(rng.choice([1, 2])),
                 dilation_w=int(rng.choice([1, 1, 2])), dilation_h=int(rng.choice([1, 3])), name="random")


def _temporal_class_draws(layer: Layer, acc, rng, n: int) -> MappingArrays:
    """Random ends for the layer with each bound padded up (to a power of two or by a random amount), cut back to
    the bounds with residuals, and the mapper's residual decode of random genes; only the temporal class with a
    residual loop."""
    seed = int(rng.integers(2**31))
    parts = []
    for pad in (lambda v: 1 << (v - 1).bit_length(), lambda v: v + int(rng.integers(0, v + 1))):
        padded = Layer(**{d: pad(getattr(layer, d)) for d in DIMS}, stride_w=layer.stride_w,
                       stride_h=layer.stride_h, dilation_w=layer.dilation_w, dilation_h=layer.dilation_h)
        parts.append(cut_to_bounds(random_mappings(padded, acc, n, rng=seed, spatial_bias=2.0), layer.bounds))
    enc = Encoding(layer, acc, factors="residual")
    parts.append(enc.decode(np.random.default_rng(seed).random((n, enc.size))))
    every = MappingArrays(*(np.concatenate(arrays) for arrays in zip(*parts)))
    keep = ~every.is_perfect() & np.array([uniform_instances(every, b) for b in range(every.batch_size)], bool)
    return MappingArrays(*(a[keep] for a in every))


def _draws_from_two_origins(acc, rng, n_layers: int, draw_layer=_random_layer, per_layer: int = 15):
    """Per layer of `n_layers` (`draw_layer(rng)`) with temporal-class draws on `acc` (`_temporal_class_draws`):
    (its layer and accelerator arrays, the draws, two origins: all 0 and a random offset one, as an instance class
    starts, and the walks by address)."""
    for _ in range(n_layers):
        layer = draw_layer(rng)
        maps = _temporal_class_draws(layer, acc, rng, per_layer)
        if not maps.batch_size:
            continue
        origins = np.zeros(2, dtype=ORIGIN)
        origins[1]["origin"] = rng.integers(0, np.array(layer.bounds, dtype=np.int64))
        la, aa = layer_arrays(layer), accelerator_arrays(acc)
        yield la, aa, maps, origins, residual_paths(la, aa).walks

def _compare(layer, acc, maps):
    """(streams compared, streams left to the walk); asserts the phases equal the walk on every other one."""
    out = np.empty((maps.batch_size, acc.num_levels + 1, 3, 2))
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    _fills_both(la, aa, maps, out, residual_paths(la, aa).walks)
    compared = out[..., 1] != NOT_COMPARED
    left = compared & (out[..., 0] == -1.0)
    done = compared & ~left
    bad = np.argwhere(done & (out[..., 0] != out[..., 1]))
    assert bad.size == 0, [(tuple(i), out[tuple(i)][0], out[tuple(i)][1]) for i in bad[:5]]
    return int(done.sum()), int(left.sum())


def test_the_scratch_fits_in_the_walks_memo_pool():
    from accel_models.kernel.workspace import MEMO_POOL
    assert POOL_WORDS <= MEMO_POOL


def test_a_cut_window_on_a_prime_map():
    """P=13, R=3: DRAM P=4 over the global buffer's P=4,1 R=3. The buffer's Inputs windows are [0, 6), [4, 10),
    [8, 14) (6 words, moving by 4: 4 new words each) and, cut from 4 output columns to 1, [12, 15): three words
    fewer, so it comes whole (docs/imperfect.md, "Cut tiles"): 6 + 4 + 4 + 3 = 17 fills, by the walk and the phases."""
    layer = Layer(R=3, P=13, name="p13")
    acc = get_preset("eyeriss")
    L = acc.num_levels
    zeros = np.zeros((1, L, 8), dtype=np.int32)
    temporal = np.ones((1, L, 8), dtype=np.int32)
    P, R = DIMS.index("P"), DIMS.index("R")
    temporal[0, 0, P] = 4
    temporal[0, 1, P] = 4
    temporal[0, 1, R] = 3
    order = np.broadcast_to(np.arange(8, dtype=np.int32), (1, L, 8)).copy()
    arrays = MappingArrays(temporal, order, np.ones_like(temporal), np.ones_like(temporal), order.copy(),
                           np.ones((1, L, 3), dtype=np.int32), zeros, zeros.copy(), zeros.copy())
    cut = cut_to_bounds(arrays, layer.bounds)
    assert cut.temporal_residual[0, 1, P] == 1
    out = np.empty((1, L + 1, 3, 2))
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    _fills_both(la, aa, cut, out, residual_paths(la, aa).walks)
    assert out[0, 1, 1, 0] == out[0, 1, 1, 1] == 17.0


@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like", "shidiannao", "nvdla_256"])
def test_phases_equal_the_walk_on_random_temporal_class_nests(preset):
    """Thousands of (level, tensor) streams of random temporal-class nests (strides, dilations, 1x1 to 7x7 kernels,
    bypass, every level of the preset): the phases' fills equal the walk's, and few are left to the walk."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)))
    done = left = 0
    for _ in range(60):
        if done >= 1000:
            break
        layer = _random_layer(rng)
        maps = _temporal_class_draws(layer, acc, rng, 40)
        if maps.batch_size:
            d, lft = _compare(layer, acc, maps)
            done += d
            left += lft
    print(preset, "compared", done, "left to the walk", left)
    assert done >= 300, done
    assert left <= done // 100, (left, done)


@njit
def _sweeps_both(layer, acc, maps, origins, out, walks):
    """Per mapping, origin, level (the MAC too) and tensor: `sweep`'s (fills, parent reads, link transfers) into
    out[b, o, level, t, 0:3], the walk's into 3:6, into 6 whether the phases counted it (1.0; 0.0: the walk or
    another closed form did) and into 7 whether a fan-out is right above the level (1.0). `origins[o].origin`: dim
    offsets where the streams start (an instance class's origin in the spatial class). `walks`: as in `_fills_both`."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    out[:] = NOT_COMPARED
    for b in range(maps.temporal.shape[0]):
        if not _nest(layer, acc, maps, b, ws):
            continue
        spatial_above = 0
        for lvl in range(1, L + 1):
            child, p = levels[lvl], lvl - 1
            spatial_above += levels[p].n_spatial
            M = child.start - spatial_above
            n_sp, n_children = np.int64(0), np.int64(1)
            if levels[p].n_spatial > 0:
                n_sp, n_children = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            fx, fy = acc.fanout[p, 0], acc.fanout[p, 1]
            for t in range(3):
                groups = np.int64(1)
                if n_sp > 0:
                    groups = spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, ws.scratch[0])
                for o in range(origins.shape[0]):
                    origin = origins[o].origin
                    r = out[b, o, lvl, t]
                    r[0], r[1], r[2] = sweep(t, ws.temporal, M, child, lvl == L, layer, groups, n_children, ws.spatial,
                                             n_sp, fx, fy, ws, origin, np.bool_(True), walks)
                    r[3], r[4], r[5] = walk_sweep(t, ws.temporal, M, child, lvl == L, layer, groups, n_children,
                                                  ws.spatial, n_sp, fx, fy, ws, origin, np.bool_(True), walks)
                    r[6] = 0.0
                    r[7] = 1.0 if n_children > 1 else 0.0
                    if lvl < L:
                        pool = ws.memo[1].pool
                        n_cand = np.int64(0)
                        if n_children > 1:
                            n_cand = link_candidates(t, ws.spatial, n_sp, fx, layer, ws.scratch[0], ws.diffs, pool)
                        if (n_children == 1 or n_cand >= 0) and phase_stream(t, ws.temporal, M, child.extents, layer,
                                                                             origin[:], pool, n_cand) >= 0.0:
                            r[6] = 1.0


@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like", "shidiannao", "nvdla_256"])
def test_sweep_equals_the_walk_under_a_fan_out(preset):
    """Every (level, tensor) stream of random temporal-class nests, from the origin and from an offset one (as an
    instance class starts): `sweep` (the phases wherever no step can take a link) gives the walk's fills, parent
    reads and link transfers, and the phases count most streams under a fan-out (but the MAC's)."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)) + 1)
    fanout_done = fanout_all = linked = 0
    for la, aa, maps, origins, walks in _draws_from_two_origins(acc, rng, 25):
        out = np.empty((maps.batch_size, 2, acc.num_levels + 1, 3, 8))
        _sweeps_both(la, aa, maps, origins, out, walks)
        compared = out[..., 0] != NOT_COMPARED
        bad = np.argwhere(compared & np.any(out[..., 0:3] != out[..., 3:6], axis=-1))
        assert bad.size == 0, [(tuple(i), out[tuple(i)]) for i in bad[:5]]
        under = compared & (out[..., 7] == 1.0) & (np.arange(acc.num_levels + 1) < acc.num_levels)[:, None]
        fanout_all += int(under.sum())
        fanout_done += int((under & (out[..., 6] == 1.0)).sum())
        linked += int((compared & (out[..., 5] > 0)).sum())
    print(preset, "streams under a fan-out", fanout_all, "by the phases", fanout_done, "with links", linked)
    assert fanout_all >= 60, fanout_all
    assert fanout_done >= 0.9 * fanout_all, (fanout_done, fanout_all)


@njit
def _fanout_levels(layer, acc, maps, b, ws, rows):
    """Mapping b's nest into the workspace (`_nest`) and its levels right under a fan-out of more than one child
    (not the MAC): rows[i] = (level, temporal loops above it); their count (0 for an invalid shape). A caller
    lists a level's spatial loops again (`spatial_loops`): the workspace holds one level's."""
    if not _nest(layer, acc, maps, b, ws):
        return 0
    levels = ws.levels
    count = 0
    spatial_above = 0
    for lvl in range(1, maps.temporal.shape[1]):
        p = lvl - 1
        spatial_above += levels[p].n_spatial
        if levels[p].n_spatial > 0 and spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)[1] > 1:
            rows[count, 0] = lvl
            rows[count, 1] = levels[lvl].start - spatial_above
            count += 1
    return count


@njit
def _phases_on_a_filled_pool(layer, acc, maps, fill, out):
    """Per mapping, level right under a fan-out (not the MAC) and tensor with link candidates: the phases' fills
    (out[b, level, t, 0]) from a pool whose every word was `fill` first (as a new workspace's uninitialized memory
    may hold), and whether the children's spread and the link candidates `link_candidates` wrote were left as
    they were (out[b, level, t, 1]: 1.0)."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    origin = ws.sweep[0].origin
    pool = ws.memo[1].pool
    rows = np.empty((L, 2), dtype=np.int64)
    out[:] = NOT_COMPARED
    for b in range(maps.temporal.shape[0]):
        for r in range(_fanout_levels(layer, acc, maps, b, ws, rows)):
            lvl, M = rows[r, 0], rows[r, 1]
            child, p = levels[lvl], lvl - 1
            n_sp, _ = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            for t in range(3):
                spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, ws.scratch[0])
                pool[:] = fill
                n_cand = link_candidates(t, ws.spatial, n_sp, acc.fanout[p, 0], layer, ws.scratch[0], ws.diffs, pool)
                if n_cand <= 0:
                    continue
                written = pool[SPAN:CAND + n_cand * N_AXES].copy()
                out[b, lvl, t, 0] = phase_stream(t, ws.temporal, M, child.extents, layer, origin[:], pool, n_cand)
                out[b, lvl, t, 1] = 1.0 if np.all(pool[SPAN:CAND + n_cand * N_AXES] == written) else 0.0


@pytest.mark.parametrize("preset", ["eyeriss", "shidiannao"])
def test_the_phases_read_no_word_of_their_scratch_before_writing_it(preset):
    """Whatever a new workspace's memory held (`make_workspace` does not clear the pools), the phases under a
    fan-out give the same fills and write nothing over the link candidates: no step before a node's first move reads
    the count of outcomes that move sets (a count read from the pool's old memory would move deltas past the scratch,
    and past the workspace)."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)) + 2)
    checked = 0
    for _ in range(25):
        if checked >= 100:
            break
        layer = _random_layer(rng)
        maps = _temporal_class_draws(layer, acc, rng, 15)
        if not maps.batch_size:
            continue
        runs = []
        for fill in (0, 4000):        # 4000: a count of outcomes whose moves stay inside the memo's pool
            out = np.empty((maps.batch_size, acc.num_levels, 3, 2))
            _phases_on_a_filled_pool(layer_arrays(layer), accelerator_arrays(acc), maps, np.int64(fill), out)
            runs.append(out)
        compared = runs[0][..., 0] != NOT_COMPARED
        assert np.array_equal(runs[0][..., 0], runs[1][..., 0])
        assert np.all(runs[0][compared][:, 1] == 1.0) and np.all(runs[1][compared][:, 1] == 1.0)
        checked += int(compared.sum())
    assert checked >= 30, checked


@njit
def _candidate_checks(layer, acc, maps, tally):
    """Per mapping, level under a fan-out and tensor, `link_candidates` against the neighbour differences it lists
    (`links.neighbour_diffs`, left in the workspace): tally[0] streams, [1] candidates, [2] candidates listed twice,
    [3] a difference or its negative missing, [4] candidates that are neither, [5] candidates off the children's
    lattice (`links.lattice_ok`)."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    pool = ws.memo[1].pool
    sc = ws.scratch[0]
    for b in range(maps.temporal.shape[0]):
        if not _nest(layer, acc, maps, b, ws):
            continue
        for lvl in range(1, L):
            p = lvl - 1
            if levels[p].n_spatial == 0:
                continue
            n_sp, n_children = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            if n_children == 1:
                continue
            for t in range(3):
                spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, sc)
                n = link_candidates(t, ws.spatial, n_sp, acc.fanout[p, 0], layer, sc, ws.diffs, pool)
                if n < 0:
                    continue
                tally[0] += 1
                tally[1] += n
                for i in range(n):
                    v = pool[CAND + i * N_AXES:CAND + (i + 1) * N_AXES]
                    if not lattice_ok(v, sc.s1, sc.m1, sc.s2, sc.m2, sc.reach):
                        tally[5] += 1
                    if not is_neighbour_diff(v, ws.diffs, sc.n_diffs):
                        tally[4] += 1
                    for i2 in range(i):
                        if np.all(pool[CAND + i2 * N_AXES:CAND + (i2 + 1) * N_AXES] == v):
                            tally[2] += 1
                for r in range(sc.n_diffs):
                    for sign in (1, -1):
                        found = False
                        for i in range(n):
                            if np.all(pool[CAND + i * N_AXES:CAND + (i + 1) * N_AXES] == sign * ws.diffs[r]):
                                found = True
                        if not found:
                            tally[3] += 1


def _tally_over_draws(preset, seed, count, size):
    """`count(layer, acc, maps, tally)` over the temporal-class draws of 12 random layers on the preset (seeded by
    its name plus `seed`); the tally (`size` int64 counters)."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)) + seed)
    tally = np.zeros(size, dtype=np.int64)
    for _ in range(12):
        layer = _random_layer(rng)
        maps = _temporal_class_draws(layer, acc, rng, 15)
        if maps.batch_size:
            count(layer_arrays(layer), accelerator_arrays(acc), maps, tally)
    return tally


@pytest.mark.parametrize("preset", ["eyeriss", "shidiannao", "nvdla_256"])
def test_the_link_candidates_are_the_neighbour_differences_each_once(preset):
    """`link_candidates` lists every neighbour difference of a fan-out's children and its negative, nothing else,
    each once, without checking them against the children's lattice: each is the difference of two children's
    offsets, so the check (`links.lattice_ok`) holds for all of them."""
    tally = _tally_over_draws(preset, 3, _candidate_checks, 6)
    assert tally[0] >= 30 and tally[1] >= tally[0], tally
    assert np.all(tally[2:] == 0), tally


@njit
def _listed_and_on_demand(layer, acc, maps, tally):
    """Per mapping, level right under a fan-out (not the MAC) and tensor: the phases with the link candidates
    listed (`link_candidates`) and with the children's spread alone (`link_spread`, candidates `UNLISTED`, also where
    `no_link` clears the stream).
    tally[0] streams, [1] the on-demand run gave the listed run's answer, [2] it asked for the candidates
    (`UNCHECKED`), [3] it gave anything else, [4] the listed run found a delta that may take a link (-1 after a
    tree the phases could build) while the on-demand run did not ask."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    origin = ws.sweep[0].origin
    pool = ws.memo[1].pool
    sc = ws.scratch[0]
    rows = np.empty((L, 2), dtype=np.int64)
    for b in range(maps.temporal.shape[0]):
        for r in range(_fanout_levels(layer, acc, maps, b, ws, rows)):
            lvl, M = rows[r, 0], rows[r, 1]
            child, p = levels[lvl], lvl - 1
            n_sp, _ = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            for t in range(3):
                spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, sc)
                n_cand = link_candidates(t, ws.spatial, n_sp, acc.fanout[p, 0], layer, sc, ws.diffs, pool)
                if n_cand < 0:
                    continue
                listed = phase_stream(t, ws.temporal, M, child.extents, layer, origin[:], pool, n_cand)
                link_spread(t, ws.temporal, M, child.extents, layer, origin, n_sp, sc, pool)   # the spread
                lazy = phase_stream(t, ws.temporal, M, child.extents, layer, origin[:], pool, np.int64(UNLISTED))
                tally[0] += 1
                if lazy == listed:
                    tally[1] += 1
                elif lazy == UNCHECKED:
                    tally[2] += 1
                else:
                    tally[3] += 1
                phase_fills_ok = phase_fills(t, ws.temporal, M, child.extents, layer, origin[:], pool) >= 0.0
                if listed == -1.0 and phase_fills_ok and lazy != UNCHECKED:
                    tally[4] += 1


@pytest.mark.parametrize("preset", ["eyeriss", "shidiannao", "nvdla_256"])
def test_candidates_listed_on_demand_give_the_listed_answer(preset):
    """Under a fan-out the phases first check each delta against the children's spread alone and ask for the link
    candidates only where one is within it (`UNCHECKED`, then `sweep` lists them and runs the phases again): on
    every other stream they give the fills the listed candidates give, and every stream where the listed run finds
    a delta that may take a link is one where they asked."""
    tally = _tally_over_draws(preset, 4, _listed_and_on_demand, 5)
    print(preset, "streams", tally[0], "same answer", tally[1], "asked for the candidates", tally[2])
    assert tally[0] >= 30 and tally[1] >= tally[0] // 2, tally
    assert tally[3] == 0 and tally[4] == 0, tally
    assert tally[1] + tally[2] == tally[0], tally


@njit
def _proof_against_the_walk(layer, acc, maps, origins, tally, walks):
    """Per mapping, origin, level right under a fan-out (not the MAC) and tensor: whether `no_link` clears the stream,
    against the walk (`walk_sweep`: fills, parent reads, link transfers) and the phases with the link candidates
    listed (`link_candidates`). tally[0] streams, [1] cleared, [2] the walk took a link, [3] cleared and the walk
    took a link, [4] cleared and the phases without a link check (`phase_fills`) or the listed run (where it does
    not leave the stream to the walk) differ from the walk's fills, or the walk's parent reads are not the multicast
    groups' reads of its fills. `walks`: as in `_fills_both`."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    pool = ws.memo[1].pool
    sc = ws.scratch[0]
    rows = np.empty((L, 2), dtype=np.int64)
    proof_sc = np.empty(3 * N_AXES + 8, dtype=np.int64)
    for b in range(maps.temporal.shape[0]):
        for r in range(_fanout_levels(layer, acc, maps, b, ws, rows)):
            lvl, M = rows[r, 0], rows[r, 1]
            child, p = levels[lvl], lvl - 1
            n_sp, n_children = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            fx, fy = acc.fanout[p, 0], acc.fanout[p, 1]
            for t in range(3):
                groups = spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, sc)
                for o in range(origins.shape[0]):
                    origin = origins[o].origin
                    fills, reads, moved = walk_sweep(t, ws.temporal, M, child, np.bool_(False), layer, groups,
                                                     n_children, ws.spatial, n_sp, fx, fy, ws, origin, np.bool_(True),
                                                     walks)
                    span = np.empty(N_AXES, dtype=np.int64)
                    for a in range(N_AXES):
                        span[a] = sc.reach[a] if sc.s1[a] != 0 else 0
                    cleared = no_link(t, ws.temporal, M, child.extents, layer, origin, span, proof_sc)
                    tally[0] += 1
                    tally[1] += cleared
                    tally[2] += moved > 0.0
                    if not cleared:
                        continue
                    tally[3] += moved > 0.0
                    wrong = reads != groups * fills
                    phased = phase_fills(t, ws.temporal, M, child.extents, layer, origin[:], pool)
                    if phased != -1.0 and phased != fills:
                        wrong = True
                    n_cand = link_candidates(t, ws.spatial, n_sp, fx, layer, sc, ws.diffs, pool)
                    if n_cand >= 0:
                        listed = phase_stream(t, ws.temporal, M, child.extents, layer, origin[:], pool, n_cand)
                        if listed != -1.0 and listed != fills:
                            wrong = True
                    tally[4] += wrong


@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like", "shidiannao", "nvdla_256"])
def test_a_stream_the_proof_clears_takes_no_link(preset):
    """Under a fan-out, `no_link` clears a stream from the loops alone so that the phases run it without looking
    for a link: on every stream of random temporal-class nests, from the origin and from an offset one, a cleared
    stream is one where the walk takes no link and whose fills the phases give (without the check, and with the
    candidates listed); it clears most streams, and none of those where the walk takes a link."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)) + 5)
    tally = np.zeros(5, dtype=np.int64)
    for la, aa, maps, origins, walks in _draws_from_two_origins(acc, rng, 20):
        _proof_against_the_walk(la, aa, maps, origins, tally, walks)
    print(preset, "streams", tally[0], "cleared", tally[1], "with links", tally[2])
    assert tally[0] >= 60 and tally[1] >= tally[0] // 2, tally
    assert tally[3] == 0 and tally[4] == 0, tally


UNIT = {"read_energy_pj": 1.0, "write_energy_pj": 1.0, "update_energy_pj": 1.0}


def _glb_fanout():
    """DRAM -> GLB with a fan-out of 4 on X -> an RF per PE keeping every tensor -> 4 MACs."""
    return Accelerator("glb_fanout", (StorageLevel("DRAM", kind="DRAM", **UNIT),
                                      StorageLevel("GLB", capacity_words=4096, fanout_x=4, **UNIT),
                                      StorageLevel("RF", capacity_words=64, **UNIT)), mac_energy_pj=1.0)


def _small_sliding_layer(rng) -> Layer:
    """A small layer whose window slides over P, which `_glb_fanout` spreads over its 4 PEs."""
    pick = lambda *values: int(rng.choice(values))  # noqa: E731
    return Layer(R=pick(2, 3, 5), S=1, P=pick(4, 5, 6, 8), Q=pick(1, 2, 3), C=pick(1, 2, 3, 5), K=pick(2, 3, 5, 6, 7),
                 N=pick(1, 2, 3), stride_w=pick(1, 1, 2))


def test_the_proof_where_inner_loops_that_do_not_move_the_tensor_forget_its_deltas():
    """On 4 PEs sharing a sliding window, the walk takes links in streams whose innermost loops above the level do
    not move the tensor, where whether those loops run a second iteration after every step (`no_link`'s forgetting
    half) decides: the proof clears none of the streams that take a link, and the phases count those it clears."""
    acc = _glb_fanout()
    rng = np.random.default_rng(31)
    tally = np.zeros(5, dtype=np.int64)
    for la, aa, maps, origins, walks in _draws_from_two_origins(acc, rng, 40, _small_sliding_layer, 30):
        _proof_against_the_walk(la, aa, maps, origins, tally, walks)
    print("streams", tally[0], "cleared", tally[1], "with links", tally[2])
    assert tally[2] >= 50 and tally[1] >= tally[0] // 4, tally
    assert tally[3] == 0 and tally[4] == 0, tally
