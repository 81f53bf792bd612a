"""The default co-search under fixed wall-clock budgets: trials, trials/min, best EDP, ratio to the presets.

    python benchmarks/bench_cosearch.py [--minutes 1,3,10] [--seeds N] [--out DIR] [-- RUN_COSEARCH_ARGS ...]

For each budget, `--seeds` `run_cosearch.py` runs (`--seed 0..N-1`, default one run) on its defaults (every core),
with `--time-limit` set to the budget and `--trials` high enough that the time limit ends the search (extra
arguments after `--` are passed on). Printed per run: complete trials, trials per minute of search, the best
design's EDP after the final phase (its polish included: `cosearch.search.polish`), the best fitting preset's EDP
divided by it, the wall time including the final phase, and what the polish did (whether its design won, its EDP
over the trial design's with the final mapper, designs scored, seconds); with several seeds, the median best EDP per
budget. The outer search's result varies from run to run by about 10% (measured: 5.85e-7 and 6.42e-7 J*s for two
3-minute runs of the same command, before the polish), as much as the criterion's margin, so one run per budget
decides little: the headline compares the medians over the seeds. The anytime curve of the longest budget's first
run (best EDP of the trials completed so far, as the search phase measured it, against wall time from the command's
start) is drawn to DIR/anytime.png, and read at the shorter budget: the same run's best then against its best at the
end. Compile time is not excluded: warm the numba cache first (any earlier run does) to measure the search, not the
compiler. Last line: `co-search: best EDP at 3 min is R x the best at 10 min (median of N seeds; within
10%: yes|no)`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNBOUNDED_TRIALS = 1_000_000


def _run(minutes: float, seed: int, out: Path, extra: list[str]) -> tuple[dict, float, dt.datetime]:
    """(result.json, wall seconds, local start time) of one run with `--time-limit minutes` and `--seed seed`."""
    cmd = [sys.executable, str(ROOT / "run_cosearch.py"), "--time-limit", f"{minutes:g}m", "--trials",
           str(UNBOUNDED_TRIALS), "--seed", str(seed), "--out", str(out), "--start-over", "--quiet", *extra]
    started = dt.datetime.now()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run_cosearch.py failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
    return json.loads((out / "result.json").read_text()), wall, started


def _anytime(result: dict, started: dt.datetime) -> list[tuple[float, float]]:
    """(seconds since the command started, best search-phase EDP so far) at each improving trial."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=result["study"]["name"], storage=_storage_url(result["study"]["storage"]))
    done = sorted((t.datetime_complete, t.value) for t in study.get_trials(deepcopy=False)
                  if t.state.name == "COMPLETE")
    points, best = [], float("inf")
    for when, value in done:
        if value < best:
            best = value
            points.append(((when - started).total_seconds(), best))
    return points


def _polish_text(result: dict) -> str:
    """What the final phase's polish did: its design won (with how many moves) or not, and its wall time."""
    polish = result.get("polish")
    if not polish:
        return "-"
    kept = f"won, {len(polish['moves'])} moves" if polish["kept"] else "trial design kept"
    gain = ""
    if polish.get("final_value"):
        before, after = polish["final_value"]
        gain = f", {after / before:.3f}x"
    return f"{kept}{gain}, {polish['evaluations']} designs in {polish['wall_s']:.0f} s"


def _storage_url(storage: str) -> str:
    return storage if "://" in storage else f"sqlite:///{storage}"


def _plot(points: list[tuple[float, float]], marks: dict[float, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [p[0] / 60 for p in points] + [max(marks)]
    ys = [p[1] for p in points] + [points[-1][1]]
    ax.step(xs, ys, where="post", label="best trial so far, seed 0 (search-phase EDP)")
    ax.scatter(list(marks), list(marks.values()), color="C3", zorder=3,
               label="after the final phase (median over the seeds)")
    ax.set_xlabel("wall time (min)")
    ax.set_ylabel("network EDP (J*s)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", default="1,3,10", help="wall-clock budgets in minutes (default 1,3,10)")
    ap.add_argument("--seeds", type=int, default=1, help="runs per budget, --seed 0..N-1 (default 1)")
    ap.add_argument("--out", type=Path, default=Path("bench_cosearch_out"), help="folder for the runs and the plot")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error(f"--seeds must be an integer >= 1, got {args.seeds}")
    if "--seed" in extra:
        ap.error("--seed is set per run by --seeds; leave it out of the arguments after --")
    try:
        budgets = sorted(float(m) for m in args.minutes.split(",") if m.strip())
    except ValueError:
        ap.error(f"--minutes must be numbers separated by commas, got {args.minutes!r}")
    if not budgets or min(budgets) <= 0:
        ap.error(f"--minutes must be positive numbers separated by commas, got {args.minutes!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.seeds} seed(s) per budget; "
          f"extra arguments: {' '.join(extra) or '-'}")
    print(f"{'budget':>7s} {'seed':>4s} {'trials':>7s} {'trials/min':>10s} {'best EDP J*s':>13s} {'preset/best':>11s} "
          f"{'wall s':>7s}  polish")
    best_at: dict[float, float] = {}
    longest = None
    for minutes in budgets:
        bests = []
        for seed in range(args.seeds):
            out = args.out / f"min{minutes:g}" / f"seed{seed}"
            result, wall, started = _run(minutes, seed, out, extra)
            search_s = result["timings_s"]["search"]
            complete = result["study"]["counts"]["complete"]
            best = result["metrics"]["edp_j_s"]
            fitting = [p["metrics"]["edp_j_s"] for p in result["presets"] if p["fits"] and p["metrics"]]
            ratio = f"{min(fitting) / best:.2f}x" if fitting else "-"
            bests.append(best)
            print(f"{minutes:>5g} m {seed:>4d} {complete:>7d} {complete / (search_s / 60):>10.1f} {best:>13.4g} "
                  f"{ratio:>11s} {wall:>7.0f}  {_polish_text(result)}", flush=True)
            if seed == 0:
                longest = (result, started)
        best_at[minutes] = float(statistics.median(bests))
        if args.seeds > 1:
            print(f"{minutes:>5g} m {'med':>4s} {'':>7s} {'':>10s} {best_at[minutes]:>13.4g}", flush=True)
    short, long = (3, 10) if 3 in best_at and 10 in best_at else (budgets[0], budgets[-1])
    points = _anytime(*longest)
    if points:
        _plot(points, best_at, args.out / "anytime.png")
        print(f"anytime plot: {args.out / 'anytime.png'}")
        at_short = [v for t, v in points if t <= short * 60]
        if at_short and short < long:
            print(f"the {long:g}-min run (seed 0) itself: its search-phase best at {short:g} min is "
                  f"{at_short[-1] / points[-1][1]:.3f}x its best at the end")
    ratio = best_at[short] / best_at[long]
    what = f"median of {args.seeds} seeds" if args.seeds > 1 else "one run each"
    print(f"co-search: best EDP at {short:g} min is {ratio:.3f}x the best at {long:g} min "
          f"({what}; within 10%: {'yes' if ratio <= 1.10 else 'no'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
