"""The perfect-factor driver (`kernel.evaluate_range_perfect`, compiled from the full driver's source without the
residual and spatial-class paths): on perfect mappings it counts as the full driver, bit for bit; a residual mapping
raises rather than being counted; a search takes it wherever its decode gives no residual factor."""
from __future__ import annotations

import numpy as np
import pytest

from accel_models import get_preset, jit, kernel
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.jit import ensure_fresh_kernel_cache
from accel_models.result import OK
from mappings import Encoding, EvolutionStrategy, best_mapping, random_mappings
from mappings import evolution
from mappings.strategies import evolution as strategy
from nets import Layer, get_network

LAYERS = [Layer.conv(16, 32, 3, 8, name="conv"), Layer(R=3, S=3, P=7, Q=7, C=24, K=40, name="conv7"),
          Layer(C=96, K=24, P=14, Q=14, name="pointwise"), Layer(R=3, S=3, P=14, Q=14, G=96, name="depthwise"),
          Layer(C=6, K=10, N=2, name="fc")]
PRESETS = ["eyeriss", "nvdla_256", "shidiannao", "edge_tpu_like"]


def _run(driver, layer, acc, maps):
    """Every output array of `driver` over all of `maps`."""
    ensure_fresh_kernel_cache()
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    B, L = maps.temporal.shape[0], acc.num_levels
    out = kernel.new_outputs(B, L)
    ws = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    paths = jit.perfect_paths(la, aa) if driver is kernel.evaluate_range_perfect else jit.residual_paths(la, aa)
    driver(np.int64(0), np.int64(B), la, aa, maps, out, ws, paths)
    return out


@pytest.mark.parametrize("preset", PRESETS)
def test_the_two_drivers_count_alike_on_perfect_mappings(preset):
    acc = get_preset(preset)
    valid = 0
    for i, layer in enumerate(LAYERS):
        maps = random_mappings(layer, acc, 400, rng=7000 + i, spatial_bias=4.0)
        assert not any(r.any() for r in (maps.temporal_residual, maps.spatial_x_residual, maps.spatial_y_residual))
        full = _run(kernel.evaluate_range, layer, acc, maps)
        perfect = _run(kernel.evaluate_range_perfect, layer, acc, maps)
        for a, b in zip(full, perfect):
            np.testing.assert_array_equal(a, b)       # bit for bit, every field of every row
        valid += int((full[0] == OK).sum())
    assert valid >= 20, valid                        # the comparison holds valid mappings, not only rejected ones


def test_a_residual_mapping_raises_in_the_perfect_driver_and_is_counted_by_the_full_one():
    acc = get_preset("nvdla_1024")
    layer = next(layer for layer, _ in get_network("deit_s").unique_layers() if layer.name.endswith("scores"))
    enc = Encoding(layer, acc, factors="residual")
    maps = enc.decode(np.random.default_rng(5).random((64, enc.size)))
    rows = [b for b in range(64) if maps.spatial_x_residual[b].any() or maps.temporal_residual[b].any()]
    full = _run(kernel.evaluate_range, layer, acc, maps)
    counted = [b for b in rows if full[0][b] == OK]
    assert counted, "no valid residual mapping drawn"
    one = maps.row(counted[0])
    with pytest.raises(AssertionError, match="residual factors reached the perfect-factor driver"):
        _run(kernel.evaluate_range_perfect, layer, acc, one)


def test_a_search_takes_the_perfect_driver_wherever_its_decode_has_perfect_factors(monkeypatch):
    """The perfect search for an encoding with perfect factors ("perfect", or "auto" resolved so: a co-search's
    first trials then need no residual path compiled), the full one wherever the decode may give residual factors;
    the mapper's strategy asks for the encoding's resolved factors."""
    acc = get_preset("nvdla_1024")
    layers = [layer for layer, _ in get_network("deit_s").unique_layers()]
    resolved = set()
    for layer in layers:
        for factors in ("perfect", "residual", "auto"):
            enc = Encoding(layer, acc, factors=factors)
            search = evolution.search_kernel(enc.factors)
            if enc.factors == "residual" or enc.residual_ok.any():
                assert search.driver is kernel.evaluate_range, (layer.name, factors)
            assert (search.driver is kernel.evaluate_range_perfect) == (enc.factors == "perfect"), (layer.name, factors)
            if factors == "auto":
                resolved.add(enc.factors)
    assert resolved == {"perfect", "residual"}       # auto met both kinds of layer
    taken: list[str] = []
    monkeypatch.setattr(strategy, "search_kernel",
                        lambda factors: taken.append(factors) or evolution.search_kernel(factors))
    shidiannao = get_preset("shidiannao")
    for bound in (8, 13):                            # 13 on an 8x8 array: "auto" resolves it to residual factors
        best_mapping(Layer.conv(16, 16, 3, bound, name=f"c{bound}"), shidiannao, budget_evals=64, seed=3,
                     factors="auto")
    assert taken == ["perfect", "residual"]


def test_the_two_searches_find_the_same_mapping_on_perfect_factors(monkeypatch):
    """The mapper's search with the perfect-factor driver and the same search with the full one: the same
    evaluations, the same best mapping and cost (a perfect decode: the counts are the same bit for bit)."""
    layer, acc = LAYERS[1], get_preset("eyeriss")
    taken = []

    def recorded(factors):
        taken.append(factors)
        return evolution.search_kernel(factors)
    monkeypatch.setattr(strategy, "search_kernel", recorded)
    fast = best_mapping(layer, acc, budget_evals=300, seed=3)
    assert taken == ["perfect"]
    monkeypatch.setattr(strategy, "search_kernel", lambda factors: evolution.search_kernel("auto"))
    slow = best_mapping(layer, acc, budget_evals=300, seed=3)
    assert (fast.cycles, fast.energy_pj, fast.evaluations, fast.valid_evaluations) == (
        slow.cycles, slow.energy_pj, slow.evaluations, slow.valid_evaluations)
    for a, b in zip(fast.arrays, slow.arrays):
        np.testing.assert_array_equal(a, b)


def test_a_strategy_without_the_perfect_driver_searches_with_the_full_one(monkeypatch):
    """`EvolutionStrategy.with_one_driver()` (a co-search whose workers each run one trial): a layer with perfect
    factors is searched with the full driver, and finds what the perfect driver's search finds, bit for bit."""
    layer, acc = LAYERS[1], get_preset("eyeriss")
    taken: list[str] = []
    monkeypatch.setattr(strategy, "search_kernel", lambda factors: taken.append(factors) or
                        evolution.search_kernel(factors))
    full = best_mapping(layer, acc, budget_evals=300, seed=3, strategy=EvolutionStrategy().with_one_driver())
    fast = best_mapping(layer, acc, budget_evals=300, seed=3)
    assert taken == ["residual", "perfect"]
    assert (full.cycles, full.energy_pj, full.evaluations, full.valid_evaluations) == (
        fast.cycles, fast.energy_pj, fast.evaluations, fast.valid_evaluations)
    for a, b in zip(full.arrays, fast.arrays):
        np.testing.assert_array_equal(a, b)
