"""Where a temporal-class residual mapping's evaluation time goes, stream by stream.

    python dev/profile_residual.py [N]

The temporal-class mappings among N residual decodes of random genes (default 200, as `bench_cost_model.py
--residual`) of its two layers on the corpus's Eyeriss-like architecture, repeated to 5,000 rows, counted by a copy
of `accesses.level_accesses`' residual branch that counts only some kinds of (level, tensor) streams (a run-time
mask, so one compilation serves every stage): those whose tensor no residual touches (`residual.closed_stream`: the
perfect closed form with each loop's passes, `residual.pass_counts`; the MAC's without a fan-out above it too), the
others without a fan-out above them (the phases' closed form), those right under a fan-out (`sweep.sweep`), the
MAC's under one (`sweep.uniform_stream`); each kind's CPU time per mapping is its stage's less the nest alone, best
of 7. The streams under a fan-out are also split: their link candidates alone (`phases.link_candidates`), the
candidates and the phases' fills with the link check, and the fills without it. The last rows are the kernel's own
driver (`evaluate_range`) and its share outside the counts. The copy must follow `level_accesses`; the kernel's own
rate is `bench_cost_model.py --residual`'s.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the benchmarks' shared workload

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from accel_models.cost_model import accelerator_arrays, layer_arrays  # noqa: E402
from accel_models.kernel.counts import closed_form_fills, moving_loops, spatial_loops  # noqa: E402
from accel_models.kernel.driver import evaluate_range, max_children, new_outputs  # noqa: E402
from accel_models.kernel.paths import residual_paths  # noqa: E402
from accel_models.kernel.links import spatial_axes  # noqa: E402
from accel_models.kernel.nest import check_capacity, check_shape, loop_nest  # noqa: E402
from accel_models.kernel.phases import link_candidates, phase_fills, phase_stream  # noqa: E402
from accel_models.kernel.residual import closed_stream, pass_counts  # noqa: E402
from accel_models.kernel.sweep import sweep, uniform_stream  # noqa: E402
from accel_models.kernel.workspace import FAN_X, FAN_Y, make_workspace  # noqa: E402
from accel_models.kernel_views import borrow  # noqa: E402

from _cli import mappings_per_layer  # noqa: E402
from _rows import mapping_row  # noqa: E402
from _workload import bench_layers, corpus_eyeriss, residual_rows, temporal_class_rows  # noqa: E402

PHASED, FANOUT, MAC, FANOUT_FILLS, WHOLE, CANDIDATES, LINKED = 1, 2, 4, 8, 16, 32, 64
"""Kinds of stream a stage counts (bits of its mask); FANOUT_FILLS: the streams under a fan-out, their fills alone by
the phases' closed form (what a closed form there would cost without the links); CANDIDATES (with FANOUT_FILLS):
their link candidates alone; LINKED (with FANOUT_FILLS): the candidates, then the phases with the link check; WHOLE:
the streams whose tensor no residual touches, by the perfect closed form (their fills alone)."""


@njit(_nrt=False)
def _streams(layer, acc, ws, n_temporal, mask, tally, walks):
    """`level_accesses`' residual branch, counting the streams of the kinds in `mask` only; tally[kind] += 1 per
    stream counted (the phased ones the phases left to the walk under kind 0); `walks`: the walk and the phases the
    sweeps call by address (`kernel.paths.Walks`)."""
    ax, co = layer.ax, layer.co
    fanout = acc.fanout
    temporal, spatial, levels = ws.temporal, ws.spatial, ws.levels
    scratch = ws.scratch[0]
    origin = ws.sweep[0].origin
    L = levels.shape[0] - 1
    moving_loops(ax, temporal, n_temporal)
    spatial_above = np.int64(0)
    for lvl in range(1, L + 1):
        is_mac = lvl == L
        p = lvl - 1
        child, parent = levels[lvl], levels[p]
        spatial_above += parent.n_spatial
        M = child.start - spatial_above
        n_sp = np.int64(0)
        n_children = np.int64(1)
        if parent.n_spatial > 0:
            n_sp, n_children = spatial_loops(ws.loops, levels, p, spatial, ws.scratch[0].n_digits)
        for t in range(3):
            if n_children == 1 and not is_mac and child.kept[t] == 0:
                continue
            kind = MAC if is_mac else (FANOUT if n_children > 1 else PHASED)
            if closed_stream(t, temporal, M, layer.bounds, child.extents, ax, is_mac, n_children):
                kind = WHOLE
            if kind == FANOUT and mask & FANOUT_FILLS:
                pool = ws.memo[0].pool
                if mask & (CANDIDATES | LINKED):
                    F = float(link_candidates(t, spatial, n_sp, fanout[p, FAN_X], layer, scratch, ws.diffs, pool))
                    if mask & LINKED and F >= 0.0:
                        F = phase_stream(t, temporal, M, child.extents, layer, origin, pool, np.int64(F))
                else:
                    F = phase_fills(t, temporal, M, child.extents, layer, origin, pool)
                tally[0] += F < 0.0
                tally[FANOUT] += 1
                continue
            if kind & mask == 0:
                continue
            groups = np.int64(1)
            if n_sp > 0:
                groups = spatial_axes(t, spatial, n_sp, ax, co, scratch)
            F = -1.0
            if kind == WHOLE:
                F, _, _ = closed_form_fills(t, temporal, M, child, is_mac, layer, ws)
            elif kind == MAC:
                F, _, _ = uniform_stream(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp,
                                         fanout[p, FAN_X], fanout[p, FAN_Y], ws, origin, walks)
            elif kind == PHASED:
                F = phase_fills(t, temporal, M, child.extents, layer, origin, ws.memo[0].pool)
            if F < 0.0:
                if kind == PHASED:
                    tally[0] += 1
                F, _, _ = sweep(t, temporal, M, child, is_mac, layer, groups, n_children, spatial, n_sp,
                                fanout[p, FAN_X], fanout[p, FAN_Y], ws, origin, np.bool_(True), walks)
            tally[kind] += 1
            child.fill[t] = F


@njit(_nrt=False)
def run(layer, acc, maps, out, workspace, mask, tally, paths):
    """Per mapping: the checks and the nest, then the streams of `mask` (-1: the kernel's driver, one mapping a
    call)."""
    ws, layer, acc, maps, out = borrow((workspace, layer, acc, maps, out))
    _, _, _, _, _, reads, fills, updates = out
    for b in range(maps.temporal.shape[0]):
        m = mapping_row(maps, b)
        if mask < 0:
            evaluate_range(b, b + 1, layer, acc, maps, out, ws, paths)
            continue
        check_shape(layer.bounds, acc.fanout, m)
        levels = ws.levels
        L = m.temporal.shape[0]
        for l in range(L):
            for t in range(3):
                levels[l].kept[t] = 1 if m.keep[l, t] != 0 and acc.keeps[l, t] != 0 else 0
        _, n_temporal, _ = loop_nest(m, ws.loops, levels, ws.temporal)
        for l in range(L):
            ext = levels[l].extents
            for d in range(8):
                ext[d] = min(ext[d], layer.bounds[d])
        check_capacity(layer.coef, acc.capacity_words, acc.tensor_capacity_words, levels)
        pass_counts(ws.temporal, n_temporal, layer.bounds, ws.scratch[0])
        if mask > 0:
            _streams(layer, acc, ws, n_temporal, mask, tally, paths.walks)




def main():
    eyeriss = corpus_eyeriss()
    layers = bench_layers()
    n = mappings_per_layer(__doc__.splitlines()[0], 200)
    print(f"load average {os.getloadavg()[0]:.2f}")
    stages = [("checks + nest", 0), ("streams no residual touches", WHOLE), ("phased streams", PHASED),
              ("streams under a fan-out", FANOUT), ("MAC streams", MAC), ("fan-out fills by the phases", FANOUT_FILLS),
              ("fan-out: link candidates", FANOUT_FILLS | CANDIDATES),
              ("fan-out: candidates + linked", FANOUT_FILLS | LINKED),
              ("all streams", PHASED | FANOUT | MAC | WHOLE), ("evaluate_range", -1)]
    for name, layer in layers.items():
        _, maps = temporal_class_rows(residual_rows(layer, eyeriss, n))
        la, aa = layer_arrays(layer), accelerator_arrays(eyeriss)
        ws = make_workspace(maps.temporal.shape[1], max_children(aa.fanout))
        out = new_outputs(maps.batch_size, maps.temporal.shape[1])
        tally = np.zeros(WHOLE + 1, dtype=np.int64)
        res = {}
        for label, mask in stages:
            run(la, aa, maps, out, ws, mask, tally, residual_paths(la, aa))
            best = float("inf")
            for _ in range(7):
                tally[:] = 0
                c0 = time.process_time()
                run(la, aa, maps, out, ws, mask, tally, residual_paths(la, aa))
                best = min(best, time.process_time() - c0)
            res[label] = (best / maps.batch_size * 1e6, tally.copy())
        base = res["checks + nest"][0]
        print(f"{name}: {maps.batch_size} rows; us/mapping CPU (stage less the nest)")
        for label, _ in stages:
            us, tl = res[label]
            streams = {k: int(tl[v]) / maps.batch_size for k, v in (("whole", WHOLE), ("phased", PHASED),
                                                                     ("fan-out", FANOUT), ("mac", MAC)) if tl[v]}
            left = f", phased left to the walk {tl[0] / maps.batch_size:.2f}" if tl[0] else ""
            extra = f"  streams/mapping {streams}{left}" if streams else ""
            print(f"  {label:28s} {us:7.2f}  ({us - base:+.2f}){extra}")


if __name__ == "__main__":
    main()
