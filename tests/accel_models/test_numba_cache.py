"""The numba cache guard (`accel_models.numba_cache`): a kernel whose callee changed in another file is recompiled."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from accel_models import numba_cache

ROOT = Path(__file__).resolve().parents[2]


def _package(folder: Path, name: str, guarded: bool, value: int) -> None:
    """A package whose kernel `outer.f` calls `inner.g` (returning `value`) from another file."""
    pkg = folder / name
    pkg.mkdir(exist_ok=True)
    guard = f"from accel_models.numba_cache import drop_stale_kernels\ndrop_stale_kernels({name!r}, ({name!r},))\n"
    (pkg / "__init__.py").write_text("from .outer import f\n" + (guard if guarded else ""))
    (pkg / "inner.py").write_text(f"from numba import njit\n\n\n@njit(cache=True)\ndef g():\n    return {value}\n")
    (pkg / "outer.py").write_text(textwrap.dedent("""\
        from numba import njit

        from .inner import g


        @njit(cache=True)
        def f():
            return g() + 0
        """))


def _call(folder: Path, name: str) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
    env.pop("NUMBA_CACHE_DIR", None)          # the caches beside the sources, in tmp_path
    out = subprocess.run([sys.executable, "-c", f"import {name}; print({name}.f())"], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return int(out.stdout.split()[-1])


def test_a_changed_callee_is_recompiled_where_numba_alone_keeps_the_old_code(tmp_path):
    for name, guarded in (("kguarded", True), ("kplain", False)):
        _package(tmp_path, name, guarded, 1)
        assert _call(tmp_path, name) == 1                 # compiled and cached
        _package(tmp_path, name, guarded, 2)              # only the callee's file changes
        seen = _call(tmp_path, name)
        if guarded:
            assert seen == 2, "the guard left a kernel compiled from the old callee"
        else:   # numba's documented limit, which the guard exists for (if this fails, numba now tracks callees)
            assert seen == 1


def test_digest_covers_the_kernels_and_what_they_import():
    import mappings  # noqa: F401  (imports the search kernel and the cost kernel)
    roots = ("mappings", "accel_models", "nets")
    files = {Path(m.__file__).relative_to(ROOT).as_posix() for m in numba_cache._kernel_modules(roots)}
    files |= {Path(f).relative_to(ROOT).as_posix() for m in numba_cache._kernel_modules(roots)
              for f in numba_cache._imported(m, roots)}
    # the kernels, a constant module (reason codes), a re-exported constant's home (nets.N_AXES)
    assert {"mappings/evolution.py", "mappings/_decode_kernel.py", "accel_models/kernel/links.py",
            "accel_models/result.py", "nets/problem_shape.py"} <= files
    assert not any(f.startswith("accel_models/timeloop/") for f in files)   # no kernel there, none imported
    assert numba_cache.sources_digest(roots) == numba_cache.sources_digest(roots)
