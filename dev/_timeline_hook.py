"""Records, in every Python process of a command, what a cold start spends its wall time on: numba's compilations,
the shared compile's steps and waits, the plan's building, the study's loading and the trials. Used by
`bench_cold_compile.py --timeline`, which puts a `sitecustomize` importing this module on the command's PYTHONPATH
with `COSEARCH_TIMELINE_DIR` naming the folder where each process writes its events (one JSON line each, `PID.jsonl`):
kind, name, wall start and end (epoch s), CPU start and end (process s), nesting depth of numba compilations.

It wraps functions as their modules finish loading (an import hook), so the code it times is not changed; a module
that is not loaded is not timed.
"""
from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
import time

_FOLDER = os.environ.get("COSEARCH_TIMELINE_DIR")
_LOCK = threading.Lock()
_DEPTH = threading.local()

WRAPPED = {
    "accel_models.jit._schedule": [("SplitCompile", "_run", "step"), ("SplitCompile", "start", "split.start"),
                                   ("SplitCompile", "finish", "split.finish")],
    "cosearch.search.worker_compile": [(None, "compile_plan", "plan"), (None, "plan_inputs", "plan_inputs")],
    "cosearch.search.trial": [("TrialObjective", "__call__", "trial"), ("TrialObjective", "__init__", "objective")],
    "cosearch.search.workers": [(None, "_resumable", "resumable")],
    "mappings.compile_plan": [(None, "_plan", "plan_steps")],
    "cosearch.search.driver": [(None, "check_feasible", "check_feasible")],
    "cosearch.search.study": [(None, "load_study", "load_study"), (None, "prepare_study", "prepare_study")],
    "cosearch.search.out_folder": [(None, "claim_out", "claim_out")],
    "cosearch.search.accuracy": [(None, "accuracy_model", "accuracy_model")],
    "cosearch.command": [(None, "main", "command.main")],
}
"""module -> (class or None, attribute, kind) of the functions timed."""


def emit(kind: str, name: str, w0: float, c0: float, depth: int = 0) -> None:
    """Append one event (now as its end) to this process's file."""
    row = {"kind": kind, "name": name, "w0": w0, "w1": time.time(), "c0": c0, "c1": time.process_time(),
           "depth": depth}
    with _LOCK, open(os.path.join(_FOLDER, f"{os.getpid()}.jsonl"), "a") as f:
        f.write(json.dumps(row) + "\n")


def _timed(fn, kind: str):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        w0, c0 = time.time(), time.process_time()
        name = getattr(args[1], "name", "") if kind == "step" else ""
        try:
            return fn(*args, **kwargs)
        finally:
            emit(kind, name, w0, c0)
    return run


class _Listener:
    """numba's compile events (real compiles only: a load from the cache fires none), nested."""

    def __init__(self, event) -> None:
        class L(event.Listener):
            def on_start(self, ev):
                stack = _DEPTH.__dict__.setdefault("stack", [])
                stack.append((time.time(), time.process_time()))

            def on_end(self, ev):
                stack = _DEPTH.__dict__.setdefault("stack", [])
                w0, c0 = stack.pop()
                d = ev.data.get("dispatcher")
                name = f"{d.py_func.__module__}.{d.py_func.__qualname__}" if d is not None else "?"
                emit("compile", name, w0, c0, len(stack))
        event.register("numba:compile", L())


def _after_load(name: str, module) -> None:
    if name == "numba.core.event":
        _Listener(module)
    for owner, attr, kind in WRAPPED.get(name, ()):
        target = getattr(module, owner) if owner else module
        setattr(target, attr, _timed(getattr(target, attr), kind))
    if name in WRAPPED or name == "numba.core.event":
        emit("loaded", name, _START_W, _START_C)


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the loaders of the modules in `WRAPPED` (and numba's event module) to run `_after_load`."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in WRAPPED and fullname != "numba.core.event":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def run(module):
            exec_module(module)
            _after_load(fullname, module)
        spec.loader.exec_module = run
        return spec


_START_W, _START_C = time.time(), time.process_time()
if _FOLDER:
    try:
        with open("/proc/self/cmdline", "rb") as f:
            _ARGV = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:     # not Linux: the arguments known so far
        _ARGV = " ".join(sys.argv)
    emit("process", _ARGV, _START_W, _START_C)
    sys.meta_path.insert(0, _Finder())
