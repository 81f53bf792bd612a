"""The numba cache guard (`accel_models.jit`): a kernel whose callee changed in another file is recompiled;
the guard's answer depends on the files alone; no import deletes a file; numba runs the guard before the first
kernel, and every entry into a kernel so runs it first; and a second process loads every kernel from the cache
instead of compiling it."""
import importlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest
from numba.core.dispatcher import Dispatcher

from _source_imports import modules
from accel_models.jit import _freshness as numba_cache, _indexing as numba_indexing

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = Path(__file__).with_name("_kernel_entries.py")


def _env(*paths) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*paths, ROOT]))}
    env.pop("NUMBA_CACHE_DIR", None)          # the caches beside the sources
    return env


# --- a toy package: the guard's effect, end to end -----------------------------------------------------------------

def _package(folder: Path, name: str, guarded: bool, value: int) -> None:
    """A package whose kernel `outer.f` calls `inner.g` (returning `value`) from another file; `run()` calls `f`,
    after the guard where `guarded`."""
    pkg = folder / name
    pkg.mkdir(exist_ok=True)
    guard = f"    drop_stale_kernels(({name!r},))\n" if guarded else ""
    (pkg / "__init__.py").write_text("from accel_models.jit import drop_stale_kernels\n\n"
                                     "from .outer import f\n\n\ndef run():\n" + guard + "    return f()\n")
    (pkg / "inner.py").write_text(f"from numba import njit\n\n\n@njit(cache=True)\ndef g():\n    return {value}\n")
    (pkg / "outer.py").write_text(textwrap.dedent("""\
        from numba import njit

        from .inner import g


        @njit(cache=True)
        def f():
            return g() + 0
        """))


COUNTED_RUN = """
import sys
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev): pass
    def on_end(self, ev): compiled.append(ev.data["dispatcher"].py_func.__name__)
event.register("numba:compile", Listener())
import {name}
print({name}.run(), len(compiled))
"""


def _call(folder: Path, name: str) -> tuple[int, int]:
    """(f(), how many functions numba compiled) in a fresh process."""
    out = subprocess.run([sys.executable, "-c", COUNTED_RUN.format(name=name)], env=_env(folder),
                         capture_output=True, text=True, timeout=300, check=True)
    value, compiled = out.stdout.split()[-2:]
    return int(value), int(compiled)


@pytest.mark.slow
def test_a_changed_callee_is_recompiled_where_numba_alone_keeps_the_old_code(tmp_path):
    for name, guarded in (("kguarded", True), ("kplain", False)):
        _package(tmp_path, name, guarded, 1)
        assert _call(tmp_path, name) == (1, 2)            # f and g compiled and cached
        if guarded:
            assert _call(tmp_path, name) == (1, 0)        # a second process loads them
        _package(tmp_path, name, guarded, 2)              # only the callee's file changes
        seen, compiled = _call(tmp_path, name)
        if guarded:
            assert (seen, compiled) == (2, 2), "the guard left a kernel compiled from the old callee"
        else:   # numba's documented limit, which the guard exists for (if this fails, numba now tracks callees)
            assert (seen, compiled) == (1, 0)
    assert (tmp_path / "kguarded" / "__pycache__" / numba_cache.STAMP).is_file()
    assert not (tmp_path / "kplain" / "__pycache__" / numba_cache.STAMP).exists()


# --- the sources of each cache folder, read statically -------------------------------------------------------------

def _relative(paths) -> set[str]:
    return {Path(p).resolve().relative_to(ROOT).as_posix() for p in paths}


