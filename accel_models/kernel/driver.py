"""One mapping through the steps of `reference.evaluate`, and the batch drivers (serial and parallel).

Two drivers are compiled from this one source: `evaluate_range`, which reaches every path (perfect mappings in
closed form, residual ones through the phases and the frame walk, spatial classes through `instances`), and
`evaluate_range_perfect`, for searches whose mappings can only have perfect factors, which reaches the closed form
alone (`RESIDUAL_PATHS` False; `accel_models.jit.variant`). A first search in a process with an empty numba cache
compiles only the driver it calls, and the perfect one leaves out the costliest compiles of the kernel. The counting
functions are the same; a mapping with residual factors given to the perfect driver raises rather than being counted
by a path that does not hold for it.

The spatial-class counts come in by address (`paths.Paths`: `instances.class_counts`), an argument of each driver:
numba links a callee it calls by name into its caller, so a driver that named it could not compile before the
classes' sweeps; by address, the driver compiles beside them. They run only for mappings whose instances do unequal
work, tens of microseconds each, so the indirect call costs nothing measurable; a function called so raises nothing
back (`paths.FunctionPointer`): it does not raise. The uniform sweep is called by name from the scaffold
(`accesses.level_accesses`, which the full driver links; the perfect one links `accesses.level_accesses_perfect`
instead): it runs for every residual stream, ~1 us each, where the indirect call and its arguments cost ~11% of a
temporal-class evaluation. The entry points that Python calls take the paths as their last argument (`entries`
binds them).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from ..jit._variants import variant
from ..kernel_views import borrow
from ..mapping_arrays import N_DIMS, N_TENSORS, MappingArrays
from ..result import OK, SPATIAL_RESIDUAL
from .accesses import level_accesses, level_accesses_perfect
from .counts import fold_bypass, output_partitions
from .energy import energy_and_cycles
from .instances import build_classes
from .nest import check_capacity, check_shape, loop_nest
from .residual import pass_counts, uniform_instances
from .workspace import FAN_X, FAN_Y, make_workspace

CHUNK = 512
"""Mappings per work item of the parallel driver (one workspace each)."""
RESIDUAL_PATHS = True
"""Whether the driver compiled from this module reaches the residual and spatial-class paths: True here (numba
freezes a global as a constant and prunes the branches on it before typing, so the perfect driver's copy of the
globals, with it False, never types, hence never compiles, those paths)."""


class Outputs(NamedTuple):
    """What the drivers write per mapping of a batch of B mappings on L levels (`new_outputs` allocates them; the
    cost model returns them as `cost_model.BatchResult`). Counts are totals over a level's instances."""

    reason: np.ndarray          # [B] int64: an `accel_models.result` reason code, OK for a valid mapping
    cycles: np.ndarray          # [B] int64
    energy_pj: np.ndarray       # [B] float64
    utilization: np.ndarray     # [B] float64: MACs / (MAC units x cycles)
    compute_cycles: np.ndarray  # [B] int64: the product of every temporal end
    reads: np.ndarray           # [B, L, N_TENSORS] float64, words
    fills: np.ndarray           # [B, L, N_TENSORS] float64, words
    updates: np.ndarray         # [B, L, N_TENSORS] float64, words


class Walks(NamedTuple):
    """The counts the sweeps call by address, each a `paths.FunctionPointer`: `walk` (`sweep.walk`'s signature,
    called by the uniform and the joint sweep once per stream they walk), `joint_step` (`joint.joint_step`'s, which
    the walk calls at each step of a joint sweep) and `phase_stream` (`phases.phase_stream`'s, called by the uniform
    sweep once per stream the phases may count)."""

    walk: object
    joint_step: object
    phase_stream: object


class Paths(NamedTuple):
    """The count a driver calls by address: `class_counts` (`instances.class_counts`'s signature, called by
    `driver.evaluate_range` per mapping whose instances do unequal work), a `paths.FunctionPointer`; `walks`, the
    `Walks` the driver passes it and the uniform sweep."""

    class_counts: object
    walks: Walks


