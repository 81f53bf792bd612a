"""Keep numba's on-disk cache honest across processes: clear a cache folder whose kernels were compiled from other
sources, once per process, before the first kernel is loaded or compiled.

numba (`cache=True`) keys a cached function on its own source file only; a change in a function it calls or
inlines from another file, or in a constant it imports, is not seen (numba's documentation, "Notes on Caching",
cache invalidation limits). The kernels link and inline callees from other files (the cost kernel's drivers link
`accesses.level_accesses` and the checks; the decoder calls `geometry`'s box and fit tests), so after an update
that touches only those, a warm cache would keep running the old code, silently.

The guard reads the sources as text (`ast`; it imports nothing), so its answer depends on the files alone, not on
what a process happened to import: the kernel files are the modules of `KERNEL_PACKAGES` that define a numba
function; the sources of a cache folder are its kernel files and, followed statically, every project module they
import from (a name re-exported by a package resolves to the module that defines it). Each cache folder holds a
stamp (`STAMP`): the hash of its sources when its kernels were compiled. Where the stamp differs, the folder's
cached kernels are deleted and the stamp rewritten, so the next call compiles afresh; elsewhere the cache is
loaded as it is.

The guard also sets the rule the kernel packages' array indices are compiled under (`_indexing`: no negative
wrap) before anything compiles, and the stamp carries that rule beside the hash.

Importing a package touches no file. `ensure_fresh_kernel_cache()` runs the guard once per process (later calls
return at once). numba runs it itself: every load or compile of a function goes through its dispatcher's `compile`
(a first call from Python, a compiled caller typing its callee, an explicit `.compile(sig)`), and this module has
that method call the guard first for the functions of `KERNEL_PACKAGES` (`_guard_at_compile`, installed when this
module is imported, which every kernel module's package does before it defines a kernel). So no caller of a kernel
calls the guard; tests/accel_models/test_numba_cache.py checks in fresh processes that every public entry point
runs it before numba loads or compiles a kernel (numba's compiler-lock events).
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no file locks; two processes starting at once may both clear a stale folder
    fcntl = None

import numba
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

from . import _indexing

KERNEL_PACKAGES = ("nets", "accel_models", "mappings")
"""The project's packages that define numba kernels or what kernels import, read as text here and never
imported: a process may load `accel_models`' kernels first and `mappings`' later, so the one guard clears both."""
STAMP = "kernel-sources.sha1"
"""File in each cache folder: the hash of the sources its kernels were compiled from."""
NUMBA_DECORATORS = frozenset({"njit", "jit", "intrinsic", "overload", "overload_method", "overload_attribute",
                              "register_jitable", "generated_jit", "vectorize", "guvectorize", "cfunc", "stencil"})
"""Decorators that make numba compile a function (a file using one is a kernel file)."""

_guard_lock = threading.Lock()
_fresh = False


def ensure_fresh_kernel_cache() -> None:
    """Run the guard (`drop_stale_kernels`) if this process has not yet; call before the first kernel call or
    compile. After the first call it only reads a flag."""
    global _fresh
    if _fresh:
        return
    with _guard_lock:
        if not _fresh:
            if not numba.config.DISABLE_JIT:
                _indexing.skip_negative_wrap(KERNEL_PACKAGES)
                drop_stale_kernels()
            _fresh = True


def guard_has_run() -> bool:
    """Whether `ensure_fresh_kernel_cache` has run in this process."""
    return _fresh


def _guard_at_compile() -> None:
    """Have numba's dispatchers run `ensure_fresh_kernel_cache` before they load or compile a function of
    `KERNEL_PACKAGES` (numba's `Dispatcher.compile`, which takes its compiler lock, looks in the cache and compiles;
    other functions, a user's own, pass through untouched). Once per process; a flag test per compile after the
    guard has run."""
    original = Dispatcher.compile
    if getattr(original, "runs_the_kernel_guard", False):
        return

    def compile(self, sig):
        if not _fresh and getattr(self.py_func, "__module__", "").partition(".")[0] in KERNEL_PACKAGES:
            ensure_fresh_kernel_cache()
        return original(self, sig)
    compile.__doc__ = original.__doc__
    compile.runs_the_kernel_guard = True
    Dispatcher.compile = compile


_guard_at_compile()


def drop_stale_kernels(packages: tuple[str, ...] = KERNEL_PACKAGES) -> list[Path]:
    """Delete the cached kernels of every cache folder of `packages` whose stamp differs from `KernelTree.stamp`
    (the hash of its sources and the indexing rule), and write the new stamp. Returns the folders cleared. Holds a
    file lock per folder, so that of several processes starting together only the first clears it."""
    tree = KernelTree.read(packages)
    cleared = []
    for source_dir, kernel_file in tree.cached_dirs().items():
        expected = tree.stamp(source_dir)
        folder = cache_folder(kernel_file)
        if folder is None:
            continue
        stamp = folder / STAMP
        try:
            with _folder_lock(folder):
                if stamp.is_file() and stamp.read_text() == expected:
                    continue
                for f in folder.glob("*.nb[ic]"):
                    f.unlink(missing_ok=True)
                tmp = folder / f"{STAMP}.{os.getpid()}.tmp"
                tmp.write_text(expected)
                os.replace(tmp, stamp)
        except OSError:   # a read-only cache: numba does not write to it either
            continue
        cleared.append(folder)
    return cleared


@contextmanager
def _folder_lock(folder: Path):
    """An exclusive lock on a cache folder (a lock file beside the stamp), held while the block runs."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder / f"{STAMP}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)        # closing releases the lock


