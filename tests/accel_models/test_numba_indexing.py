"""The kernel packages' functions compile without numba's negative-index wrap; everyone else's keep it
(`accel_models.jit._indexing`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit
from numba.np import arrayobj

from accel_models.jit import _indexing as numba_indexing
from accel_models.jit import KERNEL_PACKAGES, ensure_fresh_kernel_cache

ROOT = Path(__file__).resolve().parents[2]


def _compiled_in(module: str, source: str, name: str):
    """`name` from `source`, defined as if in `module` (numba names the compiled function after it), jitted."""
    space = {"__name__": module}
    exec(compile(source, f"<{module}>", "exec"), space)
    return njit(space[name])


INDEX = "def at(a, i):\n    return a[i]\n"
LAST = "def last(a):\n    return a[-1]\n"


def _selects(f) -> int:
    (ir,) = f.inspect_llvm().values()
    body = ir.split("define ", 1)[1].split("\n}\n", 1)[0]   # the function itself, not its wrapper
    return body.count(" select ")


def test_a_kernel_package_index_has_no_wrap_and_any_other_keeps_it():
    ensure_fresh_kernel_cache()
    assert numba_indexing.RULE == "no-wrap:" + ",".join(KERNEL_PACKAGES)
    a = np.arange(5, dtype=np.int64)
    kernel = _compiled_in("accel_models._index_probe", INDEX, "at")
    user = _compiled_in("someone_else._index_probe", INDEX, "at")
    assert kernel(a, 3) == user(a, 3) == 3
    assert user(a, -1) == 4                  # Python's meaning outside the kernel packages
    assert _selects(kernel) == 0 < _selects(user)


def test_a_one_dimensional_literal_negative_index_keeps_its_meaning_in_a_kernel_package():
    ensure_fresh_kernel_cache()
    last = _compiled_in("mappings._index_probe", LAST, "last")
    assert last(np.arange(7, dtype=np.int64)) == 6


def test_installing_twice_changes_nothing():
    ensure_fresh_kernel_cache()
    installed = arrayobj.fix_integer_index
    assert numba_indexing.skip_negative_wrap(("other",)) == numba_indexing.RULE
    assert arrayobj.fix_integer_index is installed


BOUNDS_CHECKED = """
import numpy as np
from accel_models.cost_model import evaluate_batch
from accel_models.presets import get_preset
from accel_models.timeloop import default_corpus_path, load_cases
from mappings import best_mapping
from mappings.encoding import Encoding
from nets import Layer

eyeriss = next(c for c in load_cases(default_corpus_path()) if c.family == "C").accelerator
layers = [Layer.conv(64, 64, 3, 56, name="conv"), Layer.conv(144, 144, 3, 56, groups=144, name="dw"),
          Layer.conv(30, 20, 3, 13, name="odd")]
valid = 0
for acc in (eyeriss, get_preset("shidiannao")):
    for layer in layers:
        for factors in ("perfect", "residual"):
            enc = Encoding(layer, acc, factors=factors)
            res = evaluate_batch(layer, acc, enc.decode(np.random.default_rng(1).random((300, enc.size))))
            valid += int((res.reason == 0).sum())
        assert best_mapping(layer, acc, budget_evals=300, seed=0, factors="residual").valid
print(valid)
"""


@pytest.mark.slow
@pytest.mark.boundscheck
def test_the_kernels_never_index_below_zero(tmp_path):
    """With numba's bounds check on, a negative index in a kernel package raises IndexError (the wrap is gone, so
    the check sees it): the decoder, the cost kernel's paths and the mapper's search run on perfect and residual
    mappings of three layers on two arrays (a weight-stationary 14x12 and an output-stationary 8x8) without one.
    Compiles the kernels afresh (an empty cache: bounds-checked code is other code)."""
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", BOUNDS_CHECKED], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.split()[-1]) > 300, "too few valid mappings to say much"
