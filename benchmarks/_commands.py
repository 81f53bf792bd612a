"""What the benchmarks that time whole commands share: the tiny co-search's options, a command timed with its
children's CPU, and an earlier tree of the repository unpacked to run beside this one."""
from __future__ import annotations

import os
import subprocess
import sys
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


def archived_tree(rev: str, dest: Path) -> Path:
    """`rev`'s files (`git archive`) unpacked into `dest`/tree, which is returned; a revision git does not know ends
    the benchmark with status 2 and git's one-line message."""
    tree = dest / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True)
    if archive.returncode != 0:
        print(f"{Path(sys.argv[0]).name}: git archive {rev}: {archive.stderr.decode().strip()}", file=sys.stderr)
        raise SystemExit(2)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree
