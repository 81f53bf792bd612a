"""A numba function compiled from another's source with some of its globals bound to other values: one source, two
compiled functions (the perfect-factor driver beside the full one, `driver.evaluate_range_perfect`).

numba types every call a function's body contains, and so compiles every callee it names, whether or not a run can
reach it; it prunes before typing a branch whose condition is a global constant. A variant whose globals bind such
a flag to another value, or a callee to another function, therefore compiles only what its own branches reach. The
variant is a function of its own for numba's cache (its own name beside the original's entries; dropped with the
original's when a kernel source changes: `_freshness`).
"""
from __future__ import annotations

import types

from numba import njit


def variant(fn, **globals_):
    """Decorator: the decorated (empty) function becomes the numba function `fn` (a dispatcher) compiled from the
    same code under the decorated one's name and docstring, with `globals_` replacing its module's globals of those
    names, and `fn`'s options (`inline`, `_nrt`, ...). The globals are those of `fn`'s module when this runs (after
    its definitions); a name `fn`'s code does not use is an error."""
    py = fn.py_func
    unknown = set(globals_) - set(py.__code__.co_names)
    if unknown:
        raise ValueError(f"variant({py.__qualname__}): {', '.join(sorted(unknown))} not used by its code")

    def compile_as(named):
        scope = dict(py.__globals__)
        scope.update(globals_)
        copy = types.FunctionType(py.__code__, scope, named.__name__, py.__defaults__, py.__closure__)
        copy.__qualname__ = named.__qualname__
        copy.__module__ = named.__module__
        copy.__doc__ = named.__doc__
        options = {k: v for k, v in fn.targetoptions.items() if k != "nopython"}
        return njit(cache=True, **options)(copy)
    return compile_as
