"""Tensors that stay on chip between layers (`--fusion resident`): the graph, the re-homed pricing, exact capacity."""
import math
from dataclasses import dataclass, replace

import numpy as np
import pytest

from accel_models import TENSOR_INDEX, build_accelerator, explain, explain_rehomed
from cosearch.config import SEARCH_MAPPER
from cosearch.fusion import ChosenViews, Residency, activations, get_fusion_mode, layer_run, layer_wise
from cosearch.fusion.plan import PlanTraffic
from cosearch.search import evaluate_network
from mappings import MappingCache, random_valid_mappings
from nets import Layer, Network, get_network

from _fusion_tiny import tiny_accelerator, tiny_cache

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


def _net() -> Network:
    """stem 3x3 -> expand 1x1 -> depthwise 3x3 -> project 1x1 (+ the expand's input: a shortcut) -> 1x1."""
    layers = [Layer.conv(3, 8, 3, 12, name="stem"), Layer.conv(8, 16, 1, 12, name="expand"),
              Layer.conv(16, 16, 3, 12, groups=16, name="dw"), Layer.conv(16, 8, 1, 12, name="project"),
              Layer.conv(8, 8, 1, 12, name="last")]
    return Network("tiny", layers, skips=((0, 3),))


_acc = tiny_accelerator


def test_activations_follow_the_chain_and_the_shortcuts():
    net = _net()
    acts = {a.producers: a for a in activations(net)}
    assert sorted(acts) == [(0,), (1,), (2,), (3,)]   # the last layer's output is the network's: nobody reads it
    acts = {p[0]: a for p, a in acts.items()}
    assert acts[0].readers == (1,) and acts[0].adders == (3,) and acts[0].last == 3
    assert acts[0].words == max(net.layers[0].output_words, net.layers[1].input_words) == 12 * 12 * 8
    assert acts[1].words == net.layers[2].input_words == 14 * 14 * 16   # the depthwise's window: its halo too
    assert not acts[1].alive_at(3) and acts[0].alive_at(2)
    mbv2 = get_network("mobilenet_v2")
    assert mbv2.skips and all(mbv2.layers[p].K == mbv2.layers[c].K for p, c in mbv2.skips)


def test_a_chain_breaks_where_channels_disagree():
    net = Network("two", [Layer.conv(3, 8, 3, 8), Layer.conv(16, 8, 1, 8)])
    assert activations(net) == ()


def test_rehoming_nothing_is_explain_bit_for_bit():
    layer = Layer.conv(8, 16, 3, 6, name="c")
    acc = _acc(4096)
    maps = random_valid_mappings(layer, acc, 6, rng=1)
    for b in range(6):
        m = maps.row(b)
        a, r = explain(layer, acc, m), explain_rehomed(layer, acc, acc, m, 1, ())
        assert (a.cycles, a.energy_pj) == (r.cycles, r.energy_pj)
        assert np.array_equal(a.reads, r.reads) and np.array_equal(a.updates, r.updates)


@pytest.mark.parametrize("tensor", [I, O, W])
def test_a_resident_tensors_dram_accesses_become_the_home_levels(tensor):
    layer = Layer.conv(8, 16, 3, 6, name="c")
    acc = _acc(4096)
    residency = Residency(1, (tensor,), 2048)
    view = residency.view(acc)
    assert acc.levels[1].capacity_words == 4096 and view.levels[1].capacity_words == 2048
    assert view.tensor_homes[tensor] == 1 and sum(view.tensor_homes) == 1
    dram_backed = replace(view, tensor_homes=(0, 0, 0))     # the view's counts with every tensor from DRAM
    m = random_valid_mappings(layer, view, 1, rng=3)
    seen, priced = explain(layer, dram_backed, m), explain_rehomed(layer, acc, dram_backed, m, 1, (tensor,))
    assert priced.reads[0, tensor] == priced.updates[0, tensor] == 0
    assert priced.reads[1, tensor] == seen.reads[0, tensor] and priced.updates[1, tensor] == seen.updates[0, tensor]
    dram, glb = acc.levels[0], acc.levels[1]

    def blocks(level, count):
        return math.ceil(count / level.block_size_words)
    moved_at_dram = blocks(dram, seen.reads[0, tensor]) * dram.read_energy_pj \
        + blocks(dram, seen.updates[0, tensor]) * dram.update_energy_pj
    moved_at_glb = blocks(glb, seen.reads[0, tensor]) * glb.read_energy_pj \
        + blocks(glb, seen.updates[0, tensor]) * glb.update_energy_pj
    assert moved_at_dram > 0
    assert priced.energy_pj == pytest.approx(seen.energy_pj - moved_at_dram + moved_at_glb, rel=1e-12)
    on_view = explain(layer, view, m)           # the view's homes price it so in one pass
    assert (on_view.cycles, on_view.energy_pj) == (priced.cycles, priced.energy_pj)
    assert np.array_equal(on_view.reads, priced.reads) and np.array_equal(on_view.updates, priced.updates)


