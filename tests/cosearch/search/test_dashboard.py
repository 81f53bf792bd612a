"""optuna-dashboard on a loopback port serves a run's study and its trials over HTTP."""
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


def _dashboard_command() -> list[str]:
    exe = shutil.which("optuna-dashboard") or str(Path(sys.executable).parent / "optuna-dashboard")
    if not Path(exe).exists():
        pytest.fail("optuna-dashboard is not installed (it is a dependency of cosearch)")
    return [exe]


@pytest.mark.slow
def test_dashboard_serves_the_study(finished_run, tmp_path):
    result = json.loads((finished_run / "result.json").read_text())
    port = _free_port()
    log = (tmp_path / "dashboard.log").open("w")
    server = subprocess.Popen([*_dashboard_command(), f"sqlite:///{finished_run / 'cosearch.db'}", "--host",
                               "127.0.0.1", "--port", str(port), "--server", "wsgiref", "--quiet"],
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        studies = None
        while time.time() < deadline:
            assert server.poll() is None, (tmp_path / "dashboard.log").read_text()
            try:
                studies = _get(f"{base}/api/studies", timeout=2)["study_summaries"]
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert studies is not None, "the dashboard did not answer within 60 s"
        (study,) = [s for s in studies if s["study_name"] == result["study"]["name"]]
        detail = _get(f"{base}/api/studies/{study['study_id']}", timeout=10)
        trials = detail["trials"]
        assert len(trials) == sum(result["study"]["counts"].values())
        complete = [t for t in trials if t["state"] == "Complete"]
        assert len(complete) == result["study"]["counts"]["complete"]
        attrs = {a["key"]: a["value"] for a in complete[0]["user_attrs"]}
        for key in ("design", "design_text", "edp_j_s", "latency_ms", "energy_mj", "subnet", "accuracy"):
            assert key in attrs
        assert {p["name"] for p in complete[0]["params"]} >= {"pes", "array_2d", "glb_size"}
        assert detail["objective_names"] == ["EDP (J*s)"]  # not "Objective 0"
        sortable = {a["key"]: a["sortable"] for a in detail["union_user_attrs"]}
        for key in ("design.num_pes", "design.glb_kib", "design.dram_bytes_per_cycle", "design.word_bits",
                    "design.rf_weights_words"):  # the decoded design, with units, as sortable table columns
            assert sortable.get(key) is True, key
        (best,) = [t for t in complete if t["number"] == result["study"]["best_trial"]]
        best_attrs = {a["key"]: a["value"] for a in best["user_attrs"]}
        polish = result["polish"]
        # the best trial's design, or the one the final phase's polish started from when its design won
        origin = polish["from_design"] if polish and polish["kept"] else result["design"]
        assert best_attrs["design.pe_array"] == "x".join(map(str, origin["pe_array"]))
        assert float(best_attrs["design.num_pes"]) == origin["num_pes"]
        if polish:  # the polish is a user attribute of the study, where the dashboard shows it (its text cut at ~1 kB)
            shown = {a["key"]: a["value"] for a in detail["user_attrs"]}
            assert shown["cosearch.polish"].startswith(f'{{"from_trial": {result["study"]["best_trial"]},')
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()
