"""The compile shared by worker processes: each step compiled once, a step whose worker died taken over, a stuck
worker waited for at most `max_wait_s`; and the real plan: two processes on an empty numba cache split it, and a
search after it compiles nothing again and finds what this process's search finds; the warm-up command completes that
cache, after which a new process's first calls compile nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

import cosearch
from accel_models.jit import _schedule
from accel_models.jit import SHARED_STEPS, CompileStep, SplitCompile, open_split, schedule_s
from _numba_compiles import LISTENER
from cosearch.command_warm_up import warm_up_plan
from cosearch.search import AcceleratorSpace
from cosearch.search.study import prepare_study
from cosearch.search.workers import run_worker
from cosearch.search.worker_compile import compile_plan
from mappings import MappingCache
from nets import get_network

ROOT = Path(__file__).resolve().parents[3]


def _steps(ran: list[str], names: str, after: dict[str, tuple[str, ...]] | None = None) -> list[CompileStep]:
    return [CompileStep(n, (lambda n=n: ran.append(n)), (after or {}).get(n, ())) for n in names.split()]


@contextmanager
def _held(folder: Path, name: str):
    """Another worker compiling step `name`: a process holding its lock, killed at the end of the block (a worker
    that dies before marking its step done)."""
    folder.mkdir(parents=True, exist_ok=True)
    code = textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(folder / (name + '.lock'))!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.kill()
        proc.wait()


def test_two_workers_compile_each_step_once(tmp_path):
    ran: list[str] = []
    a = SplitCompile(_steps(ran, "x y z", {"z": ("x", "y")}), tmp_path)
    b = SplitCompile(_steps(ran, "x y z", {"z": ("x", "y")}), tmp_path)
    a.start()
    b.start()
    a.finish()
    b.finish()
    assert sorted(ran) == ["x", "y", "z"]
    assert set(a.compiled) | set(b.compiled) == {"x", "y", "z"}


def test_a_worker_takes_the_step_heading_the_costliest_chain_first(tmp_path):
    """By cost, not by the plan's order: y (5 s) and z after it make the longest chain, so y goes first; x and z
    (1 s each, equal chains) then keep the plan's order."""
    ran: list[str] = []
    split = SplitCompile(_steps(ran, "x y z", {"z": ("y",)}), tmp_path, cost_s={"x": 1.0, "y": 5.0, "z": 1.0})
    split.start()
    split.finish()
    assert ran == ["y", "x", "z"]


def test_the_warm_up_plan_waits_only_for_its_own_steps_and_shared_callees_come_first(tmp_path):
    """A step waits for the steps it names (a name not in the plan would hold it until `max_wait_s`); the two that
    call the uniform sweep's callees, and the three that call the batch driver with the search's signature, load it
    from the step that compiles it (side by side, each would compile it again); the driver takes the classes' counts
    by address, so it does not wait for them, which the searches load; the perfect driver's scaffold has no sweep,
    so it does not wait for it."""
    from cosearch.command_warm_up import warm_up_plan

    plan = warm_up_plan(cosearch.make_settings("area=5mm2", trials=1, out=tmp_path / "out", time_limit=None))
    after = {s.name: s.after for s in plan}
    assert len(after) == len(plan) and all(a in after for s in plan for a in s.after)
    assert "sweep" in after["level_accesses"] and "sweep" in after["class_accesses"]
    assert "class_accesses" in after["class_counts"] and set(after["level_accesses_perfect"]) == set(SHARED_STEPS)
    # the callees several steps call by name are compiled once, before them (not by two workers side by side)
    assert all(set(SHARED_STEPS) <= set(after[s]) for s in ("walk", "joint_step", "sweep", "level_accesses",
                                                             "level_accesses_perfect"))
    assert all("geometry" in after[s] for s in ("phase_stream", "decode_batch", "output_partitions"))
    assert not {"class_accesses", "class_counts"} & set(after["evaluate_range"])
    assert "level_accesses" in after["evaluate_range"] and "class_counts" in after["search"]
    assert "level_accesses_perfect" in after["evaluate_range_perfect"]
    assert not {"sweep", "level_accesses"} & set(after["evaluate_range_perfect"])
    assert all("evaluate_range" in after[entry] for entry in ("search", "evaluate_batch_parallel"))
    # the search's code calls its decoder and driver by address: it waits for the helpers only
    assert set(after["run_evolution"]) == {"helpers"}
    # the co-search's factors ("auto") run the full driver; best_mapping's default ("perfect") the perfect one
    assert {"evaluate_range_perfect", "run_evolution"} <= set(after["search_perfect"])
    assert not {"sweep", "class_accesses", "evaluate_range"} & set(after["search_perfect"])