@njit(cache=True, _nrt=False)
def evaluate_range(lo, hi, layer, acc, maps, out, workspace, paths):
    """Evaluate mappings lo..hi-1 (`MappingArrays` of [B, L, 8] / [B, L, 3] rows) into the output arrays (reason,
    cycles, energy pJ, utilization, compute cycles; reads / fills / updates [L, 3] as totals over instances), every
    entry of their rows written (zeros for an invalid mapping), so that the outputs need no zeroing first. A perfect
    mapping's counts come in closed form (`accesses.level_accesses` with `counts.closed_form_fills`), one with a
    residual loop from the sweep over its steps (`sweep.uniform_stream`, by name), and one whose instances under a
    fan-out do unequal work (Timeloop's spatial class) per instance class (`instances.class_counts`, by address:
    `paths`, a `paths.Paths`); the checks are shared. SPATIAL_RESIDUAL: such a mapping needs more instance classes
    than the workspace holds. Everything is borrowed for the loop (see `kernel_views.borrow`): the caller owns the
    inputs, the outputs and the workspace for the whole call.

    The steps are inlined here one by one, not through a function of one mapping inlined in turn: numba copies an
    inlined function's IR once per block with its whole scope, so one large inlined body costs its blocks times its
    variables, many small ones only their own."""
    ws, layer, acc, maps, out = borrow((workspace, layer, acc, maps, out))
    reason, cycles, energy_pj, util = out.reason, out.cycles, out.energy_pj, out.utilization
    ccycles = out.compute_cycles
    reads, fills, updates = out.reads, out.fills, out.updates
    temporal, order, spatial_x, spatial_y, spatial_order = (maps.temporal, maps.order, maps.spatial_x, maps.spatial_y,
                                                            maps.spatial_order)
    keep, rt, rx, ry = maps.keep, maps.temporal_residual, maps.spatial_x_residual, maps.spatial_y_residual
    bounds, levels = layer.bounds, ws.levels
    L = temporal.shape[1]
    for b in range(lo, hi):
        m = MappingArrays(temporal[b], order[b], spatial_x[b], spatial_y[b], spatial_order[b], keep[b], rt[b], rx[b],
                          ry[b])
        rb, fb, ub = reads[b], fills[b], updates[b]
        r, perfect = check_shape(bounds, acc.fanout, m)
        n_temporal, cc = np.int64(0), np.int64(0)
        if r == OK:
            if not perfect and not RESIDUAL_PATHS:
                raise AssertionError("a mapping with residual factors reached the perfect-factor driver")
            for l in range(L):
                for t in range(N_TENSORS):
                    levels[l].kept[t] = 1 if m.keep[l, t] != 0 and acc.keeps[l, t] != 0 else 0
            _, n_temporal, cc = loop_nest(m, ws.loops, levels, ws.temporal)   # also instances used
            if not perfect:
                for l in range(L):     # F6: a tile spans the ends at and below its level, at most the bound
                    ext = levels[l].extents
                    for d in range(N_DIMS):
                        if ext[d] > bounds[d]:
                            ext[d] = bounds[d]
            r = check_capacity(layer.coef, acc.capacity_words, acc.tensor_capacity_words, levels)
        spread = False                 # instances under a fan-out do unequal work
        if RESIDUAL_PATHS and r == OK:
            spread = not perfect and not uniform_instances(m)
            if spread and not build_classes(m, ws):
                r = SPATIAL_RESIDUAL
        if r != OK:                    # zeros: `energy_and_cycles` writes the counts of a valid mapping only
            reason[b], cycles[b], energy_pj[b], util[b], ccycles[b] = r, 0, 0.0, 0.0, 0
            for l in range(L):
                for t in range(N_TENSORS):
                    rb[l, t] = 0.0
                    fb[l, t] = 0.0
                    ub[l, t] = 0.0
            continue
        if RESIDUAL_PATHS and spread:
            e, c = paths.class_counts(layer, acc, m, ws, n_temporal, cc, rb, fb, ub, paths.walks)
        else:
            if RESIDUAL_PATHS and not perfect:    # each loop's passes, for the closed forms of `level_accesses`
                pass_counts(ws.temporal, n_temporal, bounds, ws.scratch[0])
            level_accesses(layer, acc, ws, n_temporal, not perfect, paths.walks)
            output_partitions(layer.coef, ws.loops, levels, ws.scratch)
            fold_bypass(levels)
            e, c = energy_and_cycles(acc, levels, cc, rb, fb, ub)
        macs = 1                       # counted here, not held in a register across the counts
        for d in range(N_DIMS):
            macs *= bounds[d]
        reason[b] = OK
        cycles[b] = c
        energy_pj[b] = e + (macs * acc.mac_energy_pj + acc.leak_pj * c)   # leakage: every storage instance, cycle
        util[b] = macs / (acc.num_macs * c)
        ccycles[b] = cc


@variant(evaluate_range, RESIDUAL_PATHS=False, level_accesses=level_accesses_perfect)
def evaluate_range_perfect():
    """`evaluate_range` for mappings with perfect factors only (a search whose decode gives no residual factor):
    the same counts, bit for bit, without compiling the residual and spatial-class paths; a residual mapping raises
    AssertionError."""


@njit(cache=True)
def new_outputs(B, L):
    """`Outputs` for B mappings of L levels, as `evaluate_range` fills them. Not zeroed: `evaluate_range` writes every
    entry of the rows it evaluates; zeroing them first wrote 400 bytes a mapping twice (a batch of 100,000 mappings: a
    40 MB memset, 75 ns a mapping timed alone, ~2% of an evaluation in `benchmarks/bench_cost_model.py`'s sets). Python
    code allocates them with its Python body, `new_outputs.py_func` (numpy's allocation: `entries._outputs_for`)."""
    return Outputs(np.empty(B, dtype=np.int64), np.empty(B, dtype=np.int64), np.empty(B), np.empty(B),
                   np.empty(B, dtype=np.int64), np.empty((B, L, N_TENSORS)), np.empty((B, L, N_TENSORS)),
                   np.empty((B, L, N_TENSORS)))


@njit(cache=True)
def max_children(fanout):
    """The largest fan-out (children per instance) of an accelerator: the workspace's child arrays."""
    m = 1
    for l in range(fanout.shape[0]):
        m = max(m, fanout[l, FAN_X] * fanout[l, FAN_Y])
    return m


@njit(cache=True, parallel=True)
def parallel_batch(layer, acc, maps, paths, out):
    """Evaluate B mappings on all threads into `out` (`Outputs`, from `new_outputs`). Python calls it as
    `entries.evaluate_batch_parallel`, which allocates `out`; smaller batches and single mappings call `evaluate_range`
    from Python (`entries`)."""
    B = maps.temporal.shape[0]
    n_chunks = (B + CHUNK - 1) // CHUNK
    # the paths' pointers one by one into the loop's body: numba's parallel loop takes a tuple's items as its
    # arguments, not a tuple nested in one
    classes, walks = paths.class_counts, paths.walks
    walk, step, phases = walks.walk, walks.joint_step, walks.phase_stream
    for c in prange(n_chunks):
        workspace = make_workspace(maps.temporal.shape[1], max_children(acc.fanout))
        evaluate_range(c * CHUNK, min(B, (c + 1) * CHUNK), layer, acc, maps, out, workspace,
                       Paths(classes, Walks(walk, step, phases)))
