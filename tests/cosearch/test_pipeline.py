"""The co-search from Python: run, resume with a larger target, the result object."""
import json

import pytest

import cosearch


def _settings(out, trials):
    return cosearch.make_settings("area=2.5mm2", network="alexnet", trials=trials, out=out, mapper_evals=32,
                                  final_mapper_evals=64, time_limit="none", workers=1)


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


@pytest.mark.slow
def test_a_run_with_user_given_fusion_groups_writes_its_report(tmp_path):
    """Every design runs the given groups; the report's Timeloop export writes a tiled layer's tile problem."""
    settings = cosearch.make_settings("area=2.5mm2", network="alexnet", trials=2, out=tmp_path, mapper_evals=32,
                                      final_mapper_evals=64, time_limit="none", workers=1, fusion="depth-first",
                                      fusion_groups="features.6-features.10")
    result = cosearch.run(settings)
    assert result.best is not None
    summary = result.best.meta["fusion"]
    # alexnet: conv, pool, conv, pool, then features.6-features.10 (layers 4-6) as the one group given
    assert summary["notes"] == ["groups given: 4-6"] and [g["first"] for g in summary["groups"]][:6] == [0, 1, 2, 3, 4, 7]
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["fusion"]["mode"] == "depth-first"
    tiled = [g for g in summary["groups"] if g["first"] == 4 and g["tiles"] > 1]
    assert bool(list((tmp_path / "timeloop").glob("*.tile.problem.yaml"))) == bool(tiled)
