"""The cost kernel's residual and spatial-class counts passed to its drivers by address, and the drivers passed to
the search the same way.

numba links the code of every callee a function calls by name into the caller's and optimizes it again there, so a
caller cannot compile before its callees and pays for all of them. A callee passed as an argument of numba's
first-class function type is called through a pointer instead: the two compile apart, side by side in two processes
(`accel_models.jit.SplitCompile`). `Paths` holds the count the drivers take so (`instances.class_counts`), and the
costly counts the sweeps take so in turn (`Walks`: the frame walk, `sweep.walk`, and the phases' closed form,
`phases.phase_stream`, each called once per stream, and the joint sweep's step, `joint.joint_step`, which the walk
calls per step of the rare joint sweeps: linked, each would be optimized again in every function above it);
`residual_paths` gives the real ones and `perfect_paths` stubs of the same type for the perfect-factor driver, which
never calls them. The uniform sweep, `sweep.uniform_stream`, is not among them: `accesses.level_accesses` calls it by
name (a call by address cost ~11% of a temporal-class evaluation), and the perfect-factor driver's scaffold,
`accesses.level_accesses_perfect`, a stub in its place, so that a first search on perfect factors still compiles no
sweep. `driver_pointer` gives a search its driver by address with the paths that driver takes.
"""
from __future__ import annotations

import warnings

import numpy as np
from numba import njit, typeof, types
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.extending import typeof_impl
from numba.core.typing.templates import Signature
from numba.experimental import function_type  # noqa: F401  (registers the type of a FunctionPointer)

from ..geometry import AcceleratorArrays, LayerArrays
from ..mapping_arrays import MappingArrays
from .driver import Paths, Walks, evaluate_range_perfect, max_children, new_outputs
from .instances import class_counts
from .joint import joint_step
from .phases import phase_stream
from .sweep import walk
from .workspace import make_workspace

# numba warns at every compile of a function that takes or calls one by address; the kernel and the search do so by
# design (module docstring), and a user's cold start would otherwise print the warning once per such function
# (".*": numba opens the message with ANSI bold codes)
warnings.filterwarnings("ignore", ".*First-class function type", NumbaExperimentalFeatureWarning)


class FunctionPointer(types.WrapperAddressProtocol):
    """A compiled numba function `fn` passed to another one as an argument, by its address, for the signature `sig`
    (numba's first-class function type, `types.FunctionType(sig)`): the two compile apart, and the caller compiles
    once for every callee of that signature (module docstring). The call goes through `fn`'s C wrapper: its arguments
    by value, no exception passed back (one raised in `fn` is printed and ignored), so only functions that do not
    raise on the inputs they are given belong here; and an indirect call that numba cannot inline, so only for calls
    that do much work each. `fn` is compiled for `sig` (or loaded from numba's cache) the first time the pointer is
    read."""

    def __init__(self, fn, sig: Signature):
        self._fn, self._sig, self._address = fn, sig, None
        self.numba_type = types.FunctionType(sig)

    def signature(self) -> Signature:
        return self._sig

    def __wrapper_address__(self) -> int:
        if self._address is None:
            self._fn.compile(tuple(self._sig.args))     # numba's cache keys a compile by how it is asked for: as a
            compiled = self._fn.get_compile_result(self._sig)   # call (and a plan's step) asks, by argument types
            self._address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_cfunc_wrapper_name)
        return self._address


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def no_class_counts(layer, acc, m, ws, n_temporal, compute_cycles, reads, fills, updates, walks):
    """`instances.class_counts` for the perfect-factor driver: never called (as above); NaN energy if it were."""
    return np.nan, np.int64(0)


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def no_walk(joint, joint_step, t, temporal, M, tail, full, is_mac, layer, ws, origin, state, n_words, n_sums, memo,
            result):
    """`sweep.walk` for the perfect-factor driver's stubs: never called; NaN sums if it were."""
    for q in range(n_sums):
        result[q] = np.nan


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def no_joint_step(t, off, full, is_mac, layer, n, n_children, ws, out):
    """`joint.joint_step` for the perfect-factor driver's stubs: never called; NaN sums if it were."""
    out[0] = np.nan


@njit(cache=True, no_cpython_wrapper=True, _nrt=False)
def no_phase_stream(t, temporal, M, full, layer, origin, pool, n_cand):
    """`phases.phase_stream` for the perfect-factor driver's stubs: never called; NaN fills if it were."""
    return np.nan


def path_stubs() -> tuple:
    """The stubs `perfect_paths` points to, in the order of `path_signatures`."""
    return no_class_counts, no_walk, no_joint_step, no_phase_stream


def kernel_arrays(layer: LayerArrays, acc: AcceleratorArrays) -> tuple:
    """(maps, out, workspace) of one mapping, as `evaluate_range` receives them (built by the compiled builders'
    Python functions, so that building them compiles nothing)."""
    n_levels = acc.fanout.shape[0]
    maps = MappingArrays.empty(1, n_levels)
    out = new_outputs.py_func(1, n_levels)
    workspace = make_workspace.py_func(n_levels, max_children.py_func(acc.fanout))
    return maps, out, workspace


