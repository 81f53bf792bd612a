"""The per-layer mapper's compile plan: what its first search compiles, in steps that processes starting cold can
share (see `accel_models.jit` for why and for the schedule).

`evolution.run_evolution` calls the decoder (`decode_batch`) and the cost kernel's driver by address
(`evolution.Search`): `evaluate_range_perfect` for a layer whose decode has perfect factors only (`factors="perfect"`,
or "auto" resolved to it), `evaluate_range` for one that may have residual factors. So the search's code, the decoder
and the driver's chain are steps apart that compile side by side; then a real search of `layer` on `accelerator`
with the caller's mapping cache settings loads them (and compiles whatever its own types need). The full driver's
steps are in every plan (the co-search's final phase and report call it, and "auto" searches the layers it resolves
to residual factors with it). The last step compiles what later searches use (warm starts: `transfer_mapping` and
`Encoding.encode`), which the first one does not. `after_first_search` names the steps the plan's search does not
wait for: a co-search's worker runs its first trial before them (`cosearch.search.worker_compile`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numba import types

from accel_models import Accelerator, MappingArrays
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.jit import (DRIVER_STEPS, PATH_STEPS, PERFECT_DRIVER_STEPS, PERFECT_ONLY_STEPS, CompileStep,
                              callee_closure, callee_steps, compile_for, compile_run, kernel_values,
                              register_step_costs)
from accel_models.kernel import evaluate_range, evaluate_range_perfect, new_outputs
from nets import Layer

from .encoding import Encoding
from .evolution import run_evolution, search_buffers, search_kernel
from .fitness import fitness_into, objective_index
from .transfer import transfer_mapping

COMPILE_COST_S = {"link_saving": 2.0, "geometry": 0.5, "phase_stream": 5.5, "walk": 6.9, "joint_step": 4.5,
    "sweep": 1.2, "level_accesses": 5.6, "level_accesses_perfect": 4.4, "class_accesses": 2.4, "class_counts": 0.7,
    "perfect_paths": 0.2, "check_capacity": 0.3, "output_partitions": 0.1, "fold_bypass": 0.1, "uniform_instances": 0.1,
    "build_classes": 0.4, "class_partitions": 0.3, "class_fold_bypass": 0.1, "class_energy_and_cycles": 0.4,
    "decode_batch": 5.0, "evaluate_range": 4.4, "helpers": 0.1, "run_evolution": 6.0, "search": 0.1,
    "search_perfect": 0.1, "warm_starts": 0.9, "evaluate_range_perfect": 3.8}
"""CPU seconds each step of the plan compiles on its own, its callees compiled before it: what
`accel_models.jit.SplitCompile` balances the processes by, from `python benchmarks/bench_cold_compile.py --per-function`
on a near-idle machine, the two shared steps' and the walk's from runs with those steps apart. Only the
proportions matter; a figure out of date changes which worker compiles what, never what is compiled. `search` and
`search_perfect` only load what the steps before them compiled."""
register_step_costs(COMPILE_COST_S)

SEARCH_CODE = "run_evolution"
"""The step that compiles the search's own code (`evolution.run_evolution`, its decoder and driver passed by address:
it links neither), for the types of a first search of the plan's layer (the strategy's `search_args`)."""
SEARCH = "search"
"""The step that runs a real search with the full driver (with the caller's mapping cache settings, so that whatever
it calls has the searches' own types, and residual factors: a mapper with "residual" or "auto" factors); it loads what
the steps before it compiled."""
SEARCH_PERFECT = "search_perfect"
"""The same step for the perfect-factor driver (`evaluate_range_perfect`: a mapper with "perfect" or "auto" factors)."""
WARM_STARTS = "warm_starts"
"""The step that compiles what a search seeded by an earlier accelerator's mapping calls (`transfer_mapping`,
`Encoding.encode`), which the search step does not."""


def mapper_compile_plan(layer: Layer, accelerator: Accelerator, cache, objective: str = "edp",
                        drivers_of: str | None = None) -> list[CompileStep]:
    """The steps, in the order a schedule should start them (the longest chain first: the kernel's callees,
    then the decoder, the kernel's drivers and the small helpers, the search's code, the search, the warm starts);
    `cache`: the `MappingCache` whose search the search step runs, and whose strategy's `plan_args(enc, objective)`
    (the compiled search's arguments but its last, the `evolution.SearchCalls`, for a first search) give the search's
    code its types. `drivers_of`: the factors whose drivers and searches the plan compiles, the cache's by default
    ("residual": the full driver only, for a strategy whose searches all take it)."""
    def search(factors: str):   # a real search, with the caller's settings and these tiling factors
        searcher = cache if factors == cache.settings.factors else type(cache)(replace(cache.settings, factors=factors))
        return lambda: searcher.result(layer, accelerator, objective)
    search_args = getattr(cache.settings.strategy, "plan_args", None)
    return _plan(layer, accelerator, drivers_of or cache.settings.factors, objective, search, search_args)


def first_search_plan(layer: Layer, accelerator: Accelerator, factors: str, objective: str = "edp",
                      search_args=None) -> list[CompileStep]:
    """The steps of `mapper_compile_plan` that the search of `layer` by a mapper with `factors` calls or loads (its
    driver, the kernel's callees that driver reaches and the paths it points to, the decoder, the helpers, the
    search's code where `search_args` is given), without running a search: what a first search in a process can
    compile beside it (`mappings.split_compile.compile_first_search`)."""
    plan = _plan(layer, accelerator, factors, objective, lambda f: (lambda: None), search_args)
    search = next(s for s in plan if s.name == (SEARCH_PERFECT if factors == "perfect" else SEARCH))
    needed = callee_closure(plan, search.after)
    return [s for s in plan if s.name in needed]


def after_first_search(plan: Sequence[CompileStep]) -> set[str]:
    """The steps of `plan` that its first search neither is nor waits for, transitively: that search is
    `SEARCH_PERFECT` where the plan has it (a mapper with "perfect" or "auto" factors, whose layers with perfect
    factors take the perfect-factor driver), else `SEARCH`. The others are the full driver's chain where the first is
    the perfect one (what the final phase, the report and a layer with residual factors call) and the warm starts."""
    names = {s.name for s in plan}
    first = SEARCH_PERFECT if SEARCH_PERFECT in names else SEARCH
    return names - callee_closure(plan, [first])


def _plan(layer: Layer, accelerator: Accelerator, factors: str, objective: str, search,
          search_args) -> list[CompileStep]:
    la, aa = layer_arrays(layer), accelerator_arrays(accelerator)
    maps, out, ws, paths = kernel_values(la, aa)
    searched = {"perfect": ("perfect",), "residual": ("residual",), "auto": ("perfect", "residual")}[factors]
    kernel = [s for s in callee_steps(la, aa) if "perfect" in searched or s.name not in PERFECT_ONLY_STEPS]
    enc = Encoding(layer, accelerator)
    genes = np.full((2, enc.size), 0.5)

    # the steps that compile by calling (not through `compile_for`) run as its steps do: `compile_run`
    @compile_run
    def decode() -> None:
        enc.decode(genes)

    @compile_run
    def helpers() -> None:      # the fitness, called as run_evolution calls it
        out_ = new_outputs.py_func(1, accelerator.num_levels)
        fitness_into(out_[0], out_[2], out_[1], 1, objective_index(objective), np.empty(1))

    @compile_run
    def warm_starts() -> None:  # what a search seeded by an earlier accelerator's mapping compiles
        enc.encode(transfer_mapping(MappingArrays.empty(1, accelerator.num_levels), accelerator, accelerator))

    # evaluate_range(lo, hi, ...): evolution._score passes two int64 row indices (the runs of rows not scored before)
    i64 = types.int64
    drivers = [CompileStep("evaluate_range", compile_for(evaluate_range, i64, i64, la, aa, maps, out, ws, paths),
                           DRIVER_STEPS)]
    if "perfect" in searched:
        drivers.append(CompileStep("evaluate_range_perfect",
                                   compile_for(evaluate_range_perfect, i64, i64, la, aa, maps, out, ws, paths),
                                   PERFECT_DRIVER_STEPS))
    # the search calls the decoder and one driver (evolution.search_kernel) by address: its code compiles beside them
    code = []
    if search_args is not None:
        calls = search_kernel(factors).calls(la, aa, enc.tables)
        args = search_args(enc, objective)
        code = [CompileStep(SEARCH_CODE, compile_for(run_evolution, *args, search_buffers(args), calls), ("helpers",))]
    # a search also loads the decoder and what its driver's paths point to (`accel_models.jit.driver_pointer`): one
    # search step per driver the mapper's layers take ("auto": the perfect one where a layer has perfect factors)
    searches = []
    for f in searched:
        driver = drivers[-1] if f == "perfect" else drivers[0]
        loaded = (driver.after + (driver.name, "decode_batch", "helpers") + tuple(s.name for s in code)
                  + (PERFECT_ONLY_STEPS if f == "perfect" else PATH_STEPS))
        searches.append(CompileStep(SEARCH_PERFECT if f == "perfect" else SEARCH, compile_run(search(f)),
                                    after=loaded))
    # the decoder calls `geometry.box` as the phases do: it loads it from the kernel's shared step ("geometry")
    return kernel + [CompileStep("decode_batch", decode, ("geometry",)), *drivers, CompileStep("helpers", helpers),
                     *code, *searches, CompileStep(WARM_STARTS, warm_starts)]
