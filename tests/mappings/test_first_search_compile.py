"""A first search on a cold numba cache compiles its callees in a helper process beside its own chain
(`mappings.split_compile.compile_first_search`): which steps, when it starts one, and the same result."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accel_models import get_preset
from accel_models.jit import _schedule
from mappings import MappingCache, best_mapping, split_compile
from mappings.compile_plan import SEARCH, SEARCH_PERFECT, mapper_compile_plan, first_search_plan
from mappings.evolution import search_kernel
from mappings.mapper import MapperSettings
from nets import Layer
from _numba_compiles import LISTENER

ROOT = Path(__file__).resolve().parents[2]
LAYER = Layer.conv(16, 16, 3, 8, name="small3x3")


@pytest.mark.parametrize("factors", ["perfect", "residual"])   # an encoding's, "auto" resolved
def test_the_links_plan_is_what_the_search_step_waits_for(factors):
    eyeriss = get_preset("eyeriss")
    plan = mapper_compile_plan(LAYER, eyeriss, MappingCache(MapperSettings(factors=factors)))
    steps = {s.name: s for s in plan}
    search = steps[SEARCH_PERFECT if factors == "perfect" else SEARCH]
    links = [s.name for s in first_search_plan(LAYER, eyeriss, factors, "edp", MapperSettings().strategy.plan_args)]
    assert set(search.after) <= set(links) and len(set(links)) == len(links)
    for name in links:          # closed under `after`, and only steps the search waits for, directly or not
        assert set(steps[name].after) <= set(links)
    assert SEARCH not in links and SEARCH_PERFECT not in links and "warm_starts" not in links
    assert "run_evolution" in links   # the search's code, apart from its driver's chain
    if factors == "perfect":    # the perfect driver's chain only: no residual sweep, no full driver
        assert "evaluate_range_perfect" in links and "sweep" not in links and "evaluate_range" not in links
    else:
        assert "evaluate_range" in links and "sweep" in links and "perfect_paths" not in links


def test_no_helper_where_the_search_is_compiled_or_it_is_turned_off(monkeypatch):
    search = search_kernel("perfect")
    best_mapping(LAYER, get_preset("eyeriss"), budget_evals=64)   # compiled (or loaded) in this process now
    assert search.driver.signatures and not _schedule._cold(search.driver)
    assert not split_compile.compile_first_search(search, LAYER, get_preset("eyeriss"), "perfect", "edp")

    def no_helper(*args, **kwargs):
        raise AssertionError("a helper process was started")
    monkeypatch.setattr(_schedule, "_cold", lambda fn: True)
    monkeypatch.setattr(_schedule.subprocess, "Popen", no_helper)
    monkeypatch.setenv(_schedule.HELPER_ENV, "0")
    assert not split_compile.compile_first_search(search, LAYER, get_preset("eyeriss"), "perfect", "edp")
    monkeypatch.delenv(_schedule.HELPER_ENV)
    monkeypatch.setattr(_schedule, "fcntl", None)           # as on Windows
    assert not split_compile.compile_first_search(search, LAYER, get_preset("eyeriss"), "perfect", "edp")


_FIRST = LISTENER + r"""
import json
from accel_models import get_preset
from mappings import best_mapping, split_compile
from nets import Layer
started = []
first = split_compile.compile_first_search
split_compile.compile_first_search = lambda *a: started.append(first(*a)) or started[-1]
import mappings.strategies.evolution as es
es.compile_first_search = split_compile.compile_first_search
r = best_mapping(Layer.conv(16, 16, 3, 8, name="small3x3"), get_preset("eyeriss"), budget_evals=256, seed=3)
print(json.dumps({"started": started, "compiled": compiled, "genes": list(r.genes), "cycles": r.cycles,
                  "energy_pj": r.energy_pj}))
"""


@pytest.mark.slow
def test_a_first_best_mapping_on_an_empty_cache_shares_its_compile_and_finds_the_same_mapping(tmp_path):
    """~30 s of CPU on two cores: a first best_mapping's compile, shared with the helper."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PYTHONPATH": str(ROOT)}
    env.pop(_schedule.HELPER_ENV, None)
    r = subprocess.run([sys.executable, "-c", _FIRST], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["started"] == ([True] if _schedule._cores() >= 2 else [False])
    project = [f for f in out["compiled"] if not f.startswith(("numba.", "mappings.evolution._now "))]
    assert len(project) == len(set(project))            # nothing compiled twice in the caller (_now: object mode)
    mine = best_mapping(LAYER, get_preset("eyeriss"), budget_evals=256, seed=3)   # this process's own compile
    assert out["genes"] == list(mine.genes)
    assert (out["cycles"], out["energy_pj"]) == (mine.cycles, mine.energy_pj)
