"""The cost model's cycles against Gemmini's RTL: Timeloop's semantics and the hardware timing model, row by row.

    python benchmarks/bench_rtl_cycles.py [--rows FILE.csv] [--fit] [--by-kind]

Each row of DOSA's FireSim data (Hong et al., MICRO 2023: a Gemmini configuration, a conv layer and a mapping in
Timeloop's one-line form, and the cycles Gemmini's RTL took, `target.gemmini_cycle`) is read into cosearch's types as
DOSA's template writes it for Timeloop (`accel_models.timeloop.gemmini.load_dosa_row`) and evaluated twice:
`evaluate_batch(..., timing="timeloop")` (Timeloop's semantics, what the Timeloop checks use) and `timing="hardware"`
(`accel_models.timing.HardwareTiming`). `--rows` takes any CSV with DOSA's columns (another array size, other
layers); the default is the 1,567 rows in ../shared/reference/dosa_firesim/. `--fit` refits the hardware model's three
constants to the rows (the minimiser of the mean smoothed absolute log error, from five starts) and prints them, then
the bands with the fitted constants. `--by-kind` prints the bands per layer kind (conv, 1x1, fully connected).

Last line: `rtl cycles: K/N within x1.2, M/N within x1.5 (median ratio R); timeloop semantics: K'/N, M'/N`, the ratio
being the model's cycles over the RTL's.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import evaluate_batch  # noqa: E402
from accel_models.timeloop.gemmini import load_dosa_row  # noqa: E402
from accel_models.timing import HardwareTiming  # noqa: E402

DEFAULT_ROWS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dosa_firesim" / "firesim_results.csv"


def _bands(ratios: np.ndarray) -> tuple[int, int, float]:
    """(rows within x1.2, rows within x1.5, median ratio) of model / measured ratios."""
    spread = np.abs(np.log(ratios))
    return int((spread <= np.log(1.2)).sum()), int((spread <= np.log(1.5)).sum()), float(np.median(ratios))


def _kind(layer) -> str:
    if layer.P == layer.Q == layer.R == layer.S == 1:
        return "fully connected"
    return "1x1 conv" if layer.R == layer.S == 1 else "conv"


def _fit(cases: list, measured: np.ndarray) -> HardwareTiming:
    """The three constants minimising the mean of sqrt(log(model / measured)^2 + 0.003) over the rows."""
    from scipy.optimize import minimize
    base = HardwareTiming(0.0, 0.0, 1.0)
    parts = []
    for layer, acc, arrays, counts in cases:
        terms = base.terms(layer, acc, arrays, counts.compute_cycles)
        parts.append((terms["compute"][0], terms["transfer"][0], float(np.prod(arrays.temporal[0, 0]))))
    compute, transfer, steps = (np.array(p) for p in zip(*parts))

    def loss(theta: np.ndarray) -> float:
        startup, overhead, efficiency = np.exp(theta[0]), np.exp(theta[1]), 1 / (1 + np.exp(-theta[2]))
        model = startup + steps * overhead + np.maximum(compute, transfer / efficiency)
        error = np.log(model / measured)
        return float(np.mean(np.sqrt(error * error + 0.003)))

    rng = np.random.default_rng(0)
    best = None
    for _ in range(5):
        start = np.array([np.log(1000.0), np.log(100.0), 1.0]) + rng.normal(0, 1, 3)
        found = minimize(loss, start, method="Nelder-Mead", options={"maxiter": 8000, "xatol": 1e-6, "fatol": 1e-9})
        if best is None or found.fun < best.fun:
            best = found
    startup, overhead, efficiency = np.exp(best.x[0]), np.exp(best.x[1]), 1 / (1 + np.exp(-best.x[2]))
    print(f"fit: layer_startup_cycles {startup:.1f}, step_overhead_cycles {overhead:.1f}, dram_efficiency "
          f"{efficiency:.3f} (loss {best.fun:.4f})")
    return HardwareTiming(round(float(startup)), round(float(overhead)), round(float(efficiency), 2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="a CSV of DOSA's columns (default: "
                        "../shared/reference/dosa_firesim/firesim_results.csv)")
    parser.add_argument("--fit", action="store_true", help="refit the hardware model's constants to the rows")
    parser.add_argument("--by-kind", action="store_true", help="the bands per layer kind too")
    args = parser.parse_args(argv)
    if not args.rows.is_file():
        parser.error(f"--rows: no file {args.rows} (give DOSA's FireSim CSV)")
    with open(args.rows, newline="") as f:
        rows = list(csv.DictReader(f))
    t0 = time.perf_counter()
    cases, measured, skipped = [], [], 0
    for i, row in enumerate(rows):
        try:
            dosa = load_dosa_row(row)
        except ValueError as error:
            print(f"row {i + 2}: skipped: {error}")
            skipped += 1
            continue
        counts = evaluate_batch(dosa.layer, dosa.accelerator, dosa.mapping)
        if not counts.valid[0] or not dosa.measured_cycles:
            skipped += 1
            continue
        cases.append((dosa.layer, dosa.accelerator, dosa.mapping.with_residuals(), counts))
        measured.append(dosa.measured_cycles)
    measured = np.array(measured)
    timing = _fit(cases, measured) if args.fit else HardwareTiming()
    hardware = np.array([timing.cycles(layer, acc, arrays, counts)[0] for layer, acc, arrays, counts in cases])
    timeloop = np.array([counts.cycles[0] for *_, counts in cases], dtype=float)
    n = len(cases)
    print(f"{n} rows of {len(rows)} ({skipped} skipped) from {args.rows}, in {time.perf_counter() - t0:.1f} s; "
          f"hardware timing {timing}")
    if args.by_kind:
        kinds = np.array([_kind(layer) for layer, *_ in cases])
        for kind in dict.fromkeys(kinds):
            sel = kinds == kind
            k, m, r = _bands(hardware[sel] / measured[sel])
            kt, mt, rt = _bands(timeloop[sel] / measured[sel])
            print(f"  {kind:<16} {sel.sum():>5} rows: hardware {k}/{m} within x1.2/x1.5 (median {r:.2f}); "
                  f"timeloop {kt}/{mt} (median {rt:.2f})")
    quartiles = statistics.quantiles(hardware / measured, n=4)
    print(f"hardware / RTL quartiles: {quartiles[0]:.2f} {quartiles[1]:.2f} {quartiles[2]:.2f}")
    k, m, r = _bands(hardware / measured)
    kt, mt, _ = _bands(timeloop / measured)
    print(f"rtl cycles: {k}/{n} within x1.2, {m}/{n} within x1.5 (median ratio {r:.2f}); timeloop semantics: "
          f"{kt}/{n}, {mt}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
