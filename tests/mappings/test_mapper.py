"""The per-layer mappers (`mappings.mapper`): CMA-ES reaches the exhaustive optimum, results are seeded, limits hold."""
import math

import numpy as np
import pytest

from accel_models.cost_model import evaluate_batch
from mappings import CMAESStrategy, Encoding, EvolutionStrategy, RandomStrategy, best_mapping
from mappings.exhaustive import ExhaustiveSpace
from nets import DIMS, Layer
from accel_models import presets

# (corpus architecture, layer, bypass mode): spaces of 1e5-1e6 mappings, enumerated in a few seconds
SMALL = [("B8x8a", Layer(R=3, S=3, P=6, C=2, K=4), "none"),
         ("B2x2b", Layer(R=3, P=4, Q=2, C=4, K=4), "none"),
         ("B4x4a", Layer(R=3, P=8, C=4, K=4), "none")]


@pytest.mark.slow
@pytest.mark.parametrize("arch,layer,bypass", SMALL, ids=[s[0] for s in SMALL])
def test_cmaes_finds_the_exhaustive_optimum(corpus_archs, arch, layer, bypass):
    acc = corpus_archs[arch].accelerator
    exact = best_mapping(layer, acc, "edp", strategy="exhaustive", bypass=bypass)
    assert exact.valid and exact.evaluations == ExhaustiveSpace(Encoding(layer, acc, bypass)).size
    for seed in (0, 1):
        found = best_mapping(layer, acc, "edp", strategy="cmaes", budget_evals=2000, seed=seed, bypass=bypass)
        assert found.edp_pj_cycles <= 1.01 * exact.edp_pj_cycles, (seed, found.summary(), exact.summary())
        assert found.edp_pj_cycles >= exact.edp_pj_cycles * (1 - 1e-12)   # nothing beats the optimum


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["energy", "latency"])
def test_other_objectives_reach_their_optimum(corpus_archs, objective):
    arch, layer, bypass = SMALL[1]
    acc = corpus_archs[arch].accelerator
    exact = best_mapping(layer, acc, objective, strategy="exhaustive", bypass=bypass)
    found = best_mapping(layer, acc, objective, budget_evals=2000, bypass=bypass)
    assert found.objective_value <= 1.01 * exact.objective_value
    assert exact.objective_value == {"energy": exact.energy_pj, "latency": exact.cycles}[objective]


@pytest.mark.slow
def test_exhaustive_refuses_large_spaces(mapper_bench):
    case, _ = mapper_bench["eyeriss_alexnet_conv2"]
    with pytest.raises(ValueError, match="use strategy='cmaes'"):
        best_mapping(case.layer, case.accelerator, strategy="exhaustive")