def test_every_tensor_on_chip_moves_nothing_at_dram():
    """With the three tensors homed in the GLB, the view keeps DRAM's own prices and moves nothing there: its
    outermost accesses are all the GLB's."""
    acc = _acc(4096)
    view = Residency(1, (W, I, O), 1024).view(acc)
    assert view.levels[0] == acc.levels[0] and view.levels[1].keeps == () and view.tensor_homes == (1, 1, 1)
    layer = Layer.conv(8, 16, 3, 6, name="c")
    ev = explain(layer, view, random_valid_mappings(layer, view, 1, rng=4))
    assert ev.valid and not ev.reads[0].any() and not ev.updates[0].any() and ev.reads[1].all()


def _chain() -> Network:
    """Four convolutions whose 16,896 weight words outweigh their activations (at most 2,048 words)."""
    return Network("weighty", [Layer.conv(16, 32, 3, 4, name="a"), Layer.conv(32, 32, 3, 4, name="b"),
                               Layer.conv(32, 64, 1, 4, name="c"), Layer.conv(64, 16, 1, 4, name="d")])


def _cached(plan) -> list[bool]:
    """Per layer: its weights stay in the home level across inferences."""
    return [run.residency is not None and W in run.residency.resident for run in plan.runs]


@pytest.mark.parametrize("make", [_net, _chain])
@pytest.mark.parametrize("glb_words", [600, 2048, 4096, 8192, 65536])
def test_capacity_is_exact_and_the_plan_never_costs_more(cache, glb_words, make):
    net, acc = make(), _acc(glb_words)
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    base = layer_wise(net, acc, cache, "edp")     # the adds' shortcuts from DRAM, as in the plan
    capacity = acc.levels[1].capacity_words
    for i, run in enumerate(plan.runs):
        assert plan.occupancy_words(i) <= capacity, (glb_words, run.layer.name)
    # the weights counted on chip are exactly those of the layers that read them there
    assert plan.pinned_weight_words == sum(l.param_words for l, c in zip(net.layers, _cached(plan)) if c)
    assert plan.energy_pj * plan.cycles <= base.energy_pj * base.cycles
    assert plan.dram_words <= base.dram_words


def test_weights_that_do_not_all_fit_are_cached_in_part_and_the_rest_streamed(cache):
    net, acc = _chain(), _acc(8192)
    params = [layer.param_words for layer in net.layers]
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    cached = _cached(plan)
    assert sum(params) > acc.levels[1].capacity_words          # all of them cannot stay
    assert any(cached) and not all(cached)
    streamed = sum(p for p, c in zip(params, cached) if not c)
    assert plan.pinned_weight_words + streamed == sum(params)
    assert plan.notes == (f"weights of {sum(cached)} of 4 layers stay on chip ({plan.pinned_weight_words:,} words); "
                          f"{streamed:,} words streamed from DRAM every inference",)
    for run, c, p in zip(plan.runs, cached, params):
        if not c:      # a streamed layer reads its weights from DRAM every inference
            assert run.dram_words >= p, run.layer.name
    # what is cached fits the room the activations leave at every layer, beside that layer's tiles
    capacity = acc.levels[1].capacity_words
    assert all(plan.occupancy_words(i) <= capacity for i in range(len(net.layers)))
    # and the network runs better than layer-wise
    base = layer_wise(net, acc, cache, "edp")
    assert plan.energy_pj * plan.cycles < base.energy_pj * base.cycles


