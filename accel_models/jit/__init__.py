"""Compilation's one home: how the project's numba kernels are compiled, cached and shared between processes.

The cost model (`accel_models.kernel`) and the mapper's kernels (`mappings`) are numba functions compiled on first
use and kept in numba's on-disk cache. The machinery that gets them compiled lives here, apart from the model; the
packages above add only what is theirs: the mapper its compile plan's steps (`mappings.compile_plan`) and the helper
beside a first search (`mappings.split_compile`), the co-search its workers' share and the `warm-up` command
(`cosearch.search.worker_compile`, `cosearch.command_warm_up`), each registering its steps' measured costs
(`register_step_costs`).

- `_freshness`: the cache guard. numba keys a cached function on its own file only, so a change in a callee or a
  constant it imports from another file would leave stale code in the cache; `ensure_fresh_kernel_cache()` clears
  the cache folders whose kernel sources changed, once per process, before the first kernel loads or compiles.
  numba's dispatchers call it themselves (`_freshness._guard_at_compile`), so no caller of a kernel does.
- `_indexing`: the rule the kernel packages' array indices are compiled under (no negative wrap), installed by the
  guard.
- `_variants`: a numba function compiled from another's source with some globals rebound (the perfect-factor driver).
- `_steps` and `_kernel_plan`: a compile plan, the steps a cold start compiles (`CompileStep`), and the cost kernel's
  own steps (`callee_steps`); the mapper adds its steps to those (`mappings.MapperStrategy.compile_plan`).
- `_schedule`: processes starting on a cold cache share a plan's steps (`SplitCompile`), each compiling what no other
  has taken and loading the rest from numba's cache; a helper process beside a first search (`start_helper`).

The kernels' by-address calls (`FunctionPointer`, `driver_pointer`: a caller that compiles apart from its callee)
are the kernel's (`accel_models.kernel.paths`), re-exported here for the mapper's search.
"""
from importlib import import_module

from ._freshness import (KERNEL_PACKAGES, cache_dir_problem, cache_folder, drop_stale_kernels,
                         ensure_fresh_kernel_cache, guard_has_run)
from ._schedule import (HELPER_ENV, MAX_WAIT_S, SplitCompile, chain_cost_s, helper_would_help, open_split,
                        register_step_costs, schedule_s, start_helper, stop_helper)
from ._steps import CompileStep, callee_closure, compile_for, compile_run
from ._variants import variant

_FROM_THE_KERNEL = {
    **dict.fromkeys(("DRIVER_STEPS", "PATH_STEPS", "PERFECT_DRIVER_STEPS", "PERFECT_ONLY_STEPS", "SHARED_STEPS",
                     "callee_steps", "kernel_values"), "._kernel_plan"),
    **dict.fromkeys(("FunctionPointer", "Paths", "driver_pointer", "driver_signature", "kernel_arrays",
                     "perfect_paths", "residual_paths"), "..kernel.paths")}
"""The names that import the kernel, read on first use: the kernel's own modules import this package (`variant`),
so importing it must not import them back."""


def __getattr__(name: str):
    if name in _FROM_THE_KERNEL:
        value = getattr(import_module(_FROM_THE_KERNEL[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ensure_fresh_kernel_cache", "guard_has_run", "drop_stale_kernels", "cache_dir_problem", "cache_folder",
           "KERNEL_PACKAGES", "CompileStep", "compile_for", "compile_run", "callee_closure", "variant", "callee_steps",
           "kernel_values", "kernel_arrays", "DRIVER_STEPS", "PERFECT_DRIVER_STEPS", "PATH_STEPS", "PERFECT_ONLY_STEPS",
           "SHARED_STEPS", "FunctionPointer", "Paths", "driver_pointer", "driver_signature", "residual_paths",
           "perfect_paths", "SplitCompile", "chain_cost_s", "schedule_s", "register_step_costs", "open_split",
           "helper_would_help", "start_helper", "stop_helper", "MAX_WAIT_S", "HELPER_ENV"]
