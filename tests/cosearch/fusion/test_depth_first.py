"""Depth-first groups (`fusion.groups`) and the planner (`--fusion depth-first`)."""

import pytest

from accel_models import explain
from cosearch.fusion import get_fusion_mode, layer_wise
from cosearch.fusion.groups import group_cost
from cosearch.fusion.tiling import schedule
from cosearch.search import evaluate_network
from nets import Layer, Network

from test_resident import _acc, _net


def test_a_group_of_one_layer_in_one_tile_is_the_layer_wise_run_bit_for_bit(cache):
    acc = _acc(2048)
    for layer in _net().layers:
        cost = group_cost((layer,), 0, acc, cache, "edp", layer.Q, "recompute")
        base = cache.best_mapping(layer, acc, "edp")
        assert (cost.cycles, cost.energy_pj) == (base.cycles, base.energy_pj)
        assert cost.runs[0][0][0].result.arrays is base.arrays and cost.runs[0][0][0].residency is None


def test_a_group_sums_its_tiles_and_loads_its_weights_once(cache):
    layers = _net().layers[1:4]           # expand -> depthwise 3x3 -> project
    acc = _acc(4096)
    cost = group_cost(layers, 1, acc, cache, "edp", 4, "cache")
    sched = schedule(layers, 4, "cache")
    assert cost.tiles == sched.tiles == 3
    for j, parts in enumerate(cost.runs):     # each tile's rows, as the schedule says
        assert sum(times for _, times in parts) == sum(1 for rows in sched.computed if rows[j])
        assert sum(run.layer.Q * times for run, times in parts) == sum(rows[j] for rows in sched.computed)
    assert cost.weights_on_chip
    tiles_total = sum(run.result.cycles * times for parts in cost.runs for run, times in parts)
    assert cost.cycles > tiles_total       # the weights' load


@pytest.mark.parametrize("glb_words", [600, 1024, 2048, 4096])
def test_depth_first_groups_fit_the_buffer_exactly(cache, glb_words):
    net, acc = _net(), _acc(glb_words)
    plan = get_fusion_mode("depth-first").plan(net, acc, cache, "edp")
    capacity = acc.levels[1].capacity_words
    assert plan.tiling, "a buffer this small is where tiles pay"
    for group in plan.tiling:
        weights = sum(l.param_words for l in net.layers[group["first"]:group["last"] + 1]) \
            if group["weights_on_chip"] else 0
        for run in plan.runs[group["first"]:group["last"] + 1]:
            for part, _ in run.parts or ((run, 1),):
                tiles = explain(part.layer, part.result.accelerator, part.result.arrays).tile_words[1]
                held = group["peak_intermediate_words"] + weights + sum(max(0, t) for t in tiles)
                assert held <= capacity, (glb_words, part.layer.name)


@pytest.mark.parametrize("glb_words", [600, 2048, 65536])
def test_depth_first_is_never_worse_than_layer_wise(cache, glb_words):
    net, acc = _net(), _acc(glb_words)
    base = layer_wise(net, acc, cache, "edp")
    plan = get_fusion_mode("depth-first").plan(net, acc, cache, "edp")
    e0, c0 = base.energy_pj, base.cycles
    assert plan.cycles * e0 + plan.energy_pj * c0 <= 2 * e0 * c0


def test_evaluate_network_reports_the_tiled_groups(cache):
    net, acc = _net(), _acc(2048)
    cost = evaluate_network(net, acc, cache, fusion="depth-first")
    groups = cost.meta["fusion"]["groups"]
    assert any(g.get("tiles", 1) > 1 for g in groups)
    assert cost.cycles == sum(g["cycles"] for g in groups)
    assert cost.meta["fusion"]["dram_bytes"] < cost.meta["fusion"]["layer_wise_dram_bytes"]


def test_a_chain_that_breaks_is_planned_in_pieces(cache):
    net = Network("broken", [Layer.conv(3, 8, 3, 8), Layer.conv(16, 8, 1, 8)])
    plan = get_fusion_mode("depth-first").plan(net, _acc(4096), cache, "edp")
    assert all(g["first"] == g["last"] for g in plan.tiling) or plan.mode == "resident"
