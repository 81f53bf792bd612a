"""Cost-model demo: a ResNet-50 layer on the corpus's Eyeriss-like architecture.

    python benchmarks/cost_model_demo.py [--samples 20000] [--seed 0]

Draws random valid mappings, evaluates them in one batched kernel call, and prints the best one
(by EDP) with Timeloop-style per-level counts.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models.cost_model import evaluate_batch, explain  # noqa: E402
from mappings import Mapping, random_valid_mappings  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/cost_model_demo.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=20_000, help="random valid mappings to try (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error(f"--samples must be >= 1, got {args.samples}")
    acc = corpus_eyeriss()
    layer = bench_layers()["resnet"]
    print(f"layer {layer.name}: {layer.macs:,} MACs; architecture {acc.name}: {' -> '.join(acc.level_names)}, "
          f"{acc.mesh[0]}x{acc.mesh[1]} PEs")
    t0 = time.perf_counter()
    maps = random_valid_mappings(layer, acc, args.samples, rng=args.seed)
    t1 = time.perf_counter()
    res = evaluate_batch(layer, acc, maps)
    t2 = time.perf_counter()
    best = int(np.argmin(res.edp_pj_cycles))
    print(f"sampled {maps.batch_size:,} valid mappings in {t1 - t0:.1f} s; evaluated them in {t2 - t1:.2f} s "
          f"({maps.batch_size / (t2 - t1):,.0f} per second, compile time included on a first run)")
    mapping = Mapping.from_arrays(maps, best)
    print("\nbest mapping by EDP:\n" + mapping.describe(acc))
    print("\n" + explain(layer, acc, maps.row(best)).breakdown())
    print(f"\nEDP {res.edp_pj_cycles[best] * 1e-12:.4g} J*cycle; median over the samples "
          f"{np.median(res.edp_pj_cycles) * 1e-12:.4g} J*cycle")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