def test_a_run_whose_workers_each_run_one_trial_compiles_one_driver(tmp_path):
    """The plan of a run whose every worker runs one trial holds the full driver's chain and not the perfect-factor
    driver's (its searches all take the full one: `cosearch.config.make_settings`); a run with a second trial holds
    both, the perfect one for its first trials."""
    short = {s.name for s in compile_plan(cosearch.make_settings("area=5mm2", trials=1, workers=1, out=tmp_path / "a"))}
    assert {"evaluate_range", "level_accesses", "search"} <= short
    assert not {"evaluate_range_perfect", "level_accesses_perfect", "search_perfect"} & short
    longer = {s.name for s in compile_plan(cosearch.make_settings("area=5mm2", trials=2, workers=1,
                                                                  out=tmp_path / "b"))}
    assert {"evaluate_range", "evaluate_range_perfect", "search", "search_perfect"} <= longer


def test_the_mapper_plan_compiles_the_search_its_factors_run():
    """A mapper with factors="perfect" has its search and driver compiled without the residual paths, one with
    "residual" the full ones only, one with "auto" both (the layers it leaves perfect take the perfect driver); the
    full driver is in every plan (the final phase and the report call it). A first search, or a worker's first
    trial, waits for the perfect search's steps where the mapper has them: the full driver's chain comes after."""
    from accel_models import get_preset
    from mappings import MapperSettings
    from mappings.compile_plan import after_first_search, mapper_compile_plan
    from nets import Layer

    layer, acc = Layer.conv(16, 16, 3, 8, name="c"), get_preset("eyeriss")
    plans = {f: mapper_compile_plan(layer, acc, MappingCache(MapperSettings(factors=f)))
             for f in ("perfect", "residual", "auto")}
    names = {f: {s.name for s in plan} for f, plan in plans.items()}
    perfect_only = {"search_perfect", "evaluate_range_perfect", "level_accesses_perfect", "perfect_paths"}
    assert perfect_only <= names["perfect"] and "search" not in names["perfect"]
    assert "search" in names["residual"] and not perfect_only & names["residual"]
    assert perfect_only | {"search"} <= names["auto"]
    assert all({"evaluate_range", "sweep", "class_accesses", "run_evolution"} <= n for n in names.values())
    plan = {s.name: s.after for s in plans["auto"]}
    assert "evaluate_range_perfect" in plan["search_perfect"]
    assert not {"sweep", "class_accesses", "evaluate_range"} & set(plan["search_perfect"])
    assert {"evaluate_range", "level_accesses", "class_counts"} <= set(plan["search"])
    full_chain = {"evaluate_range", "search", "sweep", "level_accesses", "walk", "phase_stream", "class_accesses",
                  "class_counts"}
    for factors in ("perfect", "auto"):
        later = after_first_search(plans[factors])
        assert full_chain & names[factors] <= later and "warm_starts" in later
        assert not {"search_perfect", "evaluate_range_perfect", "run_evolution", "level_accesses_perfect"} & later
    assert after_first_search(plans["residual"]) == {"warm_starts"}


