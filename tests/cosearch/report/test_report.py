"""The report of a finished run: result.json reproduces it, report.md summarises it, PNGs and Timeloop YAML exist."""
import json

import yaml


def test_result_json(finished_run):
    doc = json.loads((finished_run / "result.json").read_text())
    assert doc["format"] == "cosearch.result/1"
    for key in ("python", "numpy", "numba", "optuna", "cosearch"):
        assert doc["versions"][key]
    assert doc["seed"] == 0 and doc["budget"]["area_mm2"] == 3.0 and doc["budget"]["accuracy"] == 0.8
    assert doc["design"]["area_mm2"] <= 3.0 and doc["design"]["pe_array"]
    assert set(doc["subnet"]) == {"ks", "e", "d", "r"}
    assert doc["accuracy_source"]["kind"] == "ofa_predictor"
    assert doc["metrics"]["accuracy"] >= 0.8 and doc["metrics"]["edp_j_s"] > 0
    layers = doc["layers"]
    assert len(layers) == doc["network"]["distinct_layers"] and all(lay["mapping_arrays"] for lay in layers)
    assert sum(lay["cycles"] * lay["count"] for lay in layers) == doc["metrics"]["cycles"]
    fitting = [p for p in doc["presets"] if p["fits"]]
    assert fitting and all(p["area_mm2"] <= 3.0 and p["edp_ratio"] > 0 for p in fitting)
    assert all(not p["fits"] and p["metrics"] is None for p in doc["presets"] if p["area_mm2"] > 3.0)
    assert "run_cosearch.py" in doc["command"] and "--budget" in doc["command"]


def test_files(finished_run):
    doc = json.loads((finished_run / "result.json").read_text())
    for name in ("report.md", "roofline.png", "best_edp_vs_trial.png", "pareto_edp_accuracy.png"):
        assert (finished_run / name).stat().st_size > 0, name
        assert name in doc["files"]
    for png in finished_run.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mappings = sorted((finished_run / "timeloop").glob("*.mapping.yaml"))
    assert len(mappings) == doc["network"]["distinct_layers"]
    first = yaml.safe_load(mappings[0].read_text())
    assert {e["target"] for e in first["mapping"]} >= {"DRAM", "GLB"}
    assert yaml.safe_load((finished_run / "timeloop" / "arch.yaml").read_text())["architecture"]
    md = (finished_run / "report.md").read_text()
    assert "| co-searched |" in md and "EDP ratio" in md and "Accuracy source" in md
