"""The network search strategies of the fixed-device mode at one evaluation budget: best accuracy within a latency
target T on a preset, over several seeds.

    python benchmarks/bench_nas_strategies.py [--device nvdla_256] [--target-ms 12] [--evals 1000] [--seeds 5]
        [--strategies evolution,random,rl,gradient] [--out out/nas_strategies] [--plot PATH]

Space `ofa-mbv3`, accuracy from OFA's predictor (the space's default estimator), objective: accuracy with the hard
limit latency <= T. The device's layer-cost table is built once (final mapper, saved in OUT/tables, read by a later
run) and shared by every run; each run gets fresh per-term caches, so its wall time includes what it computes from
the table. Each run is `cosearch.search.nas.run.search_device`, the command line's own path.

First, the fraction of uniform subnets (every gene drawn uniformly, as `random` draws them) within T, from 5000
draws. Per strategy, over the seeds: the median best accuracy within T (a run that finds nothing within T counts as
below every run that does), the evaluation at which each run's final best was first scored, the wall time, and the
latency look-ups made besides the evaluations (the rejection draws of evolution and random, the gradient's table).
An evaluation is one distinct subnet whose accuracy is predicted and whose latency is taken from the table.
The anytime plot: best accuracy within T against evaluations, median over the seeds, one line per strategy.
Last line:
`nas strategies: median best accuracy within T=<T> at <N> evaluations: evolution a, random b, rl c, gradient d`.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosearch.config import UsageError, make_settings  # noqa: E402
from cosearch.search.nas import DeviceCosts, NASProblem  # noqa: E402
from cosearch.search.nas.run import _genes, check_inputs, device_costs, search_device  # noqa: E402
from nets import get_space  # noqa: E402

FRACTION_DRAWS = 5000


class _CountingCosts(DeviceCosts):
    """The device's costs with a count of subnet latency look-ups (`network`) and of per-choice table entries."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.lookups = 0

    def network(self, config):
        self.lookups += 1
        return super().network(config)


def _fraction_within(space, genes, costs: DeviceCosts, accuracy, settings, draws: int) -> float:
    problem = NASProblem(space, genes, accuracy, costs.network, settings.objective, settings.limits, 1, seed=12345)
    limit = settings.limits.latency_s
    return float(np.mean([costs.network(problem.sample()).latency_s <= limit for _ in range(draws)]))


def _curve(history: list, evals: int) -> np.ndarray:
    """Best accuracy within T after each evaluation 1..evals (-inf before the first one within T)."""
    out = np.full(evals, -np.inf)
    for when, _wall, value in history:
        out[int(when) - 1:] = value
    return out


def _fmt(x: float) -> str:
    return f"{x:.4f}" if math.isfinite(x) else "none"


