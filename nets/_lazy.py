"""PEP 562 lazy attributes of a package: names whose modules import a heavy library (torch: about 1 s of CPU; onnx),
imported on first use so that importing the package stays light."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module


def lazy_names(package: str, modules: dict[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """The module-level `__getattr__` and `__dir__` of `package` (its `__name__`; `namespace`: its `globals()`) that
    import each name of `modules` (name -> relative module) on first access and keep it in `namespace`."""

    def __getattr__(name: str):
        if name in modules:
            value = getattr(import_module(modules[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(modules))

    return __getattr__, __dir__
