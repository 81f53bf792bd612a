"""A package's public names, imported from their modules when first used (PEP 562), not when the package loads.

A worker process of the co-search imports `cosearch.search.workers`, which loads `cosearch` and `cosearch.search`
first: with eager re-exports that is every module of both (the report, the presets, the NAS driver, the latency
table), which a worker never uses before its first trial, on the way to its numba compile. Standard library only.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]) -> tuple[Callable, Callable]:
    """`__getattr__` and `__dir__` for `package`, whose public names are `exports` (module, relative to the package
    -> the names it defines): the module is imported on the first use of one of its names."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name not in home:
            if importlib.util.find_spec(f"{package}.{name}") is not None:   # a submodule: `cosearch.search`
                return importlib.import_module(f"{package}.{name}")
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name], package), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value   # later uses skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(home))

    return __getattr__, __dir__