class _FakeClock:
    """`accel_models.jit._schedule`'s clock, replaced: `monotonic` stands still but for the `sleep`s, which are recorded
    and return at once, so a test counts a wait instead of timing it."""

    def __init__(self, monkeypatch):
        self.now, self.slept = 1000.0, []
        clock = SimpleNamespace(monotonic=lambda: self.now, sleep=self.sleep, process_time=time.process_time)
        monkeypatch.setattr(_schedule, "time", clock)

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_the_schedule_predicts_the_wall_time_of_the_split():
    """a (10 s) then c (3 s) after it is the critical path: two workers end in 13 s (d and b beside a), one in 19 s;
    a third worker adds nothing."""
    steps = [CompileStep(n, lambda: None, after) for n, after in (("b", ()), ("a", ()), ("c", ("a",)), ("d", ()))]
    cost = {"a": 10.0, "b": 2.0, "c": 3.0, "d": 4.0}
    assert schedule_s(steps, cost, 1) == 19.0
    assert schedule_s(steps, cost, 2) == 13.0
    assert schedule_s(steps, cost, 3) == 13.0


def test_later_steps_end_the_schedule_and_are_not_waited_for():
    """w (8 s) is a later step: without it first, worker 2 runs w then b (4 s) and the needed steps end at 12 s; with
    it last, b first, and they end at 11 s (a, then c after it), while w still ends at 12 s."""
    steps = [CompileStep(n, lambda: None, after) for n, after in (("a", ()), ("b", ()), ("c", ("a",)), ("w", ()))]
    cost = {"a": 10.0, "b": 4.0, "c": 1.0, "w": 8.0}
    assert schedule_s(steps, cost, 2) == 12.0
    assert schedule_s(steps, cost, 2, later=("w",)) == 11.0


def test_a_later_step_waits_for_the_first_trial_unless_a_worker_has_nothing_else(tmp_path, monkeypatch):
    """`start` and `finish` leave the later step w; `finish_later` (after the first trial) takes it; a later step
    that another step calls is needed before it; one another worker holds is not waited for."""
    ran: list[str] = []
    split = SplitCompile(_steps(ran, "w x y", {"y": ("x",)}), tmp_path / "a", later=("w",))
    split.start()
    split.finish()
    assert ran == ["x", "y"]
    split.finish_later()
    assert ran == ["x", "y", "w"]
    assert SplitCompile(_steps(ran, "w z", {"z": ("w",)}), tmp_path / "b", later=("w",)).needed == {"w", "z"}
    ran.clear()
    with _held(tmp_path / "c", "w"):
        split = SplitCompile(_steps(ran, "w x"), tmp_path / "c", later=("w",))
        split.start()
        split.finish()
        clock = _FakeClock(monkeypatch)
        split.finish_later()
        assert ran == ["x"] and clock.slept == []      # w, held by another worker, not waited for


def test_a_search_that_needs_later_steps_completes_the_open_split_first(tmp_path):
    """In a worker's trials (`open_for_searches`), a first search whose plan step is a later one (a layer with
    residual factors, the full driver's search) takes every step left, once; a perfect search, whose steps the first
    trial had, takes none; nor does a search while a step runs (the plan's own search); the block leaves no split
    open."""
    from mappings.split_compile import compile_first_search

    ran: list[str] = []
    inside: list[str] = []
    steps = _steps(ran, "a search_perfect b search warm_starts", {"search_perfect": ("a",), "search": ("b",)})

    def the_plans_own_search():       # a step's run: a search inside it must not complete the split (its own lock)
        compile_first_search(None, None, None, "residual", "edp")
        inside.append("search")
    steps[3] = steps[3]._replace(run=the_plans_own_search)
    said: list[str] = []
    split = SplitCompile(steps, tmp_path / "s", later=("b", "search", "warm_starts"), say=said.append)
    split.start()
    split.finish()
    assert ran == ["a", "search_perfect"]
    said.clear()
    with split.open_for_searches():
        assert compile_first_search(None, None, None, "perfect", "edp") is False
        assert ran == ["a", "search_perfect"]
        assert compile_first_search(None, None, None, "residual", "edp") is False
        assert sorted(ran) == ["a", "b", "search_perfect", "warm_starts"] and inside == ["search"]
        compile_first_search(None, None, None, "residual", "edp")
        split.complete()
        assert len(ran) == 4 and inside == ["search"] and len(said) == 1   # once
    assert open_split() is None


