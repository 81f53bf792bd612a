"""The report of a finished run: result.json reproduces it, report.md summarises it, PNGs and Timeloop YAML exist."""
import json

import pytest
import yaml


@pytest.mark.slow
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


@pytest.mark.slow
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
    # the accuracy of the table is the accuracy model's estimate, and says so
    assert "| est. accuracy |" in md and "an estimate, not a measured accuracy" in md


@pytest.mark.slow
def test_report_names_what_dominates(finished_run):
    doc = json.loads((finished_run / "result.json").read_text())
    md = (finished_run / "report.md").read_text()
    for heading in ("## Where the time and energy go", "### Layers that dominate latency",
                    "### Layers that dominate energy", "### By layer kind",
                    "### Energy by memory level and tensor (whole network)"):
        assert heading in md, heading
    layers = doc["layers"]
    assert [lay["index"] for lay in layers] == list(range(len(layers)))
    assert sum(lay["latency_share"] for lay in layers) == pytest.approx(1)
    assert all(lay["dram_bytes"] > 0 and lay["bound"] in ("compute", "memory", "utilization") for lay in layers)
    top = doc["analysis"]["top_latency"]
    shares = [layers[i]["latency_share"] for i in top]
    assert shares == sorted(shares, reverse=True) and shares[0] == max(lay["latency_share"] for lay in layers)
    first = layers[top[0]]
    assert f"| {first['index']} | {first['name']} | {first['kind']} |" in md  # the top table, same numbering
    energy = doc["analysis"]["energy_pj_by_level_tensor"]
    total_pj = sum(sum(t.values()) for t in energy.values()) + doc["analysis"]["mac_energy_pj"]
    assert total_pj == pytest.approx(doc["metrics"]["energy_mj"] * 1e9, rel=1e-9)
    assert "bound" in doc["analysis"]["bound_definition"] or "ceiling" in doc["analysis"]["bound_definition"]
    assert doc["design"]["area_overhead_note"] in md and "% of the area)" in md


@pytest.mark.slow
def test_one_numbering_from_0(finished_run):
    """The per-layer table, the top tables and the Timeloop files number a layer the same way, from 0."""
    doc = json.loads((finished_run / "result.json").read_text())
    md = (finished_run / "report.md").read_text()
    for lay in doc["layers"]:
        stem = f"{lay['index']:02d}_"
        assert any(f.name.startswith(stem) for f in (finished_run / "timeloop").glob("*.problem.yaml"))
        assert f"| {lay['index']} | {lay['name']} | {lay['count']} |" in md


@pytest.mark.slow
def test_presets_left_out_at_their_node_are_flagged(finished_run):
    """The 3 mm2 run leaves ShiDianNao out at 65 nm (4.5 mm2); at the design's 45 nm it measures 2.3 mm2."""
    doc = json.loads((finished_run / "result.json").read_text())
    assert any(c.startswith("shidiannao is left out") for c in doc["comparison_caveats"])
    assert "### Comparing like with like" in (finished_run / "report.md").read_text()
