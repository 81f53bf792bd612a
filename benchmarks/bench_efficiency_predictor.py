"""The efficiency predictor (`--efficiency predictor`, an ESTIMATE) against the exact layer table on held-out subnets.

    python benchmarks/bench_efficiency_predictor.py [--devices nvdla_256,eyeriss] [--samples 2000] [--held-out 1000]
        [--out out/nas_strategies]

Space `ofa-mbv3`. Per device (a preset; its layer-cost table built once with the final mapper and saved in
OUT/tables, where a later run reads it): the predictor (`cosearch.search.nas.EfficiencyPredictor`, the MLP the
command line trains, on `--samples` uniform subnets scored with the table) and `--held-out` other uniform subnets
(another seed). Printed: Kendall tau (scipy.stats.kendalltau) between predicted and exact latency and energy, over
all held-out subnets and over the fastest fifth of them (the region a latency target selects), the median and
90th-percentile relative error |predicted / exact - 1|, the training time, and the time per subnet of the
predictor (batched and one at a time) and of the table (a subnet's terms looked up, the per-term cache warm).
Last line:
`efficiency predictor (estimate): Kendall tau latency a (dev1), b (dev2); time per subnet x us vs table y us`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cosearch.config import UsageError, make_settings  # noqa: E402
from cosearch.search.nas import EfficiencyPredictor  # noqa: E402
from cosearch.search.nas.efficiency import draw_configs  # noqa: E402
from cosearch.search.nas.run import _genes, check_inputs, device_costs  # noqa: E402
from nets import get_space  # noqa: E402


def _per_subnet_us(fn, items) -> float:
    t0 = time.perf_counter()
    fn(items)
    return (time.perf_counter() - t0) / len(items) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", default="nvdla_256,eyeriss", help="presets, comma-separated")
    ap.add_argument("--samples", type=int, default=2000, help="training subnets (default 2000, as the command line)")
    ap.add_argument("--held-out", type=int, default=1000, help="held-out subnets (default 1000)")
    ap.add_argument("--workers", type=int, default=1, help="processes that map a missing layer table (default 1)")
    ap.add_argument("--out", type=Path, default=Path("out/nas_strategies"), help="folder of the layer tables")
    args = ap.parse_args(argv)
    if args.samples < 10 or args.held_out < 10:
        ap.error("--samples and --held-out must be integers >= 10")
    names = [d.strip() for d in args.devices.split(",") if d.strip()]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; ofa-mbv3; the predictor is an ESTIMATE "
          "of the table's figures")
    print(f"{'device':>10s} {'tau lat':>7s} {'tau en':>7s} {'tau lat 1/5':>11s} {'lat err med/p90':>15s} "
          f"{'en err med/p90':>15s} {'train s':>7s} {'pred us':>7s} {'pred 1 us':>9s} {'table us':>8s}")
    heads = []
    for name in names:
        try:
            settings = make_settings(budget="latency<=1000ms", accelerator=name, space="ofa-mbv3", out=args.out,
                                     workers=args.workers)
            (device,), _ = check_inputs(settings)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        costs, _ = device_costs(settings, device, print)
        space = get_space(settings.space)
        genes = _genes(space, device)
        predictor = EfficiencyPredictor.fit(space, genes, costs.network, args.samples, seed=0)
        held = draw_configs(space, genes, args.held_out, seed=99)
        exact = np.array([[c.latency_s, c.energy_j] for c in map(costs.network, held)])
        table_us = _per_subnet_us(lambda cs: [costs.network(c) for c in cs], held)
        pred = predictor.predict(held)
        pred_us = _per_subnet_us(predictor.predict, held)
        one_us = _per_subnet_us(lambda cs: [predictor.cost(c) for c in cs], held[:200])
        tau_lat = kendalltau(pred[:, 0], exact[:, 0]).statistic
        tau_en = kendalltau(pred[:, 1], exact[:, 1]).statistic
        fast = exact[:, 0] <= np.quantile(exact[:, 0], 0.2)
        tau_fast = kendalltau(pred[fast, 0], exact[fast, 0]).statistic
        err = np.abs(pred / exact - 1.0)
        print(f"{name:>10s} {tau_lat:>7.3f} {tau_en:>7.3f} {tau_fast:>11.3f} "
              f"{np.median(err[:, 0]):>7.3f}/{np.quantile(err[:, 0], 0.9):.3f} "
              f"{np.median(err[:, 1]):>7.3f}/{np.quantile(err[:, 1], 0.9):.3f} {predictor.train_s:>7.1f} "
              f"{pred_us:>7.1f} {one_us:>9.1f} {table_us:>8.1f}", flush=True)
        heads.append((name, tau_lat, pred_us, table_us))
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("efficiency predictor (estimate): Kendall tau latency "
          + ", ".join(f"{t:.3f} ({n})" for n, t, _, _ in heads)
          + f"; time per subnet {np.median([h[2] for h in heads]):.1f} us vs table "
          f"{np.median([h[3] for h in heads]):.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
