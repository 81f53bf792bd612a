"""The perfect closed form (`counts.closed_form_fills`, `links.links`) on the streams of residual temporal-class
mappings whose tensor no residual touches (`residual.closed_stream`), read with each loop's passes
(`residual.pass_counts`), against the frame walk (`sweep.walk_sweep`): the same fills, parent reads and link
transfers, under a fan-out too."""
import numpy as np
import pytest
from numba import njit

from accel_models import get_preset
from accel_models.cost_model import evaluate_batch
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.kernel.counts import closed_form_fills, spatial_loops
from accel_models.kernel.links import links, spatial_axes
from accel_models.kernel.paths import residual_paths
from accel_models.kernel.residual import closed_stream, iterations_run, pass_counts, whole_stream
from accel_models.kernel.sweep import walk_sweep
from accel_models.kernel.driver import max_children
from accel_models.kernel.workspace import make_workspace
from accel_models.reference import evaluate
from mappings import LevelMapping, Mapping
from nets import Layer

from test_phases import NOT_COMPARED, _glb_fanout, _nest, _random_layer, _temporal_class_draws
from test_residual import _shuffled_nest

I = 1


@njit
def _closed_form(t, M, lvl, layer, acc, ws, n_sp, n_children, groups):
    """(fills, parent reads, link transfers) of one stream by the closed forms, composed as `level_accesses` does."""
    temporal, child, p = ws.temporal, ws.levels[lvl], lvl - 1
    is_mac = lvl == ws.levels.shape[0] - 1
    F, tile, delta = closed_form_fills(t, temporal, M, child, is_mac, layer, ws)
    reads = groups * F
    transfers = 0.0
    if n_children > 1 and M > 0 and (is_mac or layer.ax[t, temporal[M - 1].dim] >= 0):
        saved, transfers = links(t, temporal, M, ws.scratch[0].box, tile, delta, is_mac, ws.spatial, n_sp,
                                 acc.fanout[p, 0], acc.fanout[p, 1], layer, groups, ws)
        reads -= saved
    return F, reads, transfers


@njit
def _closed_and_walked(layer, acc, maps, out, passes, walks):
    """Per mapping, level (the MAC too) and tensor whose stream `closed_stream` sends to the closed forms with
    `pass_counts` in the nest (`passes`; False: the product of the bounds `loop_nest` leaves there): the closed
    forms' (fills, parent reads, link transfers) into out[b, level, t, 0:3], the walk's into 3:6, into 6 whether
    `whole_stream` holds (1.0: a perfect stream, the closed form's before) and into 7 whether a fan-out is right
    above the level (1.0); NOT_COMPARED in column 0 elsewhere."""
    L = maps.temporal.shape[1]
    ws = make_workspace(L, max_children(acc.fanout))
    levels = ws.levels
    origin = ws.sweep[0].origin
    out[:] = NOT_COMPARED
    for b in range(maps.temporal.shape[0]):
        if not _nest(layer, acc, maps, b, ws):
            continue
        n_temporal = levels[L].start
        for lv in range(L):
            n_temporal -= levels[lv].n_spatial
        if passes:
            pass_counts(ws.temporal, n_temporal, layer.bounds, ws.scratch[0])
        spatial_above = 0
        for lvl in range(1, L + 1):
            child, p = levels[lvl], lvl - 1
            is_mac = lvl == L
            spatial_above += levels[p].n_spatial
            M = child.start - spatial_above
            n_sp, n_children = np.int64(0), np.int64(1)
            if levels[p].n_spatial > 0:
                n_sp, n_children = spatial_loops(ws.loops, levels, p, ws.spatial, ws.scratch[0].n_digits)
            for t in range(3):
                if not closed_stream(t, ws.temporal, M, layer.bounds, child.extents, layer.ax, is_mac, n_children):
                    continue
                groups = np.int64(1)
                if n_sp > 0:
                    groups = spatial_axes(t, ws.spatial, n_sp, layer.ax, layer.co, ws.scratch[0])
                r = out[b, lvl, t]
                r[0], r[1], r[2] = _closed_form(t, M, lvl, layer, acc, ws, n_sp, n_children, groups)
                r[3], r[4], r[5] = walk_sweep(t, ws.temporal, M, child, is_mac, layer, groups, n_children, ws.spatial,
                                              n_sp, acc.fanout[p, 0], acc.fanout[p, 1], ws, origin, np.bool_(True),
                                              walks)
                r[6] = 1.0 if whole_stream(t, ws.temporal, M, layer.bounds, origin, child.extents, layer.ax) else 0.0
                r[7] = 1.0 if n_children > 1 else 0.0


