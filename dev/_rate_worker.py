"""One side of `bench_rate_pairs.py`: a process that times `evaluate_batch` of one tree on batches it is told to load.

    python dev/_rate_worker.py TREE

Runs with TREE first on its import path, so `accel_models` and `nets` are that tree's, and reads only what every tree
since 69568d2 has: `cost_model.evaluate_batch`, `MappingArrays`, and the workload of `_workload.py` (this folder's,
built from TREE's `nets` and Timeloop corpus). Protocol, one line each way: `load NAME LAYER FILE` (a .npz of
`MappingArrays` fields; LAYER a key of `_workload.bench_layers`) answers `ready N` after one untimed call, which
compiles or loads the kernel; `run NAME` answers the CPU seconds of one `evaluate_batch` over batch NAME on one
thread, the best of `REPEATS`; an empty line ends it.

Each side copies the rows it loads into arrays of its tree's `MAPPING_DTYPE` (int64 where the tree names none), as
that tree's decoder and sampler give them, and as `bench_cost_model.py` hands its rows over: fresh arrays. Evaluated
straight from the arrays `np.load` returned, an int64 tree's perfect batches ran 10-15% slower here than from copies
(the cause not found), which skewed the ratios.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import numba  # noqa: E402
import numpy as np  # noqa: E402

import accel_models  # noqa: E402
from accel_models import MappingArrays  # noqa: E402
from accel_models.cost_model import evaluate_batch  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402

ROW_DTYPE = getattr(accel_models, "MAPPING_DTYPE", np.int64)
"""The tree's integer type of mapping rows (int64 in trees that did not name one)."""
REPEATS = 2
"""Calls per `run`, the best kept: short enough that both sides see the same stretch of the machine's speed."""


def main() -> None:
    numba.set_num_threads(1)
    accelerator, layers, batches = corpus_eyeriss(), bench_layers(), {}
    for line in sys.stdin:
        words = line.split()
        if not words:
            break
        if words[0] == "load":
            name, layer, path = words[1:]
            with np.load(path) as z:      # copies in the tree's own integer type: see the module's docstring
                maps = MappingArrays(*(np.array(z[k], dtype=ROW_DTYPE) for k in MappingArrays._fields))
            batches[name] = layers[layer], maps
            evaluate_batch(layers[layer], accelerator, maps)
            print(f"ready {maps.batch_size}", flush=True)
        else:
            layer, maps = batches[words[1]]
            best = float("inf")
            for _ in range(REPEATS):
                c0 = time.process_time()
                evaluate_batch(layer, accelerator, maps)
                best = min(best, time.process_time() - c0)
            print(best, flush=True)


if __name__ == "__main__":
    main()
