"""Residual factors in Timeloop mapping files: `D=e,r` read and written, Timeloop's refusals as one line."""
import json
from pathlib import Path

import pytest

from accel_models.timeloop import load_timeloop, mapping_from_timeloop, mapping_to_timeloop_yaml
from accel_models.timeloop.__main__ import main

CASE = Path(__file__).resolve().parents[1] / "data" / "imperfect_IA-0000"
FILES = [str(CASE / f"{name}.yaml") for name in ("arch", "problem", "mapping", "ert")]


def test_model_reads_residuals_and_gives_timeloops_figures(tmp_path):
    """Timeloop's figures of IA-0000 (Buffer P=10,4 Q=13,1): 730,591 cycles, 101,144,749.26 pJ (its temporal
    extrapolation does not change this case)."""
    assert main(["model", *FILES, "-o", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "cosearch-model.json").read_text())
    assert report["cycles"] == 730591
    assert report["energy_pj"] == pytest.approx(101144749.26408, rel=1e-9)


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
