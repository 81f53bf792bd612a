"""What the benchmarks that time whole commands share: the tiny co-search's options and a command timed with its
children's CPU."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--trials", "1", "--population", "4", "--generations", "1", "--workers", "1"]
"""The tiny co-search's options (`run_cosearch.py`): one trial of a population of 4, one process."""


def timed_run(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float, str]:
    """(wall s, CPU s of the child: user + sys, its stdout + stderr) of a command run in `cwd`; a failure ends the
    benchmark with the command's output."""
    t0, c0 = time.monotonic(), os.times()
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall, c1 = time.monotonic() - t0, os.times()
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} ended with status {r.returncode}:\n{r.stdout}{r.stderr}")
    return wall, (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system), r.stdout + r.stderr