def test_a_residual_adds_shortcut_is_read_where_it_lives_and_charged_there(cache):
    """The project layer adds the stem's output (1,152 words): with the stem's output in DRAM (600 words of GLB) the
    add reads it from DRAM (words, DRAM read energy, and cycles as DRAM traffic of the layer, R7; so does the
    `none` mode's plan, the layer-wise plan the fused modes compare with); kept on chip, it reads it from the GLB at
    the GLB's read energy."""
    net = _net()
    adder, words = 3, net.layers[0].output_words
    acc = _acc(600)
    charged = layer_wise(net, acc, cache, "edp")
    assert [bool(run.traffic) for run in charged.runs] == [i == adder for i in range(len(net.layers))]
    dram = acc.levels[0]
    run, alone = charged.runs[adder], layer_run(net.layers[adder], acc, cache, "edp")     # alone: no shortcut read
    assert run.traffic.dram_read_words == words and run.dram_words == alone.dram_words + words
    assert run.result.energy_pj == pytest.approx(alone.result.energy_pj + -(-words // dram.block_size_words)
                                                 * dram.read_energy_pj)
    bandwidth = dram.read_bandwidth or dram.shared_bandwidth
    ev = explain(alone.layer, acc, alone.result.arrays)       # R7: DRAM moves the layer's words and the shortcut's
    moved = ev.reads[0].sum() + ev.fills[0].sum() + ev.updates[0].sum() + words
    assert abs(run.result.cycles - max(alone.result.cycles, math.ceil(moved / bandwidth))) <= 1
    assert run.result.cycles <= alone.result.cycles + -(-words // bandwidth)
    small = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    assert small.runs[adder].traffic.dram_read_words == words
    big = get_fusion_mode("resident").plan(net, _acc(65536), cache, "edp")
    glb = _acc(65536).levels[1]
    assert big.runs[adder].traffic == PlanTraffic(0, words, 0)
    assert big.runs[adder].dram_words == 0
    none = get_fusion_mode("none").plan(net, acc, cache, "edp")
    assert none.runs[adder].traffic == PlanTraffic(words) and none.runs[adder].result.energy_pj > \
        alone.result.energy_pj
    assert (none.cycles, none.energy_pj, none.dram_words) == (charged.cycles, charged.energy_pj, charged.dram_words)
    assert (none.cycles, none.energy_pj, none.dram_words) == (small.baseline.cycles, small.baseline.energy_pj,
                                                              small.baseline.dram_words)
    assert glb.read_energy_pj < dram.read_energy_pj


def test_searching_views_never_raises_the_networks_objective_over_the_moved_mappings(cache):
    """With every view also searched (the cache's own settings, so the views the moved mapping does not fit get the
    same search as the priced-only plan's), the plan's network EDP is at most the priced-only plan's: a layer keeps
    its searched mapping by the network's linearised objective, and the planner keeps the plan on the moved
    mappings when that is better."""
    for glb_words in (2048, 4096, 65536):
        for make in (_net, _chain):
            net, acc = make(), _acc(glb_words)
            priced = get_fusion_mode("resident").plan(net, acc, cache, "edp", False)
            searched = get_fusion_mode("resident").plan(net, acc, cache, "edp", True)
            assert searched.energy_pj * searched.cycles <= priced.energy_pj * priced.cycles, (glb_words, make)


def test_searching_the_chosen_views_keeps_the_moved_plans_residency_and_never_raises_its_objective(cache):
    """`ChosenViews`: the plan on the moved mappings decides what stays on chip; each layer then runs the better of
    its moved mapping and its view's search, so the network EDP is at most the moved plan's, and some layer's
    searched mapping is kept (the searches are not ignored)."""
    improved = 0
    for glb_words in (2048, 4096, 65536):
        for make in (_net, _chain):
            net, acc = make(), _acc(glb_words)
            moved = get_fusion_mode("resident").plan(net, acc, cache, "edp", False)
            chosen = get_fusion_mode("resident").plan(net, acc, cache, "edp", ChosenViews(cache.settings))
            assert [r.residency for r in chosen.runs] == [r.residency for r in moved.runs]
            assert chosen.activations == moved.activations
            assert chosen.energy_pj * chosen.cycles <= moved.energy_pj * moved.cycles, (glb_words, make)
            improved += chosen.energy_pj * chosen.cycles < moved.energy_pj * moved.cycles
    assert improved


def test_chosen_views_with_no_share_is_the_moved_plan_its_decisions_the_compiled_greedys(cache):
    """`ChosenViews(share=0)` searches no view: its plan is the one on the moved mappings, whose decisions (the units
    kept, the weights cached) come from the compiled greedy (`resident_screen.screen_plan`) and whose runs are priced
    here; it equals the Python greedy's plan run for run, over capacities where nothing, some and everything stays."""
    for glb_words in (600, 2048, 4096, 65536):
        for make in (_net, _chain):
            net, acc = make(), _acc(glb_words)
            moved = get_fusion_mode("resident").plan(net, acc, cache, "edp", False)
            replayed = get_fusion_mode("resident").plan(net, acc, cache, "edp", ChosenViews(cache.settings, 0.0))
            assert replayed.activations == moved.activations, (glb_words, make)
            assert replayed.pinned_weight_words == moved.pinned_weight_words, (glb_words, make)
            assert [(r.residency, r.result.cycles, r.result.energy_pj, r.dram_words) for r in replayed.runs] == \
                [(r.residency, r.result.cycles, r.result.energy_pj, r.dram_words) for r in moved.runs]


def test_chosen_views_share_is_checked(cache):
    with pytest.raises(ValueError, match="share"):
        ChosenViews(cache.settings, 1.5)


def test_what_stays_depends_on_the_capacity(cache):
    net = _net()
    small = get_fusion_mode("resident").plan(net, _acc(600), cache, "edp")
    assert not small.activations and small.pinned_weight_words == 0      # 1,152 words does not fit in 600
    big = get_fusion_mode("resident").plan(net, _acc(65536), cache, "edp")
    assert len(big.activations) == 4 and big.pinned_weight_words == sum(l.param_words for l in net.layers)
    # every activation on chip and every weight pinned: DRAM sees the network's input and output only
    assert [run.residency.resident for run in big.runs] == [(W, O), (W, I, O), (W, I, O), (W, I, O), (W, I)]
    assert all(run.dram_words == 0 for run in big.runs[1:-1])
    last = big.runs[-1]
    assert last.dram_words >= net.layers[-1].output_words


def test_a_layer_with_nothing_on_chip_is_the_layer_wise_model_bit_for_bit(cache):
    net = Network("one", [Layer.conv(8, 16, 3, 6, name="c")])
    acc = _acc(1024)                   # its 1,152 weights do not fit: nothing stays
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    base = cache.best_mapping(net.layers[0], acc, "edp")
    assert plan.runs[0].residency is None and plan.pinned_weight_words == 0
    assert (plan.cycles, plan.energy_pj) == (base.cycles, base.energy_pj)
    assert plan.runs[0].result.arrays is base.arrays
    none = evaluate_network(net, acc, cache, fusion="none")
    assert (none.cycles, none.energy_pj) == (base.cycles, base.energy_pj)


def test_evaluate_network_reports_what_stays_on_chip(cache):
    net, acc = _net(), _acc(65536)
    cost = evaluate_network(net, acc, cache, fusion="resident")
    summary = cost.meta["fusion"]
    assert summary["mode"] == "resident" and summary["layers_with_tensors_on_chip"] == 5
    assert summary["dram_bytes"] < summary["layer_wise_dram_bytes"]
    assert [(g["first"], g["last"]) for g in summary["groups"]] == [(0, 4)]     # one chain, all on chip
    assert summary["groups"][0]["cycles"] == cost.cycles
    d = cost.layers[1].to_dict()
    assert d["on_chip"]["tensors"] == ["Weights", "Inputs", "Outputs"] and d["on_chip"]["level"] == "GLB"
    assert cost.cycles == sum(lc.cycles * lc.count for lc in cost.layers)


def test_an_unknown_mode_names_the_field(cache):
    with pytest.raises(ValueError, match="fusion: unknown fusion mode .everything.; accepted: none, resident"):
        evaluate_network(_net(), _acc(4096), cache, fusion="everything")


def test_the_report_says_how_the_network_runs(cache):
    from cosearch.report.fusion import GROUP_COLUMNS, fusion_line, group_rows
    summary = evaluate_network(_net(), _acc(65536), cache, fusion="resident").meta["fusion"]
    line = fusion_line(summary)
    assert line.startswith("runs with --fusion resident: 5 of 5 layers keep tensors on chip; 1 group (1 of more")
    assert "4 activations stay on chip" in line and "weights kept on chip across inferences 0.00068 MB" in line
    rows = group_rows(summary)
    assert len(rows) == 1 and len(rows[0]) == len(GROUP_COLUMNS) and rows[0][1].startswith("0-4 (stem .. last)")


def _totals(plan):
    return (plan.cycles, plan.energy_pj, plan.pinned_weight_words, tuple(a.producers for a in plan.activations),
            tuple(r.residency for r in plan.runs), tuple(r.layer for r in plan.runs))


@pytest.mark.slow
def test_plans_from_remembered_runs_equal_plans_from_fresh_ones():
    """The resident planner remembers layer runs across plans per (shape, residency): planning subnets in one order,
    then with nothing remembered in the reverse order, gives every subnet the same plan, each run named for its own
    layer; and a cache whose mappings are searched again is not answered from runs of its old mappings."""
    from cosearch.fusion.modes import resident
    from nets import get_space, sample_configs

    space = get_space("ofa-mbv3")
    acc = build_accelerator(pe_array=(8, 8), rf_words=16, glb_words=1 << 18, dram_bandwidth_words_per_cycle=8.0,
                            word_bits=8, technology_nm=45, name="small")
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=64))
    mode = get_fusion_mode("resident")
    networks = [space.network(c) for c in sample_configs(space, 4, 5)]
    resident._TABLES.clear()
    first = [_totals(mode.plan(n, acc, cache, "edp")) for n in networks]
    assert len(resident._TABLES) > 0
    assert any(first_plan[3] for first_plan in first)      # something stays on chip: the test looks at residency
    resident._TABLES.clear()
    again = [_totals(mode.plan(n, acc, cache, "edp")) for n in reversed(networks)][::-1]
    assert again == first
    plan = mode.plan(networks[0], acc, cache, "edp")
    old = {id(r.result) for r in plan.runs}
    cache.clear_tables()                                      # the shapes are searched again: new mappings
    renewed = mode.plan(networks[0], acc, cache, "edp")
    assert not old & {id(r.result) for r in renewed.runs}