def path_signatures(layer: LayerArrays, acc: AcceleratorArrays) -> tuple[Signature, ...]:
    """The numba signatures of `class_counts`, `walk`, `joint_step` and `phase_stream`, with the argument types their
    callers pass (`evaluate_range`'s call of `class_counts`, the sweeps' of the walk, the walk's of the joint step,
    the uniform sweep's of the phases); the last argument of `class_counts`' is the `Walks` type."""
    maps, out, ws = kernel_arrays(layer, acc)
    m = MappingArrays(*(a[0] for a in maps))                  # one mapping's rows, as evaluate_range slices them
    rows = typeof(out.reads[0])                                  # reads / fills / updates of one mapping [L, 3]
    i64, f64, yes = types.int64, types.float64, types.boolean
    level = typeof(ws.levels).dtype
    la, aa, wt, temporal = typeof(layer), typeof(acc), typeof(ws), typeof(ws.temporal)
    memo, words = typeof(ws.memo).dtype, types.Array(types.int64, 1, "C")
    # the walk's origin and state, the phases' origin: slices of a record's arrays (an array whatever its length);
    # the walk's sums: the sweep record's; the joint step's offsets: a frame record's, as the walk's own offsets
    extents, sums = level.typeof("extents"), typeof(ws.sweep).dtype.typeof("result")
    step = types.none(i64, typeof(ws.frames).dtype.typeof("base"), extents, yes, la, i64, i64, wt, sums)
    walk_ = types.none(yes, types.FunctionType(step), i64, temporal, i64, i64, extents, yes, la, wt, words, words, i64,
                       i64, memo, sums)
    phases = f64(i64, temporal, i64, extents, la, words, memo.typeof("pool"), i64)
    walks = types.NamedTuple([types.FunctionType(sig) for sig in (walk_, step, phases)], Walks)
    classes = types.Tuple((f64, i64))(la, aa, typeof(m), wt, i64, i64, rows, rows, rows, walks)
    return classes, walk_, step, phases


@typeof_impl.register(FunctionPointer)
def _typeof_pointer(val, c):
    return val.numba_type


@typeof_impl.register(Walks)
def _typeof_walks(val, c):
    return types.NamedTuple([typeof(v) for v in val], Walks)


_PATHS: dict[bool, tuple[Paths, types.Type]] = {}
"""Per `perfect`, the process's paths and their numba type (the kernel arrays' types are the same for every layer
and accelerator, so the paths are built once)."""


@typeof_impl.register(Paths)
def _typeof_paths(val, c):
    # numba types a call's arguments at every call: the paths' signatures are large records, whose type numba would
    # build anew each time (~40 us of a call from Python); a call that evaluates one mapping takes ~20 us in all
    for paths, numba_type in _PATHS.values():
        if val is paths:
            return numba_type
    return types.NamedTuple([typeof(v) for v in val], Paths)


def residual_paths(layer: LayerArrays, acc: AcceleratorArrays, perfect: bool = False) -> Paths:
    """The paths of `layer` and `acc`'s kernel arrays (`perfect`: the stubs), built once per process: building them
    compiles nothing, the first call that passes them compiles (or loads) what they point to."""
    if perfect not in _PATHS:
        sigs = path_signatures(layer, acc)
        fns = path_stubs() if perfect else (class_counts, walk, joint_step, phase_stream)
        classes, *walks = (FunctionPointer(fn, sig) for fn, sig in zip(fns, sigs))
        walks = Walks(*walks)
        paths = Paths(classes, walks)
        _PATHS[perfect] = paths, types.NamedTuple([classes.numba_type, typeof(walks)], Paths)
    return _PATHS[perfect][0]


def perfect_paths(layer: LayerArrays, acc: AcceleratorArrays) -> Paths:
    """`residual_paths`' stubs, for the perfect-factor driver."""
    return residual_paths(layer, acc, perfect=True)


def driver_signature(layer: LayerArrays, acc: AcceleratorArrays) -> Signature:
    """The numba signature of `evaluate_range` (and of `evaluate_range_perfect`) as a search calls it: two int64 row
    indices, then the arrays of `kernel_arrays`, then the paths."""
    args = (layer, acc, *kernel_arrays(layer, acc), residual_paths(layer, acc))
    return types.none(types.int64, types.int64, *(typeof(v) for v in args))


def driver_pointer(driver, layer: LayerArrays, acc: AcceleratorArrays) -> tuple:
    """(`driver` by address, the paths it takes): what a compiled search calls as `pointer(lo, hi, layer, acc, maps,
    out, ws, paths)`; the perfect-factor driver takes the stubs."""
    paths = perfect_paths(layer, acc) if driver is evaluate_range_perfect else residual_paths(layer, acc)
    return FunctionPointer(driver, driver_signature(layer, acc)), paths
