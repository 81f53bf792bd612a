import pytest

from dataclasses import replace

from cosearch.config import SEARCH_MAPPER
from mappings import MappingCache
from cosearch.search import AcceleratorSpace, evaluate_network
from nets import Layer, Network


@pytest.fixture(scope="module")
def design():
    space = AcceleratorSpace(5.0)
    x = dict.fromkeys(space.genes, 0.5)
    x.update({"array_2d": 0.9, "dim_K": 0.9, "dim_C": 0.8, "word_bits": 0.0})
    return space.decode(x)


def test_network_totals_sum_the_layers(design):
    layers = [Layer.conv(16, 32, 3, 14, name="a"), Layer.conv(32, 32, 1, 14, name="b"),
              Layer.conv(32, 32, 1, 14, name="b2"), Layer.fc(32, 10, name="fc")]
    net = Network("tiny", layers)
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=64))
    cost = evaluate_network(net, design.accelerator, cache, accuracy=0.5)
    assert len(cost.layers) == 3 and [lc.count for lc in cost.layers] == [1, 2, 1]
    assert cache.misses == 3  # b and b2 share a shape: searched once
    assert cost.cycles == sum(lc.cycles * lc.count for lc in cost.layers)
    assert cost.energy_pj == pytest.approx(sum(lc.energy_pj * lc.count for lc in cost.layers))
    assert cost.edp_j_s == pytest.approx(cost.energy_j * cost.cycles / 1e9)
    assert 0 < cost.utilization <= 1
    assert cost.power_w == pytest.approx(cost.energy_j / cost.latency_s)
    m = cost.metrics()
    assert m["accuracy"] == 0.5 and m["area_mm2"] == pytest.approx(design.area_mm2)
    d = cost.layers[0].to_dict()
    assert d["cycles"] == cost.layers[0].cycles and d["mapping_arrays"]["temporal"]


def test_the_searches_score_searches_views_by_the_one_rule_and_evaluate_network_gives_the_same_figure():
    """With a fusion mode, `network_run` (a co-search trial's score) searches every view with
    `view_search_settings` of its cache's mapper, as the fixed-device search does: its totals equal
    `evaluate_network`'s with those settings, and on edge_tpu_like (8 MB on chip: ofa's smallest subnet stays on chip
    whole) they are well below the layer-wise mappings moved onto the views and only priced there."""
    from accel_models import get_preset
    from cosearch.fusion import VIEW_SEARCH_EVALS, view_search_settings
    from cosearch.search.evaluate import network_run
    from nets import get_space, smallest_config

    space, acc = get_space("ofa-mbv3"), get_preset("edge_tpu_like")
    net = space.network(smallest_config(space))
    # at the search's own budget: the layer-wise mappings are tied on latency, and at a small budget which of them a
    # search returns, so their price on the views, is chance (x1.04-1.47 at 64 evaluations)
    cache = MappingCache(SEARCH_MAPPER)
    views = view_search_settings(cache.settings, "latency")
    assert views is view_search_settings(cache.settings, "latency") and \
        views.budget_evals == VIEW_SEARCH_EVALS["latency"]
    assert view_search_settings(cache.settings, "edp").budget_evals == VIEW_SEARCH_EVALS["edp"]
    assert (views.strategy, views.factors, views.seed) == (cache.settings.strategy, cache.settings.factors, 0)
    run = network_run(net, acc, cache, "latency", "resident")
    cost = evaluate_network(net, acc, cache, "latency", fusion="resident", search_views=views)
    assert run.cycles == cost.cycles and run.energy_pj == pytest.approx(cost.energy_pj, rel=1e-12)
    assert network_run(net, acc, cache, "latency", "resident", search_views=views) == run
    priced = network_run(net, acc, cache, "latency", "resident", search_views=False)
    assert priced.cycles > 1.2 * run.cycles, (priced.cycles, run.cycles)   # x1.80 at this budget


def test_layer_wise_scores_search_no_view_and_equal_evaluate_networks_sum(design):
    """`--fusion none` (the co-search's default): `network_run` sums each shape's cached best mapping, bit for bit
    `evaluate_network`'s totals, whatever `search_views` says, and no view is searched."""
    from cosearch.fusion import view_search
    from cosearch.search.evaluate import network_run
    from nets import get_space, sample_configs

    space = get_space("ofa-mbv3")
    net = space.network(sample_configs(space, 1, rng=5)[0])
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=32))
    searched = len(view_search._SEARCHED)
    runs = [network_run(net, design.accelerator, cache, "edp", "none", search_views=views)
            for views in (None, True, False)]
    cost = evaluate_network(net, design.accelerator, cache, "edp", fusion="none")
    assert runs[0] == runs[1] == runs[2]
    assert (runs[0].cycles, runs[0].energy_pj) == (cost.cycles, cost.energy_pj)
    assert len(view_search._SEARCHED) == searched and cache.misses == len(net.unique_layers())
