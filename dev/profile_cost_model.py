"""Where a perfect mapping's evaluation time goes, step by step.

    python dev/profile_cost_model.py [N]

The mappings of `bench_cost_model.py` (N random valid mappings of its two layers on the corpus's Eyeriss-like
architecture, default 30,000) evaluated by a caller of `kernel.driver.evaluate_range`'s steps, in its order, that
stops after a given step (a run-time argument, so one compilation serves every stage): the CPU time per mapping after
each step, best of 7, and each step's share as the difference from the stage before. Every step calls the kernel's
own functions (step 9 `accesses.level_accesses`), so the stages follow the kernel as it changes. Rows 12, 13 and 15
time single steps on top of step 9 (the bypass fold, an empty call taking the layer and the workspace: what a call
passing them costs, and the partitions). Then the kernel's own
driver, into the reused outputs and into new ones as `evaluate_batch` allocates them (the difference: the system
mapping and zeroing the new outputs' pages on their first write, not the kernel's work). Also the
decoder's rate (`Encoding.decode`, perfect factors) on the same layers: once as a user calls it (one batch of N into
new arrays, their allocation included) and once as the mappers' search loop does (`decode_batch` on batches of 256
into buffers it reuses). The steps' order must follow `evaluate_range`;
the kernel's own rate is `bench_cost_model.py`'s.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the benchmarks' shared workload

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402
from accel_models import MAPPING_DTYPE, MappingArrays  # noqa: E402
from accel_models.cost_model import layer_arrays, accelerator_arrays  # noqa: E402
from accel_models.kernel_views import borrow  # noqa: E402
from accel_models.kernel.nest import check_shape, loop_nest, check_capacity  # noqa: E402
from accel_models.kernel.accesses import level_accesses  # noqa: E402
from accel_models.kernel.counts import fold_bypass, output_partitions  # noqa: E402
from accel_models.kernel.energy import energy_and_cycles  # noqa: E402
from accel_models import kernel  # noqa: E402
from accel_models.kernel.driver import evaluate_range, new_outputs, max_children  # noqa: E402
from accel_models.kernel.paths import residual_paths  # noqa: E402
from accel_models.kernel.workspace import make_workspace  # noqa: E402
from accel_models.result import OK  # noqa: E402
from mappings import Encoding, random_valid_mappings  # noqa: E402
from mappings._decode_kernel import decode_batch, decode_scratch  # noqa: E402
from _cli import mappings_per_layer  # noqa: E402
from _rows import mapping_row  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402


@njit(_nrt=False, no_cpython_wrapper=True)
def empty_call(layer, ws):
    return ws.levels[0].partition


@njit(_nrt=False)
def run(layer, acc, maps, out, workspace, stage, paths):
    ws, layer, acc, maps, out = borrow((workspace, layer, acc, maps, out))
    reason, cycles, energy_pj, util, ccycles, reads, fills, updates = out
    for b in range(maps.temporal.shape[0]):
        m = mapping_row(maps, b)
        rd, fl, up = reads[b], fills[b], updates[b]
        r = OK; c = 0; e = 0.0; cc = 0
        if stage >= 1:
            r, perfect = check_shape(layer.bounds, acc.fanout, m)
        if stage >= 2:
            tf, _, _, _, _, kp, _, _, _ = m
            levels = ws.levels
            L = tf.shape[0]
            for l in range(L):
                lv = levels[l]
                for t in range(3):
                    lv.kept[t] = 1 if kp[l, t] != 0 and acc.keeps[l, t] != 0 else 0
            _, n_temporal, compute_cycles = loop_nest(m, ws.loops, levels, ws.temporal)
            cc = compute_cycles
        if stage >= 3:
            r = check_capacity(layer.coef, acc.capacity_words, acc.tensor_capacity_words, levels)
        if stage >= 9:
            level_accesses(layer, acc, ws, n_temporal, not perfect, paths.walks)
        if stage == 12:
            fold_bypass(levels)
        if stage == 13:
            empty_call(layer, ws)
        if stage == 15:
            output_partitions(layer.coef, ws.loops, levels, ws.scratch)
        if stage >= 10 and stage <= 11:
            output_partitions(layer.coef, ws.loops, levels, ws.scratch)
            fold_bypass(levels)
        if stage >= 11:
            e, c = energy_and_cycles(acc, levels, compute_cycles, rd, fl, up)
            macs = 1
            for d in range(8):
                macs *= layer.bounds[d]
            e += macs * acc.mac_energy_pj + acc.leak_pj * c
        reason[b] = r
        cycles[b] = c
        energy_pj[b] = e
        util[b] = 0.0
        ccycles[b] = cc
        if stage < 11:
            for l in range(rd.shape[0]):
                for t in range(3):
                    rd[l, t] = 0.0; fl[l, t] = 0.0; up[l, t] = 0.0


STAGES = {0: "loop + outputs", 1: "check_shape", 2: "kept + loop_nest (+ used, compute cycles)", 3: "check_capacity",
          4: "(nothing: used, compute cycles in loop_nest)", 9: "level_accesses (kernel's)",
          10: "partitions + fold_bypass", 11: "energy_and_cycles (= the driver)"}


def _best(f, n, repeats):
    """CPU ns per mapping of f() over n mappings, the best of `repeats`."""
    best = 1e9
    for _ in range(repeats):
        c0 = time.process_time()
        f()
        best = min(best, time.process_time() - c0)
    return best / n * 1e9


eyeriss = corpus_eyeriss()
layers = bench_layers()


N = mappings_per_layer("Where a perfect mapping's evaluation time goes, step by step (CPU ns per mapping after "
                       "each step of the kernel's driver).", 30000, low=1000)
print(f"load average {os.getloadavg()[0]:.2f}")
for name, layer in layers.items():
    maps = random_valid_mappings(layer, eyeriss, N, rng=0).with_residuals()
    maps = MappingArrays(*(np.ascontiguousarray(a, dtype=MAPPING_DTYPE) for a in maps))
    la, aa = layer_arrays(layer), accelerator_arrays(eyeriss)
    ws = make_workspace(maps.temporal.shape[1], max_children(aa.fanout))
    out = new_outputs(N, maps.temporal.shape[1])
    paths = residual_paths(la, aa)
    run(la, aa, maps, out, ws, 11, paths)
    res = {}
    for s in list(STAGES) + [12, 13, 15]:
        res[s] = _best(lambda: run(la, aa, maps, out, ws, s, paths), N, 7)
    print(f"{name}: ns/mapping CPU, cumulative (step: +delta)")
    prev = 0.0
    for s in STAGES:
        ns = res[s]
        d = ns - prev
        print(f"  {s:2d} {STAGES[s]:40s} {ns:7.0f}  (+{d:5.0f})")
        prev = ns
    for s, what in ((12, "fold_bypass alone"), (13, "empty call (layer, ws)"), (15, "output_partitions alone")):
        print(f"  {s:2d} {what:40s} {res[s]:7.0f}  (+{res[s] - res[9]:5.0f} over step 9)")
    print(f"  -> {1e9 / res[11]:,.0f} evaluations/s CPU")
    # The kernel's own driver into these reused outputs, and as `evaluate_batch` calls it: into new outputs, whose
    # ~400 bytes a mapping are pages the system must map and zero on first write
    kernel.evaluate_batch_serial(la, aa, maps)
    reused, fresh = (_best(lambda: evaluate_range(np.int64(0), np.int64(N), la, aa, maps, out, ws, paths), N, 7),
                     _best(lambda: kernel.evaluate_batch_serial(la, aa, maps), N, 7))
    print(f"  kernel (evaluate_range) into reused outputs {reused:7.0f}; into new outputs (evaluate_batch_serial) "
          f"{fresh:7.0f}  (+{fresh - reused:5.0f}: the new outputs' pages)")
    enc = Encoding(layer, eyeriss)
    genes = np.random.default_rng(0).random((N, enc.size))
    enc.decode(genes[:10])
    best = 1e9
    for _ in range(3):
        c0 = time.process_time()
        enc.decode(genes)
        best = min(best, time.process_time() - c0)
    print(f"  decode (Encoding.decode, perfect factors): {best / N * 1e9:,.0f} ns/mapping CPU")
    rows = 256
    buffers = MappingArrays.empty(rows, eyeriss.num_levels)
    scratch = decode_scratch.py_func(eyeriss.num_levels)
    best = 1e9
    for _ in range(3):
        c0 = time.process_time()
        for i in range(0, N - rows + 1, rows):
            decode_batch(genes[i:i + rows], enc.tables, buffers, scratch)
        best = min(best, time.process_time() - c0)
    print(f"  decode_batch, {rows} rows into reused buffers (the search loop's way): "
          f"{best / (N // rows * rows) * 1e9:,.0f} ns/mapping CPU")
