"""The subnet evolution with a stand-in cost (EDP grows with MACs): fast, and checks the search itself."""
import numpy as np
import pytest

from cosearch.config import Budget, EvolutionSettings
from cosearch.search import load_accuracy_model, search_subnet
from nets import count_macs, largest_config, sample_configs


class _Cost:
    """A run whose latency and energy grow with the subnet's MACs."""

    def __init__(self, macs: float) -> None:
        self.latency_s = macs / 1e11
        self.energy_j = macs * 1e-12
        self.edp_j_s = self.latency_s * self.energy_j


@pytest.fixture(scope="module")
def predictor():
    model = load_accuracy_model("ofa_mbv3_w1.2")
    assert model.source.kind == "ofa_predictor"
    return model


def _search(model, floor, seed, budget=Budget(5.0), seeds=()):
    return search_subnet(model, floor, lambda c: _Cost(count_macs(c)), budget,
                         EvolutionSettings(population=6, generations=3), np.random.default_rng(seed), seeds)


def test_all_candidates_meet_the_floor_and_best_is_cheapest(predictor):
    r = _search(predictor, 0.81, 0)
    assert len(r.evaluated) == 6 + 3 * 3
    assert all(c.accuracy >= 0.81 for c in r.evaluated)
    assert r.best.edp_j_s == min(c.edp_j_s for c in r.evaluated)
    assert len({repr(c.config.canonical()) for c in r.evaluated}) == len(r.evaluated)


def test_deterministic_and_seeded(predictor):
    a, b = _search(predictor, 0.8, 3), _search(predictor, 0.8, 3)
    assert [c.config for c in a.evaluated] == [c.config for c in b.evaluated]
    big = largest_config("ofa_mbv3_w1.2")
    c = _search(predictor, 0.8, 4, seeds=[big])
    assert c.evaluated[0].config == big


def test_budget_violations_rank_last(predictor):
    tight = Budget(5.0, latency_s=2.5e-3)  # 250 M MACs at 1e11 MAC/s
    r = _search(predictor, 0.8, 5, budget=tight)
    assert any(c.feasible for c in r.evaluated) and any(not c.feasible for c in r.evaluated)
    assert r.best.feasible and r.best.run.latency_s <= 2.5e-3
    assert all(c.violation > 0 for c in r.evaluated if c.run.latency_s > 2.5e-3)


def test_first_population_is_drawn_within_the_limits(predictor):
    """Under a limit that few random subnets meet, the first population is the in-limit runs among at most
    WITHIN_LIMITS_DRAWS x population draws (OFA's draw within the constraint), not the first `population` draws."""
    from cosearch.search.subnets import WITHIN_LIMITS_DRAWS

    macs = sorted(count_macs(c) for c in sample_configs(predictor.space, 400, rng=9))
    limit_s = macs[len(macs) // 10] / 1e11  # a limit about one random subnet in ten meets
    settings = EvolutionSettings(population=6, generations=0)
    r = search_subnet(predictor, None, lambda c: _Cost(count_macs(c)), Budget(5.0, latency_s=limit_s), settings,
                      np.random.default_rng(2))
    assert settings.population < len(r.evaluated) <= WITHIN_LIMITS_DRAWS * settings.population
    assert r.best.feasible
    unlimited = search_subnet(predictor, None, lambda c: _Cost(count_macs(c)), Budget(5.0), settings,
                              np.random.default_rng(2))
    assert len(unlimited.evaluated) == settings.population