def test_a_later_step_fills_a_wait_for_another_workers_step(tmp_path):
    """x is another worker's (held until it dies): a worker waiting for it in `finish` compiles the later step w
    meanwhile, then x once its worker is gone."""
    ran: list[str] = []
    folder = tmp_path / "steps"
    with _held(folder, "x"):
        split = SplitCompile(_steps(ran, "x w"), folder, later=("w",))
        split.start()
        assert ran == []
        split.max_wait_s = 0.3      # short: the wait gives up once w is done, x still held
        split.finish()
        assert ran == ["w"]
    split.max_wait_s = 60
    split.finish()
    assert ran == ["w", "x"]


def test_a_step_waits_for_its_callees_and_a_dead_workers_step_is_taken_over(tmp_path):
    ran: list[str] = []
    said: list[str] = []
    with _held(tmp_path, "x"):
        split = SplitCompile(_steps(ran, "x y z", {"z": ("x",)}), tmp_path, max_wait_s=60, say=said.append)
        split.start()
        assert ran == ["y"]  # x is another worker's; z waits for it
    split.finish()  # that worker died: its lock went with it
    assert ran == ["y", "x", "z"]
    assert not any("gave up" in s for s in said)


def test_a_stuck_worker_is_waited_for_at_most_max_wait_s(tmp_path, monkeypatch):
    ran: list[str] = []
    said: list[str] = []
    with _held(tmp_path, "x"):
        split = SplitCompile(_steps(ran, "x y", {"y": ("x",)}), tmp_path, max_wait_s=0.5, poll_s=0.1,
                             say=said.append)
        clock = _FakeClock(monkeypatch)
        split.start()
        split.finish()
        # it polled every poll_s until max_wait_s had passed, then gave up (below)
        assert clock.slept == [0.1] * len(clock.slept) and 0.5 <= sum(clock.slept) <= 0.6 + 1e-9
    assert ran == []
    assert any("gave up waiting for x, y" in s for s in said)


def test_without_file_locks_every_worker_compiles_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(_schedule, "fcntl", None)  # as on Windows
    ran: list[str] = []
    split = SplitCompile(_steps(ran, "x y"), tmp_path / "steps")
    split.start()
    split.finish()
    assert ran == [] and not (tmp_path / "steps").exists()  # the trial compiles as without a plan


def test_a_failing_step_is_marked_done_and_said(tmp_path):
    said: list[str] = []
    ran: list[str] = []

    def fails():
        raise TypeError("no matching definition")

    split = SplitCompile([CompileStep("bad", fails), *_steps(ran, "after", {"after": ("bad",)})], tmp_path,
                         say=said.append)
    split.start()
    split.finish()
    assert ran == ["after"]
    assert json.loads((tmp_path / "bad.done").read_text())["error"] == "TypeError: no matching definition"
    assert any("step bad failed" in s for s in said)


class _Helper:
    """A stand-in for the helper process: records how long its caller gave it."""

    def __init__(self):
        self.waited: list[float] = []


def test_a_one_process_run_shares_its_compile_with_a_helper_only_on_a_cold_cache(tmp_path, monkeypatch):
    import cosearch.search.worker_compile as cs
    settings = cosearch.make_settings("area=5mm2", trials=3, workers=1, out=tmp_path / "out", time_limit=None)
    started: list[str] = []
    helper = _Helper()
    monkeypatch.setattr(cs, "start_helper", lambda folder, code: started.append(code) or helper)
    monkeypatch.setattr(cs, "stop_helper", lambda h, wait_s: h.waited.append(wait_s))
    monkeypatch.setattr(cs, "helper_would_help", lambda search, factors: False)    # a warm cache
    with cs.compile_beside(settings) as split:
        assert split is None
    assert started == []
    monkeypatch.setattr(cs, "helper_would_help", lambda search, factors: True)     # a cold one
    with cs.compile_beside(settings) as split:
        assert sorted(s.name for s in split.steps) == sorted(s.name for s in compile_plan(settings))
        # the first trial's steps only: the perfect-factor search's ("auto" searches a layer with perfect factors so)
        assert "search_perfect" in split.needed and not {"warm_starts", "search", "sweep"} & split.needed
        assert "_helper_main" in started[0]
    assert helper.waited == [cs.MAX_WAIT_S]      # given the time to finish its steps
    one_trial = cosearch.make_settings("area=5mm2", trials=1, workers=1, out=tmp_path / "one", time_limit=None)
    with cs.compile_beside(one_trial) as split:  # its one trial searches with the full driver: that chain first
        assert "search" in split.needed and "search_perfect" not in {s.name for s in split.steps}
    helper.waited.clear()
    with pytest.raises(KeyboardInterrupt):
        with cs.compile_beside(settings):
            raise KeyboardInterrupt
    assert helper.waited == [0]                  # stopped at once on an interrupt


