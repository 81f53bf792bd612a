"""The co-search from Python: run, resume with a larger target, the result object."""
import json

import pytest

import cosearch


def _settings(out, trials):
    return cosearch.make_settings("area=2.5mm2", network="alexnet", trials=trials, out=out, mapper_evals=32,
                                  final_mapper_evals=64, time_limit="none")


@pytest.mark.slow
def test_run_then_extend(tmp_path):
    first = cosearch.run(_settings(tmp_path, 2))
    assert first.counts["complete"] == 2 and first.best is not None
    assert first.best.area_mm2 <= 2.5 and first.best.accuracy is None
    assert all(p.fits == (p.area_mm2 <= 2.5) for p in first.presets)
    fitting = [p for p in first.presets if p.fits and p.cost is not None]
    assert fitting and first.beats_every_preset == all(p.cost.edp_j_s > first.best.edp_j_s for p in fitting)
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
