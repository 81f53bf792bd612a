"""A network's cost under a timing model (`evaluate_network(timing=...)`, `network_run(timing=...)`) and its energy
split into on-chip and DRAM (`NetworkCost.energy_on_chip_pj`, `energy_dram_pj`, `metrics()`)."""
from dataclasses import replace

import numpy as np
import pytest

from accel_models import evaluate_batch, explain, get_preset
from accel_models.timing import HardwareTiming
from cosearch.config import SEARCH_MAPPER
from cosearch.search import evaluate_network
from cosearch.search.evaluate import network_run
from mappings import MappingCache
from nets import Layer, Network


def _net() -> Network:
    return Network("chain", [Layer.conv(16, 32, 3, 28, name="a"), Layer.conv(32, 32, 1, 28, name="b"),
                             Layer.conv(32, 64, 3, 14, stride=2, name="c"), Layer.fc(64, 10, name="fc")])


@pytest.fixture(scope="module")
def cache():
    return MappingCache(replace(SEARCH_MAPPER, budget_evals=64))


def test_hardware_timing_times_each_layers_mapping_chosen_under_it(cache):
    """Under the hardware timing each layer's mapping is the cache's hardware sibling's (`MappingCache.for_timing`:
    chosen under that model), timed by it; the timeloop results stay the cache's own."""
    acc = get_preset("nvdla_256")
    timeloop = evaluate_network(_net(), acc, cache)
    hardware = evaluate_network(_net(), acc, cache, timing="hardware")
    assert timeloop.timing == "timeloop" and hardware.timing == "hardware"
    assert hardware.metrics()["timing"] == "hardware" and "timing" not in timeloop.meta
    model = HardwareTiming()
    timed = cache.for_timing("hardware")
    for lt, lh in zip(timeloop.layers, hardware.layers):
        own = cache.result(lt.layer, acc)
        assert all(np.array_equal(a, b) for a, b in zip(lt.result.arrays, own.arrays))
        assert all(np.array_equal(a, b) for a, b in zip(lh.result.arrays, timed.result(lh.layer, acc).arrays))
        counts = evaluate_batch(lh.layer, acc, lh.result.arrays)
        assert lh.cycles == int(model.cycles(lh.layer, acc, lh.result.arrays.with_residuals(), counts)[0])
        assert lh.energy_pj == float(counts.energy_pj[0])
        assert lt.cycles == lt.result.cycles
    assert hardware.cycles == sum(lc.cycles * lc.count for lc in hardware.layers) != timeloop.cycles
    # each layer's utilization (the report's and result.json's) is its MACs over the cycles of the run's timing
    for lc in (*timeloop.layers, *hardware.layers):
        assert lc.to_dict()["utilization"] == pytest.approx(lc.layer.macs / (acc.num_macs * lc.cycles), rel=1e-12)
    assert any(lc.to_dict()["utilization"] != lc.result.utilization for lc in hardware.layers)
    run = network_run(_net(), acc, cache, timing="hardware")
    assert run.cycles == hardware.cycles and run.energy_pj == pytest.approx(hardware.energy_pj)


def test_a_layer_wise_networks_dram_energy_is_its_outermost_levels(cache):
    acc = get_preset("eyeriss")
    cost = evaluate_network(_net(), acc, cache)
    dram = sum(explain(lc.layer, acc, lc.result.arrays).level_energy_pj[0] * lc.count for lc in cost.layers)
    assert cost.energy_dram_pj == pytest.approx(dram) and 0 < dram < cost.energy_pj
    assert cost.energy_on_chip_pj == pytest.approx(cost.energy_pj - dram)
    m = cost.metrics()
    assert m["energy_on_chip_mj"] + m["energy_dram_mj"] == pytest.approx(m["energy_mj"])


def test_dram_bytes_per_inference_layer_wise_and_fused(cache):
    """`NetworkCost.dram_bytes`: layer by layer, every run's level-0 reads and updates (`explain`'s) at DRAM's word
    width; fused, the plan's own DRAM traffic (what report.md's fusion summary states), and less of it."""
    acc = get_preset("nvdla_256")
    layer_wise = evaluate_network(_net(), acc, cache)
    words = sum(float(ev.reads[0].sum() + ev.updates[0].sum()) * lc.count for lc in layer_wise.layers
                for ev in [explain(lc.layer, acc, lc.result.arrays)])
    assert layer_wise.dram_bytes == pytest.approx(words * acc.levels[0].word_bits / 8, rel=1e-12) and words > 0
    fused = evaluate_network(_net(), acc, cache, fusion="resident")
    assert fused.dram_bytes == pytest.approx(fused.meta["fusion"]["dram_bytes"], rel=1e-12)
    assert fused.dram_bytes < layer_wise.dram_bytes
    assert fused.metrics()["dram_mb"] == pytest.approx(fused.dram_bytes * 1e-6)


@pytest.mark.parametrize("fusion", ["resident", "depth-first"])
def test_a_fused_network_spends_less_in_dram_and_splits_its_energy(cache, fusion):
    """On a chip whose buffer holds the chain's activations, the fused plan's DRAM energy is below the layer-wise
    one's, its split adds up to its energy, and every run's DRAM share is at most its energy."""
    acc = get_preset("nvdla_256")
    layer_wise = evaluate_network(_net(), acc, cache)
    fused = evaluate_network(_net(), acc, cache, fusion=fusion)
    assert fused.energy_dram_pj < layer_wise.energy_dram_pj
    assert fused.energy_on_chip_pj + fused.energy_dram_pj == pytest.approx(fused.energy_pj)
    for lc in fused.layers:
        assert 0 <= lc.dram_energy_pj(acc) <= lc.energy_pj * (1 + 1e-9)
    timed = evaluate_network(_net(), acc, cache, fusion=fusion, timing="hardware")
    assert timed.timing == "hardware" and timed.cycles > 0
    assert timed.energy_pj == evaluate_network(_net(), acc, cache.for_timing("hardware"), fusion=fusion).energy_pj
    assert timed.cycles == sum(g["cycles"] for g in timed.meta["fusion"]["groups"])   # the report's groups too
    run = network_run(_net(), acc, cache, fusion=fusion, timing="hardware")
    assert run.cycles == timed.cycles


def test_an_unknown_timing_is_refused_naming_the_argument(cache):
    with pytest.raises(ValueError, match="evaluate_network: timing: unknown timing model 'rtl'"):
        evaluate_network(_net(), get_preset("eyeriss"), cache, timing="rtl")