@pytest.mark.slow
def test_a_deadline_passed_while_compiling_still_lets_the_first_trial_run(tmp_path, monkeypatch):
    """The shared compile stands for the one the first trial would have done: a worker whose compile outlasts the
    time limit still runs that trial, as it did when the trial compiled; the steps left are taken before it returns.
    The compile's hour passes on the split's clock (`_FakeClock`), the deadline a second before the worker starts: only
    the compile's time lets the first trial run, and no trial after it."""
    settings = cosearch.make_settings("area=2.5mm2", network="alexnet", trials=3, out=tmp_path / "out",
                                      mapper_evals=32, final_mapper_evals=64, time_limit="none")
    prepare_study(settings)
    clock = _FakeClock(monkeypatch)
    split = SplitCompile([CompileStep("slow", lambda: clock.sleep(3600.0)), CompileStep("final_phase", lambda: None)],
                         tmp_path / "steps", later=("final_phase",))
    report = run_worker(settings, 0, deadline=time.time() - 1.0, split=split)
    assert split.wall_s == 3600.0
    assert report.trials == 1 and report.stop == "time limit"
    # a step no trial called (a later one), which the command's final phase calls, is taken before the worker returns
    assert list(split.compiled) == ["slow", "final_phase"]


_WORKER = """
import json, sys
from pathlib import Path
from numba.core import event

step = ["set-up"]
compiled: dict[str, list[str]] = {}


class Listener(event.Listener):
    def on_start(self, ev):
        pass

    def on_end(self, ev):
        d = ev.data["dispatcher"]
        compiled.setdefault(step[0], []).append(f"{d.py_func.__module__}.{d.py_func.__qualname__}"
                                                f" {tuple(ev.data['args'])}")


event.register("numba:compile", Listener())
import cosearch
from cosearch.search.worker_compile import compile_plan
from mappings import MappingCache
from accel_models.jit import SplitCompile, schedule_s
sys.path[:0] = [sys.argv[3], str(Path(sys.argv[3]).parents[1])]   # this folder; tests/ (_numba_compiles)
from test_split_compile import _search


def labelled(s):
    def run():
        step[0] = s.name
        try:
            s.run()
        finally:
            step[0] = "between steps"
    return s._replace(run=run)


settings = cosearch.make_settings("area=5mm2", trials=1, out=sys.argv[2], time_limit=None)
split = SplitCompile([labelled(s) for s in compile_plan(settings)], Path(sys.argv[1]))
split.start()
split.finish()
step[0] = "search"
result = _search(settings)
print(json.dumps({"steps": sorted(split.compiled), "compiled": compiled,
                  "result": [result.cycles, result.energy_pj, list(result.genes)]}))
"""


def _search(settings):
    """A search that is not the plan's own (another layer, another design)."""
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.3 for g in space.genes}, name="other")
    return MappingCache(settings.mapper).result(get_network("resnet50").layers[5], design.accelerator, "edp")


