"""PEP 562 lazy attributes of a package: public names imported from their modules on first use, not when the
package loads, so that importing it stays light (a name whose module imports torch, about 1 s of CPU, or onnx; a
worker process of the co-search that needs neither the report nor the presets). Standard library only; the lowest
package of the flow holds it so that every package can use it."""
from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]], namespace: dict) -> tuple[Callable, Callable]:
    """The module-level `__getattr__` and `__dir__` of `package` (its `__name__`; `namespace`: its `globals()`),
    whose public names `exports` lists by the module that defines them (relative to the package -> its names): a
    module is imported on the first use of one of its names, and the name kept in `namespace` (later uses skip
    `__getattr__`). A submodule of the package is imported on first use as well (`cosearch.search` after `import
    cosearch`), as it would be had the package imported it."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name in home:
            value = getattr(import_module(home[name], package), name)
            namespace[name] = value
            return value
        if find_spec(f"{package}.{name}") is not None:
            return import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(home))

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