def _plot(curves: dict[str, np.ndarray], ends: dict[str, list[int]], target_ms: float, device: str, seeds: int,
          path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, curve) in enumerate(curves.items()):
        median = np.median(curve, axis=0)
        x = np.arange(1, len(median) + 1)
        shown = np.isfinite(median)
        if not shown.any():
            ax.plot([], [], color=f"C{i}", label=f"{name} (nothing within T)")
            continue
        last = max(ends[name])
        solid = shown & (x <= last)
        ax.step(x[solid], median[solid], where="post", color=f"C{i}", label=name)
        if last < len(median):     # the strategy stopped before the budget: its best held, dotted
            ax.plot([last, len(median)], [median[last - 1]] * 2, ":", color=f"C{i}")
    ax.set_xscale("log")
    ax.set_xlabel("subnet evaluations")
    ax.set_ylabel(f"best accuracy within {target_ms:g} ms (OFA predictor)")
    ax.set_title(f"ofa-mbv3 on {device}, latency <= {target_ms:g} ms: median of {seeds} seeds", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="nvdla_256", help="a preset (default nvdla_256)")
    ap.add_argument("--target-ms", type=float, default=12.0, help="latency target T in ms (default 12)")
    ap.add_argument("--evals", type=int, default=1000, help="subnet evaluations per run (default 1000)")
    ap.add_argument("--seeds", type=int, default=5, help="runs per strategy, seeds 0..N-1 (default 5)")
    ap.add_argument("--strategies", default="evolution,random,rl,gradient", help="comma-separated strategy names")
    ap.add_argument("--workers", type=int, default=1, help="processes that map a missing layer table (default 1)")
    ap.add_argument("--out", type=Path, default=Path("out/nas_strategies"), help="folder of the layer table")
    ap.add_argument("--plot", type=Path, default=None, help="anytime plot (default OUT/anytime.png)")
    args = ap.parse_args(argv)
    if args.seeds < 1:
        ap.error(f"--seeds must be an integer >= 1, got {args.seeds}")
    if not args.target_ms > 0:
        ap.error(f"--target-ms must be a positive number, got {args.target_ms}")
    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    plot = args.plot or args.out / "anytime.png"
    try:
        base = make_settings(budget=f"latency<={args.target_ms:g}ms", accelerator=args.device, space="ofa-mbv3",
                             nas_evals=args.evals, out=args.out, workers=args.workers)
        for name in names:
            make_settings(budget=f"latency<={args.target_ms:g}ms", accelerator=args.device, nas_strategy=name)
        (device,), accuracy = check_inputs(base)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; device {device.describe()}; "
          f"ofa-mbv3, accuracy: {accuracy.source.label}")
    t0 = time.perf_counter()
    shared, table_info = device_costs(base, device, print)
    print(f"layer table: {table_info['shapes_loaded']} shapes read, {table_info['shapes_mapped']} mapped "
          f"({table_info['mapper_evals']} mapper evaluations each) in {time.perf_counter() - t0:.1f} s: "
          f"{shared.table.path}")
    space = get_space(base.space)
    genes = _genes(space, device)
    fraction = _fraction_within(space, genes, DeviceCosts(device, space, shared.table), accuracy, base,
                                FRACTION_DRAWS)
    print(f"uniform subnets within T={args.target_ms:g} ms: {fraction:.4f} of {FRACTION_DRAWS} draws")
    print(f"{'strategy':>10s} {'seed':>4s} {'best acc':>8s} {'latency ms':>10s} {'evals':>6s} {'at eval':>7s} "
          f"{'look-ups':>9s} {'wall s':>7s}")
    curves: dict[str, np.ndarray] = {}
    ends: dict[str, list[int]] = {}
    summary: dict[str, dict] = {}
    for name in names:
        rows = []
        for seed in range(args.seeds):
            settings = make_settings(budget=f"latency<={args.target_ms:g}ms", accelerator=args.device,
                                     space="ofa-mbv3", nas_evals=args.evals, out=args.out, nas_strategy=name,
                                     seed=seed, workers=args.workers)
            costs = _CountingCosts(device, space, shared.table)
            r = search_device(settings, device, costs, table_info, accuracy)
            best = r.accuracy if r.feasible else -math.inf
            at = int(r.history[-1][0]) if r.feasible and r.history else 0
            lookups = costs.lookups - r.evaluations
            rows.append((best, at, r.wall_s, r.evaluations, lookups, _curve(r.history, args.evals)))
            lat = f"{r.latency_s * 1e3:.3f}" if r.latency_s is not None else "-"
            print(f"{name:>10s} {seed:>4d} {_fmt(best):>8s} {lat:>10s} {r.evaluations:>6d} {at:>7d} {lookups:>9d} "
                  f"{r.wall_s:>7.1f}", flush=True)
        curves[name] = np.stack([row[5] for row in rows])
        ends[name] = [row[3] for row in rows]
        summary[name] = {"best": float(np.median([row[0] for row in rows])),
                         "found": sum(math.isfinite(row[0]) for row in rows),
                         "at": float(np.median([row[1] for row in rows])),
                         "wall": float(np.median([row[2] for row in rows])),
                         "evals": float(np.median([row[3] for row in rows])),
                         "lookups": float(np.median([row[4] for row in rows]))}
    print(f"medians over {args.seeds} seeds (T={args.target_ms:g} ms, {args.evals} evaluations):")
    print(f"{'strategy':>10s} {'best acc':>8s} {'within T':>8s} {'at eval':>7s} {'evals':>6s} {'look-ups':>9s} "
          f"{'wall s':>7s}")
    for name, s in summary.items():
        print(f"{name:>10s} {_fmt(s['best']):>8s} {s['found']:>6d}/{args.seeds} {s['at']:>7.0f} {s['evals']:>6.0f} "
              f"{s['lookups']:>9.0f} {s['wall']:>7.1f}")
    _plot(curves, ends, args.target_ms, args.device, args.seeds, plot)
    print(f"anytime plot: {plot}; load average {os.getloadavg()[0]:.2f}")
    print(f"nas strategies: median best accuracy within T={args.target_ms:g}ms at {args.evals} evaluations: "
          + ", ".join(f"{name} {_fmt(s['best'])}" for name, s in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