def test_the_sources_follow_the_kernels_imports_statically():
    tree = numba_cache.KernelTree.read(numba_cache.KERNEL_PACKAGES)
    assert _relative(tree.cached_dirs()) == {"accel_models", "accel_models/kernel", "accel_models/timing", "mappings"}
    sources = _relative(tree.sources(ROOT / "mappings"))
    # the kernels, a constant module (reason codes), a re-exported constant's home (nets.N_AXES), the cost kernel
    # reached through `accel_models.kernel`'s re-exports
    assert {"mappings/evolution.py", "mappings/_decode_kernel.py", "accel_models/kernel/links.py",
            "accel_models/result.py", "nets/problem_shape.py", "accel_models/kernel/driver.py"} <= sources
    assert not any(f.startswith("accel_models/timeloop/") for f in sources)   # no kernel there, none imported
    assert not {"accel_models/jit/_freshness.py", "accel_models/__init__.py", "mappings/mapper.py"} & sources
    assert not any(f.startswith("mappings/") for f in _relative(tree.sources(ROOT / "accel_models" / "kernel")))


def test_the_static_kernel_files_are_those_that_define_numba_functions():
    defined, cached = set(), set()
    for name in modules(numba_cache.KERNEL_PACKAGES):
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == name:
                defined.add(module.__file__)
                if value.stats.cache_path is not None:
                    cached.add(module.__file__)
    tree = numba_cache.KernelTree.read(numba_cache.KERNEL_PACKAGES)
    # kernel_views and kernel/words define only @intrinsics: numba code inlined into the kernels, no dispatcher
    assert _relative(tree.kernel_files()) == _relative(defined) | {"accel_models/kernel_views.py",
                                                                  "accel_models/kernel/words.py"}
    assert _relative(p for p in tree.modules.values() if numba_cache._numba_decorated(p)[1]) == _relative(cached)
    assert _relative(tree.cached_dirs()) == {Path(f).parent.as_posix() for f in _relative(cached)}


def _digests() -> list[str]:
    tree = numba_cache.KernelTree.read(numba_cache.KERNEL_PACKAGES)
    return sorted(tree.digest(d) for d in tree.cached_dirs())


@pytest.mark.slow
def test_the_digest_does_not_depend_on_what_a_process_imported():
    importlib.import_module("cosearch")           # this process: everything imported
    importlib.import_module("mappings.mapper")
    code = ("import accel_models\nfrom accel_models.jit import _freshness as c\n"   # the cost model's imports only
            "t = c.KernelTree.read(c.KERNEL_PACKAGES)\nprint(sorted(t.digest(d) for d in t.cached_dirs()))")
    out = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == repr(_digests())


def test_a_change_reaches_the_folders_whose_kernels_it_was_compiled_into(tmp_path):
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in numba_cache.KERNEL_PACKAGES:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, tmp_path / rel)

    def digests() -> dict[str, str]:
        tree = numba_cache.KernelTree.read(numba_cache.KERNEL_PACKAGES, root=tmp_path)
        return {d.relative_to(tmp_path).as_posix(): tree.digest(d) for d in tree.cached_dirs()}

    def touched(rel: str) -> set[str]:
        before = digests()
        with open(tmp_path / rel, "a") as f:
            f.write("\n# edited\n")
        after = digests()
        return {d for d in before if before[d] != after[d]}

    assert digests() == digests()
    assert touched("nets/problem_shape.py") == {"accel_models", "accel_models/kernel", "accel_models/timing",
                                                "mappings"}   # N_AXES
    assert touched("accel_models/kernel/links.py") == {"accel_models/kernel", "mappings"}        # a callee
    assert touched("accel_models/result.py") == {"accel_models/kernel", "mappings"}              # reason codes
    assert touched("mappings/_decode_kernel.py") == {"mappings"}
    assert touched("accel_models/timeloop/__init__.py") == set()
    assert touched("mappings/mapper.py") == set()
    assert touched("accel_models/jit/_freshness.py") == set()


# --- no import deletes a file; the guard clears a stale folder once ------------------------------------------------

IMPORT_THEN_GUARD = """
import sys
from pathlib import Path
import nets, accel_models, mappings, cosearch, mappings.mapper, cosearch.search.worker_compile
print(Path(sys.argv[1]).exists())
from accel_models.jit import _freshness as c
c.ensure_fresh_kernel_cache()
c.ensure_fresh_kernel_cache()
print(Path(sys.argv[1]).exists(), c.guard_has_run())
"""