def cache_folder(kernel_file: Path) -> Path | None:
    """Where numba caches the kernels of `kernel_file`, and of every module beside it (numba's own choice:
    `NUMBA_CACHE_DIR`, else `__pycache__` beside the file if writable, else a per-user folder), or None where it
    cannot cache. Found by asking numba's cache about a function that claims that file (nothing is imported)."""
    code = compile("def kernel():\n    pass\n", str(kernel_file), "exec")
    space: dict = {}
    exec(code, space)
    try:
        return Path(FunctionCache(space["kernel"]).cache_path)
    except RuntimeError:   # no cache locator for this folder
        return None


def cache_dir_problem(packages: tuple[str, ...] = KERNEL_PACKAGES) -> str | None:
    """Why numba will not cache the kernels where `NUMBA_CACHE_DIR` asks, as a sentence, or None when it will (or
    the variable is unset and numba caches somewhere). numba tries the folder it is given and, when it cannot create
    or write it (read-only, or below a file), silently caches elsewhere (`__pycache__` beside the sources, or a
    per-user folder): a cache built there is not the one asked for."""
    found = KernelTree.read(packages).cached_dirs()
    if not found:
        return None
    kernel_file = next(iter(found.values()))
    folder = cache_folder(kernel_file)
    asked = numba.config.CACHE_DIR
    if folder is None:
        return f"numba cannot cache the kernels of {kernel_file.parent} anywhere (no writable cache folder)"
    if asked and not folder.resolve().is_relative_to(Path(asked).expanduser().resolve()):
        try:
            Path(asked).expanduser().mkdir(parents=True, exist_ok=True)
            reason = "it cannot be written"
        except OSError as exc:
            reason = f"it cannot be created ({exc.strerror or type(exc).__name__})"
        return (f"NUMBA_CACHE_DIR={asked}: {reason}, so numba would cache in {folder} instead; accepted: a folder "
                "you can write, or NUMBA_CACHE_DIR unset")
    return None


