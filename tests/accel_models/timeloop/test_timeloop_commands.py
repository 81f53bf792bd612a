"""`python -m accel_models.timeloop model|check` on the corpus designs written in users' formats
(tests/data/timeloop_designs), against the corpus's Timeloop figures; `mapper` names its command in `mappings`.
Timeloop's own exercises, other people's files kept beside the checkout, are checked by `.ci/run` with the same
commands."""
import json
import math
from pathlib import Path

import pytest

from accel_models.timeloop import check_manifest, default_corpus_path
from accel_models.timeloop.__main__ import main
from accel_models.timeloop.corpus import read_raw_cases

DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs"


@pytest.mark.slow
def test_check_evaluates_every_design_and_names_the_mapper_comparison(capsys):
    cases = DESIGNS / "cases.json"
    assert main(["check", str(cases)]) == 0
    report = capsys.readouterr().out.strip().splitlines()
    results, _ = check_manifest(cases)
    assert report[-1] == f"agree: {len(results)}/{len(results)} cases" and len(results) >= 15
    assert report[-2] == ("mapper cases: Timeloop's mappings evaluated; the mapper comparison is "
                          f"`python -m mappings.timeloop check {cases}`")
    assert sum(r.tool == "mapper" for r in results) == 2 and all(r.mapper_ok is None for r in results)
    assert not any(r.older_build for r in results) and "mapper at or below" not in "\n".join(report)


def test_mapper_command_names_its_package(tmp_path, capsys):
    assert main(["mapper", str(tmp_path / "x.yaml"), "--budget", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("python -m accel_models.timeloop mapper: the mapper command is "
                   "`python -m mappings.timeloop mapper FILE...` (the same arguments)")


def test_model_command_writes_timeloops_figures(tmp_path, capsys):
    """Eyeriss as timeloopfe writes it (corpus case C-0004): the report's figures are Timeloop's."""
    raw = next(r for r in read_raw_cases(default_corpus_path()) if r["id"] == "C-0004")
    (tmp_path / "ert.yaml").write_text(raw["timeloop_yaml"]["ert"])
    design = DESIGNS / "c-eyeriss-conv"
    files = [str(design / f) for f in ("arch.yaml", "prob.yaml", "map.yaml")]
    assert main(["model", *files, "--ert", str(tmp_path / "ert.yaml"), "-o", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "cosearch-model.json").read_text())
    timeloop = raw["timeloop_no_temporal_extrapolation"] or raw["timeloop"]
    assert report["cycles"] == timeloop["cycles"] == 8604
    assert report["energy_pj"] == pytest.approx(timeloop["energy_pJ"], rel=1e-6)
    compared = 0
    for level, tensors in timeloop["per_level"].items():
        instances = report["levels"][level]["instances_used"]
        for tensor, counts in tensors.items():
            for key in ("reads", "fills", "updates"):
                assert report["levels"][level]["tensors"][tensor][key] == counts[key] * instances, (level, tensor)
                compared += 1
    assert compared == 24                     # DRAM 3 tensors, the GLB 2, each scratchpad 1; 3 counts each
    out = capsys.readouterr().out
    assert "pJ/MAC" in out and "shared_glb" in out


def test_model_command_with_the_hardware_timing(tmp_path, capsys):
    """`--timing hardware`: the report's cycles are the hardware model's, its counts and energy are Timeloop's, and
    the "timing" entry keeps Timeloop's cycles and the model's terms; without the flag the report has no entry."""
    raw = next(r for r in read_raw_cases(default_corpus_path()) if r["id"] == "C-0004")
    (tmp_path / "ert.yaml").write_text(raw["timeloop_yaml"]["ert"])
    design = DESIGNS / "c-eyeriss-conv"
    files = [str(design / f) for f in ("arch.yaml", "prob.yaml", "map.yaml")]
    args = [*files, "--ert", str(tmp_path / "ert.yaml")]
    assert main(["model", *args, "-o", str(tmp_path / "tl")]) == 0
    assert main(["model", *args, "-o", str(tmp_path / "hw"), "--timing", "hardware"]) == 0
    timeloop = json.loads((tmp_path / "tl" / "cosearch-model.json").read_text())
    hardware = json.loads((tmp_path / "hw" / "cosearch-model.json").read_text())
    assert "timing" not in timeloop
    entry = hardware.pop("timing")
    assert entry["model"] == "hardware" and entry["timeloop_cycles"] == timeloop["cycles"] == 8604
    terms = entry["terms_cycles"]
    assert hardware["cycles"] == math.ceil(terms["startup"] + max(terms["steps"], terms["loops"] + max(
        terms["compute"], terms["transfer"])))
    assert hardware["cycles"] != timeloop["cycles"]
    assert hardware["utilization"] == pytest.approx(timeloop["utilization"] * 8604 / hardware["cycles"])
    assert {k: v for k, v in hardware.items() if k not in ("cycles", "utilization")} == \
        {k: v for k, v in timeloop.items() if k not in ("cycles", "utilization")}
    assert "timing hardware: startup" in capsys.readouterr().out