@pytest.mark.slow
def test_importing_deletes_nothing_and_the_guard_clears_a_stale_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))     # as NUMBA_CACHE_DIR=tmp_path
    numba_indexing.skip_negative_wrap(numba_cache.KERNEL_PACKAGES)     # the rule the guard installs, as in the child
    tree = numba_cache.KernelTree.read(numba_cache.KERNEL_PACKAGES)
    folder = numba_cache.cache_folder(tree.cached_dirs()[ROOT / "mappings"])
    assert folder.parent == tmp_path
    stale = folder / "evolution.run_evolution-1.py311.nbi"
    stale.write_text("compiled from other sources")
    (folder / numba_cache.STAMP).write_text("a digest of other sources")
    out = subprocess.run([sys.executable, "-c", IMPORT_THEN_GUARD, str(stale)], capture_output=True, text=True,
                         env={**_env(), "NUMBA_CACHE_DIR": str(tmp_path)}, timeout=120, check=True)
    assert out.stdout.split() == ["True", "False", "True"], "an import deleted a cache file, or the guard none"
    assert (folder / numba_cache.STAMP).read_text() == tree.stamp(ROOT / "mappings")
    stale.write_text("compiled from these sources")
    assert folder not in numba_cache.drop_stale_kernels()    # a fresh folder is left alone
    assert stale.exists()


# --- every entry into a kernel runs the guard first ----------------------------------------------------------------

GUARD_AT_COMPILE = """
import numpy as np
from numba import njit
import accel_models
from accel_models.jit import _freshness as c
from accel_models.kernel.driver import max_children
seen = [c.guard_has_run()]
njit(lambda x: x + 1)(1)                                # a function of no kernel package: no guard
seen.append(c.guard_has_run())
max_children(np.ones((2, 2), dtype=np.int64))            # a kernel called from Python, no guard called before
seen.append(c.guard_has_run())
print(*seen)
"""


@pytest.mark.slow
def test_numba_runs_the_guard_before_the_first_kernel_but_not_for_other_functions(tmp_path):
    env = {**_env(), "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", GUARD_AT_COMPILE], env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def _entries() -> dict[str, dict]:
    out = subprocess.run([sys.executable, str(ENTRIES)], env=_env(), capture_output=True, text=True, timeout=900,
                         check=True)
    reports = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {r["entry"]: r for r in reports}


def _project_compiles(report: dict) -> list[str]:
    """What numba compiled, but object-mode blocks (`with objmode`: numba compiles those in every process; its
    cache holds compiled nopython code only)."""
    return [c for c in report["compiled"] if not c.startswith("ObjModeLiftedWith:")]


@pytest.fixture(scope="module")
def entries() -> dict[str, dict]:
    """Each public entry into the kernels, first in a fresh process; run again where the first run compiled (a
    cold cache), so that the reports are those of a process that finds the kernels compiled by another."""
    first = _entries()
    if any(_project_compiles(r) for r in first.values()):
        return _entries()
    return first


@pytest.mark.slow
def test_imports_load_compile_and_guard_nothing(entries):
    imports = entries["(imports)"]
    assert (imports["compiled"], imports["hits"], imports["guard"]) == ([], 0, False)


@pytest.mark.slow
def test_every_entry_runs_the_guard_before_numba_loads_or_compiles_a_kernel(entries):
    assert len(entries) >= 11
    for name, report in entries.items():
        if name == "(imports)":
            continue
        assert "error" not in report, f"{name}: {report.get('error')}"
        assert report["early"] == 0, f"{name}: numba loaded or compiled a kernel before the cache guard ran"
        assert report["guard"], f"{name} ran no guard"


@pytest.mark.slow
def test_a_second_process_loads_every_kernel_from_the_cache(entries):
    for name, report in entries.items():
        if name == "(imports)":
            continue
        assert _project_compiles(report) == [], f"{name} compiled again: {report['compiled']}"
        assert report["hits"] >= 1, f"{name} loaded nothing from numba's cache"
