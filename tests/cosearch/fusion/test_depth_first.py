"""Depth-first groups (`fusion.groups`) and the planner (`--fusion depth-first`)."""

from unittest import mock

import pytest

from accel_models import explain
from cosearch.fusion import get_fusion_mode, groups, layer_wise
from cosearch.fusion.groups import group_cost
from cosearch.fusion.modes import resident as resident_mode
from cosearch.fusion.plan import LayerRun, LinearObjective
from cosearch.fusion.runs import choose_run
from cosearch.fusion.tiling import schedule
from cosearch.search import evaluate_network
from nets import Layer, Network

from _fusion_tiny import NO_CACHE
from test_group_walker import _compulsory_run, _NoMapper, _Priced
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
    # a tiled layer's utilization (report.md, result.json) is the whole layer's MACs over its tiles' cycles, not one
    # tile's (its result is a tile's mapping with the tiles' summed cycles)
    tiled = [lc for lc in cost.layers if lc.parts and len(lc.parts) * max(t for _, t in lc.parts) > 1]
    assert tiled
    for lc in cost.layers:
        assert lc.to_dict()["utilization"] == pytest.approx(lc.layer.macs / (acc.num_macs * lc.cycles), rel=1e-12)
    assert all(lc.to_dict()["utilization"] > lc.result.utilization for lc in tiled)


def test_a_chain_that_breaks_is_planned_in_pieces(cache):
    net = Network("broken", [Layer.conv(3, 8, 3, 8), Layer.conv(16, 8, 1, 8)])
    plan = get_fusion_mode("depth-first").plan(net, _acc(4096), cache, "edp")
    assert all(g["first"] == g["last"] for g in plan.tiling) or plan.mode == "resident"