@pytest.mark.slow
def test_two_processes_split_the_real_plan_on_an_empty_numba_cache_then_the_warm_up_completes_it(tmp_path):
    """A cold compile of the mapper tree shared by two processes, then the warm-up command on the cache they built:
    ~120 s of CPU in all, ~65 s on two idle cores."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "PYTHONPATH": str(ROOT)}
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "steps"), str(tmp_path / f"out{i}"),
                               str(Path(__file__).parent)],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    steps = [s for r in reports for s in r["steps"]]
    settings = cosearch.make_settings("area=5mm2", trials=1, out=tmp_path / "out", time_limit=None)
    plan = compile_plan(settings)
    assert sorted(steps) == sorted(s.name for s in plan)  # each step compiled once, by one of the two
    assert all(r["steps"] for r in reports)  # both took a share
    compiled = {name: [f for f in functions if not f.startswith(("numba.", "mappings.evolution._now "))]
                for r in reports for name, functions in r["compiled"].items() if name in steps}
    # (the project's compilations, by step; `_now`, in object mode, is compiled in every process that calls it)
    # a step loads what the steps it follows compiled (function and signature: a function called with other types
    # is another compilation): the plan's types are the callers' own
    for s in plan:
        for a in s.after:
            assert not set(compiled.get(s.name, ())) & set(compiled.get(a, ())), (s.name, a)
    # the shared callees' steps compile them for their callers' types: a step that waits for one compiles none of its
    # functions again (with other types, two workers starting such steps side by side would again both compile them)
    after = {s.name: s.after for s in plan}
    shared = {name: {f.split(" ")[0] for f in compiled.get(name, ())} for name in SHARED_STEPS}
    again = [(step, f) for step, functions in compiled.items() for f in functions for name in SHARED_STEPS
             if name in after.get(step, ()) and f.split(" ")[0] in shared[name]]
    assert all(shared.values()) and not again, again
    # and no step compiles a shared step's function for the same types unless it comes first, whatever the waits
    # (a step that calls one but does not wait for it compiles it when it starts before the shared step ends)
    twice = [(step, f) for step, functions in compiled.items() if step not in SHARED_STEPS for f in functions
             for name in SHARED_STEPS if f in compiled.get(name, ())]
    assert not twice, twice
    for r in reports:  # the search after the plan loads everything from the cache (_now's object mode aside)
        assert {f.split(" ")[0] for f in r["compiled"].get("search", ())} <= {"mappings.evolution._now"}, \
            r["compiled"]["search"]
    assert not any(json.loads((tmp_path / "steps" / f"{s.name}.done").read_text())["error"] for s in plan)
    # the same search in this process (its own numba cache) finds the same mapping, bit for bit
    result = _search(settings)
    for r in reports:
        assert r["result"] == [result.cycles, result.energy_pj, list(result.genes)]
    # the README's warm-up on that cache compiles the rest of its plan (the library's entry points, its default
    # mapper's perfect-factor steps); after it a new process's first calls compile nothing of the project's (`_now`,
    # an object-mode clock, is compiled at each call site whatever the cache). CI runs the warm-up on an empty cache.
    warm = subprocess.run([sys.executable, "-m", "cosearch", "warm-up", "--workers", "2"], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=1800)
    assert warm.returncode == 0, warm.stderr[-2000:]
    steps = len(warm_up_plan(cosearch.make_settings("area=5mm2", trials=1, time_limit=None)))
    assert warm.stdout.startswith(f"warm-up: {steps} compile steps") and "on 2 worker(s)" in warm.stdout
    first = subprocess.run([sys.executable, "-c", _FIRST_CALLS], capture_output=True, text=True, cwd=ROOT, env=env,
                           timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    compiled = json.loads(first.stdout.strip().splitlines()[-1])
    assert [f for f in compiled if not f.startswith(("numba.", "mappings.evolution._now "))] == []


_FIRST_CALLS = LISTENER + textwrap.dedent("""
    import json
    import cosearch
    from accel_models import get_preset
    from mappings import MappingCache, best_mapping
    from nets import Layer, get_network
    best_mapping(Layer.conv(64, 64, 3, 56), get_preset("eyeriss"), budget_evals=64)
    from accel_models import evaluate_batch
    from mappings import random_valid_mappings
    layer, acc = Layer.conv(64, 128, 3, 28), get_preset("nvdla_256")      # the README's first Python example
    evaluate_batch(layer, acc, random_valid_mappings(layer, acc, 10_000, rng=0))
    settings = cosearch.make_settings("area=5mm2", trials=1, time_limit=None)
    MappingCache(settings.mapper).result(get_network("mobilenet_v2").layers[3], get_preset("nvdla_256"))
    print(json.dumps(compiled))
""")
