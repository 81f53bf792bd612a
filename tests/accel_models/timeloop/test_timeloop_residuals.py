"""Residual factors in Timeloop mapping files: `D=e,r` read and written, Timeloop's refusals as one line."""
import json
from pathlib import Path

import pytest

from accel_models.reference import evaluate
from accel_models.timeloop import load_timeloop, mapping_from_timeloop, mapping_to_timeloop_yaml
from accel_models.timeloop.__main__ import main

CASE = Path(__file__).resolve().parents[1] / "data" / "imperfect_IA-0000"
FILES = [str(CASE / f"{name}.yaml") for name in ("arch", "problem", "mapping", "ert")]
SPATIAL = [str(CASE.parent / "imperfect_IB-0004" / f"{name}.yaml") for name in ("arch", "problem", "mapping", "ert")]


def test_model_reads_residuals_and_gives_timeloops_figures(tmp_path):
    """Timeloop's figures of IA-0000 (Buffer P=10,4 Q=13,1): 730,591 cycles, 101,144,749.26 pJ (its temporal
    extrapolation does not change this case)."""
    assert main(["model", *FILES, "-o", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "cosearch-model.json").read_text())
    assert report["cycles"] == 730591
    assert report["energy_pj"] == pytest.approx(101144749.26408, rel=1e-9)


@pytest.mark.slow
def test_model_gives_the_real_counts_of_the_spatial_class_and_says_so(tmp_path, capsys):
    """IB-0004 (spatial residuals on C and K): `model` prints the walk's cycles, energy and MACs, the real work
    (Timeloop reports 5,258 cycles and 49,875 MACs, its approximation), per level energy included, and a note."""
    assert main(["model", *SPATIAL, "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "cosearch-model.json").read_text())
    layer, accelerator, arrays = load_timeloop(*SPATIAL)
    walk = evaluate(layer, accelerator, arrays)
    assert report["unequal_instances"] and "note: instances under a fan-out do unequal work" in out
    assert (report["cycles"], report["macs"]) == (walk.cycles, walk.macs) == (5172, 51023)
    assert report["energy_pj"] == pytest.approx(walk.energy_pj, rel=1e-12)
    for l, name in enumerate(accelerator.level_names):
        assert report["levels"][name]["energy_pj"] == pytest.approx(walk.level_energy_pj[l], rel=1e-12), name


def test_residuals_round_trip_through_the_writer():
    layer, accelerator, arrays = load_timeloop(*FILES)
    assert not arrays.is_perfect()[0]
    text = mapping_to_timeloop_yaml(arrays, accelerator, layer)
    assert "P=10,4" in text and "Q=13,1" in text
    again = mapping_from_timeloop(text, accelerator, layer)
    for field in arrays._fields:
        assert (getattr(again, field) == getattr(arrays, field)).all(), field


@pytest.mark.parametrize("old, new, message", [
    ("P=10,4", "P=10,5", "the factors of P cover (F3: acc * end + residual - 1, outermost first) 15"),
    ("P=10,4", "P=4,10", "residual end outside 1..4"),
])
def test_bad_residuals_are_one_line_errors(tmp_path, capsys, old, new, message):
    bad = tmp_path / "mapping.yaml"
    bad.write_text((CASE / "mapping.yaml").read_text().replace(old, new))
    files = [FILES[0], FILES[1], str(bad), FILES[3]]
    assert main(["model", *files, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