def _few_cut_layer(rng) -> Layer:
    """A random layer whose bounds are powers of two but one or two of P, Q, C, K, N (a residual cuts those only, so
    that some tensors are indexed by none of them), half the time with a stride or a dilation."""
    sizes = {"R": int(rng.choice([1, 3])), "P": 8, "Q": 4, "C": 8, "K": 16, "N": 1}
    sizes["S"] = int(rng.choice([1, sizes["R"]]))
    for d in ("P", "Q", "C", "K", "N"):
        sizes[d] = int(rng.choice([1, 2, 4, 8, 16])) if d != "N" else int(rng.choice([1, 2]))
    for d in rng.choice(["P", "Q", "C", "K", "N"], size=int(rng.integers(1, 3)), replace=False):
        sizes[str(d)] = int(rng.choice([3, 5, 6, 7, 12, 13]))
    window = rng.random() < 0.5
    return Layer(**sizes, stride_w=int(rng.choice([1, 2])) if window else 1,
                 dilation_h=int(rng.choice([1, 2])) if window else 1, name="few_cut")


def _streams(preset, passes=True):
    """Random temporal-class draws of layers with one or two cut dims (`_few_cut_layer`) and of random layers on a
    preset, compared stream by stream (`_closed_and_walked`): (the result array with a row per stream compared, the
    columns as there)."""
    acc = get_preset(preset)
    rng = np.random.default_rng(sum(map(ord, preset)) + 38)
    rows = []
    for k in range(40):
        layer = _few_cut_layer(rng) if k % 4 else _random_layer(rng)
        maps = _temporal_class_draws(layer, acc, rng, 15)
        if not maps.batch_size:
            continue
        out = np.empty((maps.batch_size, acc.num_levels + 1, 3, 8))
        la, aa = layer_arrays(layer), accelerator_arrays(acc)
        _closed_and_walked(la, aa, maps, out, passes, residual_paths(la, aa).walks)
        rows.append(out[out[..., 0] != NOT_COMPARED])
    return np.concatenate(rows)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like", "shidiannao", "nvdla_256"])
def test_closed_form_with_passes_equals_the_walk(preset):
    """On every stream `closed_stream` accepts (a residual cuts only dims that do not index its tensor), the closed
    forms with `pass_counts` give the walk's fills, parent reads and link transfers; many of them are not perfect
    streams (`whole_stream` fails), under a fan-out too, and some of those take links."""
    r = _streams(preset)
    bad = r[np.any(r[:, 0:3] != r[:, 3:6], axis=1)]
    assert bad.size == 0, bad[:5]
    new = r[r[:, 6] == 0.0]
    print(preset, "streams compared", len(r), "not perfect", len(new), "of them under a fan-out",
          int((new[:, 7] == 1.0).sum()), "with links", int((new[:, 5] > 0).sum()))
    assert len(new) >= 100, len(new)
    assert (new[:, 7] == 1.0).sum() >= 10, new[:, 7].sum()


@pytest.mark.slow
def test_the_product_of_the_bounds_is_not_the_passes():
    """The same streams with the product of the bounds in `outer` (`loop_nest`'s, the perfect nest's reading): the
    closed forms then miss the walk's counts on streams where a residual dim's loop runs short."""
    r = _streams("eyeriss", passes=False)
    new = r[r[:, 6] == 0.0]
    assert np.any(new[:, 0] != new[:, 3])


@njit
def _prefix_runs(temporal, n, bounds, scratch):
    """`pass_counts` into the nest, then per prefix j of the loops: (its `outer`, `iterations_run` of the prefix)."""
    pass_counts(temporal, n, bounds, scratch)
    out = np.empty((n + 1, 2))
    origin = np.zeros(8, dtype=np.int64)
    for j in range(n + 1):
        out[j, 0] = temporal[j].outer
        out[j, 1] = iterations_run(temporal, j, bounds, origin)
    return out


