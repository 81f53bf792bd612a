"""The objectives: each one's winner is the best of the candidates on it (the subnet search, the
design score, the final choice), MnasNet's reward and its defaults (Tan et al., CVPR 2019, Sec. 3), penalties."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

import cosearch
from cosearch.config import Budget, EvolutionSettings
from cosearch.config.objectives import (MNASNET_HARD, MNASNET_SOFT, EDP, Accuracy, Energy, Latency, MnasNetReward,
                                       mnasnet_reward, single_objectives)
from cosearch.search import search_subnet
from cosearch.search.objective import objective, rank_value, run_metric
from nets import count_macs


class _Accuracy:
    """A stand-in accuracy model: top-1 grows with log MACs (cheap, no torch)."""

    space = "ofa_mbv3_w1.2"
    source = SimpleNamespace(label="stand-in")

    def score_batch(self, configs):
        return np.array([0.70 + 0.03 * math.log(count_macs(c) / 1e8) for c in configs])


def _run(config):
    """A run whose latency grows with MACs and whose energy grows faster (so the objectives disagree)."""
    macs = count_macs(config)
    latency, energy = macs / 2e11, (macs / 1e8) ** 1.5 * 1e-4
    return SimpleNamespace(latency_s=latency, energy_j=energy, edp_j_s=latency * energy)


def _cost(latency_s, energy_j):
    return SimpleNamespace(latency_s=latency_s, energy_j=energy_j, edp_j_s=latency_s * energy_j)


SPECS = {"edp": EDP(), "latency": Latency(), "energy": Energy(), "accuracy": Accuracy(),
         "mnasnet": MnasNetReward(1.5e-3, MNASNET_SOFT)}
OBJECTIVES = single_objectives()


def test_every_registered_objective_is_tested():
    assert sorted(OBJECTIVES) == sorted(SPECS)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_the_subnet_search_winner_is_the_best_candidate_on_its_objective(name):
    spec = SPECS[name]
    limits = Budget(5.0, latency_s=2e-3)  # some subnets over it: they must never win
    result = search_subnet(_Accuracy(), 0.70, _run, limits, EvolutionSettings(population=6, generations=2),
                           np.random.default_rng(1),
                           score=lambda acc, run: rank_value(spec, run.latency_s, run.energy_j, acc))
    ok = [c for c in result.evaluated if c.feasible]
    assert ok and any(not c.feasible for c in result.evaluated)
    values = [run_metric(spec, c.run.latency_s, c.run.energy_j, c.accuracy) for c in ok]
    best = max(values) if spec.maximize else min(values)
    assert result.best.feasible
    assert run_metric(spec, result.best.run.latency_s, result.best.run.energy_j, result.best.accuracy) == best


def test_the_objectives_pick_different_winners():
    """The stand-in makes the objectives disagree, so the test above checks each one's own ranking."""
    winners = {}
    for name, spec in SPECS.items():
        r = search_subnet(_Accuracy(), 0.70, _run, Budget(5.0, latency_s=2e-3),
                          EvolutionSettings(population=6, generations=2), np.random.default_rng(1),
                          score=lambda acc, run, spec=spec: rank_value(spec, run.latency_s, run.energy_j, acc))
        winners[name] = repr(r.best.config.canonical())
    assert winners["accuracy"] != winners["latency"]


def test_mnasnet_reward_soft_and_hard():
    assert MNASNET_SOFT == (-0.07, -0.07) and MNASNET_HARD == (0.0, -1.0)  # MnasNet, Sec. 3
    assert mnasnet_reward(0.8, 2e-3, 2e-3, MNASNET_SOFT) == pytest.approx(0.8)
    assert mnasnet_reward(0.8, 4e-3, 2e-3, MNASNET_SOFT) == pytest.approx(0.8 * 2 ** -0.07)
    assert mnasnet_reward(0.8, 1e-3, 2e-3, MNASNET_SOFT) == pytest.approx(0.8 * 0.5 ** -0.07)
    assert mnasnet_reward(0.8, 1e-3, 2e-3, MNASNET_HARD) == pytest.approx(0.8)
    assert mnasnet_reward(0.8, 4e-3, 2e-3, MNASNET_HARD) == pytest.approx(0.4)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_a_design_over_the_limits_ranks_below_every_design_within_them(name):
    spec = SPECS[name]
    limits = Budget(5.0, latency_s=1e-3)
    fits = objective([_cost(9e-4, 5.0)], limits, spec, accuracy=0.01)
    over = objective([_cost(1.1e-3, 1e-6)], limits, spec, accuracy=0.99)
    worse = objective([_cost(5e-3, 1e-6)], limits, spec, accuracy=0.99)
    assert fits.feasible and not over.feasible
    assert fits.sort_key() < over.sort_key() < worse.sort_key()
    better = (lambda a, b: a > b) if spec.maximize else (lambda a, b: a < b)
    assert better(fits.value, over.value) and better(over.value, worse.value)


def test_mnasnet_takes_its_target_from_the_budget_and_drops_it_as_a_hard_limit():
    s = cosearch.make_settings("area=5mm2,latency<=2ms", objective="mnasnet")
    assert s.objective.target_latency_s == 2e-3 and s.objective.target_from_budget
    assert s.limits.latency_s is None and s.budget.latency_s == 2e-3
    t = cosearch.make_settings("area=5mm2,latency<=2ms", objective="mnasnet", target_latency="1ms",
                               mnasnet_exponents="hard")
    assert t.objective.target_latency_s == 1e-3 and t.limits.latency_s == 2e-3 and t.objective.exponents == (0, -1)
    assert "--target-latency 0.001s" in cosearch.command_line(t) and "--mnasnet-exponents 0,-1" in \
        cosearch.command_line(t)
    assert s.mapper_objective == "latency" and cosearch.make_settings(objective="energy").mapper_objective == "energy"
    assert s.study_name != cosearch.make_settings("area=5mm2,latency<=2ms").study_name


@pytest.mark.slow
def test_a_run_states_its_objective_and_wins_on_it(tmp_path):
    """End to end (one worker, tiny loops): result.json and report.md state the objective; the winner is the best
    of the final candidates on it; Optuna's direction and metric name follow it."""
    import json

    import optuna

    settings = cosearch.make_settings("area=5mm2,latency<=60ms", objective="mnasnet", trials=4, out=tmp_path,
                                      workers=1, population=3, generations=1, mapper_evals=32,
                                      final_mapper_evals=64, time_limit="none")
    result = cosearch.run(settings)
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["objective"]["name"] == "mnasnet" and doc["objective"]["direction"] == "maximize"
    assert doc["objective"]["target_latency_s"] == 0.06 and "ACC x (LAT / T)^w" in doc["objective"]["text"]
    assert "MnasNet's reward" in (tmp_path / "report.md").read_text()
    study = optuna.load_study(study_name=settings.study_name, storage=f"sqlite:///{tmp_path / 'cosearch.db'}")
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE] and study.metric_names == ["MnasNet reward"]
    feasible = [p for p in result.trials if p.state == "COMPLETE" and p.feasible]
    assert result.best is not None and feasible
    reward = mnasnet_reward(result.best.accuracy, result.best.latency_s, 0.06, MNASNET_SOFT)
    assert reward >= 0.98 * max(p.value for p in feasible)  # the final mapper only improves on the search's mapping
