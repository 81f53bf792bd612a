"""A compile plan's steps: `CompileStep`, and the runs that compile one numba function (or load it from numba's
cache) for given argument types, each from a frame with stack headroom and with the cyclic collector paused.

numba compiles a callee while it infers its caller's types, one callee after the other; with `cache=True` a compiled
function is written to numba's cache, and a caller compiled later in another process loads it from there. A plan's
steps compile callees first, so that processes starting cold can share them (`_schedule`).
"""
from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import FunctionType
from typing import NamedTuple, TypeVar

from numba import typeof, types



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

    @compile_run
    def run():
        return fn.compile(sig)
    return run


def compile_each(*runs: Callable[[], object]) -> Callable[[], object]:
    """A step's `run` that runs several `compile_for` runs in turn (one step for small functions compiled together)."""
    def run():
        return [r() for r in runs]
    return run


T = TypeVar("T")

_HEADROOM_SLOTS = 1 << 15
"""Stack slots (8 bytes each) that `_on_fresh_stack_chunk`'s frame reserves and never uses: 256 KB, ~10x the deepest
Python stack a compile step of the plan was seen to reach (162 frames, ~3,100 slots, in `copy.deepcopy` under
numba's inliner)."""


def _call(fn: Callable[[], T]) -> T:
    return fn()


try:
    _on_fresh_stack_chunk = FunctionType(_call.__code__.replace(co_stacksize=_call.__code__.co_stacksize
                                                                + _HEADROOM_SLOTS), globals(), "_on_fresh_stack_chunk")
except (TypeError, ValueError):     # an interpreter whose code objects take no such size: the plain call
    _on_fresh_stack_chunk = _call
_on_fresh_stack_chunk.__doc__ = """`fn()` called from a frame that starts a fresh chunk of CPython's frame stack.

CPython (3.11 to 3.13 at least) allocates its frames in chunks of 16 KB and frees a chunk as soon as the frame at
its start returns, so a recursion whose depth keeps crossing a chunk's end maps and unmaps a chunk at nearly every
call. numba's inliner copies the IR of every inlined call site with the recursive `copy.deepcopy`, so a compile's
CPU depended on the Python depth it happened to start at: `phases.phase_stream` took 5.6 s from this frame and
6.2-18 s from the depths its callers were at. This frame reserves `_HEADROOM_SLOTS` slots: it never fits the chunk in
use, so Python gives it a
chunk of twice its size, and the compile's frames run in the half left over, far from the chunk's end."""


def compile_run(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn`, the work of a compile step (a numba compile, or a call that compiles), run as every step runs it: from a
    frame with stack headroom (`_on_fresh_stack_chunk`) and with the cyclic collector paused
    (`young_garbage_only`)."""
    def paused() -> T:
        with young_garbage_only():
            return fn()

    @functools.wraps(fn)
    def run() -> T:
        return _on_fresh_stack_chunk(paused)
    return run


@contextmanager
def young_garbage_only() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a numba compile, then run once over what the compile allocated.

    A compile allocates millions of short-lived objects (numba's IR, copied once per block at every inlined call
    site, its type maps, llvmlite's wrappers), which keep triggering the collector; its full collections traverse
    every object of the process, numba's type and compile caches included, so that a cold compile spent about a fifth
    of its CPU in them. Paused, every object the compile allocates stays in
    the youngest generation, and one collection of that generation afterwards frees the compile's garbage cycles
    without traversing the older objects; the memory the process holds grows by one compile's garbage at most."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def callee_closure(steps: Sequence[CompileStep], names: Iterable[str]) -> set[str]:
    """The steps named in `names` with every step they wait for (`CompileStep.after`), transitively: what must be
    compiled before them (names that are no step of `steps` are left out)."""
    by_name = {s.name: s for s in steps}
    closure, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in by_name and name not in closure:
            closure.add(name)
            todo.extend(by_name[name].after)
    return closure
