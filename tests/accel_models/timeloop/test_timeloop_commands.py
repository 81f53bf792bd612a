"""`python -m accel_models.timeloop model|mapper|check` on Timeloop's own exercises (as they are on disk) and on
the corpus designs written in users' formats (tests/data/timeloop_designs)."""
import json
from pathlib import Path

import pytest

from accel_models.timeloop import check_manifest, read_stats
from accel_models.timeloop.__main__ import main

EXERCISES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "timeloop_exercises"
DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs" / "cases.json"


@pytest.fixture(scope="module")
def exercises() -> Path:
    if not (EXERCISES / "cases.json").is_file():
        pytest.fail(f"Timeloop's exercises are missing: no {EXERCISES / 'cases.json'} (../shared beside the checkout)")
    return EXERCISES


def _mapper(spec):
    from accel_models import evaluate_batch
    from accel_models.timeloop.__main__ import run_mapper
    r = run_mapper(spec, 20_000, 0)
    res = evaluate_batch(spec.layer, spec.accelerator, r.arrays)
    return int(res.cycles[0]), float(res.energy_pj[0])


def test_every_exercise_agrees_and_the_mapper_is_at_or_below_timeloop(exercises):
    results, report = check_manifest(exercises / "cases.json", _mapper)
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert len(results) == 15 and all(r.error is None for r in results)
    mapped = [r for r in results if r.mapper_ok is not None]
    assert len(mapped) == 6 and all(r.mapper_ok for r in mapped), report
    assert "mapper at or below timeloop: 6/6" in report
    labelled = {r.id: r.older_build for r in results if r.older_build}
    assert set(labelled) == {"06-mapper-eyeriss", "tl+acc-intmac"}, report   # the halo-reuse difference, named
    assert all("shared_glb.Inputs.fills" in n[0] and "DRAM.Inputs.reads" in n[1] for n in labelled.values())


def test_designs_in_users_formats_agree_with_the_corpus():
    if not DESIGNS.is_file():
        pytest.fail(f"the designs manifest is missing: {DESIGNS}")
    results, report = check_manifest(DESIGNS, _mapper)
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert len(results) >= 15 and not any(r.older_build for r in results)
    assert sum(r.mapper_ok is True for r in results) == 2


def test_model_command_writes_timeloops_figures(exercises, tmp_path, capsys):
    ex = exercises / "timeloop" / "04-model-conv1d+oc-3levelspatial" / "ref-output" / "kp"
    assert main(["model", str(ex / "parsed-processed-input.yaml"), "--ert", str(ex / "timeloop-model.ERT.yaml"),
                 "-o", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "cosearch-model.json").read_text())
    stats = read_stats(ex / "timeloop-model.stats.txt")
    assert report["cycles"] == stats.cycles and report["energy_pj"] == pytest.approx(stats.energy_pj, rel=1e-6)
    glb = report["levels"]["GlobalBuffer"]
    assert glb["leakage_pj"] == pytest.approx(stats.level_leak_pj["GlobalBuffer"], abs=0.01)
    assert glb["tensors"]["Inputs"]["fills"] == stats.counts["GlobalBuffer"]["Inputs"].total("fills")
    out = capsys.readouterr().out
    assert "pJ/MAC" in out and "GlobalBuffer" in out


def test_mapper_command_writes_a_mapping_timeloop_model_takes(exercises, tmp_path):
    ex = exercises / "timeloop" / "05-mapper-conv1d+oc-3level"
    inputs = [str(p) for p in (sorted((ex / "arch").glob("*.yaml")) + sorted((ex / "prob").glob("*.yaml"))
                               + [ex / "constraints" / "conv1d+oc-3level-freebypass.constraints.yaml",
                                  ex / "mapper" / "exhaustive.mapper.yaml"])]
    ert = str(ex / "ref-output" / "freebypass" / "timeloop-mapper.ERT.yaml")
    assert main(["mapper", *inputs, "--ert", ert, "--budget", "2000", "-o", str(tmp_path)]) == 0
    stats = json.loads((tmp_path / "cosearch-mapper.stats.json").read_text())
    assert stats["mapper"]["metrics"] == ["delay", "energy"] and stats["cycles"] == 1536
    timeloop = read_stats(ex / "ref-output" / "freebypass" / "timeloop-mapper.stats.txt")
    assert stats["energy_pj"] <= timeloop.energy_pj + 0.01
    mapping = tmp_path / "cosearch-mapper.map.yaml"
    assert "K=" in mapping.read_text()                      # the problem's own dims (K, R, P)
    assert main(["model", *inputs[:-1], str(mapping), "--ert", ert, "-o", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "cosearch-model.json").read_text())
    assert again["energy_pj"] == pytest.approx(stats["energy_pj"]) and again["cycles"] == stats["cycles"]
