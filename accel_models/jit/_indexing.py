"""Array indices without Python's negative wrap in the project's own numba functions.

numba gives a signed integer index Python's meaning: before each access it compares the index with 0 and, if it
is negative, adds the dimension's length (a compare and a select). LLVM drops that pair only where it can prove the
index non-negative, which it mostly cannot for indices read from data: a dim taken from a loop record, a node's
offset in a scratch pool, a count built up in a loop. In the cost kernel those pairs sit on the chains of dependent
loads that its time goes to. numba skips the pair for an
unsigned index (numba pull request #929) but offers no switch to skip it for a signed one, and an unsigned index
in the kernels' arithmetic would turn every sum it enters into a float (numba's rule for int64 with uint64).

So this module replaces numba's helper that emits the pair for an array's integer index
(`numba.np.arrayobj.fix_integer_index`) with one that leaves the index as it is when the function being compiled
belongs to one of the project's kernel packages (`_freshness.KERNEL_PACKAGES`, read from the compiled function's
name, which numba builds from its module). Every other function, numba's own and a user's included, and every slice
keep Python's meaning. In the kernel packages an index below zero is therefore an error (it reads outside the
array), never "from the end", whether computed or a named constant: numba passes the indices of `a[-1, j]` as a
tuple, so its -1 reaches the helper as a computed value (only a one-dimensional literal such as `a[-1]` arrives as a
constant, which keeps the wrap). None is written so, which `tests/accel_models/test_numba_indexing.py` checks by
running the kernels with numba's bounds check on, where such an index raises IndexError.

Written here rather than taken from a library because none offers it; measured: +10-14% perfect-mapping, +15%
temporal-class and +20% residual-mapping evaluations/s on `benchmarks/bench_cost_model.py`, ~20% less time a decode. If
numba's helper is not where this module expects it (another numba version), nothing is
replaced and the kernels compile with the wrap, as before; `RULE` then says so, and the kernel cache's stamp carries
it (`_freshness`), so that code compiled under one rule is never loaded under the other.
"""
from __future__ import annotations

import inspect
import threading

from llvmlite import ir
from numba.core import types

try:
    from numba.np import arrayobj
except ImportError:                 # another numba's layout: the kernels keep the wrap
    arrayobj = None

_lock = threading.Lock()
RULE = "wrap"
"""The rule the kernel packages are compiled under in this process: "wrap" (numba's own) or "no-wrap:" followed by
the packages, once `skip_negative_wrap` has installed the replacement."""


def _mangled_prefixes(packages: tuple[str, ...]) -> tuple[str, ...]:
    """The start of numba's (Itanium-style) mangled name of a function in each package: `_ZN`, then the package's
    name with its length before it (`accel_models.kernel.driver.f` -> `_ZN12accel_models6kernel6driver1f...`)."""
    return tuple(f"_ZN{len(p)}{p}" for p in packages)


def skip_negative_wrap(packages: tuple[str, ...]) -> str:
    """Compile the functions of `packages` without the negative-index wrap from now on (this process); returns
    `RULE`. Idempotent; called once per process before the first kernel compiles or loads
    (`_freshness.ensure_fresh_kernel_cache`)."""
    global RULE
    with _lock:
        if RULE != "wrap":           # installed already
            return RULE
        original = getattr(arrayobj, "fix_integer_index", None)
        if original is None or list(inspect.signature(original).parameters) != [
                "context", "builder", "idxty", "idx", "size"]:
            return RULE
        prefixes = _mangled_prefixes(packages)

        def fix_integer_index(context, builder, idxty, idx, size):
            """numba's index fix, without the negative wrap for a computed signed index in a kernel package."""
            if (not idxty.signed or isinstance(idx, ir.Constant)
                    or not builder.function.name.startswith(prefixes)):
                return original(context, builder, idxty, idx, size)
            return context.cast(builder, idx, idxty, types.intp)

        arrayobj.fix_integer_index = fix_integer_index
        RULE = "no-wrap:" + ",".join(packages)
        return RULE
