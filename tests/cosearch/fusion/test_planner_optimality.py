"""The depth-first planner finds the best grouping of a chain: its dynamic programme over cut points, with the bounds
that let it pass over groups (`bounds.GroupBounds`), reaches the least total score of every grouping enumerated
exhaustively, on random chains of up to 8 layers; the bounds hold what they claim against the schedule and the
cost model; and on AccelForge's mobilenet_28 the planner fuses the whole chain where it fits."""
import random
from itertools import combinations
from pathlib import Path
from unittest import mock

import pytest

from accel_models import TENSOR_INDEX
from accel_models.accelforge import read_accelforge_arch, read_accelforge_workload
from cosearch.fusion import get_fusion_mode, groups
from cosearch.fusion.bounds import KEY_BLOCKS, ONE_QUERY_BLOCK, ONE_TILE, TILED, GroupBounds, tiling_class
from cosearch.fusion.groups import chainable
from cosearch.fusion.modes.depth_first import DepthFirst, _tilings
from cosearch.fusion.plan import LayerRun, NoValidMapping, linearised_objective
from cosearch.fusion.tiling import HALO_MODES, fewest_held_words, output_rows, schedule
from cosearch.fusion.view import home_level
from nets import Layer, Network

from _fusion_tiny import NO_CACHE, tiny_accelerator, tiny_cache

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))
AF = Path(__file__).resolve().parents[2] / "data" / "accelforge"


class _Priced:
    def __init__(self, cycles, energy_pj):
        self.cycles, self.energy_pj = cycles, energy_pj


class _ModelShapedRuns:
    """Runs shaped as the cost model's (what the bounds assume): cycles at least the compute and DRAM cycles, energy
    at least the MACs' and the compulsory DRAM words' (every word of a tensor off chip read or written once), plus a
    seeded random extra per tile shape and context (how well a mapping does), so that groupings differ; no valid
    mapping below 8 free words."""

    def __init__(self, accelerator, seed):
        self.acc, self.rng, self.extra = accelerator, random.Random(seed), {}

    def __call__(self, layer, accelerator, cache, objective, residency=None, search_view=False, count_dram=True):
        if residency is not None and residency.free_words < 8:
            raise NoValidMapping("too little room")
        resident = () if residency is None else residency.resident
        dram = self.acc.levels[0]
        reads = sum(w for t, w in ((W, layer.weight_words), (I, layer.input_words)) if t not in resident)
        writes = 0 if O in resident else layer.output_words
        cycles = max(layer.macs / self.acc.num_macs, (reads + writes) / dram.shared_bandwidth)
        energy = layer.macs * self.acc.mac_energy_pj + (reads + writes) * dram.read_energy_pj / dram.block_size_words
        key = (layer.shape_key, resident, None if residency is None else residency.free_words)
        extra = self.extra.setdefault(key, (self.rng.uniform(0, 0.5), self.rng.uniform(0, 0.5)))
        priced = _Priced(cycles * (1 + extra[0]) + 1, energy * (1 + extra[1]) + layer.input_words + layer.output_words)
        return (LayerRun(layer, priced, residency, float(reads + writes)),)


