"""The co-search's worker processes share a cold numba compile (`accel_models.jit.SplitCompile`, the schedule): the plan
is their mapper's (`compile_plan`), built on one layer and design of the run (`plan_inputs`).

On a fresh clone every worker process would compile the same numba tree, the mapper's search over the cost kernel
and the decoder (~70 s CPU each, on both cores at once). With the shared plan, on two workers one compiles the
kernel's longest callee while the other compiles the rest beside it, and the search is compiled once, with its
callees loaded from the cache. `cosearch warm-up` runs the same schedule ahead of the first run, and a run in one
process on a cold cache with a helper process beside it (`compile_beside`).
"""
from __future__ import annotations

import pickle
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accel_models import Accelerator, MappingArrays, jit, kernel
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.jit import (MAX_WAIT_S, CompileStep, SplitCompile, helper_would_help, register_step_costs,
                              start_helper, stop_helper)
from mappings import MappingCache
from mappings.compile_plan import after_first_search
from mappings.evolution import search_kernel
from nets import Layer, get_space, largest_config, to_network

from ..config import CoSearchSettings
from ..fusion.modes.resident_screen import compile_steps as resident_compile_steps
from .space import AcceleratorSpace


def plan_inputs(settings: CoSearchSettings) -> tuple[Layer, Accelerator]:
    """The layer and design a compile plan is built on: the first layer of the trial's network and the middle
    design of the accelerator space (types, not values, decide what numba compiles)."""
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.5 for g in space.genes}, name="compile-plan")
    network = (to_network(largest_config(get_space(settings.space))) if settings.searches_subnet
               else settings.network.build())
    return network.layers[0], design.accelerator


def compile_plan(settings: CoSearchSettings) -> list[CompileStep]:
    """The compile plan of a trial's mapper searches, as the mapper strategy gives it (`MapperStrategy.compile_plan`),
    on `plan_inputs`, and under `--fusion resident` the compiled planner of its screened plans
    (`fusion.modes.resident_screen.compile_steps`)."""
    layer, accelerator = plan_inputs(settings)
    plan = settings.mapper.strategy.compile_plan(layer, accelerator, MappingCache(settings.mapper),
                                                 settings.mapper_objective)
    return plan + (resident_compile_steps() if settings.fusion == "resident" else [])


def worker_split(plan: list[CompileStep], folder: Path, say=None) -> SplitCompile:
    """A worker process's share of `plan` (`SplitCompile` in `folder`): its first trial waits for the steps of the
    plan's first search (`mappings.compile_plan.after_first_search` names the others `later`). Under "perfect" or
    "auto" factors that is the perfect-factor driver's chain, not the residual paths (in a run whose workers each
    run one trial, whose searches all take the full driver, that driver's chain: `cosearch.config.make_settings`):
    the warm starts (earlier trials' mappings, which a first trial has none of) and the full driver (the final
    phase's and report's, and a search with residual factors, which completes the split first) follow it."""
    return SplitCompile(plan, folder, say=say, later=after_first_search(plan))

ENTRY_COST_S = {"evaluate_batch_parallel": 11.4, "resident screen planner": 10.3, "resident screen prices": 5.1,
                "resident weight gain": 0.5}
"""CPU seconds of the cost model's entry-point steps (`entry_point_steps`), from a run of `python
benchmarks/bench_cold_compile.py --per-function`, and of the resident planner's (`compile_plan`, each step timed
alone on a cold cache); the mapper's are `mappings.compile_plan.COMPILE_COST_S`."""
register_step_costs(ENTRY_COST_S)


def entry_point_steps(layer, accelerator) -> list:
    """The cost model's compiled entry points beyond the mapper's plan, on `layer` and `accelerator`: `evaluate_batch`
    on a large batch (`kernel.evaluate_batch_parallel`: `mappings.random_valid_mappings` of the README's first
    Python example draws 40,000), after the kernel's callees and the mapper plan's `evaluate_range` step, whose
    compiled driver it links. Small batches and `explain` (a run's final phase and report) call that driver from
    Python (`kernel.entries`): they compile nothing more."""
    la, aa = layer_arrays(layer), accelerator_arrays(accelerator)
    after = jit.DRIVER_STEPS + ("evaluate_range",)
    paths = jit.residual_paths(la, aa)     # by address: a call loads what they point to (`jit.PATH_STEPS`)
    batch = MappingArrays.empty(1, accelerator.num_levels)
    out = kernel.new_outputs.py_func(1, accelerator.num_levels)          # as `kernel.entries` allocates them
    return [CompileStep("evaluate_batch_parallel", jit.compile_for(kernel.parallel_batch, la, aa, batch, paths, out),
                        after)]


@contextmanager
def compile_beside(settings) -> Iterator[SplitCompile | None]:
    """A one-process co-search's compile shared with a helper process, on a cold numba cache: yields the `SplitCompile`
    of the trial's mapper plan (`compile_plan`, `worker_split`) for the run's worker to take steps of, while the
    helper takes steps of the same plan, as two workers of a run would (`cosearch.search.workers`); the plan holds
    the full driver, which the run's final phase and report call from Python (`kernel.entries`). None (nothing
    shared) where the helper would not help (`accel_models.jit.helper_would_help`: a warm cache, one core);
    the run's worker takes the steps its trials left beside the helper before it returns (`run_worker`). On leaving,
    the helper is given the time to finish its steps (at most `MAX_WAIT_S`), or stopped at once if the run ended on
    an exception (an interrupt)."""
    factors = settings.mapper.factors
    with tempfile.TemporaryDirectory(prefix="cosearch-compile-") as folder:
        try:
            plan = compile_plan(settings) if helper_would_help(search_kernel(factors), factors) else []
            if plan:
                (Path(folder) / "settings.pickle").write_bytes(pickle.dumps(settings))
                helper = start_helper(Path(folder), "import sys; from cosearch.search.worker_compile import "
                                                    "_helper_main; _helper_main(sys.argv[1])")
        except Exception as exc:    # no plan, or settings that do not pickle: the run compiles alone
            print(f"split compile: no helper ({type(exc).__name__}: {exc})", file=sys.stderr)
            plan = []
        if not plan:        # a warm cache, or a strategy with nothing compiled to share
            yield None
            return
        split = worker_split(plan, Path(folder), say=lambda text: None)
        try:
            yield split
        except BaseException:
            stop_helper(helper, 0)
            raise
        stop_helper(helper, MAX_WAIT_S)


def _helper_main(folder: str) -> None:
    """The helper of `compile_beside`: steps of the run's plan."""
    settings = pickle.loads((Path(folder) / "settings.pickle").read_bytes())
    split = SplitCompile(compile_plan(settings), Path(folder), say=lambda text: print(text, file=sys.stderr))
    split.start()
    split.finish()


__all__ = ["plan_inputs", "compile_plan", "worker_split", "entry_point_steps", "compile_beside", "ENTRY_COST_S"]