class KernelTree:
    """The modules of some packages, read as source: which define kernels, and what each imports."""

    def __init__(self, modules: dict[str, Path]) -> None:
        self.modules = modules
        """{dotted module name: file}; a package's name maps to its `__init__.py`."""
        self.names = {path: name for name, path in modules.items()}

    @classmethod
    def read(cls, packages: tuple[str, ...], root: Path | None = None) -> KernelTree:
        """The modules of `packages`: the folders of that name in `root` if given, else the packages Python would
        import (found by name, not imported)."""
        modules = {}
        for package in packages:
            if root is not None:
                folders = [root / package]
            else:
                spec = importlib.util.find_spec(package)
                folders = list(spec.submodule_search_locations or []) if spec is not None else []
            for folder in map(Path, folders):
                for path in sorted(folder.rglob("*.py")):
                    parts = (package,) + path.relative_to(folder).with_suffix("").parts
                    modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
        return cls(modules)

    def kernel_files(self) -> list[Path]:
        """The modules that define a numba function."""
        return [path for path in self.modules.values() if _numba_decorated(path)[0]]

    def cached_dirs(self) -> dict[Path, Path]:
        """{folder: one of its files} for the folders holding modules with a cached kernel (`cache=True`); numba
        keeps one cache folder per source folder."""
        found: dict[Path, Path] = {}
        for path in sorted(self.modules.values()):
            if _numba_decorated(path)[1]:
                found.setdefault(path.parent, path)
        return found

    def sources(self, source_dir: Path) -> set[Path]:
        """The kernel files of `source_dir` and every module of the tree they import from, transitively."""
        guard = {self.modules[__name__]} if __name__ in self.modules else set()   # this module: no kernel code
        todo = [p for p in self.kernel_files() if p.parent == source_dir]
        seen = set(guard)
        while todo:
            path = todo.pop()
            if path not in seen:
                seen.add(path)
                todo += self.imported(path)
        return seen - guard

    def digest(self, source_dir: Path) -> str:
        """The hash of `sources(source_dir)`: each file's path below its package's parent and its bytes."""
        h = hashlib.sha1()
        for path in sorted(self.sources(source_dir), key=self._relative):
            h.update(self._relative(path).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        return h.hexdigest()

    def stamp(self, source_dir: Path) -> str:
        """What a cache folder's `STAMP` holds: `digest(source_dir)` and the indexing rule the kernels are compiled
        under (`_indexing.RULE`), so that code compiled under one rule is not loaded under the other."""
        return f"{self.digest(source_dir)} {_indexing.RULE}"

    def imported(self, path: Path) -> set[Path]:
        """The modules of the tree that `path` imports from: for `from X import a`, the module X.a if there is
        one, else the module that defines `a` (followed through the re-exports of packages' `__init__`s)."""
        name = self.names[path]
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out = set()
        for node in _statements(_parse(path).body):
            if isinstance(node, ast.Import):
                out |= {self.modules[a.name] for a in node.names if a.name in self.modules}
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, package)
                for alias in node.names:
                    found = self.modules.get(f"{base}.{alias.name}") or self._defining(base, alias.name)
                    if found is not None:
                        out.add(found)
        return out

    def _defining(self, module: str, attr: str, depth: int = 0) -> Path | None:
        """The file that defines `module.attr`: `module`'s own, or where `module` is a package whose `__init__`
        imports `attr` from a submodule, that submodule's (recursively)."""
        path = self.modules.get(module)
        if path is None or path.name != "__init__.py" or attr == "*" or depth > 20:
            return path
        for node in _parse(path).body:
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == attr:
                        base = _absolute(node, module)
                        return self.modules.get(f"{base}.{alias.name}") or self._defining(base, alias.name,
                                                                                          depth + 1)
        return path

    def _relative(self, path: Path) -> str:
        name = self.names[path]
        parts = name.split(".")
        return "/".join(parts) + ("/__init__.py" if path.name == "__init__.py" else ".py")


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The absolute module name of a `from ... import` inside `package`."""
    base = node.module or ""
    if not node.level:
        return base
    parts = package.split(".")
    anchor = parts[:len(parts) - node.level + 1]
    return ".".join(anchor + ([base] if base else []))


@cache
def _parse_cached(path: Path, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(path.read_bytes(), str(path))


def _parse(path: Path) -> ast.Module:
    st = path.stat()
    return _parse_cached(path, st.st_mtime_ns, st.st_size)


def _statements(body: list[ast.stmt]):
    """Every statement of `body`, and of the blocks nested in it (branches, `try`, `with`, classes), but not of
    function bodies: where a module's imports and its decorated functions are."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            yield from _statements(handler.body)
        for case in getattr(node, "cases", []):
            yield from _statements(case.body)


_DECORATOR_LINE = re.compile(rb"^[ \t]*@[ \t]*(?:[\w.]+\.)?(?:" + "|".join(sorted(NUMBA_DECORATORS)).encode() + rb")\b",
                             re.M)


def _numba_decorated(path: Path) -> tuple[bool, bool]:
    """(defines a numba function, defines one cached with `cache=True`), read from the source."""
    st = path.stat()
    return _numba_decorated_cached(path, st.st_mtime_ns, st.st_size)


@cache
def _numba_decorated_cached(path: Path, mtime_ns: int, size: int) -> tuple[bool, bool]:
    if not _DECORATOR_LINE.search(path.read_bytes()):     # most modules: no need to parse them
        return False, False
    kernel = cached = False
    for node in _statements(_parse(path).body):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for d in node.decorator_list:
            call = d if isinstance(d, ast.Call) else None
            target = call.func if call is not None else d
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            if name in NUMBA_DECORATORS:
                kernel = True
                cached |= call is not None and any(k.arg == "cache" and isinstance(k.value, ast.Constant)
                                                   and k.value.value is True for k in call.keywords)
    return kernel, cached
