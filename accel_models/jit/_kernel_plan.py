"""The cost kernel's compile plan: the callees of `evaluate_range`, each compiled on its own for the argument
types `driver.evaluate_range` passes it, so that processes starting cold can compile parts of the tree side by side.

The steps below let several processes each compile some of the callees first (`_schedule`). Their types are built
from the values `evaluate_range` receives, as `evaluate_range` forwards them: a call site changed there must be
followed here, else the step compiles a specialisation nobody calls (a slower cold start, never a different result);
tests/cosearch/search/test_split_compile.py checks that the steps cover the calls.
"""
from __future__ import annotations

from numba import typeof, types

from ..geometry import AcceleratorArrays, LayerArrays, box, project
from ..kernel.accesses import level_accesses, level_accesses_perfect
from ..kernel.counts import fold_bypass, output_partitions
from ..kernel.instances import (build_classes, class_accesses, class_counts, class_energy_and_cycles,
                                class_fold_bypass, class_partitions)
from ..kernel.joint import joint_step
from ..kernel.links import link_saving
from ..kernel.nest import check_capacity
from ..kernel.paths import kernel_arrays, path_signatures, path_stubs, residual_paths
from ..kernel.phases import phase_stream
from ..kernel.residual import uniform_instances
from ..kernel.sweep import sweep, walk
from ..mapping_arrays import MappingArrays
from ._steps import CompileStep, compile_each, compile_for, compile_run


def kernel_values(layer: LayerArrays, acc: AcceleratorArrays) -> tuple:
    """(maps, out, workspace, paths) of one mapping, as `evaluate_range` receives them (`kernel.paths.kernel_arrays` and
    `kernel.paths.residual_paths`: building them compiles nothing)."""
    return (*kernel_arrays(layer, acc), residual_paths(layer, acc))


DRIVER_STEPS = ("level_accesses", "check_capacity", "output_partitions", "fold_bypass", "uniform_instances",
                "build_classes")
"""The steps of `callee_steps` that `driver.evaluate_range` links (calls by name)."""
PERFECT_DRIVER_STEPS = ("level_accesses_perfect",) + DRIVER_STEPS[1:4]
"""Those that `driver.evaluate_range_perfect` links (its scaffold without the sweep)."""
SHARED_STEPS = ("link_saving", "geometry")
"""The steps of `callee_steps` that compile callees several steps call by name (`links.link_saving` with its
neighbour lists and grid steps; `geometry.box` and `geometry.project`): the steps that call them wait for them, so
that two processes starting those steps side by side do not each compile them (measured: ~2 s of CPU compiled twice
on a cold default run)."""
PATH_STEPS = ("class_counts", "walk", "joint_step", "phase_stream")
"""The steps that compile what `kernel.paths.residual_paths` points to: a first call of a driver with those paths (a
search, an entry point) loads them."""
PERFECT_ONLY_STEPS = ("level_accesses_perfect", "perfect_paths")
"""The steps of `callee_steps` that only a search with the perfect driver needs (its scaffold, and the stubs
`paths.perfect_paths` points to)."""


