"""Evaluations per second per core of `evaluate_batch`.

    python benchmarks/bench_cost_model.py [--batch 100000] [--repeats 5] [--residual N]

(a) ResNet-50 3x3 layer (C=K=64, P=Q=56) and (b) depthwise 3x3 layer (G=144, P=Q=56), both on the
Eyeriss-like architecture of the Timeloop corpus (family C), batches of random valid mappings,
timed after a warm-up (numba compile excluded) with one thread, best of several repeats, and again
with all cores. One thread is timed in wall and in CPU time (the process's, which a shared machine's other
load does not inflate). The last line is `min evaluations/s/core: N` (one thread, CPU time).
Beside it, the kernel's own rate (`kernel.evaluate_range`, one thread, CPU time) into outputs it reuses:
`evaluate_batch` returns new arrays, ~400 bytes a mapping, and whether the allocator hands it pages already mapped or
new ones the system must map and zero on their first write depends on the process's earlier allocations, not on the
kernel (in this script the two rates agree; in other processes the new pages cost 10-20% of an evaluation).
--residual N also times, before it, N mappings with residual loops per layer (the residual decode of random genes,
counted by the kernel's residual paths), one thread, CPU time, and again those of them in Timeloop's temporal class
(repeated to 5,000 rows, best of the repeats).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
import numpy as np  # noqa: E402

from accel_models import MAPPING_DTYPE, MappingArrays  # noqa: E402
from accel_models.cost_model import accelerator_arrays, evaluate_batch, layer_arrays  # noqa: E402
from mappings import random_valid_mappings  # noqa: E402
from _kernel_alone import kernel_cpu_s  # noqa: E402
from _workload import LABELS, bench_layers, corpus_eyeriss, residual_rows, temporal_class_rows  # noqa: E402



def _rate(layer, acc, mappings, threads: int, repeats: int) -> tuple[float, float]:
    """(evaluations/s in wall time, evaluations/s in CPU time), the best of `repeats` batches each."""
    numba.set_num_threads(threads)
    evaluate_batch(layer, acc, mappings.row(0))  # warm-up: compile or load the cache
    wall = cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate_batch(layer, acc, mappings)
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return mappings.batch_size / wall, mappings.batch_size / cpu


def _kernel_rate(layer, acc, mappings, repeats: int) -> float:
    """Evaluations/s in CPU time of the kernel's driver on one thread, into outputs allocated once."""
    maps = MappingArrays(*(np.ascontiguousarray(a, dtype=MAPPING_DTYPE) for a in mappings.with_residuals()))
    return maps.batch_size / kernel_cpu_s(layer_arrays(layer), accelerator_arrays(acc), maps, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=100_000, help="mappings per batch (default 100000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats, best kept (default 5)")
    parser.add_argument("--residual", type=int, default=0, metavar="N",
                        help="also time N mappings with residual loops per layer (default 0: none)")
    args = parser.parse_args()
    eyeriss = corpus_eyeriss()
    layers = {LABELS[short]: layer for short, layer in bench_layers().items()}
    cores = numba.config.NUMBA_NUM_THREADS
    print(f"architecture: {eyeriss.name} ({', '.join(eyeriss.level_names)}), {eyeriss.num_macs} MACs; "
          f"{cores} cores, load average {os.getloadavg()[0]:.2f}")
    per_core = []
    for name, layer in layers.items():
        t0 = time.perf_counter()
        maps = random_valid_mappings(layer, eyeriss, args.batch, rng=0)
        gen_s = time.perf_counter() - t0
        one, one_cpu = _rate(layer, eyeriss, maps, 1, args.repeats)
        allc, _ = _rate(layer, eyeriss, maps, cores, args.repeats)
        alone = _kernel_rate(layer, eyeriss, maps, args.repeats)
        per_core.append(one_cpu)
        print(f"{name}: {maps.batch_size:,} valid mappings (sampled in {gen_s:.1f} s); "
              f"1 thread {one:,.0f} evaluations/s wall, {one_cpu:,.0f}/s CPU time; {cores} threads "
              f"{allc:,.0f} evaluations/s wall ({allc / cores:,.0f} per core); the kernel alone into reused "
              f"outputs {alone:,.0f}/s CPU time")
    if args.residual > 0:
        rates, temporal_rates = [], []
        for name, layer in layers.items():
            maps = residual_rows(layer, eyeriss, args.residual)
            _, cpu = _rate(layer, eyeriss, maps, 1, 1)
            rates.append(cpu)
            print(f"{name}: {maps.batch_size:,} mappings with residual loops: {cpu:,.1f} evaluations/s CPU time")
            distinct, temporal = temporal_class_rows(maps)
            if distinct:
                _, cpu = _rate(layer, eyeriss, temporal, 1, args.repeats)
                temporal_rates.append(cpu)
                print(f"{name}: {distinct:,} of them in the temporal class: {cpu:,.1f} evaluations/s CPU time")
        print(f"residual evaluations/s/core: {min(rates):,.1f}; temporal class: "
              f"{min(temporal_rates, default=float('nan')):,.1f}")
    print(f"min evaluations/s/core: {min(per_core):,.0f}")


if __name__ == "__main__":
    main()
