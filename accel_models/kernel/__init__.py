"""The compiled cost model: Timeloop's counts in closed form, many mappings of one layer at once.

Public for compiled callers (the mappers' search loop calls `evaluate_range` from numba); Python callers
use `cost_model.evaluate_batch`. Plain arrays in (`geometry.LayerArrays`, `geometry.AcceleratorArrays`,
`MappingArrays`), plain arrays out; `cost_model.evaluate_batch` wraps it. The semantics are those of
`reference.evaluate` (the literal walk of the rules R1-R8 of docs/cost_model.md, F1-F10 of docs/imperfect.md), whose
steps the modules follow:
`nest` (the checks and the loop nest, R1), `accesses` (per level and tensor: fills R2, parent accesses R3-R4),
`fills` (the fill rule R2's one entry: which code counts a stream), `counts` (the closed form for perfect
mappings, partitions R6, the bypass fold R5), `links` (multicast and neighbour links, R3), `energy` (cycles R7,
energy R8) and `driver` (one mapping, and the batch drivers: the full one, and `evaluate_range_perfect` for
searches without residual factors, compiled from the same source). A mapping with residual loops has its streams
counted step by step by `sweep` (one memoized frame walk over the carried state of `state`: the step rule R2 and the
memo) with the step of `residual`; one whose instances under a fan-out do
unequal work is counted per class of equal instances by `instances`, with `joint` (the step of unequal children
counted together). `workspace` holds the records they share; `words` copies scratch words one load at a time
where a merged vector load would wait on the stores just before it. The drivers take those two kinds of count by
address (`paths`), so that they compile apart from them; `entries` binds them for Python callers. Tests hold the
kernel equal to the walk.

Compile time (a fresh clone compiles this tree on its first search; `benchmarks/bench_cold_compile.py`):
numba compiles a callee once per distinct argument types, and it types a call while the caller's own types
are still being inferred, so a variable started from a constant (`n = 0`, later `n = f(...)`) first
reaches the call as Literal[int](0) and the callee is compiled twice. Such variables start as
`np.int64(0)`. Slice copies between arrays (`a[:] = b`) are written as loops: their shape check compiles
numba's error-message formatting (seconds) into every caller; np.argsort likewise (its quicksort).
Functions that only compiled code calls are compiled without a CPython wrapper (`no_cpython_wrapper`).
`inline="always"` re-runs numba's front end at every call site: it stays on the small helpers whose call
measurably slowed the kernel (`lattice_ok` as a call: 8-12% fewer evaluations/s), not on `geometry.box`, and on
the steps called once per mapping or (level, tensor) whose call passed the mapping's nine arrays or the layer's and
the workspace's (~150-300 instructions a call): `nest.check_shape`, `nest.loop_nest`, `energy.energy_and_cycles`
into the driver's loop, `links.links` into `fills.stream_fills` (`links` alone ~11% more evaluations/s). Inlining
`accesses.level_accesses` that way as well gained nothing and cost ~10 s of cold compile. numba copies an inlined
function's IR once per block, each copy with the function's whole scope, so a large inlined body costs its blocks
times its variables; inlined in turn into another function it is copied again at its grown size. The large steps are
therefore inlined where they are called from a compiled (not inlined) function: the driver's loop holds its
per-mapping steps itself, and `fills.stream_fills` calls `links` itself rather than through the inlined
`counts.closed_form_fills`.
Where a large function's call costs run time but numba's copy would cost compile time, `forceinline=True` has LLVM
inline the compiled function into its caller instead (numba links a callee's IR into the caller's module anyway):
`phases._compose`, called once per node of the phases' trees (~7 a stream), gives ~12% more temporal-class
evaluations/s that way for no measurable compile time, against +3.4 s of CPU as `inline="always"`; and
`accesses.level_accesses`, whose call passed the layer's, the accelerator's and the workspace's arrays field by field
once per mapping, ~4% more perfect-mapping evaluations/s, its compile unchanged; and `fills.stream_fills`, the fill
rule's one entry, which `level_accesses` calls once per (level, tensor): the evaluations/s of its code written into
`level_accesses`, for ~0.5 s more CPU in the `level_accesses` compile steps (its own function's compile). numba hands
the option down to every function it compiles from inside such a function unless that function sets it itself, and
LLVM then inlines those too (with `level_accesses`, the links' rare paths `_try_link` and `_still_links`: about
half the gain lost). So every compiled function a `forceinline` function reaches by name sets `forceinline=False`
(`tests/accel_models/test_kernel_inlining.py` checks it).

Speed on random mappings (`benchmarks/bench_cost_model.py`): the time goes to long chains of dependent loads and
data-dependent branches rather than to arithmetic, so changes are measured, not reasoned: a loop over a row of 8
whose length LLVM does not know (`tf.shape[1]`) is vectorized where a `range(N_DIMS)` (a constant) is unrolled into
scalar code (`check_shape`, instances used and compute cycles in the driver); rewrites that traded the nest's inside-out
walk for closed-form steps, branch-free candidates for branches, or zeroing-then-accumulating scratch vectors for
registers measured slower and are not here.

Indices: in the kernel packages (`accel_models.jit.KERNEL_PACKAGES`) numba compiles a signed index without Python's
negative wrap (`accel_models.jit._indexing`: ~10% more perfect-mapping, ~15% more temporal-class evaluations/s), so
an index below zero, computed or a named constant (`a[ROW, j]` with ROW = -1), reads outside the array instead of
from its end: write `a[n - 1]`. `python -m pytest -m boundscheck` runs the kernels with numba's bounds check.

Reference counting: the functions of the per-mapping path (and `geometry.box` / `project`) are compiled with
numba's `_nrt=False` option (a leading underscore: numba's own, not public API). Their arrays are borrowed
views (`kernel_views.borrow`) or fields of the workspace's records, which carry no reference, yet numba still
called NRT_incref / NRT_decref on every array a function binds: a function taking the workspace and the
layer made some 40 such calls on entry and exit. Without them the kernel evaluates ~35% more mappings per
second (`benchmarks/bench_cost_model.py`). The flag also keeps the path allocation-free: numba refuses to
compile an array allocation in such a function.
"""
from .driver import Outputs, evaluate_range, evaluate_range_perfect, max_children, new_outputs, parallel_batch
from .entries import evaluate_batch_parallel, evaluate_batch_serial, instance_classes
from .workspace import MAX_LEVELS, Workspace, make_workspace

__all__ = ["evaluate_batch_parallel", "evaluate_batch_serial", "evaluate_range", "evaluate_range_perfect",
           "Outputs", "new_outputs", "instance_classes", "max_children", "make_workspace", "Workspace", "MAX_LEVELS",
           "parallel_batch"]
