"""`python -m mappings.timeloop mapper|check` (timeloop-mapper on cosearch) on Timeloop's own exercises and on the
corpus designs written in users' formats: the mapper reaches Timeloop's mapper, and what it writes
timeloop-model (and `python -m accel_models.timeloop model`) reads back."""
import json
from pathlib import Path

import pytest

from accel_models.timeloop import check_manifest, read_stats
from accel_models.timeloop.__main__ import main as model_main
from mappings.timeloop import mapper_figures
from mappings.timeloop.__main__ import main

EXERCISES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "timeloop_exercises"
DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs" / "cases.json"


@pytest.fixture(scope="module")
def exercises() -> Path:
    if not (EXERCISES / "cases.json").is_file():
        pytest.fail(f"Timeloop's exercises are missing: no {EXERCISES / 'cases.json'} (../shared beside the checkout)")
    return EXERCISES


def test_check_agrees_on_every_exercise_and_the_mapper_is_at_or_below_timeloop(exercises, capsys):
    assert main(["check", str(exercises / "cases.json")]) == 0
    report = capsys.readouterr().out.strip().splitlines()
    assert report[-2:] == ["mapper at or below timeloop: 6/6", "agree: 15/15 cases"], "\n".join(report)
    rows = report[1:16]
    mapped = [line for line in rows if line.split()[1] == "mapper"]
    assert len(mapped) == 6 and all(" <= " in line and "DISAGREES" not in line for line in mapped)
    labelled = {line.split(":")[0].strip() for line in report if line.startswith("  ")}
    assert labelled == {"06-mapper-eyeriss", "tl+acc-intmac"}          # the halo-reuse difference, named


def test_designs_mapper_cases_reach_timeloops_best():
    if not DESIGNS.is_file():
        pytest.fail(f"the designs manifest is missing: {DESIGNS}")
    results, report = check_manifest(DESIGNS, lambda spec: mapper_figures(spec, 20_000, 0))
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert sum(r.mapper_ok is True for r in results) == 2


def test_mapper_command_writes_a_mapping_timeloop_model_takes(exercises, tmp_path):
    ex = exercises / "timeloop" / "05-mapper-conv1d+oc-3level"
    inputs = [str(p) for p in (sorted((ex / "arch").glob("*.yaml")) + sorted((ex / "prob").glob("*.yaml"))
                               + [ex / "constraints" / "conv1d+oc-3level-freebypass.constraints.yaml",
                                  ex / "mapper" / "exhaustive.mapper.yaml"])]
    ert = str(ex / "ref-output" / "freebypass" / "timeloop-mapper.ERT.yaml")
    assert main(["mapper", *inputs, "--ert", ert, "--budget", "2000", "-o", str(tmp_path)]) == 0
    stats = json.loads((tmp_path / "cosearch-mapper.stats.json").read_text())
    assert stats["mapper"]["metrics"] == ["delay", "energy"] and stats["cycles"] == 1536
    assert 0 < stats["mapper"]["evaluations"] <= 2000 and stats["mapper"]["seed"] == 0
    timeloop = read_stats(ex / "ref-output" / "freebypass" / "timeloop-mapper.stats.txt")
    assert stats["energy_pj"] <= timeloop.energy_pj + 0.01
    mapping = tmp_path / "cosearch-mapper.map.yaml"
    assert "K=" in mapping.read_text()                      # the problem's own dims (K, R, P)
    assert model_main(["model", *inputs[:-1], str(mapping), "--ert", ert, "-o", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "cosearch-model.json").read_text())
    assert again["energy_pj"] == pytest.approx(stats["energy_pj"]) and again["cycles"] == stats["cycles"]


@pytest.mark.parametrize("argv, message", [
    (["mapper", "x.yaml", "--budget", "0"], "--budget: must be a positive number of evaluations, got '0'"),
    (["check", "cases.json", "--budget", "many"], "--budget: must be a positive number of evaluations, got 'many'"),
])
def test_bad_budget_exits_2_naming_the_flag(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_bad_input_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert main(["mapper", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("python -m mappings.timeloop mapper: error:") and str(path) in err


def test_accel_models_names_this_command_line():
    from accel_models.timeloop.cases_check import MAPPER_PROG
    from mappings.timeloop.__main__ import PROG
    assert PROG == MAPPER_PROG
