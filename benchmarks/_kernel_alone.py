"""What the benchmarks that time the cost kernel alone share: one thread, into outputs allocated once."""
from __future__ import annotations

import time

import numpy as np

from accel_models import MappingArrays, jit, kernel


def kernel_cpu_s(la, aa, maps: MappingArrays, repeats: int) -> float:
    """The best CPU seconds of `repeats` + 1 calls of `kernel.evaluate_range` over all of `maps` (`MAPPING_DTYPE`
    arrays, residual ends included) for the layer's and the accelerator's arrays `la`, `aa`, on the calling thread
    into outputs and a workspace allocated once (the first call also loads or compiles the kernel)."""
    B, L = maps.temporal.shape[0], maps.temporal.shape[1]
    out = kernel.new_outputs(B, L)
    workspace = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    paths = jit.residual_paths(la, aa)
    best = float("inf")
    for _ in range(repeats + 1):
        c0 = time.process_time()
        kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, out, workspace, paths)
        best = min(best, time.process_time() - c0)
    return best
