"""`factors="auto"`: residual tiling factors for the layers whose dims leave an axis of the PE array idle with
divisors (`encoding.spatial_gain`, from `_factorize.axis_shares`), perfect ones elsewhere."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel_models import get_preset
from mappings import Encoding, MapperSettings, best_mapping
from mappings._factorize import axis_shares, divisor_share
from mappings.encoding import AUTO_RESIDUAL_GAIN, residual_pays, spatial_gain
from nets import get_network


def _brute_shares(bounds, width):
    """Every unrolling of one or two of the dims (any factors, their product within the width): the largest share of
    the width x passes slots kept busy, with divisors only and with any factors."""
    perfect = residual = 1.0 / width
    dims = [b for b in bounds if b > 1]
    for chosen in itertools.chain(((b,) for b in dims), itertools.combinations(dims, 2)):
        for fs in itertools.product(*(range(1, min(b, width) + 1) for b in chosen)):
            if math.prod(fs) > width:
                continue
            share = math.prod(chosen) / (width * math.prod(-(-b // f) for b, f in zip(chosen, fs)))
            residual = max(residual, share)
            if all(b % f == 0 for b, f in zip(chosen, fs)):
                perfect = max(perfect, share)
    return perfect, residual


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=3), st.integers(2, 40))
def test_axis_shares_equal_every_unrolling_of_one_or_two_dims(bounds, width):
    got = axis_shares(tuple(bounds), width)
    want = _brute_shares(bounds, width)
    assert got == pytest.approx(want, rel=1e-12)
    assert divisor_share(tuple(bounds), width) == pytest.approx(want[0], rel=1e-12)


def test_the_threshold_check_answers_as_the_gain_does():
    acc = get_preset("nvdla_1024")
    for layer, _ in get_network("deit_s").unique_layers():
        e = Encoding(layer, acc)
        gain = spatial_gain(e.bounds, e.fanout, e.allowed)
        for at_least in (1.1, 1.25, 2.0, 28.0, 29.0):
            assert residual_pays(e.bounds, e.fanout, e.allowed, at_least) == (gain >= at_least)


def test_axis_shares_of_the_motivating_shapes():
    assert axis_shares((197,), 32) == pytest.approx((1 / 32, 197 / (7 * 32)))      # ViT's tokens: 1 or 29 x 7 passes
    assert axis_shares((1000,), 32) == pytest.approx((25 / 32, 1000 / (32 * 32)))  # 1000 classes: 25 or 32 wide
    assert axis_shares((7, 7), 16) == pytest.approx((7 / 16, 49 / (16 * 4)))       # 7 x 7: P = 7, or P = 7 x Q = 2


def test_auto_takes_residual_factors_only_where_divisors_leave_the_array_idle():
    acc = get_preset("nvdla_1024")                                 # K on a 32-wide X, C on a 32-wide Y
    layers = {layer.name.split(".")[-1]: layer for layer, _ in get_network("vit_b16").unique_layers()}
    encodings = {name: Encoding(layer, acc, factors="auto") for name, layer in layers.items()}
    gain = {name: spatial_gain(e.bounds, e.fanout, e.allowed) for name, e in encodings.items()}
    picked = {name: e.factors for name, e in encodings.items()}
    # K = 197 keys and G = 12 heads (groups: they may share a channel axis) on X: with divisors the 12 heads take 12
    # of the 32 columns; balanced tiles take 8 keys x 4 heads, 32 columns in 25 x 3 passes: (2364 / 2400) / (12 / 32)
    assert gain["scores"] == pytest.approx(197 / 75)
    assert gain["context"] == pytest.approx(197 / 75)              # C = 197 and the heads on Y
    assert picked["scores"] == picked["context"] == "residual"
    assert gain["head"] == pytest.approx(1.25) and AUTO_RESIDUAL_GAIN > 1.25
    assert picked["head"] == "perfect"                             # K = 1000 classes: 25 or 32 columns
    assert gain["qkv"] == gain["fc1"] == gain["proj"] == 1.0       # 768, 2304, 3072: 32 divides them
    assert picked["qkv"] == picked["fc1"] == picked["proj"] == "perfect"
    mesh = get_preset("shidiannao")                                # P and Q on the axes: nothing to unroll here
    assert Encoding(layers["scores"], mesh, factors="auto").factors == "perfect"


def test_auto_decodes_as_the_mode_it_resolves_to():
    acc = get_preset("nvdla_1024")
    layer = next(layer for layer, _ in get_network("deit_s").unique_layers() if layer.name.endswith("scores"))
    genes = np.random.default_rng(3).random((64, Encoding(layer, acc).size))
    auto, residual = Encoding(layer, acc, factors="auto"), Encoding(layer, acc, factors="residual")
    for a, b in zip(auto.decode(genes).with_residuals(), residual.decode(genes).with_residuals()):
        np.testing.assert_array_equal(a, b)


def test_auto_mapper_finds_the_residual_attention_mapping():
    acc = get_preset("nvdla_1024")
    layer = next(layer for layer, _ in get_network("deit_s").unique_layers() if layer.name.endswith("scores"))
    perfect = best_mapping(layer, acc, budget_evals=256, factors="perfect")
    auto = best_mapping(layer, acc, budget_evals=256, factors="auto")
    ideal_cycles = layer.macs / acc.num_macs
    assert perfect.cycles >= 5 * ideal_cycles                      # 197 keys take 1 column: the 6 heads take 6 of 32
    assert auto.cycles < 1.5 * ideal_cycles                        # keys and heads in balanced tiles
    assert auto.arrays.spatial_x_residual.any()


def test_an_unknown_factor_mode_names_the_accepted_ones():
    with pytest.raises(ValueError, match="perfect, residual, auto"):
        MapperSettings(factors="uneven")


def test_auto_is_resolved_per_accelerator_object_and_bounds():
    """The resolved mode is remembered per (accelerator, bounds): another accelerator object, of other fan-outs, gets
    its own answer, and a second encoding the same one."""
    layer = next(layer for layer, _ in get_network("vit_b16").unique_layers() if layer.name.endswith("scores"))
    wide, mesh = get_preset("nvdla_1024"), get_preset("shidiannao")
    for _ in range(2):
        assert Encoding(layer, wide, factors="auto").factors == "residual"
        assert Encoding(layer, mesh, factors="auto").factors == "perfect"
        assert Encoding(layer, get_preset("nvdla_1024"), factors="auto").factors == "residual"
