"""`python -m accel_models.timeloop model|mapper|check` on the corpus designs written in users' formats
(tests/data/timeloop_designs), against the corpus's Timeloop figures. Timeloop's own exercises, other people's
files kept beside the checkout, are checked by `.ci/run` with the same `check` command."""
import json
from pathlib import Path

import pytest

from accel_models.timeloop import check_manifest, default_corpus_path
from accel_models.timeloop.corpus import read_raw_cases
from accel_models.timeloop.__main__ import main

DESIGNS = Path(__file__).resolve().parents[2] / "data" / "timeloop_designs"


def _mapper(spec):
    from accel_models import evaluate_batch
    from accel_models.timeloop.__main__ import run_mapper
    r = run_mapper(spec, 20_000, 0)
    res = evaluate_batch(spec.layer, spec.accelerator, r.arrays)
    return int(res.cycles[0]), float(res.energy_pj[0])


def test_designs_in_users_formats_agree_with_the_corpus():
    if not (DESIGNS / "cases.json").is_file():
        pytest.fail(f"the designs manifest is missing: {DESIGNS / 'cases.json'}")
    results, report = check_manifest(DESIGNS / "cases.json", _mapper)
    assert report.splitlines()[-1] == f"agree: {len(results)}/{len(results)} cases", report
    assert len(results) >= 15 and not any(r.older_build for r in results)
    assert sum(r.mapper_ok is True for r in results) == 2


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
    timeloop_best = min(r["best"]["edp_pJ_cycle"] for r in pair["mapper_runs"].values())
    assert stats["energy_pj"] * stats["cycles"] <= timeloop_best
    mapping = tmp_path / "cosearch-mapper.map.yaml"
    assert "D=" in mapping.read_text() and "G=" not in mapping.read_text()   # the problem's own dims
    assert main(["model", *inputs[:-1], str(mapping), "--ert", str(ert), "-o", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "cosearch-model.json").read_text())
    assert again["energy_pj"] == pytest.approx(stats["energy_pj"]) and again["cycles"] == stats["cycles"]