def _random_chain(rng: random.Random, layers: int) -> tuple[Layer, ...]:
    """A chain of `layers` convs (1x1 and 3x3, depthwise or not, strides 1-2, same padding) on a small map."""
    q = rng.choice([4, 6, 8, 12])
    found, channels = [], rng.choice([4, 8])
    for _ in range(layers):
        k, s = rng.choice([1, 3]), rng.choice([1, 1, 2])
        depthwise = k == 3 and rng.random() < 0.5
        out = channels if depthwise else rng.choice([4, 8, 16])
        found.append(Layer(R=k, S=k, P=q, Q=q, C=1 if depthwise else channels, K=1 if depthwise else out,
                           G=channels if depthwise else 1, stride_w=s, stride_h=s))
        channels = out
        q = max(1, (q - 1) * s + k - 2 * ((k - 1) // 2))
    # built from the last layer back: reverse, and re-derive each producer's channels from its reader
    found.reverse()
    chain = []
    for layer in found:
        if chain:
            prev = chain[-1]
            c = prev.K * prev.G
            layer = Layer(R=layer.R, S=layer.S, P=layer.P, Q=layer.Q, C=1 if layer.G > 1 else c,
                          K=1 if layer.G > 1 else layer.K, G=c if layer.G > 1 else 1, stride_w=layer.stride_w,
                          stride_h=layer.stride_h)
        chain.append(layer)
    return tuple(chain)


def _exhaustive(network, accelerator, score):
    """Per rule of the tiles' runs (the planner's two), the least total score over every grouping of the chain into
    chained groups, each group at its best tiling."""
    layers, n = network.layers, len(network.layers)
    group_score = {}
    for i in range(n):
        for j in range(i + 1, n + 1):
            if j - i > 1 and not chainable(network, i, j):
                continue
            costs = [[tiling.cost("edp", rule) for tiling in _tilings(layers[i:j], i, accelerator, NO_CACHE, "edp", False)]
                     for rule in (score, None)]
            for k, found in enumerate(costs):
                if found:
                    group_score[k, i, j] = min(score(c.cycles, c.energy_pj) for c in found)
    totals = []
    for k in range(2):
        least = None
        for cuts in range(n):
            for inner in combinations(range(1, n), cuts):
                points = (0, *inner, n)
                parts = [group_score.get((k, a, b)) for a, b in zip(points, points[1:])]
                if None not in parts and (least is None or sum(parts) < least):
                    least = sum(parts)
        totals.append(least)
    return totals


def _planned(planner, network, accelerator, score):
    return [total for total, _ in planner.best_groupings(network, accelerator, NO_CACHE, "edp", False, score)]


def _check_random_chains(cases: int) -> None:
    """`cases` seeded chains of 2-8 layers on GLBs of 512 to 65,536 words: the planner's least total for each rule
    equals the exhaustive one; on some of them only a group of more than 4 layers reaches it (a planner capped at
    4 layers misses it), so the comparison can fail."""
    rng = random.Random(2024)
    beyond_four = 0
    for case in range(cases):
        layers = _random_chain(rng, rng.randint(2, 8))
        network = Network("chain", list(layers))
        accelerator = tiny_accelerator(rng.choice([512, 2048, 8192, 65536]))
        score = linearised_objective(1e4, 1e6, "edp")
        with mock.patch.object(groups, "layer_runs", _ModelShapedRuns(accelerator, case)):
            expected = _exhaustive(network, accelerator, score)
            found = _planned(DepthFirst(), network, accelerator, score)
            capped = _planned(DepthFirst(max_group_layers=4), network, accelerator, score)
        assert found == pytest.approx(expected, rel=1e-12), case
        beyond_four += capped[0] > expected[0] * (1 + 1e-9)
    assert beyond_four >= 1


def test_the_planner_reaches_the_exhaustive_optimum_on_random_chains_of_up_to_8_layers():
    _check_random_chains(8)


@pytest.mark.slow
def test_the_planner_reaches_the_exhaustive_optimum_on_random_chains_of_up_to_8_layers_long():
    _check_random_chains(80)


def test_the_chosen_groups_add_up_to_the_planners_total():
    rng = random.Random(7)
    layers = _random_chain(rng, 7)
    network, accelerator = Network("chain", list(layers)), tiny_accelerator(65536)
    score = linearised_objective(1e4, 1e6, "edp")
    with mock.patch.object(groups, "layer_runs", _ModelShapedRuns(accelerator, 7)):
        for total, chosen in DepthFirst().best_groupings(network, accelerator, NO_CACHE, "edp", False, score):
            assert [(i, j) for i, j, _ in chosen] == sorted((i, j) for i, j, _ in chosen)
            assert chosen[0][0] == 0 and chosen[-1][1] == len(layers)
            assert all(a[1] == b[0] for a, b in zip(chosen, chosen[1:]))
            assert sum(score(c.cycles, c.energy_pj) for _, _, c in chosen) == pytest.approx(total, rel=1e-12)


def _bounds_of(layers, accelerator, score):
    bounds = GroupBounds(layers[-1], accelerator, home_level(accelerator), score)
    for producer in reversed(layers[:-1]):
        bounds.extend(producer)
    return bounds


@pytest.mark.parametrize("seed", range(40))
def test_the_capacity_bounds_hold_for_every_tiling(seed):
    """The one-tile words are the one-tile schedule's peak, and no tiling of several tiles (either halo mode, any
    tile rows) holds fewer intermediate words than `fewest_held_words` add up to."""
    rng = random.Random(seed)
    layers = _random_chain(rng, rng.randint(2, 6))
    bounds = _bounds_of(layers, tiny_accelerator(65536), linearised_objective(1.0, 1.0, "edp"))
    rows = output_rows(layers[-1])
    assert bounds.one_tile_words == schedule(layers, rows, "recompute").peak_intermediate_words(layers)
    assert bounds.fewest_words == sum(fewest_held_words(layers))
    for tile in range(1, rows):
        for halo in HALO_MODES:
            assert schedule(layers, tile, halo).peak_intermediate_words(layers) >= bounds.fewest_words


@pytest.mark.slow
def test_the_score_bounds_are_below_every_tiling_with_the_real_mapper():
    """With the real mapper on the tiny accelerator: every tiling of a class scores at least the class's bound
    (both rules of the tiles' runs), on conv chains and a transformer's row-wise chain."""
    cache = tiny_cache()
    rng = random.Random(11)
    chains = [_random_chain(rng, n) for n in (2, 3, 4)] + [
        (Layer.fc(16, 32, batch=12), Layer.fc(32, 16, batch=12), Layer.fc(16, 16, batch=12)),
        (Layer.attention_scores(96, 96, 4, heads=2), Layer.attention_context(96, 96, 4, heads=2),
         Layer.fc(8, 8, batch=96))]
    tried = set()
    for glb in (1024, 16384):
        accelerator = tiny_accelerator(glb)
        score = linearised_objective(1e4, 1e6, "edp")
        for layers in chains:
            bounds = _bounds_of(layers, accelerator, score)
            last_rows = output_rows(layers[-1])
            for tiling in _tilings(layers, 0, accelerator, cache, "edp", False):
                c = tiling_class(last_rows, tiling.tile_rows, tiling.key_rows)
                tried.add(c)
                assert c not in (ONE_TILE, TILED) or bounds.fits(c)
                for rule in (score, None):
                    cost = tiling.cost("edp", rule)
                    for least in (bounds.least_score(c), bounds.least_score(c, -(-last_rows // tiling.tile_rows)),
                                  bounds.least_score(ONE_TILE)):
                        assert score(cost.cycles, cost.energy_pj) >= least
    assert tried == {ONE_TILE, TILED, ONE_QUERY_BLOCK, KEY_BLOCKS}


def test_mobilenet_28_on_simple_with_a_1_mib_buffer_fuses_the_whole_chain():
    """AccelForge's mobilenet_28 (six layers: two inverted-residual blocks without their adds) on its `simple`
    architecture with a 1 Mib (131,072-word) global buffer and main memory at 10 energy units per access: the
    whole chain fits only in tiles of 2 rows or fewer, and there it moves only its input, output and weights
    through main memory, 18,816 + 18,816 + 21,888 = 59,520 words, which the planner reaches (a planner capped at
    4 layers cuts the chain and moves one 28 x 28 x 24 tensor through main memory too: 97,152)."""
    accelerator = read_accelforge_arch(AF / "arches" / "simple.yaml",
                                       {"GlobalBufferSize": 2 ** 20, "MainMemoryEnergy": 10})
    network = read_accelforge_workload(AF / "workloads" / "mobilenet_28.yaml", {})
    cache = tiny_cache()
    plan = get_fusion_mode("depth-first").plan(network, accelerator, cache, "energy")
    assert plan.dram_words == 59520
    assert [(g["first"], g["last"]) for g in plan.tiling] == [(0, 5)]
    capped = DepthFirst(max_group_layers=4).plan(network, accelerator, cache, "energy")
    assert capped.dram_words == 59520 + 2 * 28 * 28 * 24
