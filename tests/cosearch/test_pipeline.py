"""The co-search from Python: run, resume with a larger target, the result object."""
import json

import pytest

import cosearch
from cosearch.report.plots import pareto_front
from cosearch.config.settings import parse_duration
from cosearch.search.study import worker_seed
from cosearch.search.workers import split_quota
from cosearch.config.workloads import parse_network


def _settings(out, trials):
    return cosearch.make_settings("area=2.5mm2", network="alexnet", trials=trials, out=out, mapper_evals=32,
                                  final_mapper_evals=64, time_limit="none")


def test_run_then_extend(tmp_path):
    first = cosearch.run(_settings(tmp_path, 2))
    assert first.counts["complete"] == 2 and first.best is not None
    assert first.best.area_mm2 <= 2.5 and first.best.accuracy is None
    assert all(p.fits == (p.area_mm2 <= 2.5) for p in first.presets)
    assert first.beats_every_preset in (True, False)
    seen = []
    second = cosearch.run(_settings(tmp_path, 4), on_progress=seen.append)
    assert second.counts["complete"] == 4
    assert seen[0].complete == 2 and seen[-1].phase != "search" and seen[-2].complete == 4
    numbers = {p.number: p.value for p in second.trials if p.state == "COMPLETE"}
    for p in first.trials:
        if p.state == "COMPLETE":
            assert numbers[p.number] == p.value
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["study"]["counts"]["complete"] == 4 and doc["network"]["fixed"]["name"] == "alexnet"


def test_small_helpers():
    assert split_quota(7, 3) == [3, 2, 2] and sum(split_quota(5, 8)) == 5
    assert worker_seed(0, 0, 0) == worker_seed(0, 0, 0) != worker_seed(0, 1, 0) != worker_seed(0, 0, 5)
    assert pareto_front([(0.8, 3.0), (0.81, 2.0), (0.82, 5.0), (0.79, 4.0)]) == [(0.81, 2.0), (0.82, 5.0)]
    assert parse_duration("5m") == 300 and parse_duration("90") == 90 and parse_duration("none") is None
    assert parse_network("MobileNetV2").name == "mobilenet_v2"
    spec = parse_network('{"ks": [3]*20}'.replace("[3]*20", json.dumps([3] * 20))[:-1] +
                         ', "e": ' + json.dumps([4] * 20) + ', "d": [2, 2, 2, 2, 2], "r": 160}')
    assert spec.kind == "subnet" and spec.config.r == 160 and spec.build().meta["resolution"] == 160


@pytest.mark.parametrize("kwargs, field", [({"trials": 0}, "--trials"), ({"sampler": "bo"}, "--sampler"),
                                           ({"workers": 100}, "--workers"), ({"population": 1}, "--population")])
def test_settings_errors(kwargs, field):
    with pytest.raises(cosearch.UsageError, match=field):
        cosearch.make_settings("area=5mm2", **kwargs)
