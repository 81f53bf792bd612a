"""Keep numba's on-disk cache honest: drop a package's compiled kernels when the code they were built from changed.

numba (`cache=True`) keys a cached function on its own source file only; a change in a function it calls or
inlines from another file, or in a constant it imports, is not seen (numba's documentation, "Notes on Caching",
cache invalidation limits). The search kernel (`mappings.evolution.run_evolution`) links the decoder and the
whole cost kernel from other files, so after an update that touches only those, a warm cache would keep running
the old decoder or cost model, silently. `drop_stale_kernels` hashes the source of the package's kernel modules
and of the modules they import from (within the given packages), and when the hash differs from the one stored
beside the cache, deletes the package's cache files, so that the next call compiles afresh.
"""
from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
from pathlib import Path
from types import ModuleType

from numba.core.dispatcher import Dispatcher

STAMP = "kernel-sources.sha1"
"""File in each cache folder: the hash of the sources its kernels were compiled from."""


def _modules(roots: tuple[str, ...]) -> list[tuple[str, ModuleType]]:
    return [(name, m) for name, m in sorted(sys.modules.items())
            if m is not None and getattr(m, "__file__", None) and name.split(".")[0] in roots]


def _kernel_modules(roots: tuple[str, ...]) -> list[ModuleType]:
    """The imported modules under `roots` that define a numba function (not those that only re-export one)."""
    return [m for name, m in _modules(roots)
            if any(isinstance(v, Dispatcher) and v.py_func.__module__ == name for v in vars(m).values())]


def _defining_file(base: ModuleType, attr: str, roots: tuple[str, ...]) -> str | None:
    """The file of the module under `roots` that defines `base.attr`: a module's own, a function's or class's
    `__module__`; a constant's is `base` itself, or where `base` is a package, the submodule that assigns it at
    its top level (e.g. `nets.N_AXES`, from `nets.problem_shape`)."""
    value = getattr(base, attr)
    if isinstance(value, ModuleType):
        return value.__file__
    owner = getattr(getattr(value, "py_func", value), "__module__", None)
    if isinstance(owner, str) and not isinstance(value, (int, float, str, bytes, tuple)):
        m = sys.modules.get(owner)
        return m.__file__ if m is not None and owner.split(".")[0] in roots else None
    if not hasattr(base, "__path__"):
        return base.__file__
    pattern = re.compile(rf"^{re.escape(attr)}\s*(:[^=\n]*)?=", re.M)
    prefix = base.__name__ + "."
    for name, m in sys.modules.items():
        if name.startswith(prefix) and m is not None and vars(m).get(attr, None) is value \
                and pattern.search(Path(m.__file__).read_text()):
            return m.__file__
    return base.__file__


def _imported(module: ModuleType, roots: tuple[str, ...]) -> set[str]:
    """Files of the modules under `roots` that define what `module` imports by name (`from X import a`)."""
    tree = ast.parse(Path(module.__file__).read_text())
    package = module.__name__.rpartition(".")[0]
    out = set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
        m = sys.modules.get(base)
        if m is None or base.split(".")[0] not in roots:
            continue
        for alias in node.names:
            if hasattr(m, alias.name):
                f = _defining_file(m, alias.name, roots)
                if f is not None:
                    out.add(f)
    return out


def sources_digest(roots: tuple[str, ...]) -> str:
    """A hash of the source of the kernel modules under `roots` and of the modules under `roots` they import
    from."""
    files = set()
    for m in _kernel_modules(roots):
        files.add(m.__file__)
        files |= _imported(m, roots)
    h = hashlib.sha1()
    for f in sorted(files):
        h.update(Path(f).name.encode())
        h.update(Path(f).read_bytes())
    return h.hexdigest()


def drop_stale_kernels(package: str, roots: tuple[str, ...]) -> list[Path]:
    """Delete the cache files of `package`'s kernels where they were compiled from other sources (see the module
    docstring); `roots`: the top-level packages whose kernels `package`'s link or inline, and whose modules they
    import from (`package` among them). Returns the cache folders cleared. Called at the end of the package's
    `__init__`, before any kernel is called."""
    folders = {Path(d._cache._cache_path) for m in _kernel_modules((package,)) for d in vars(m).values()
               if isinstance(d, Dispatcher) and hasattr(d._cache, "_cache_path")}
    if not folders:
        return []
    digest = sources_digest(roots)
    cleared = []
    for folder in sorted(folders):
        stamp = folder / STAMP
        try:
            if stamp.read_text() == digest:
                continue
        except OSError:
            pass
        try:
            for f in folder.glob("*.nb[ic]"):
                f.unlink(missing_ok=True)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f"{STAMP}.{os.getpid()}.tmp"
            tmp.write_text(digest)
            os.replace(tmp, stamp)
        except OSError:             # a read-only cache: numba will not write to it either
            continue
        cleared.append(folder)
    return cleared