def _moved_or_faster(layer, accelerator, cache, objective, residency=None, search_view=False, count_dram=True):
    """Compulsory runs (`test_group_walker`) where a tile on a view may also run twice as fast for 1.9 times the
    energy: a lower EDP for the tile alone (0.95x), a higher one for a network whose cycles and energy are in the
    tile's proportions (its linearised score rises by 0.4 of the tile's share)."""
    run = _compulsory_run(layer, accelerator, cache, objective, residency, search_view, count_dram)
    if residency is None:
        return (run,)
    return run, LayerRun(layer, _Priced(max(1, run.result.cycles // 2), 1.9 * run.result.energy_pj), residency,
                         run.dram_words)


def _by_the_layers_own_objective(runs, objective, linear=None):
    return choose_run(runs, objective)


def _edp(plan) -> float:
    return plan.cycles * plan.energy_pj


@pytest.mark.parametrize("glb_words", [600, 1024, 2048, 4096])
def test_a_tiles_run_is_chosen_by_the_networks_objective_not_its_own(glb_words):
    """Where a tile's faster run has the lower EDP alone but raises the network's, the group keeps the moved run by
    the planner's linearised objective (`runs.choose_run`) and the layer's own objective keeps the faster one; the
    plan is never worse by the network's EDP than the plan whose tiles choose by their own objective (before: every
    tile by its own), and here strictly better."""
    net, acc = _net(), _acc(glb_words)
    layers = net.layers[1:4]        # expand -> depthwise 3x3 -> project, in 3 tiles
    with mock.patch.object(groups, "layer_runs", _moved_or_faster):
        own = group_cost(layers, 1, _acc(4096), NO_CACHE, "edp", 4, "cache")
        beside = LinearObjective(100 * own.cycles, own.energy_pj, "edp")     # a network of slower layers
        linear = group_cost(layers, 1, _acc(4096), NO_CACHE, "edp", 4, "cache", linear=beside)
        tiles = [(a, b) for p, q in zip(own.runs, linear.runs) for (a, _), (b, _) in zip(p, q)
                 if a.result != b.result]
        assert tiles and all(a.result.cycles < b.result.cycles and a.result.energy_pj > b.result.energy_pj
                             for a, b in tiles)
        assert own.cycles * own.energy_pj < linear.cycles * linear.energy_pj   # the group alone prefers faster
        assert beside(linear.cycles, linear.energy_pj) < beside(own.cycles, own.energy_pj)

    def plan(own_rule: bool):
        with mock.patch.object(groups, "layer_runs", _moved_or_faster), \
                mock.patch.object(resident_mode, "layer_runs", _moved_or_faster), \
                mock.patch("cosearch.fusion.runs.layer_runs", _moved_or_faster), \
                mock.patch.object(groups, "choose_run", _by_the_layers_own_objective if own_rule else choose_run):
            return get_fusion_mode("depth-first").plan(net, acc, _NoMapper(), "edp")
    now, before = plan(False), plan(True)
    assert _edp(now) < _edp(before), glb_words
    assert now.tiling and any(part.result.cycles == _compulsory_run(part.layer, acc, None, "edp",
                                                                     part.residency).result.cycles
                              for run in now.runs for part, _ in run.parts)


@pytest.mark.parametrize("glb_words", [600, 2048, 65536])
def test_searching_views_in_groups_never_raises_the_networks_objective_over_choosing_by_each_layer(cache,
                                                                                                  glb_words):
    """With the mapper and views searched (each tile has the moved mapping and its view's search to choose from),
    the plan's network EDP is at most the plan's whose tiles keep the run that is best for the layer alone."""
    net, acc = _net(), _acc(glb_words)
    now = get_fusion_mode("depth-first").plan(net, acc, cache, "edp", True)
    with mock.patch.object(groups, "choose_run", _by_the_layers_own_objective):
        before = get_fusion_mode("depth-first").plan(net, acc, cache, "edp", True)
    assert _edp(now) <= _edp(before)


@pytest.mark.slow
def test_chosen_views_search_the_kept_groupings_tiles_only_and_never_raise_the_moved_plans_objective(cache):
    """`ChosenViews` in depth-first: the grouping is decided on the moved mappings, then the views of its tiles are
    searched, fewer searches than searching every tiling's views; the network EDP is at most the moved plan's, and
    where both plans are depth-first they run the same groups."""
    from cosearch.fusion import ChosenViews, runs

    searched_views = []
    real_search = runs.view_search

    def counted(*args, **kwargs):
        searched_views.append(1)
        return real_search(*args, **kwargs)

    for glb_words in (600, 2048, 4096):
        net, acc = _net(), _acc(glb_words)
        mode = get_fusion_mode("depth-first")
        moved = mode.plan(net, acc, cache, "edp", False)
        with mock.patch.object(runs, "view_search", counted):
            every = mode.plan(net, acc, cache, "edp", cache.settings)
            n_every, searched_views[:] = len(searched_views), []
            kept = mode.plan(net, acc, cache, "edp", ChosenViews(cache.settings))
        assert _edp(kept) <= _edp(moved) * (1 + 1e-12), glb_words
        assert 0 < len(searched_views) < n_every, glb_words
        if kept.mode == moved.mode == "depth-first":
            assert [(g["first"], g["last"], g["tile_rows"], g["halo"]) for g in kept.tiling] == \
                [(g["first"], g["last"], g["tile_rows"], g["halo"]) for g in moved.tiling], glb_words
        searched_views.clear()


def test_the_reports_group_table_shows_tiles_and_key_blocks(cache):
    """The per-group table's schedule column: a tiled convolution group's tiles, rows and halo; an attention group's
    query blocks, key blocks and key/value heads at a time, and what it keeps on chip (`test_group_walker`'s planner
    cases: only key blocks fit in 3,000 words; in 6,000 K and V stay on chip too)."""
    from cosearch.report.fusion import GROUP_COLUMNS, group_rows
    from cosearch.report.summary import table_markdown
    from cosearch.search.evaluate import fusion_summary
    from test_group_walker import _attention_plan

    for glb_words, kept in ((3000, "weights on chip"), (6000, "weights, K and V on chip")):
        _, plan = _attention_plan(glb_words)
        summary = fusion_summary(plan, plan.baseline, 1)
        group = summary["groups"][0]
        text = table_markdown(list(GROUP_COLUMNS), group_rows(summary))
        assert text.splitlines()[0].startswith("| group | layers | schedule |")
        assert (f"| {group['tiles']} query blocks of {group['tile_rows']} tokens, key blocks of {group['key_rows']} "
                f"keys, 1 key/value head at a time; {kept} |") in text, text
    summary = evaluate_network(_net(), _acc(2048), cache, fusion="depth-first").meta["fusion"]
    rows = group_rows(summary)
    for group, row in zip(summary["groups"], rows):
        if group.get("tiles", 1) > 1:
            assert row[2].startswith(f"{group['tiles']} tiles of {group['tile_rows']} row")
            assert f"halo {group['halo']}" in row[2] and ("weights on chip" in row[2]) == group["weights_on_chip"]
        else:
            assert row[2] == "-"
    assert any(row[2] != "-" for row in rows)
