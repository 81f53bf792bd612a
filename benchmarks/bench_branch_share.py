"""How much of a perfect mapping's evaluation goes to branches that the mapping's factors decide.

    python benchmarks/bench_branch_share.py [--batch 30000] [--run 50] [--repeats 5]

The kernel alone (`kernel.evaluate_range` into outputs it reuses, one thread, CPU time) on random valid mappings
of the ResNet-50 3x3 layer on the Timeloop corpus's Eyeriss-like architecture (family C), as in
`bench_cost_model.py`: runs of `--run` mappings, each run repeated 50 times in a row, the runs together as long as
the batch (a run short enough for the branch predictor to learn its branches), then the same rows shuffled (the
same work over hundreds of distinct mappings, in an order it cannot learn); also the batch as sampled. The
difference between the first two is the time the unpredictable branches cost; the last line is their share of the
shuffled rows' time. The shuffled rows must hold enough distinct mappings that the predictor cannot learn them
too: the default's 600 do; a small `--batch` (a few runs, ~100 mappings) reads near 0.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from accel_models import MAPPING_DTYPE, MappingArrays  # noqa: E402
from accel_models.cost_model import accelerator_arrays, layer_arrays  # noqa: E402
from mappings import random_valid_mappings  # noqa: E402
from _kernel_alone import kernel_cpu_s  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402


RUN_REPEATS = 50
"""Times each run is repeated in a row."""


def _ns_per_mapping(la, aa, maps: MappingArrays, repeats: int) -> float:
    """CPU ns a mapping of the kernel alone over all of `maps` (`_kernel_alone.kernel_cpu_s`)."""
    return kernel_cpu_s(la, aa, maps, repeats) / maps.batch_size * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=30_000, help="rows per batch (default 30000)")
    parser.add_argument("--run", type=int, default=50, help="distinct mappings in the repeated run (default 50)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats, best kept (default 5)")
    args = parser.parse_args()
    if args.batch < RUN_REPEATS:
        parser.error(f"--batch must be at least {RUN_REPEATS}, got {args.batch}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if not 1 <= args.run <= args.batch // RUN_REPEATS:
        parser.error(f"--run must be between 1 and --batch / {RUN_REPEATS} ({args.batch // RUN_REPEATS}), "
                     f"got {args.run}")
    eyeriss = corpus_eyeriss()
    layer = bench_layers()["resnet"]
    sampled = MappingArrays(*(np.ascontiguousarray(a, dtype=MAPPING_DTYPE)
                              for a in random_valid_mappings(layer, eyeriss, args.batch, rng=0).with_residuals()))
    la, aa = layer_arrays(layer), accelerator_arrays(eyeriss)
    runs = args.batch // (args.run * RUN_REPEATS)   # at least 1: --run is checked above
    rows = np.concatenate([np.tile(np.arange(r * args.run, (r + 1) * args.run), RUN_REPEATS) for r in range(runs)])
    shuffled = np.random.default_rng(1).permutation(rows)
    in_order = _ns_per_mapping(la, aa, MappingArrays(*(np.ascontiguousarray(a[rows]) for a in sampled)),
                               args.repeats)
    mixed = _ns_per_mapping(la, aa, MappingArrays(*(np.ascontiguousarray(a[shuffled]) for a in sampled)),
                            args.repeats)
    as_sampled = _ns_per_mapping(la, aa, sampled, args.repeats)
    print(f"architecture {eyeriss.name}, layer {layer.name}; load average {os.getloadavg()[0]:.2f}")
    print(f"the batch as sampled ({args.batch:,} mappings): {as_sampled:,.0f} ns a mapping")
    print(f"{runs} runs of {args.run} mappings, each run repeated {RUN_REPEATS} times ({rows.size:,} rows): "
          f"{in_order:,.0f} ns a mapping in order, {mixed:,.0f} shuffled")
    print(f"unpredictable branches: {(mixed - in_order) / mixed:.1%} of the shuffled rows' time")


if __name__ == "__main__":
    main()
