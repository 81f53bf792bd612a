"""The default co-search run with a whole-network fusion mode against the same run layer by layer, side by side.

    python benchmarks/bench_fused_cosearch.py [--fusion resident] [--against none] [--time-limit 225s] [--seed 0]
                                              [-- RUN_COSEARCH_ARGS ...]

Starts `run_cosearch.py` twice at once on its defaults (extra arguments after `--`), each with one worker process
(one core each on a 2-core machine), the same seed and the same time limit: once with `--fusion FUSION`, once with
`--fusion AGAINST` (default none: layer by layer; `--fusion depth-first --against resident` sets the two whole-network
modes side by side). Then it re-scores each run's best design (its accelerator and subnet, from result.json and
subnet.json) as the chip runs it, in the fused mode, with one mapper cache of the final mapper's settings
(`cosearch.config.FINAL_MAPPER`) for both, so that the two designs are compared on the same footing.

Printed: each run's complete trials, its own best EDP, its design (PEs, global buffer) and its re-scored EDP.
Last line: `fused co-search: trials fused/none xA, best EDP (both scored fused) fused-search/none-search xB` (A: the
fused run's complete trials over the other run's; B < 1: the fused search's design runs the network better; with
`--against MODE` the line names MODE where it says none).
Needs a warm numba cache (`python -m cosearch warm-up`); the runs are left in --out.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosearch.config import FINAL_MAPPER  # noqa: E402
from cosearch.search import evaluate_network  # noqa: E402
from cosearch.search.space import Design  # noqa: E402
from mappings import MappingCache  # noqa: E402
from nets.spaces import to_network  # noqa: E402


def _start(fusion: str, args, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "run_cosearch.py"), "--fusion", fusion, "--seed", str(args.seed),
           "--time-limit", args.time_limit, "--workers", "1", "--out", str(out), "--start-over", "--quiet",
           *args.extra]
    log = (out.parent / f"{out.name}.log").open("w")
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _run_figures(out: Path) -> dict:
    """What a finished run reports: complete trials, its own best EDP, its design and subnet."""
    result = json.loads((out / "result.json").read_text())
    design = Design.from_dict(result["design"], name=out.name)
    config = json.loads((out / "subnet.json").read_text())
    space = result["settings"].get("space", "ofa-mbv3")
    return {"complete": result["study"]["counts"]["complete"], "edp_j_s": result["metrics"]["edp_j_s"],
            "accelerator": design.accelerator, "network": to_network(config, space=space),
            "design": design.describe()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fusion", default="resident", help="the fused mode to run (default resident)")
    ap.add_argument("--against", default="none", help="the mode of the run it is set against (default none)")
    ap.add_argument("--time-limit", default="225s", help="each run's --time-limit (default 225s, the default's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_fused_cosearch"), help="where the runs are kept")
    ap.add_argument("extra", nargs="*", help="further run_cosearch.py arguments (after --)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    if args.against == args.fusion:
        ap.error(f"--against: {args.against!r} is the run's own --fusion; accepted: another fusion mode")
    runs = {mode: _start(mode, args, args.out / mode) for mode in (args.fusion, args.against)}
    for mode, proc in runs.items():
        if proc.wait() != 0:
            raise SystemExit(f"the {mode} run ended with status {proc.returncode}: see {args.out / mode}.log")
    print(f"both runs done in {time.monotonic() - t0:.0f} s wall (load average {os.getloadavg()[0]:.1f})")
    figures = {mode: _run_figures(args.out / mode) for mode in runs}
    cache = MappingCache(FINAL_MAPPER)
    for mode, f in figures.items():
        cost = evaluate_network(f["network"], f["accelerator"], cache, "edp", fusion=args.fusion)
        f["fused_edp_j_s"] = cost.latency_s * cost.energy_j
        fused = cost.meta["fusion"]
        print(f"--fusion {mode}: {f['complete']} complete trials, its best EDP {f['edp_j_s']:.4g} J*s; design "
              f"{f['design']}; scored {args.fusion}: EDP {f['fused_edp_j_s']:.4g} J*s, {cost.latency_s * 1e3:.3f} ms, "
              f"DRAM {fused['dram_bytes'] / 1e6:.3g} MB per inference (layer by layer "
              f"{fused['layer_wise_dram_bytes'] / 1e6:.3g} MB)")
    other = args.against
    a = figures[args.fusion]["complete"] / max(1, figures[other]["complete"])
    b = figures[args.fusion]["fused_edp_j_s"] / figures[other]["fused_edp_j_s"]
    print(f"fused co-search: trials fused/{other} x{a:.2f}, best EDP (both scored fused) fused-search/{other}-search "
          f"x{b:.3f}")


if __name__ == "__main__":
    main()
