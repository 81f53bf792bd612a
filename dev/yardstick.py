"""How fast this machine is against the one the standing performance targets were set on, measured with the tree
they were set against.

    python dev/yardstick.py [--rev 69568d2] [--skip MEASURE[,MEASURE]]

The project's standing performance targets (a tiny co-search on an empty numba cache, the first `best_mapping` on one,
evaluations per second on perfect mappings, a fresh clone's first default run) were written beside figures of one
tree, 69568d2, taken on one 2-core machine. This script takes that tree from the repository's history (`git
archive`, into a temporary folder with its own empty numba cache), runs the same four measurements here, one after
the other, and prints each against the figure recorded then: the ratio is this machine's factor for that kind of
work. The targets, divided by the factor, are what the same code would give here; a figure of today's tree is
then set against the scaled target rather than the raw one.

Measures (`--skip` leaves some out; `run` takes five minutes, the others one to three):
- `tiny`: `run_cosearch.py --trials 1 --population 4 --generations 1 --workers 1 --quiet`, empty cache, CPU of the
  process and its children;
- `best-mapping`: `mappings.best_mapping` of the ResNet-50 3x3 layer on `eyeriss` (256 evaluations) in a new process,
  empty cache, CPU;
- `rate`: the tree's own `benchmarks/bench_cost_model.py`, its last line (evaluations/s/core, CPU);
- `run`: `run_cosearch.py --out DIR --quiet` on an empty cache (a fresh clone's first run), complete trials.

Last line: `machine factor: X (tiny a, best-mapping b, rate c, run d); targets here: ...`, the factor being the
geometric mean of the measured ratios (> 1: this machine is slower).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the benchmarks' shared helpers
from _commands import TINY, archived_tree, timed_run

REV = "69568d2"
"""The tree the targets were set against."""
RECORDED = {"tiny": 159.0, "best-mapping": 98.0, "rate": 683_000.0, "run": 124.0}
"""69568d2's figures on the machine the targets were set on, as recorded with them (2 cores; the tiny co-search
and the first `best_mapping` in s, the rate in evaluations/s/core, the first run's complete trials in ~300 s)."""
TARGETS = {"tiny co-search on an empty cache (s)": ("tiny", 60.0),
           "first best_mapping on an empty cache (s)": ("best-mapping", 30.0),
           "first trial of a cold default run (s)": ("tiny", 30.0),
           "perfect mappings (evaluations/s/core)": ("rate", 1_000_000.0),
           "temporal-class mappings (evaluations/s/core)": ("rate", 200_000.0),
           "default run, warm (complete trials)": ("run", 250.0),
           "a fresh clone's first run (complete trials)": ("run", 200.0)}
"""The standing targets, each with the measure whose factor scales it: compile times by a
cold compile's, rates and trial counts by a rate's or a run's."""
LOWER_IS_BETTER = {"tiny", "best-mapping"}
_BEST_MAPPING = """
import sys
sys.path.insert(0, {root!r})
from accel_models import get_preset
from mappings import best_mapping
from nets import Layer
best_mapping(Layer.conv(64, 64, 3, 56, name="conv3x3"), get_preset("eyeriss"), budget_evals=256, seed=0)
"""


def _measure(name: str, tree: Path, scratch: Path) -> float:
    """One measure of `tree` on an empty numba cache of its own; prints what it ran and took."""
    env = {**os.environ, "NUMBA_CACHE_DIR": tempfile.mkdtemp(dir=scratch, prefix=f"numba-{name}-")}
    load = os.getloadavg()[0]
    if name == "tiny":
        wall, cpu, _ = timed_run([sys.executable, "run_cosearch.py", *TINY, "--quiet", "--out", str(scratch / "tiny")],
                                 env, tree)
        value, said = cpu, f"{cpu:.1f} s CPU, {wall:.1f} s wall"
    elif name == "best-mapping":
        wall, cpu, _ = timed_run([sys.executable, "-c", _BEST_MAPPING.format(root=str(tree))], env, scratch)
        value, said = cpu, f"{cpu:.1f} s CPU, {wall:.1f} s wall"
    elif name == "rate":
        _, _, out = timed_run([sys.executable, "benchmarks/bench_cost_model.py"], env, tree)
        found = re.search(r"^min evaluations/s/core: ([\d,]+)$", out, re.MULTILINE)
        if found is None:
            raise SystemExit(f"yardstick: no rate in bench_cost_model.py's output: {out.strip()[-500:]}")
        value = float(found.group(1).replace(",", ""))
        said = f"{value:,.0f} evaluations/s/core"
    else:
        wall, _, out = timed_run([sys.executable, "run_cosearch.py", "--out", str(scratch / "run"), "--quiet"], env,
                                 tree)
        found = re.search(r"(\d+) complete, \d+ rejected", out)
        if found is None:
            raise SystemExit(f"yardstick: no trial count in the run's output: {out.strip()[-500:]}")
        value, said = float(found.group(1)), f"{found.group(1)} complete trials, {wall:.0f} s wall"
    print(f"{name}: {said} (recorded {RECORDED[name]:g}; load {load:.2f} -> {os.getloadavg()[0]:.2f})", flush=True)
    return value


def factor(name: str, value: float) -> float:
    """This machine's factor for a measure (> 1: slower than the one the targets were set on)."""
    return value / RECORDED[name] if name in LOWER_IS_BETTER else RECORDED[name] / value


def scaled_target(target: float, name: str, machine: float) -> float:
    """A target as the same code would meet it here: a time multiplied by the factor, a rate or count divided."""
    return target * machine if name in LOWER_IS_BETTER else target / machine


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default=REV, help=f"the tree to measure (default {REV})")
    ap.add_argument("--skip", default="", help="measures to leave out, comma-separated: " + ", ".join(RECORDED))
    args = ap.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    unknown = skip - set(RECORDED)
    if unknown:
        print(f"yardstick: --skip: unknown {', '.join(sorted(unknown))}; accepted: {', '.join(RECORDED)}",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="yardstick-") as scratch_dir:
        scratch = Path(scratch_dir)
        tree = archived_tree(args.rev, scratch)
        print(f"{args.rev} in {tree}; {os.cpu_count()} cores", flush=True)
        factors = {name: factor(name, _measure(name, tree, scratch)) for name in RECORDED if name not in skip}
    if not factors:
        print("yardstick: every measure skipped")
        return 2
    machine = math.exp(sum(math.log(f) for f in factors.values()) / len(factors))
    targets = []
    for label, (name, target) in TARGETS.items():
        scale = factors.get(name, machine)
        targets.append(f"{label} {scaled_target(target, name, scale):,.0f}")
    print(f"machine factor: {machine:.2f} (" + ", ".join(f"{n} {f:.2f}" for n, f in factors.items())
          + "); targets here: " + "; ".join(targets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
