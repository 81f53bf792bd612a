"""The cost kernel's compile plan: the callees of `evaluate_range`, each compiled on its own for the argument
types `driver.evaluate_one` passes it, so that processes starting cold can compile parts of the tree side by side.

numba compiles a callee while it infers its caller's types, one callee after the other; with `cache=True` a
compiled function is written to numba's cache, and a caller compiled later in another process loads it from
there. The steps below let several processes each compile some of the callees first (see
`mappings.split_compile`). Their types are built from the values `evaluate_range` receives, as
`evaluate_one` forwards them: a call site changed there must be followed here, else the step compiles a
specialisation nobody calls (a slower cold start, never a different result);
tests/cosearch/search/test_split_compile.py checks that the steps cover the calls.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from numba import typeof, types
from numba.core.typing.templates import Signature
from numba.experimental import function_type  # noqa: F401  (registers the type of a FunctionPointer)

from ..geometry import AcceleratorArrays, LayerArrays
from ..mapping_arrays import MappingArrays
from ..numba_cache import ensure_fresh_kernel_cache
from .accesses import level_accesses
from .counts import fold_bypass, output_partitions
from .driver import level_accesses_perfect, max_children, new_outputs
from .instances import build_classes, class_accesses, class_energy_and_cycles, class_fold_bypass, class_partitions
from .nest import check_capacity
from .residual import uniform_instances
from .sweep import sweep
from .workspace import make_workspace


class CompileStep(NamedTuple):
    """One numba compilation of a cold start: `run()` compiles one function (or loads it from numba's cache);
    `after` names the steps that compile its callees (run those first, or `run` compiles them too)."""

    name: str
    run: Callable[[], object]
    after: tuple[str, ...] = ()


def compile_for(fn, *args) -> Callable[[], object]:
    """A step's `run`: compile the numba function `fn` for the types of `args` (values, or numba types where the
    caller's type is not a value's, e.g. `types.int64` for a count computed in compiled code)."""
    sig = tuple(a if isinstance(a, types.Type) else typeof(a) for a in args)

    def run():
        ensure_fresh_kernel_cache()
        return fn.compile(sig)
    return run


def kernel_values(layer: LayerArrays, acc: AcceleratorArrays) -> tuple:
    """(maps, out, workspace) of one mapping, as `evaluate_range` receives them (built by the compiled builders'
    Python functions, so that building them compiles nothing)."""
    n_levels = acc.fanout.shape[0]
    maps = MappingArrays.empty(1, n_levels)
    out = new_outputs.py_func(1, n_levels)
    workspace = make_workspace.py_func(n_levels, max_children.py_func(acc.fanout))
    return maps, out, workspace


def driver_signature(layer: LayerArrays, acc: AcceleratorArrays) -> Signature:
    """The numba signature of `evaluate_range` (and of `evaluate_range_perfect`) as a search calls it: two int64 row
    indices, then the arrays of `kernel_values`."""
    maps, out, ws = kernel_values(layer, acc)
    return types.none(types.int64, types.int64, *(typeof(v) for v in (layer, acc, maps, out, ws)))


class FunctionPointer(types.WrapperAddressProtocol):
    """A compiled numba function `fn` passed to another one as an argument, by its address, for the signature `sig`
    (numba's first-class function type, `types.FunctionType(sig)`). numba links the code of every callee it calls by
    name into its caller and optimizes it again there, so a caller's compile cannot start before its callees' and
    pays for all of them; a callee passed by address is called through the pointer instead, so the two compile
    apart, side by side in two processes, and the caller compiles once for every callee of that signature. The call
    goes through `fn`'s C wrapper: its arguments by value, no exception passed back (one raised in `fn` is printed
    and ignored), so only functions that do not raise on the inputs they are given belong here; and an indirect call
    that numba cannot inline, so only for calls that do much work each. `fn` is compiled for `sig` (or loaded from
    numba's cache) the first time the pointer is read."""

    def __init__(self, fn, sig: Signature):
        self._fn, self._sig, self._address = fn, sig, None

    def signature(self) -> Signature:
        return self._sig

    def __wrapper_address__(self) -> int:
        if self._address is None:
            ensure_fresh_kernel_cache()
            self._fn.compile(tuple(self._sig.args))     # numba's cache keys a compile by how it is asked for: as a
            compiled = self._fn.get_compile_result(self._sig)   # call (and a plan's step) asks, by argument types
            self._address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_cfunc_wrapper_name)
        return self._address