def callee_steps(layer: LayerArrays, acc: AcceleratorArrays) -> list[CompileStep]:
    """The callees of `evaluate_range` and the paths it calls by address: first the callees several of the steps
    below call by name (`SHARED_STEPS`, which those steps wait for), then the costliest first: the phases' closed
    form and the frame walk, which the sweeps call by address, and the joint step, which the walk calls so (each
    compiles apart, beside the rest); the uniform sweep, whose callees `level_accesses` (through
    `sweep.uniform_stream`, which it calls by name) and `class_accesses` both call (as one step, each of them loads
    them rather than both compiling them side by side), then those two; `level_accesses_perfect`, the perfect
    driver's scaffold, without the sweep, beside them (CPU seconds:
    mappings.compile_plan.COMPILE_COST_S, measured with benchmarks/bench_cold_compile.py --per-function). The
    functions numba inlines (`inline="always"`: `nest.check_shape`, `nest.loop_nest`, `links.links`,
    `energy.energy_and_cycles`) are no steps: their callers compile them."""
    maps, out, ws = kernel_arrays(layer, acc)
    m = MappingArrays(*(a[0] for a in maps))                  # one mapping's rows, as evaluate_range slices them
    reads, fills, updates = out.reads[0], out.fills[0], out.updates[0]
    i64, yes = types.int64, types.boolean                     # loop_nest's temporal loop count; a computed bool
    sigs = path_signatures(layer, acc)
    classes, walk_, step, phases = sigs
    walks = classes.args[-1]
    # the uniform sweep (the walk and the phases by address), as uniform_stream and class_accesses call it: (t,
    # temporal, M, level record, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin (a
    # record's array field), fresh, walks)
    level, origin = typeof(ws.levels).dtype, typeof(ws.sweep).dtype.typeof("origin")
    uniform = compile_for(sweep, i64, ws.temporal, i64, level, yes, layer, i64, i64, ws.spatial, i64, i64, i64, ws,
                          origin, yes, walks)

    # the callees the walk, the joint step, the phases, the sweeps, level_accesses and the decoder share
    # (SHARED_STEPS), for the types they pass: a tensor's axis vector and a dim vector are records' array fields in
    # the walk and the joint step (the frames' `base`, the scratch's `t0`), plain arrays in the phases' pool, the
    # decoder and the classes' scaffold
    frame, scratch = typeof(ws.frames).dtype, typeof(ws.scratch).dtype
    axes, dims, f64 = scratch.typeof("t0"), frame.typeof("base"), types.float64
    coef, words = typeof(layer.coef), types.Array(types.int64, 1, "C")
    links = compile_for(link_saving, i64, axes, f64, f64, i64, ws.spatial, i64, i64, i64, layer, ws, i64)
    geometry = compile_each(compile_for(box, i64, dims, coef, axes), compile_for(project, i64, dims, coef, axes),
                            compile_for(box, i64, words, coef, words), compile_for(project, i64, words, coef, words))

    @compile_run
    def stubs():
        return [stub.compile(tuple(sig.args)) for stub, sig in zip(path_stubs(), sigs)]
    return [CompileStep("link_saving", links),
            CompileStep("geometry", geometry),
            CompileStep("phase_stream", compile_for(phase_stream, *phases.args), ("geometry",)),
            CompileStep("walk", compile_for(walk, *walk_.args), SHARED_STEPS),
            CompileStep("joint_step", compile_for(joint_step, *step.args), SHARED_STEPS),
            CompileStep("sweep", uniform, SHARED_STEPS),
            CompileStep("level_accesses", compile_for(level_accesses, layer, acc, ws, i64, yes, walks),
                        ("sweep",) + SHARED_STEPS),
            CompileStep("level_accesses_perfect", compile_for(level_accesses_perfect, layer, acc, ws, i64, yes, walks),
                        SHARED_STEPS),
            CompileStep("class_accesses", compile_for(class_accesses, layer, acc, m, ws, i64, walks),
                        ("sweep",) + SHARED_STEPS),
            CompileStep("check_capacity", compile_for(check_capacity, layer.coef, acc.capacity_words,
                                                      acc.tensor_capacity_words, ws.levels)),
            CompileStep("output_partitions", compile_for(output_partitions, layer.coef, ws.loops, ws.levels,
                                                         ws.scratch), ("geometry",)),
            CompileStep("fold_bypass", compile_for(fold_bypass, ws.levels)),
            CompileStep("uniform_instances", compile_for(uniform_instances, m)),
            CompileStep("build_classes", compile_for(build_classes, m, ws)),
            CompileStep("class_partitions", compile_for(class_partitions, layer, ws, i64)),
            CompileStep("class_fold_bypass", compile_for(class_fold_bypass, ws)),
            CompileStep("class_energy_and_cycles", compile_for(class_energy_and_cycles, acc, ws, i64, reads, fills,
                                                               updates)),
            CompileStep("class_counts", compile_for(class_counts, *classes.args),
                        ("class_accesses", "class_partitions", "class_fold_bypass", "class_energy_and_cycles")),
            CompileStep("perfect_paths", stubs)]
