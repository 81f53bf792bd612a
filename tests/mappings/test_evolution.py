"""The compiled evolution strategy (`mappings.evolution`, strategy "es"): deterministic, exact on its budget,
never worse than its seeds, and at least as good as the `cmaes` package's sep-CMA-ES at the same budget."""
import numpy as np
import pytest

from mappings import Encoding, best_mapping


def test_same_seed_same_result_and_exact_budget(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    a = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=3)
    b = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=3)
    c = best_mapping(case.layer, case.accelerator, strategy="es", budget_evals=300, seed=4)
    assert a.evaluations == 300 and a.valid
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


@pytest.mark.parametrize("name", ["eyeriss_alexnet_conv2", "mesh16_mbv2_dw3x3"])
def test_at_least_as_good_as_the_cmaes_package(mapper_bench, name):
    """The reference for the compiled loop's convergence: same budget, 24 seeds, medians compared."""
    case, _ = mapper_bench[name]
    fixed = {"shared_glb": ("Inputs", "Outputs")} if "eyeriss" in name else None

    def median(strategy):
        return float(np.median([best_mapping(case.layer, case.accelerator, strategy=strategy, budget_evals=1024,
                                             seed=s, islands=1, fixed_keep=fixed).edp_pj_cycles for s in range(24)]))

    # Over 48 seeds the two are alike (AlexNet conv2: median 1.055 vs 1.065 of the 16k best); 24 seeds' medians
    # scatter by a few percent, so a 10% margin separates noise from a real regression.
    assert median("es") <= median("cmaes") * 1.10
