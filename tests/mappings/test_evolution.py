"""The compiled evolution strategy (`mappings.evolution`, strategy "es"): deterministic, exact on its budget,
never worse than its seeds, and at least as good as the `cmaes` package's sep-CMA-ES at the same budget."""
import numpy as np
import pytest

from accel_models.cost_model import evaluate_batch
from mappings import CMAESStrategy, Encoding, EvolutionStrategy, best_mapping


def test_same_seed_same_result_and_exact_budget(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    a = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=3)
    b = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=3)
    c = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=4)
    assert a.evaluations == 300 and a.valid
    cost = evaluate_batch(case.layer, case.accelerator, a.arrays)          # the costs reported are the mapping's
    assert (a.cycles, a.energy_pj) == (int(cost.cycles[0]), float(cost.energy_pj[0]))
    assert (a.cycles, a.energy_pj) == (b.cycles, b.energy_pj)
    assert all((x == y).all() for x, y in zip(a.arrays, b.arrays))
    assert [h[0] for h in a.history] == sorted(h[0] for h in a.history)
    assert c.evaluations == 300


def test_never_worse_than_a_seed(mapper_bench):
    case, _ = mapper_bench["eyeriss_alexnet_conv2"]
    long = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=4000, seed=0)
    enc = Encoding(case.layer, case.accelerator)
    seeded = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=64, seed=1,
                          seeds=enc.encode(long.arrays)[None])
    assert seeded.edp_pj_cycles <= long.edp_pj_cycles * (1 + 1e-12)
    cold = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=64, seed=1)
    assert seeded.edp_pj_cycles < cold.edp_pj_cycles


@pytest.mark.parametrize("factors", ["perfect", "residual", "auto"])
def test_the_mapping_returned_is_the_decode_of_the_genes_returned(mapper_bench, factors):
    """The search hands back its best row's mapping as it decoded it, not a second decode of the best genes: the two
    must be the same arrays, cold, seeded, and over several chunks of a time limit."""
    for name in ("eyeriss_alexnet_conv2", "mesh16_mbv2_dw3x3"):
        case, _ = mapper_bench[name]
        enc = Encoding(case.layer, case.accelerator, factors=factors)
        cold = best_mapping(case.layer, case.accelerator, budget_evals=300, seed=2, factors=factors)
        seeded = best_mapping(case.layer, case.accelerator, budget_evals=40, seed=5, factors=factors,
                              seeds=np.stack([cold.genes, np.full(enc.size, 0.3)]))
        timed = best_mapping(case.layer, case.accelerator, time_limit_s=0.05, seed=1, factors=factors)
        for result in (cold, seeded, timed):
            assert result.valid
            decoded = enc.decode(result.genes[None])
            assert all(np.array_equal(got, want) for got, want in zip(result.arrays, decoded))
            cost = evaluate_batch(case.layer, case.accelerator, result.arrays)
            assert (result.cycles, result.energy_pj) == (int(cost.cycles[0]), float(cost.energy_pj[0]))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["eyeriss_alexnet_conv2", "mesh16_mbv2_dw3x3"])
def test_at_least_as_good_as_the_cmaes_package(mapper_bench, name):
    """The reference for the compiled loop's convergence: same budget, 24 seeds, medians compared."""
    case, _ = mapper_bench[name]
    fixed = {"shared_glb": ("Inputs", "Outputs")} if "eyeriss" in name else None

    def median(strategy):
        return float(np.median([best_mapping(case.layer, case.accelerator, strategy=strategy, budget_evals=1024,
                                             seed=s, fixed_keep=fixed).edp_pj_cycles for s in range(24)]))

    # Over 48 seeds the two are alike (AlexNet conv2: median 1.055 vs 1.065 of the 16k best); 24 seeds' medians
    # scatter by a few percent, so a 10% margin separates noise from a real regression.
    assert median(EvolutionStrategy(islands=1)) <= median(CMAESStrategy(islands=1)) * 1.10


def test_fast_random_draws_are_uniform_and_standard_normal():
    """The compiled search's generator: uniforms fill [0, 1) evenly, the quantile table is N(0, 1), seeds differ."""
    from numba import njit

    from mappings._fast_random import NORMAL_TABLE, new_state, normal, uniform

    @njit
    def draws(state, table, n):
        u = np.empty(n)
        z = np.empty(n)
        for i in range(n):
            u[i] = uniform(state)
            z[i] = normal(state, table)
        return u, z

    u, z = draws(new_state(7), NORMAL_TABLE, 200_000)
    assert 0.0 <= u.min() and u.max() < 1.0
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert abs(counts / len(u) - 0.1).max() < 0.005                      # ~7 sigma of a binomial(200k, 0.1) bin
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    assert abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.003
    again, _ = draws(new_state(7), NORMAL_TABLE, 1000)
    other, _ = draws(new_state(8), NORMAL_TABLE, 1000)
    assert (again == u[:1000]).all() and not np.allclose(other, u[:1000])


def test_cold_islands_only_without_seeds(mapper_bench):
    """`cold_islands` sets the islands of a search given no seeds, and only of that one: unseeded, the search is the
    one with that many islands; seeded, the one with `islands`."""
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    enc = Encoding(case.layer, case.accelerator)

    def run(strategy, seeds=None):
        r = best_mapping(case.layer, case.accelerator, strategy=strategy, budget_evals=96, seed=2, seeds=seeds)
        return r.cycles, r.energy_pj, [h[0] for h in r.history]

    one, four = EvolutionStrategy(islands=1, popsize=8), EvolutionStrategy(islands=4, popsize=8)
    cold = EvolutionStrategy(islands=1, popsize=8, cold_islands=4)
    assert run(cold) == run(four) and run(one) != run(four)
    seed = enc.encode(best_mapping(case.layer, case.accelerator, strategy="random", budget_evals=8, seed=0).arrays)
    assert run(cold, seed[None]) == run(one, seed[None]) != run(four, seed[None])
    with pytest.raises(ValueError, match="cold_islands"):
        EvolutionStrategy(cold_islands=-1)


def test_every_encodings_tables_have_the_types_of_the_searchs_decoder_pointer():
    """The search calls the decoder by address, with one signature per process built from the first encoding's
    tables (`_decode_kernel.decoder_pointer`): every encoding's tables (any chip, factor mode or constraint) must have
    its types, or a search's call would not type."""
    from numba import typeof

    from accel_models import LevelConstraints, MapspaceConstraints, PRESETS, get_preset
    from mappings._decode_kernel import decoder_pointer
    from nets import Layer

    layers = (Layer.conv(64, 64, 3, 56, name="c3"), Layer.conv(32, 32, 3, 28, groups=32, name="dw"),
              Layer.fc(256, 1000, name="fc"))
    eyeriss = get_preset("eyeriss")
    pinned = MapspaceConstraints({eyeriss.level_names[2]: LevelConstraints(temporal_factors={"K": 4})})
    encodings = [Encoding(layer, get_preset(name), factors=factors)
                 for name in PRESETS for layer in layers for factors in ("perfect", "residual")]
    encodings.append(Encoding(layers[0], eyeriss, constraints=pinned, factors="residual"))
    seen = {typeof(enc.tables) for enc in encodings}
    assert len(seen) == 1
    assert decoder_pointer(encodings[0].tables, eyeriss.num_levels).signature().args[1] == seen.pop()

