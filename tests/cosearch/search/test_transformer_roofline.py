"""GPT-2 small on NVDLA-1024, each layer at its best mapping: decode is memory-bound, prefill's linear layers
compute-bound (the roofline the report draws)."""
import pytest

from accel_models import get_preset
from accel_models.cost_model import explain
from accel_models.roofline import layer_roofline
from dataclasses import replace

from cosearch import evaluate_network
from cosearch.config import SEARCH_MAPPER
from mappings import MappingCache
from nets import get_network


def _points(name):
    acc = get_preset("nvdla_1024")
    cost = evaluate_network(get_network(name), acc, MappingCache(replace(SEARCH_MAPPER, budget_evals=512)))
    return {lc.layer.name: (lc.layer, layer_roofline(lc.layer, acc, explain(lc.layer, acc, lc.result.arrays)))
            for lc in cost.layers}


@pytest.fixture(scope="module")
def decode():
    return _points("gpt2_decode")


@pytest.fixture(scope="module")
def prefill():
    return _points("gpt2_prefill")


def test_decode_attention_and_linear_layers_sit_below_the_ridge(decode):
    kinds = {layer.kind for layer, _ in decode.values()}
    assert kinds == {"fc", "matmul"}
    for name, (layer, point) in decode.items():
        assert point.bound == "memory", (name, point.intensity_mac_per_byte, point.ridge_mac_per_byte)
        assert point.intensity_mac_per_byte < point.ridge_mac_per_byte / 4, name  # far left of it: ~1 MAC/byte


def test_prefill_linear_layers_sit_above_the_ridge(prefill):
    linear = {name: point for name, (layer, point) in prefill.items() if layer.kind == "fc" and layer.N > 1}
    assert len(linear) == 4  # qkv, proj, fc1, fc2 of a block (one distinct shape each)
    for name, point in linear.items():
        assert point.bound == "compute", (name, point.intensity_mac_per_byte, point.ridge_mac_per_byte)