def test_a_view_search_starts_from_the_layer_wise_mapping_and_runs_with_the_settings_given(cache):
    """`layer_run(search_view=settings)` searches the view with those settings, seeded with the layer-wise mapping
    moved onto the view: a one-evaluation search gives back that mapping (a seed is scored first), and a search is
    never worse for the objective than the moved mapping priced alone."""
    from cosearch.fusion import layer_run
    from cosearch.fusion.plan import network_objective

    acc = _acc(65536)
    layer = Layer.conv(8, 16, 1, 12, name="expand")
    residency = Residency(1, (W, I, O), 32768)
    base = cache.best_mapping(layer, acc, "edp")
    moved = residency.transplanted(base.arrays)
    one = replace(SEARCH_MAPPER, budget_evals=1, seed=7)
    run = layer_run(layer, acc, cache, "edp", residency, search_view=one)
    assert all(np.array_equal(a, b) for a, b in zip(run.result.arrays, moved))
    compared = 0
    for residency in (Residency(1, (W, I, O), 32768), Residency(1, (I, O), 2048), Residency(1, (I,), 1024)):
        for layer in _net().layers[1:]:
            alone = layer_run(layer, acc, cache, "edp", residency)
            searched = layer_run(layer, acc, cache, "edp", residency, search_view=SEARCH_MAPPER)
            assert searched.residency == residency
            moved = residency.transplanted(cache.best_mapping(layer, acc, "edp").arrays)
            if not all(np.array_equal(a, b) for a, b in zip(alone.result.arrays, moved)):
                continue        # the moved mapping does not fit: `alone` is a search of its own, with other settings
            compared += 1
            assert network_objective(searched.result.cycles, searched.result.energy_pj, "edp") <= \
                network_objective(alone.result.cycles, alone.result.energy_pj, "edp")
    assert compared >= 6


