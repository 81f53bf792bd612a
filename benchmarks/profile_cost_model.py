"""Where a perfect mapping's evaluation time goes, step by step.

    python benchmarks/profile_cost_model.py [N]

The mappings of `bench_cost_model.py` (N random valid mappings of its two layers on the corpus's Eyeriss-like
architecture, default 30,000) evaluated by a copy of `kernel.driver.evaluate_range`'s perfect path that stops after a
given step (a run-time argument, so one compilation serves every stage): the CPU time per mapping after each step,
best of 7, and each step's share as the difference from the stage before. Steps 5-8 rebuild
`accesses.level_accesses` piece by piece (its scaffold, then the multicast groups, the fill streams, the links);
step 9 calls the kernel's own. Rows 12, 13 and 15 time single steps on top of step 9 (the bypass fold, an empty call
taking the layer and the workspace: what a call passing them costs, and the partitions). Then the kernel's own
driver, into the reused outputs and into new ones as `evaluate_batch` allocates them (the difference: the system
mapping and zeroing the new outputs' pages on their first write, not the kernel's work). Also the
decoder's rate (`Encoding.decode`, perfect factors) on the same layers: once as a user calls it (one batch of N into
new arrays, their allocation included) and once as the mappers' search loop does (`decode_batch` on batches of 256
into buffers it reuses). The copy must follow `evaluate_range`; the
kernel's own rate is `bench_cost_model.py`'s.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402
from accel_models import MAPPING_DTYPE, MappingArrays  # noqa: E402
from accel_models.cost_model import layer_arrays, accelerator_arrays  # noqa: E402
from accel_models.kernel_views import borrow  # noqa: E402
from accel_models.kernel.nest import check_shape, loop_nest, check_capacity  # noqa: E402
from accel_models.kernel.accesses import level_accesses  # noqa: E402
from accel_models.kernel.counts import fill_stream, fold_bypass, moving_loops, output_partitions  # noqa: E402
from accel_models.kernel.counts import spatial_loops  # noqa: E402
from accel_models.kernel.links import spatial_axes, links  # noqa: E402
from accel_models.kernel.energy import energy_and_cycles  # noqa: E402
from accel_models import kernel  # noqa: E402
from accel_models.kernel.driver import evaluate_range, new_outputs, max_children  # noqa: E402
from accel_models.kernel.paths import residual_paths  # noqa: E402
from accel_models.kernel.workspace import make_workspace  # noqa: E402
from accel_models.result import OK  # noqa: E402
from mappings import Encoding, random_valid_mappings  # noqa: E402
from mappings._decode_kernel import decode_batch, decode_scratch  # noqa: E402
from _workload import bench_layers, corpus_eyeriss  # noqa: E402


@njit(_nrt=False, forceinline=True)
def accesses_upto(layer, acc, ws, n_temporal, sub):
    """level_accesses' perfect branch with sub: 0 scaffold only, 1 + spatial_axes, 2 + fill_stream, 3 + links;
    inlined by LLVM into its caller, as the kernel's is (`forceinline`, `accel_models.kernel`'s docstring)."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels = ws.temporal, ws.spatial, ws.levels
    scratch = ws.scratch[0]
    L = levels.shape[0] - 1
    moving_loops(ax, temporal, n_temporal)
    levels[0].peer[:] = 0.0
    spatial_above = np.int64(0)
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        child, parent = levels[lvl], levels[p]
        child.peer[:] = 0.0
        spatial_above += parent.n_spatial
        M = child.start - spatial_above
        n_sp = np.int64(0)
        n_children = np.int64(1)
        if parent.n_spatial > 0:
            n_sp, n_children = spatial_loops(ws.loops, levels, p, spatial, scratch.n_digits)
        for t in range(3):
            if n_children == 1 and not is_mac and child.kept[t] == 0:
                parent.access[t] = 1.0
                parent.mcw[t] = 1.0
                continue
            groups = np.int64(1)
            if n_sp > 0 and sub >= 1:
                groups = spatial_axes(t, spatial, n_sp, ax, co, scratch)
            F = 1.0
            delta = 0
            E = scratch.box
            tile = 1
            if sub >= 2:
                if is_mac:
                    E[:] = 1
                    tile = 1
                    F = temporal[M].outer
                else:
                    for a in range(E.shape[0]):
                        E[a] = child.axes[t, a]
                    tile = child.tiles[t]
                    F, delta = fill_stream(t, temporal, M, layer.co, E, tile)
            reads = groups * F
            transfers = 0.0
            if sub >= 3 and n_children > 1 and M > 0 and (is_mac or layer.ax[t, temporal[M - 1].dim] >= 0):
                saved, transfers = links(t, temporal, M, E, tile, delta, is_mac, spatial, n_sp, fanout[p, 0],
                                         fanout[p, 1], layer, groups, ws)
                reads -= saved
            child.fill[t] = F
            if n_children > 1:
                child.peer[t] = transfers / n_children
            parent.access[t] = reads
            parent.mcw[t] = n_children * F - transfers