PERFECT_DRIVER_STEPS = ("level_accesses_perfect", "check_capacity", "output_partitions", "fold_bypass")
"""The steps of `callee_steps` that `driver.evaluate_range_perfect` calls."""
PERFECT_ONLY_STEPS = ("level_accesses_perfect",)
"""The steps of `callee_steps` that only the perfect driver calls: `driver.evaluate_range` calls all the others."""


def callee_steps(layer: LayerArrays, acc: AcceleratorArrays) -> list[CompileStep]:
    """The callees of `evaluate_range` (through the inlined `evaluate_one`), the longest chain first: the uniform
    sweep, which `level_accesses` and `class_accesses` both call (as one step, each of them loads it rather than
    both compiling it side by side), then those two, the costliest (CPU seconds: mappings.compile_plan.COMPILE_COST_S,
    measured with benchmarks/bench_cold_compile.py --per-function). `PERFECT_DRIVER_STEPS` are those the
    perfect-factor driver (`evaluate_range_perfect`) calls. The functions numba inlines (`inline="always"`:
    `nest.check_shape`, `nest.loop_nest`, `links.links`, `energy.energy_and_cycles`) are no steps: their callers
    compile them."""
    ensure_fresh_kernel_cache()
    maps, out, ws = kernel_values(layer, acc)
    m = MappingArrays(*(a[0] for a in maps))                  # one mapping's rows, as evaluate_range slices them
    reads, fills, updates = out[5][0], out[6][0], out[7][0]
    i64, yes = types.int64, types.boolean                     # loop_nest's temporal loop count; a computed bool
    # the uniform sweep (with the frame walk, its steps and their links), as level_accesses and class_accesses call
    # it: (t, temporal, M, level record, is_mac, layer, groups, n_children, spatial, n_sp, fan_x, fan_y, ws, origin
    # (a record's array field), fresh)
    level, origin = typeof(ws.levels).dtype, typeof(ws.sweep).dtype.typeof("origin")
    uniform = compile_for(sweep, i64, ws.temporal, i64, level, yes, layer, i64, i64, ws.spatial, i64, i64, i64, ws,
                          origin, yes)
    return [CompileStep("sweep", uniform),
            CompileStep("level_accesses", compile_for(level_accesses, layer, acc, ws, i64, yes), ("sweep",)),
            CompileStep("level_accesses_perfect", compile_for(level_accesses_perfect, layer, acc, ws, i64, yes)),
            CompileStep("check_capacity", compile_for(check_capacity, layer.coef, acc.capacity_words,
                                                      acc.tensor_capacity_words, ws.levels)),
            CompileStep("output_partitions", compile_for(output_partitions, layer.coef, ws.loops, ws.levels,
                                                         ws.scratch)),
            CompileStep("fold_bypass", compile_for(fold_bypass, ws.levels)),
            CompileStep("uniform_instances", compile_for(uniform_instances, m)),
            CompileStep("class_accesses", compile_for(class_accesses, layer, acc, m, ws, i64), ("sweep",)),
            CompileStep("build_classes", compile_for(build_classes, m, ws)),
            CompileStep("class_partitions", compile_for(class_partitions, layer, ws, i64)),
            CompileStep("class_fold_bypass", compile_for(class_fold_bypass, ws)),
            CompileStep("class_energy_and_cycles", compile_for(class_energy_and_cycles, acc, ws, i64, reads, fills,
                                                               updates))]
