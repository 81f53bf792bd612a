"""`python -m accel_models.timeloop model|check` on Timeloop's own exercises (as they are on disk) and on the corpus
designs written in users' formats (tests/data/timeloop_designs); `mapper` names its command in `mappings`."""
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


def test_check_evaluates_every_exercise_and_names_the_mapper_comparison(exercises, capsys):
    assert main(["check", str(exercises / "cases.json")]) == 0
    report = capsys.readouterr().out.strip().splitlines()
    assert report[-1] == "agree: 15/15 cases"
    assert report[-2] == ("mapper cases: Timeloop's mappings evaluated; the mapper comparison is "
                          f"`python -m mappings.timeloop check {exercises / 'cases.json'}`")
    rows = {line.split()[0]: line.split()[1] for line in report[1:16]}
    assert list(rows.values()).count("mapper") == 6 and not any("DISAGREES" in line for line in report)
    labelled = [line for line in report if line.startswith("  ") and "older Timeloop build" not in line]
    assert {line.split(":")[0].strip() for line in labelled} == {"06-mapper-eyeriss", "tl+acc-intmac"}
    assert "mapper at or below" not in "\n".join(report)


def test_designs_in_users_formats_agree_with_the_corpus():
    if not DESIGNS.is_file():
        pytest.fail(f"the designs manifest is missing: {DESIGNS}")
    results, report = check_manifest(DESIGNS)
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert len(results) >= 15 and not any(r.older_build for r in results)
    assert sum(r.tool == "mapper" for r in results) == 2 and all(r.mapper_ok is None for r in results)


def test_mapper_command_names_its_package(tmp_path, capsys):
    assert main(["mapper", str(tmp_path / "x.yaml"), "--budget", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("python -m accel_models.timeloop mapper: the mapper command is "
                   "`python -m mappings.timeloop mapper FILE...` (the same arguments)")


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