def test_views_whose_home_level_keeps_nothing_share_one_search(cache):
    """With every tensor the home level keeps resident, the view's home level keeps no tile, so its free capacity
    binds nothing: views differing only in it are searched as one (the whole-capacity view), and their runs have the
    same mapping; with a tensor the home level still keeps, the view searched is the view itself."""
    from cosearch.fusion import layer_run

    acc = _acc(65536)
    small, big = Residency(1, (W, I, O), 2048), Residency(1, (W, I, O), 32768)
    whole = Residency(1, (W, I, O), 65536).view(acc)
    assert small.searched_view(acc) is whole and big.searched_view(acc) is whole
    assert small.view(acc) is not whole and small.view(acc).levels[1].capacity_words == 2048
    partial = Residency(1, (I, O), 2048)
    assert partial.searched_view(acc) is partial.view(acc)
    layer = _net().layers[3]
    one, two = (layer_run(layer, acc, cache, "edp", r, search_view=SEARCH_MAPPER) for r in (small, big))
    assert all(np.array_equal(a, b) for a, b in zip(one.result.arrays, two.result.arrays))
    assert one.result.accelerator is small.view(acc) and two.result.accelerator is big.view(acc)


def test_a_layer_wise_runs_dram_words_are_its_own_mappings_whatever_was_planned_before():
    """A layer-wise run's DRAM words are counted from the mapping it runs: two caches whose mappers find other
    mappings of the same shapes on the same chip (another budget and seed) each get their own mappings' words, not
    those remembered from the other cache's runs."""
    acc = _acc(2048)
    for settings in (replace(SEARCH_MAPPER, budget_evals=300), replace(SEARCH_MAPPER, budget_evals=8, seed=8)):
        plan = layer_wise(_net(), acc, MappingCache(settings), "edp")
        for run in plan.runs:      # and the shortcut the adder reads from DRAM
            ev = explain(run.layer, acc, run.result.arrays)
            assert run.dram_words == float(ev.reads[0].sum() + ev.updates[0].sum()) + run.traffic.dram_read_words


