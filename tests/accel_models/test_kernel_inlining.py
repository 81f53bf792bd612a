"""The kernel's `forceinline` functions stop the option at their compiled callees.

numba hands `forceinline=True` down to every function it compiles from inside a function carrying it, unless that
function sets the option itself; LLVM then inlines those callees too, rare paths included, and which callees get it
would depend on what the process had compiled before (`accel_models.kernel`'s docstring). So every compiled function
a `forceinline` function reaches by name (directly, or through the `inline="always"` helpers numba copies into it)
sets the option explicitly. Read from the sources and the dispatchers' options: nothing is compiled here.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

from numba.core.registry import CPUDispatcher

from _source_imports import modules, resolve


def _kernel_functions() -> dict[str, CPUDispatcher]:
    """Every numba function defined in a module of `accel_models.kernel`, by qualified name."""
    found = {}
    for name in modules(("accel_models",)):
        if name.startswith("accel_models.kernel."):
            for attr, value in vars(importlib.import_module(name)).items():
                if isinstance(value, CPUDispatcher) and value.__module__ == name:
                    found[f"{name}.{attr}"] = value
    return found


def _named_callees(function: CPUDispatcher) -> list[CPUDispatcher]:
    """The numba functions `function`'s body calls by a global name (`f(...)`, `module.f(...)`; not a name its
    arguments or locals shadow)."""
    py = function.py_func
    local = set(py.__code__.co_varnames)
    callees = []
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(py)))):
        if not isinstance(node, ast.Call):
            continue
        root = node.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id not in local:
            target = resolve(node.func, py.__globals__)
            if isinstance(target, CPUDispatcher):
                callees.append(target)
    return callees


def _compiled_callees(function: CPUDispatcher) -> list[CPUDispatcher]:
    """The compiled (not `inline="always"`) functions `function` reaches, through the inlined ones."""
    seen, todo, compiled = set(), [function], []
    while todo:
        for callee in _named_callees(todo.pop()):
            if id(callee) in seen:
                continue
            seen.add(id(callee))
            if callee.targetoptions.get("inline") == "always":
                todo.append(callee)
            else:
                compiled.append(callee)
    return compiled


def _forceinlined() -> dict[str, CPUDispatcher]:
    return {name: f for name, f in _kernel_functions().items() if f.targetoptions.get("forceinline")}


def test_the_forceinline_functions_are_the_measured_ones():
    # each was measured inlined by LLVM (its figures in `accel_models.kernel`'s docstring); another needs its own
    assert sorted(_forceinlined()) == ["accel_models.kernel.accesses.level_accesses",
                                       "accel_models.kernel.accesses.level_accesses_perfect",
                                       "accel_models.kernel.fills.stream_fills",
                                       "accel_models.kernel.fills.stream_fills_perfect",
                                       "accel_models.kernel.phases._compose"]


def test_their_compiled_callees_do_not_inherit_the_option():
    inheriting = [f"{name} -> {callee.py_func.__module__}.{callee.py_func.__name__}"
                  for name, function in _forceinlined().items()
                  for callee in _compiled_callees(function) if "forceinline" not in callee.targetoptions]
    assert inheriting == []


def test_the_callee_search_finds_the_calls_through_inlined_helpers():
    # stream_fills reaches link_saving only through the inlined `links`: the check above must see it
    names = {c.py_func.__name__ for c in _compiled_callees(_kernel_functions()[
        "accel_models.kernel.fills.stream_fills"])}
    assert {"link_saving", "_try_link", "_still_links", "uniform_stream"} <= names