def test_seeded_and_deterministic(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    for strategy in ("cmaes", "random"):
        a = best_mapping(case.layer, case.accelerator, strategy=strategy, budget_evals=1500, seed=7)
        b = best_mapping(case.layer, case.accelerator, strategy=strategy, budget_evals=1500, seed=7)
        assert all(np.array_equal(u, v) for u, v in zip(a.arrays, b.arrays))
        assert [h[::2] for h in a.history] == [h[::2] for h in b.history]
        assert (a.cycles, a.energy_pj, a.evaluations) == (b.cycles, b.energy_pj, b.evaluations)


def test_result_matches_the_cost_model(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    r = best_mapping(case.layer, case.accelerator, budget_evals=1000)
    again = evaluate_batch(case.layer, case.accelerator, [r.mapping])
    assert again.valid[0] and again.cycles[0] == r.cycles and again.energy_pj[0] == pytest.approx(r.energy_pj)
    assert r.edp_j_cycle == pytest.approx(r.energy_pj * r.cycles * 1e-12)
    assert r.edp_j_s == pytest.approx(r.edp_j_cycle / (case.accelerator.clock_ghz * 1e9))
    values = [h[2] for h in r.history]
    assert values == sorted(values, reverse=True) and values[-1] == pytest.approx(r.edp_pj_cycles)
    assert [h[0] for h in r.history] == sorted(h[0] for h in r.history)
    assert r.evaluations >= 1000 and 0 < r.valid_evaluations <= r.evaluations
    assert "EDP" in r.summary() and "GLB" in r.describe()


def test_budget_and_time_limits(mapper_bench):
    case, _ = mapper_bench["eyeriss_alexnet_conv2"]
    r = best_mapping(case.layer, case.accelerator, strategy=RandomStrategy(batch_size=256), budget_evals=700)
    assert r.evaluations == 700
    r = best_mapping(case.layer, case.accelerator, time_limit_s=0.3)
    assert r.wall_s >= 0.3 and r.valid


def test_cmaes_beats_timeloops_mapper(mapper_bench):
    """Timeloop's mapper runs on the same cases, matched by evaluations rather than wall time: below its best EDP."""
    for name, (case, raw) in mapper_bench.items():
        timeloop = min(run["best"]["edp_J_cycle"] for run in raw["mapper_runs"].values())
        r = best_mapping(case.layer, case.accelerator, budget_evals=4000)
        assert r.edp_j_cycle <= timeloop, (name, r.summary(), timeloop)


def test_initial_mapping_seeds_the_search(mapper_bench):
    case, raw = mapper_bench["eyeriss_alexnet_conv2"]
    r = best_mapping(case.layer, case.accelerator, strategy=EvolutionStrategy(islands=1, popsize=10), budget_evals=50,
                     initial=case.mapping)
    assert r.edp_j_cycle <= raw["mapper_runs"]["random_4000"]["best"]["edp_J_cycle"] * 1.5


def test_dataflow_honoured_by_the_mapper():
    acc = presets.get_preset("nvdla_256")
    r = best_mapping(Layer.conv(64, 128, 1, 28), acc, budget_evals=1500)
    assert r.valid
    fan = acc.fanout_levels[0]
    on_x = {d for d in DIMS if r.mapping.levels[fan].spatial_x[d] > 1}
    on_y = {d for d in DIMS if r.mapping.levels[fan].spatial_y[d] > 1}
    assert on_x <= set(acc.dataflow.axis_dims("X")) and on_y <= set(acc.dataflow.axis_dims("Y"))


def test_timeloop_yaml_export(mapper_bench):
    from accel_models.timeloop import mapping_from_timeloop

    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    r = best_mapping(case.layer, case.accelerator, budget_evals=500)
    text = r.to_timeloop_yaml()
    assert text.startswith("mapping:") and "type: spatial" in text
    back = mapping_from_timeloop(text, case.accelerator, case.layer)
    res = evaluate_batch(case.layer, case.accelerator, back)
    assert res.cycles[0] == r.cycles and res.energy_pj[0] == pytest.approx(r.energy_pj)


def test_bad_arguments(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    for kwargs, msg in [({"objective": "power"}, "objective must be one of"),
                        ({"strategy": "annealing"}, "best_mapping.strategy: unknown mapper strategy 'annealing'; accepted: es, "),
                        ({"budget_evals": 0}, "budget_evals must be"),
                        ({"time_limit_s": -1}, "time_limit_s must be"),
                        ({"strategy": "cmaes", "seeds": np.zeros((1, 3))}, "seeds must have")]:
        with pytest.raises(ValueError, match=msg):
            best_mapping(case.layer, case.accelerator, **kwargs)


def test_trivial_layer():
    from accel_models import Accelerator, StorageLevel

    acc = Accelerator("two", (StorageLevel("DRAM"), StorageLevel("Buf", capacity_words=64)), 1.0)
    r = best_mapping(Layer(), acc, budget_evals=10)
    assert r.valid and r.cycles == 1 and math.isfinite(r.edp_pj_cycles)


@pytest.mark.slow
def test_exhaustive_agrees_with_cmaes_under_a_dataflow(odd_accelerators):
    """Two fan-out levels, a weight-stationary dataflow: the enumerated space and the decoder's agree."""
    acc = odd_accelerators[0]
    layer = Layer(R=3, P=4, C=2, K=4)
    exact = best_mapping(layer, acc, strategy="exhaustive", bypass="none")
    found = best_mapping(layer, acc, budget_evals=2000, bypass="none")
    assert exact.edp_pj_cycles * (1 - 1e-12) <= found.edp_pj_cycles <= 1.01 * exact.edp_pj_cycles