@njit(_nrt=False, no_cpython_wrapper=True)
def empty_call(layer, ws):
    return ws.levels[0].partition


@njit(_nrt=False)
def run(layer, acc, maps, out, workspace, stage, paths):
    ws, layer, acc, maps, out = borrow((workspace, layer, acc, maps, out))
    reason, cycles, energy_pj, util, ccycles, reads, fills, updates = out
    temporal, order, spatial_x, spatial_y, spatial_order, keep, rt, rx, ry = maps
    for b in range(temporal.shape[0]):
        m = MappingArrays(temporal[b], order[b], spatial_x[b], spatial_y[b], spatial_order[b], keep[b], rt[b], rx[b],
                          ry[b])
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
        if stage >= 5 and stage <= 8:
            accesses_upto(layer, acc, ws, n_temporal, stage - 5)
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


STAGES = ["loop + outputs", "check_shape", "kept + loop_nest (+ used, compute cycles)", "check_capacity",
          "(nothing: used, compute cycles in loop_nest)",
          "accesses scaffold", "+ spatial_axes", "+ fill_stream", "+ links (= copy of level_accesses)",
          "level_accesses (kernel's)", "partitions + fold_bypass", "energy_and_cycles (= the driver)"]


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


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1_000 <= n <= 1_000_000:
        raise argparse.ArgumentTypeError(f"N must be a whole number in [1000, 1000000], got {text!r}")
    return n


ap = argparse.ArgumentParser(description="Where a perfect mapping's evaluation time goes, step by step (CPU ns per "
                                         "mapping after each step of a copy of the kernel's driver).")
ap.add_argument("N", nargs="?", type=_count, default=30000, help="random valid mappings per layer (default 30000)")
N = ap.parse_args().N
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
    for s in list(range(12)) + [12, 13, 15]:
        res[s] = _best(lambda: run(la, aa, maps, out, ws, s, paths), N, 7)
    print(f"{name}: ns/mapping CPU, cumulative (step: +delta)")
    prev = 0.0
    for s in range(12):
        ns = res[s]
        d = ns - (res[4] if s == 9 else prev)
        print(f"  {s:2d} {STAGES[s]:40s} {ns:7.0f}  (+{d:5.0f})")
        prev = ns
    for s, what in ((12, "fold_bypass alone"), (13, "empty call (layer, ws)"), (15, "output_partitions alone")):
        print(f"  {s:2d} {what:40s} {res[s]:7.0f}  (+{res[s] - res[9]:5.0f} over step 9)")
    print(f"  -> {1e9 / res[11]:,.0f} evaluations/s CPU")
    # The kernel's own driver into these reused outputs, and as `evaluate_batch` calls it: into new outputs, whose
    # ~400 bytes a mapping are pages the system must map and zero on first write (docs/performance.md)
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