def test_a_layers_mapping_is_chosen_by_the_networks_objective_not_its_own():
    """Layer 0 may run A (100 cycles, 100 pJ) or B (50 cycles, 190 pJ): B has the lower EDP alone (9,500 against
    10,000), but beside layer 1 (1,000 cycles, 10 pJ) the network's EDP is 121,000 with A and 210,000 with B.
    `choose_run` without a plan takes B; the plan's rule (`choose_runs`, linearised around the plan's totals) takes
    A whichever totals it starts from, and never returns a plan worse than the first candidates."""
    from cosearch.fusion.plan import LayerRun, LinearObjective
    from cosearch.fusion.runs import choose_run, choose_runs

    @dataclass(frozen=True)
    class _Priced:
        cycles: int
        energy_pj: float

    def run(cycles, energy):
        return LayerRun(Layer.conv(4, 4, 1, 4), _Priced(cycles, energy), None, 0.0)
    a, b, other = run(100, 100.0), run(50, 190.0), run(1000, 10.0)
    assert choose_run((a, b), "edp") is b
    for start in (LinearObjective(1, 1e9, "edp"), LinearObjective(1e9, 1, "edp"), None):
        assert choose_runs([(b, a), (other,)], "edp", start)[0] is a
        assert choose_runs([(a, b), (other,)], "edp", start)[0] is a
    assert choose_runs([(a, b), (other,)], "latency")[0] is b      # latency: the fewer cycles


