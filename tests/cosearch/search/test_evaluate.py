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
