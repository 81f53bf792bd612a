"""The multi-objective study (`--pareto`): dominance, each trial's trade-off, the front over every scored pair, and a
run whose front is re-evaluated and listed in result.json, with Optuna's directions and metric names."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

import cosearch
from cosearch.search.pareto import dominates, non_dominated, study_front, trial_trade_off


def test_dominance_respects_each_metrics_direction():
    m = ("accuracy", "latency")
    assert dominates((0.8, 1.0), (0.7, 2.0), m) and not dominates((0.8, 3.0), (0.7, 2.0), m)
    assert not dominates((0.8, 1.0), (0.8, 1.0), m)
    points = [(0.8, 3.0), (0.7, 2.0), (0.75, 2.5), (0.7, 2.6), (0.8, 3.0), (0.6, 2.0)]
    assert non_dominated(points, m) == [0, 1, 2]


def test_trade_offs_spread_over_the_accuracy_range():
    levels = [trial_trade_off(("accuracy", "latency", "energy"), 0.80, 0.84, np.random.default_rng([0, n])).to_dict()
              for n in range(40)]
    acc = [t["accuracy_level"] for t in levels]
    assert min(acc) >= 0.80 and max(acc) <= 0.84 and max(acc) - min(acc) > 0.03
    assert all(abs(sum(t["weights"].values()) - 1) < 1e-9 for t in levels)
    t = trial_trade_off(("accuracy", "latency"), 0.80, 0.84, np.random.default_rng(3))
    run = SimpleNamespace(latency_s=1e-3, energy_j=1e-3)
    assert t(t.accuracy_level + 0.01, run) < t(t.accuracy_level - 0.01, SimpleNamespace(latency_s=1e-9, energy_j=1))


def test_the_study_front_gathers_every_trials_points():
    def trial(n, points, feasible=True):
        return SimpleNamespace(number=n, user_attrs={"feasible": feasible, "design": {"n": n},
                                                     "pareto_points": [{"values": v, "subnet": None} for v in points]})
    front = study_front([trial(0, [(0.8, 3.0), (0.7, 2.0)]), trial(1, [(0.75, 2.5), (0.7, 2.6)]),
                         trial(2, [(0.9, 0.1)], feasible=False)], ("accuracy", "latency"))
    assert [(p.trial, p.values) for p in front] == [(0, (0.8, 3.0)), (1, (0.75, 2.5)), (0, (0.7, 2.0))]


@pytest.mark.slow
def test_a_pareto_run_lists_its_front_re_evaluated(tmp_path):
    import optuna

    settings = cosearch.make_settings("area=5mm2", pareto="accuracy,latency", trials=6, out=tmp_path, workers=1,
                                      population=4, generations=1, mapper_evals=32, final_mapper_evals=64,
                                      time_limit="none")
    assert settings.sampler == "nsga2"
    result = cosearch.run(settings)
    doc = json.loads((tmp_path / "result.json").read_text())
    front = doc["pareto_front"]
    assert front and doc["objective"]["pareto"] == ["accuracy", "latency"]
    assert len(front) == len(result.pareto_front) and (tmp_path / "pareto_front.png").is_file()
    for e in front:  # re-evaluated: the final mapper's latency is that design's, accuracy unchanged
        assert e["values"][0] == e["search_values"][0] and e["values"][1] > 0
    kept = [e["values"] for e in front if e["non_dominated"]]
    assert kept and not any(dominates(a, b, ("accuracy", "latency")) for a in kept for b in kept)
    report = (tmp_path / "report.md").read_text()
    assert "## Pareto front" in report and f"{len(front)} designs" in report
    study = optuna.load_study(study_name=settings.study_name, storage=f"sqlite:///{tmp_path / 'cosearch.db'}")
    assert study.metric_names == ["accuracy (top-1)", "latency (ms)"]
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