@pytest.mark.parametrize("glb_words", [600, 65536])
def test_evaluate_network_keeps_apart_runs_that_differ_only_in_the_traffic_the_plan_charges(cache, glb_words):
    """Four equal 1x1 layers, the third adding the first's output: the adder's run and its neighbours' can share
    shape and residency but not the shortcut read charged to it, so `evaluate_network`'s totals are the plan's."""
    layers = [Layer.conv(8, 8, 1, 12, name=f"l{i}") for i in range(4)]
    net = Network("adds", layers, skips=((0, 2),))
    acc = _acc(glb_words)
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp", search_views=True)   # as evaluate_network's
    assert plan.runs[2].traffic and not plan.runs[1].traffic
    cost = evaluate_network(net, acc, cache, fusion="resident")
    assert (cost.cycles, cost.energy_pj) == (plan.cycles, pytest.approx(plan.energy_pj, rel=1e-12))


@pytest.mark.parametrize("dram_words_per_cycle", [0.25, 2.0, 64.0])
def test_a_shortcut_read_from_dram_overlaps_the_layer_as_its_own_traffic_does(dram_words_per_cycle):
    """R7's overlap rule: the shortcut's DRAM reads raise the DRAM level's read rate, and the layer takes its slowest
    level's cycles. So the layer-wise plan's adder (the project layer, reading the stem's 1,152-word output) costs
    at least its own run and at most its run plus the stream alone at DRAM's bandwidth (the series bound); on a fast
    DRAM, where the layer is bound by its array, the stream costs no cycle; on a slow one, where its own DRAM reads
    bound it, nearly the whole stream."""
    acc = build_accelerator(pe_array=(4, 4), rf_words=8, glb_words=4096,
                            dram_bandwidth_words_per_cycle=dram_words_per_cycle, word_bits=8, technology_nm=45,
                            name=f"tiny_dram_{dram_words_per_cycle}")
    net, cache = _net(), tiny_cache()
    alone = layer_run(net.layers[3], acc, cache, "edp")
    charged = layer_wise(net, acc, cache, "edp").runs[3]
    dram = acc.levels[0]
    bandwidth = dram.read_bandwidth if dram.read_bandwidth is not None else dram.shared_bandwidth
    stream = math.ceil(1152 / bandwidth)
    assert charged.dram_words == alone.dram_words + 1152
    assert alone.result.cycles <= charged.result.cycles <= alone.result.cycles + stream
    if dram_words_per_cycle == 64.0:
        assert charged.result.cycles == alone.result.cycles
    if dram_words_per_cycle == 0.25:
        assert charged.result.cycles >= alone.result.cycles + stream - 1


def test_without_view_searches_a_moved_mapping_that_does_not_fit_keeps_no_tile_in_the_home_level(cache, monkeypatch):
    """`layer_runs` without `search_view`: where the layer-wise mapping's home-level tiles do not fit the free
    capacity, the run is that mapping with the home level keeping nothing (one evaluation), not a view search."""
    import cosearch.fusion.runs as runs_module
    from cosearch.fusion.runs import layer_runs

    def no_search(*args):
        raise AssertionError("a view was searched")
    monkeypatch.setattr(runs_module, "view_search", no_search)
    acc = _acc(65536)
    layer = Layer.conv(16, 32, 3, 12, name="wide")
    base = cache.best_mapping(layer, acc, "edp")
    residency = Residency(1, (I,), 16)          # 16 words free: no tile of the layer-wise mapping fits
    moved = residency.transplanted(base.arrays)
    assert residency.priced(layer, acc, moved)[3] > 16
    (run,) = layer_runs(layer, acc, cache, "edp", residency)
    assert not run.result.arrays.keep[0, 1].any()
    assert np.array_equal(run.result.arrays.temporal, base.arrays.temporal)
    assert (run.result.cycles, run.result.energy_pj) == residency.priced(layer, acc, run.result.arrays)[:2]
