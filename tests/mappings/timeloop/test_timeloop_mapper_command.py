"""`python -m mappings.timeloop mapper|check` (timeloop-mapper on cosearch) on the corpus designs written in users'
formats: the mapper reaches Timeloop's mapper, and what it writes `python -m accel_models.timeloop model` (and
timeloop-model) reads back. Timeloop's own exercises are checked by `.ci/run` with the same commands."""
import json
import re
from pathlib import Path

import pytest

from accel_models.timeloop import check_manifest, default_corpus_path
from accel_models.timeloop.__main__ import main as model_main
from mappings.timeloop import mapper_figures
from mappings.timeloop.__main__ import main

DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs"


@pytest.mark.slow
def test_check_runs_the_mapper_on_the_mapper_cases(capsys):
    cases = DESIGNS / "cases.json"
    assert main(["check", str(cases), "--budget", "20000"]) == 0
    report = capsys.readouterr().out.strip().splitlines()
    results, _ = check_manifest(cases)
    assert report[-2:] == ["mapper at or below timeloop: 2/2", f"agree: {len(results)}/{len(results)} cases"]


def test_designs_mapper_cases_reach_timeloops_best():
    results, report = check_manifest(DESIGNS / "cases.json", lambda spec: mapper_figures(spec, 20_000, 0))
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert sum(r.mapper_ok is True for r in results) == 2


def test_mapper_command_writes_a_mapping_the_model_command_takes(tmp_path):
    """A depthwise layer on a 16 x 16 mesh (mapper benchmark pair): the mapper beats Timeloop's mapper runs on EDP,
    writes the mapping in the problem's own dims, and `model` on that mapping gives the same figures."""
    pair = json.loads((default_corpus_path().parent / "mapper_bench" / "mesh16_mbv2_dw3x3.json").read_text())
    ert = tmp_path / "ert.yaml"
    ert.write_text(pair["timeloop_yaml"]["ert"])
    design = DESIGNS / "mapper-mesh16-depthwise"
    inputs = [str(design / f) for f in ("arch.yaml", "prob.yaml", "mapper.yaml")]
    assert main(["mapper", *inputs, "--ert", str(ert), "--budget", "2000", "-o", str(tmp_path)]) == 0
    stats = json.loads((tmp_path / "cosearch-mapper.stats.json").read_text())
    assert stats["mapper"]["metrics"] == ["edp"] and stats["mapper"]["evaluations"] == 2000
    assert stats["mapper"]["seed"] == 0
    timeloop_best = min(r["best"]["edp_pJ_cycle"] for r in pair["mapper_runs"].values())
    assert stats["energy_pj"] * stats["cycles"] <= timeloop_best
    mapping = tmp_path / "cosearch-mapper.map.yaml"
    assert "D=" in mapping.read_text() and "G=" not in mapping.read_text()   # the problem's own dims
    assert model_main(["model", *inputs[:-1], str(mapping), "--ert", str(ert), "-o", str(tmp_path / "again")]) == 0
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


def _mesh16_inputs(tmp_path):
    pair = json.loads((default_corpus_path().parent / "mapper_bench" / "mesh16_mbv2_dw3x3.json").read_text())
    ert = tmp_path / "ert.yaml"
    ert.write_text(pair["timeloop_yaml"]["ert"])
    design = DESIGNS / "mapper-mesh16-depthwise"
    return [*(str(design / f) for f in ("arch.yaml", "prob.yaml", "mapper.yaml")), "--ert", str(ert)]


def test_the_time_limit_stops_a_huge_budget_inside_the_compiled_search(tmp_path):
    inputs = _mesh16_inputs(tmp_path)
    assert main(["mapper", *inputs, "--budget", "1000000000000", "--time-limit", "2", "-o", str(tmp_path)]) == 0
    stats = json.loads((tmp_path / "cosearch-mapper.stats.json").read_text())
    assert 0 < stats["mapper"]["evaluations"] < 10**9, stats["mapper"]


@pytest.mark.parametrize("args, words", [(["--budget", "abc"], ["--budget", "whole number", "'abc'"]),
                                         (["--budget", "0"], ["--budget", "[1, 2**62]"]),
                                         (["--time-limit", "nan"], ["--time-limit", "finite number of seconds > 0"]),
                                         (["--time-limit", "-3"], ["--time-limit", "> 0"])])
def test_bad_search_arguments_are_one_line(tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as info:
        main(["mapper", *_mesh16_inputs(tmp_path), *args])
    assert info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m mappings.timeloop mapper: error:"), lines
    assert all(word in lines[0] for word in words), lines
def test_mapper_writes_residual_factors_that_the_model_command_reads(tmp_path):
    """With --factors residual the mapper may write `D=e,r` loops (here on a 14 x 14 depthwise map through a buffer
    that cannot hold it whole); `model` on the file gives the mapper's figures."""
    case = Path(__file__).resolve().parents[2] / "accel_models" / "data" / "imperfect_IA-0000"
    arch, prob, ert = (str(case / f"{name}.yaml") for name in ("arch", "problem", "ert"))
    out = tmp_path / "residual"
    assert main(["mapper", arch, prob, "--ert", ert, "--budget", "2000", "--factors", "residual", "-o", str(out)]) == 0
    mapping = out / "cosearch-mapper.map.yaml"
    assert re.search(r"\b[RSPQCKNG]=\d+,\d+", mapping.read_text())
    stats = json.loads((out / "cosearch-mapper.stats.json").read_text())
    assert model_main(["model", arch, prob, str(mapping), "--ert", ert, "-o", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "cosearch-model.json").read_text())
    assert again["energy_pj"] == pytest.approx(stats["energy_pj"]) and again["cycles"] == stats["cycles"]
    assert main(["mapper", arch, prob, "--ert", ert, "--budget", "2000", "-o", str(tmp_path / "perfect")]) == 0
    assert not re.search(r"\b[RSPQCKNG]=\d+,\d+", (tmp_path / "perfect" / "cosearch-mapper.map.yaml").read_text())
