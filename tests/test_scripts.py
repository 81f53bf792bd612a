"""The benchmarks (benchmarks/) and the developers' tools (dev/): each script is in its folder's README table, and
each starts from the checkout's root (its imports and the helpers it shares with the other folder resolve) far
enough to print its usage."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.relative_to(ROOT).as_posix() for folder in ("benchmarks", "dev")
                 for p in (ROOT / folder).glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("folder", ["benchmarks", "dev"])
def test_every_script_is_in_its_folders_readme(folder):
    table = (ROOT / folder / "README.md").read_text()
    for script in (ROOT / folder).glob("*.py"):
        if not script.name.startswith("_"):
            assert f"`{script.name}`" in table, f"{folder}/README.md does not list {script.name}"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_prints_its_usage(script):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("usage:"), run.stdout[:500]