@pytest.mark.slow
def test_pass_counts_are_the_iterations_that_run_outside_each_loop():
    """`pass_counts`' outer of loop j is `iterations_run` of the loops outside it (held to listing every iteration
    in test_residual.py), on random nests of chained loops per dim with bounds cut anywhere."""
    rng = np.random.default_rng(380)
    ws = make_workspace(4, 1)
    short = 0
    for _ in range(300):
        span = rng.integers(1, 4, 8)
        loops = []
        for _ in range(rng.integers(1, 9)):
            d = int(rng.integers(0, 8))
            bound = int(rng.integers(2, 5))
            loops.append((d, bound, int(span[d])))
            span[d] *= bound
        order, temporal = _shuffled_nest(loops, rng)
        bounds = np.array([int(rng.integers(1, span[d] + 1)) if rng.random() < 0.3 else int(span[d])
                           for d in range(8)], dtype=np.int64)
        runs = _prefix_runs(temporal, np.int64(len(order)), bounds, ws.scratch[0])
        np.testing.assert_array_equal(runs[:, 0], runs[:, 1])
        products = np.concatenate([[1], np.cumprod([b for _, b, _ in order])])
        short += int(np.any(runs[:, 0] != products))
    assert short >= 50, short


def _kernel_equals_the_walk(layer, acc, mapping):
    """The walk's result (`reference.evaluate`) of a valid mapping, after checking that the kernel gives its cycles,
    its energy and exactly its counts."""
    ref = evaluate(layer, acc, mapping)
    assert ref.valid, ref.reason_text
    fast = evaluate_batch(layer, acc, mapping.to_arrays(acc))
    assert int(fast.cycles[0]) == ref.cycles and fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
    for got, want in ((fast.reads, ref.reads), (fast.fills, ref.fills), (fast.updates, ref.updates)):
        np.testing.assert_array_equal(got[0], want)
    return ref


def test_links_over_the_passes_that_run():
    """P unrolled on 4 PEs with one-word RFs, R3 innermost in the GLB, K = 5 = (2, 2) x (3, 2) in DRAM and the GLB
    (F3: (2 - 1) x 3 + 2): at each R step PE k takes the word PE k + 1 held, so a pass of R costs the GLB 4 + 1 + 1
    = 6 input reads and 2 x 3 = 6 link transfers, and a K step brings back the pass's first window. K runs 5
    iterations, not the 2 x 3 of its ends: 5 passes, 30 reads, 30 transfers. The Inputs' stream into the RFs is not a
    perfect one (K's last iteration does not run), and a residual cuts none of Inputs' dims: the closed forms count
    it, and the kernel gives the walk's counts."""
    layer = Layer(R=3, P=4, K=5)
    acc = _glb_fanout()
    mapping = Mapping((LevelMapping({"K": 2}), LevelMapping({"K": 3, "R": 3}, permutation=("K", "R"),
                                                            spatial_x={"P": 4}, temporal_residual={"K": 2}),
                       LevelMapping({})))
    ref = _kernel_equals_the_walk(layer, acc, mapping)
    assert (ref.reads[1, I], ref.link_transfers[1, I]) == (30, 30)


def test_a_short_pass_of_the_innermost_loop_lets_outer_steps_link():
    """The same array with K = 3 = (2, 2) x (2, 1) (F3: (2 - 1) x 2 + 1), the GLB's K innermost below R3: K does not
    move Inputs, and in DRAM's first K iteration its two GLB iterations put a still step between R's steps, which
    leaves no delta for a link; in the second it runs once, R's steps follow one another and PE k takes the word PE
    k + 1 held. The closed forms would pair no R steps (the innermost loop does not move Inputs), so the stream is
    not theirs (`closed_stream`: the innermost loop must run its whole bound in every pass); the kernel gives the
    walk's counts, links included."""
    layer = Layer(R=3, P=4, K=3)
    acc = _glb_fanout()
    mapping = Mapping((LevelMapping({"K": 2}), LevelMapping({"K": 2, "R": 3}, permutation=("R", "K"),
                                                            spatial_x={"P": 4}, temporal_residual={"K": 1}),
                       LevelMapping({})))
    assert _kernel_equals_the_walk(layer, acc, mapping).link_transfers[1, I] > 0
