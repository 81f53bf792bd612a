"""Transformers in the co-search: the elastic spaces with their labelled accuracy estimates, zoo transformers as
fixed networks, CNNs and transformers mixed in --networks, the element-wise work in the report."""
import json

import pytest

from _cosearch_cli import TINY, run_cli, study_trials
from cosearch import make_settings
from cosearch.config import UsageError, parse_network


def test_transformer_names_and_configs_parse():
    assert parse_network("vit_b16").build().macs == parse_network("ViT-B16").build().macs
    assert parse_network("gpt2_decode").build().meta["decode"]
    config = {"d": 12, "e": 384, "h": [6] * 14, "m": [4] * 14}
    spec = parse_network(json.dumps(config), "vit-elastic")
    assert spec.kind == "subnet" and spec.build().macs > 4e9
    with pytest.raises(UsageError, match=r"'e' = 400 is not accepted; accepted values for 'e': 320, 384, 448"):
        parse_network(json.dumps({**config, "e": 400}), "vit-elastic")


def test_each_space_gets_its_own_default_floor():
    assert make_settings("area=5mm2", space="vit-elastic").budget.accuracy == 0.8
    decoder = make_settings("area=5mm2", space="decoder-elastic-decode")
    assert decoder.space == "gpt_elastic_decode" and decoder.budget.accuracy == pytest.approx(0.04783)
    assert make_settings("area=5mm2", space="decoder-elastic", accuracy=0.05).budget.accuracy == 0.05


@pytest.mark.slow
def test_vit_space_run_labels_the_estimate_and_lists_elementwise_work(tmp_path):
    out = tmp_path / "out"
    proc = run_cli(["--budget", "area=5mm2", "--space", "vit-elastic", "--out", str(out), "--quiet", "--workers", "1",
                    *TINY], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ESTIMATE" in proc.stdout
    doc = json.loads((out / "result.json").read_text())
    assert doc["accuracy_source"]["kind"] == "estimate" and "ESTIMATE" in doc["accuracy_source"]["label"]
    assert set(doc["subnet"]) == {"d", "e", "h", "m"} and doc["metrics"]["accuracy"] >= 0.8
    assert {lay["kind"] for lay in doc["layers"]} == {"conv", "fc", "matmul"}
    scores = next(lay for lay in doc["layers"] if lay["name"].endswith("attn.scores"))
    assert set(scores["elementwise"]["elements"]) == {"scale", "softmax"} and scores["elementwise"]["ops_estimate"] > 0
    md = (out / "report.md").read_text()
    assert "ESTIMATE" in md and "## Element-wise work (not in cycles or energy)" in md and "softmax" in md
    labels = {t.user_attrs.get("accuracy_source") for t in study_trials(out / "cosearch.db") if t.state.name == "COMPLETE"}
    assert labels == {doc["accuracy_source"]["label"]}  # the dashboard shows what the accuracy is


@pytest.mark.slow
def test_cnn_and_transformer_mixed(tmp_path):
    out = tmp_path / "out"
    proc = run_cli(["--budget", "area=5mm2", "--networks", "mobilenet_v2,gpt2_decode", "--out", str(out), "--quiet",
                    "--workers", "1", *TINY], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert set(doc["per_network"]) == {"mobilenet_v2", "gpt2_decode"}
    for figures in doc["per_network"].values():
        assert figures["cosearch"]["edp_j_s"] > 0 and any(k.startswith("nvdla") for k in figures)
