"""What a fresh clone's first run compiles: one default trial with an empty numba cache, and where the time goes.

    python benchmarks/bench_cold_compile.py [--top 15]
    python benchmarks/bench_cold_compile.py --workers 2 [--timeline]
    python benchmarks/bench_cold_compile.py --per-function
    python benchmarks/bench_cold_compile.py --best-mapping
    python benchmarks/bench_cold_compile.py --passes
    python benchmarks/bench_cold_compile.py --tiny [--timeline]

Runs itself again in a child process whose NUMBA_CACHE_DIR is a new empty folder (numba reads it at import),
times one trial of the default co-search (CPU time), and lists the longest numba compilations as numba's
compile events report them (nested: a caller's time includes its callees'). Last line:
`cold first trial: X s CPU (numba compile Y s)` (the trial's own process; the line before it, every process's CPU
with the compile helper a first search starts, `mappings.split_compile.compile_first_search`, and the wall time).

`--workers N` (N >= 2) times what a user of a fresh clone waits for instead: `run_cosearch.py --workers N` on an
empty numba cache, from the command's start to its first complete trial (wall time, with the load average: the
worker processes share the compile, `cosearch.search.worker_compile`), then interrupts it; it prints each worker's
share of the compile (CPU). Last line: `cold first trial (N workers): X s wall to the first trial (compile a / b s
CPU per worker)`. With `--timeline`, before it, each process's events in wall seconds from the command's start
(`dev/_timeline_hook.py` records them in every process: imports, settings and plan, each shared compile step, waits,
numba compilations outside the plan, the study's loading, the first trial) and the functions compiled in more than one
process; the folder (events and the cache the run built) is kept and named.

`--per-function` compiles the warm-up's plan (`mappings.compile_plan.mapper_compile_plan`: the cost kernel's
callees, the decoder, the kernel's driver, the search, the warm starts; then the cost model's entry points,
`cosearch.command_warm_up.entry_point_steps`) one step after the other on an empty cache, in the order the plan gives (a step's callees are compiled by the steps before it, so each row is that
function's own compile, with the helpers numba inlines into it), and prints each step's CPU time. Last line:
`per-function compile: X s CPU in N steps (largest: NAME Y s)`; the line before it names the project's functions
compiled for more than one signature (each one more compile of it), the one before that the wall time the split
between N worker processes would take with these costs, and the longest chain of callees that bounds it.

`--compare DIR` runs `--per-function` on this tree and then on DIR, a copy of the repository with a kernel change
(e.g. fewer `inline="always"`), each on an empty cache, and prints both. Last line:
`compile plan: X s CPU here, Y s CPU in DIR (Z%)`.

`--best-mapping` times what a user who imports the library waits for: `mappings.best_mapping` on a ResNet-50 3x3
layer and the Eyeriss preset, in a new process, first on an empty cache (compile), then again in another new
process on the cache the first left (load: the figure a cache built at install time would give). CPU is the
process's own, and that of every process (with the helper process a first search starts on a cold cache,
`mappings.split_compile.compile_first_search`; `COSEARCH_COMPILE_HELPER=0` in the environment stops it). Last line:
`first best_mapping: X s CPU, Z s CPU in all processes (W s wall) on an empty cache, Y s CPU (V s wall) on a built
cache`.

`--passes` splits that first `best_mapping` on an empty cache by numba's compiler passes (numba's
`numba:run_pass` events; a pass's own CPU time, without the callees it compiles while it types its function):
the passes' totals, then the costliest (pass, function) pairs. `native_lowering` holds the LLVM IR's
construction, LLVM's optimization of the function's module (its callees linked in) and the machine code;
`inline_inlinables` the copies of `inline="always"` callees; `nopython_type_inference` the typing. Last line:
`compile by pass: X s CPU (native_lowering A s, inline_inlinables B s, nopython_type_inference C s)`.
numba's optimization level follows the environment (`NUMBA_OPT=2 python benchmarks/bench_cold_compile.py
--best-mapping`).

`--tiny` times the tiny co-search (`run_cosearch.py --trials 1 --population 4 --generations 1 --workers 1`) on an
empty cache, CPU (user + sys) and wall. Last line: `tiny co-search on an empty cache: X s CPU, Y s wall`. With
`--timeline`, before it, the run's and its compile helper's events, as for `--workers N`.

`--warm-up` times the set-up step that builds the cache ahead (`cosearch warm-up`, one process per core) on an empty
cache, then, each in a new process on the cache it built, what a user runs first: `best_mapping` (as
`--best-mapping`), one default trial (as the default mode, with numba's compile events) and a tiny co-search
(`run_cosearch.py --trials 1 --population 4 --generations 1 --workers 1`, wall). Last line:
`after warm-up (X s wall, Y s CPU): first best_mapping A s CPU, first trial B s CPU, tiny co-search C s CPU (D s
wall)`.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _commands import TINY, timed_run

sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "dev"))  # the timeline hooks
from _timeline import print_timeline, timeline_env

ROOT = Path(__file__).resolve().parents[1]


def _child(top: int) -> None:
    sys.path.insert(0, str(ROOT))
    from numba.core import event

    spans: list[tuple[float, str]] = []
    started: dict[int, float] = {}

    class _Listener(event.Listener):
        def on_start(self, ev):
            started[id(ev.data.get("dispatcher"))] = time.process_time()

        def on_end(self, ev):
            d = ev.data.get("dispatcher")
            t0 = started.pop(id(d), time.process_time())
            name = f"{d.py_func.__module__}.{d.py_func.__qualname__}" if d is not None else "?"
            spans.append((time.process_time() - t0, name))

    event.register("numba:compile", _Listener())
    import optuna

    import cosearch
    from cosearch.search.study import make_sampler
    from cosearch.search.trial import TrialObjective

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.process_time()
    settings = cosearch.make_settings("area=5mm2", trials=1, out=tempfile.mkdtemp(), time_limit=None)
    study = optuna.create_study(direction="minimize", sampler=make_sampler("cmaes", 0))
    study.optimize(TrialObjective(settings), n_trials=1)
    trial_s = time.process_time() - t0
    # the outermost compilations: spans not inside another (events nest; the longest covers its callees)
    spans.sort(reverse=True)
    print(f"{'CPU s':>7s}  numba compilation (nested: includes what it calls)")
    for t, name in spans[:top]:
        print(f"{t:7.2f}  {name}")
    outermost = _outermost_total(spans)
    print(f"compilations: {len(spans)}")
    print(f"cold first trial: {trial_s:.1f} s CPU (numba compile {outermost:.1f} s)")


def _child_per_function() -> None:
    sys.path.insert(0, str(ROOT))
    from accel_models import get_preset
    from mappings import MappingCache
    from cosearch.command_warm_up import entry_point_steps
    from mappings.compile_plan import mapper_compile_plan
    from nets import Layer

    layer = Layer.conv(64, 64, 3, 56, name="conv3x3")
    t0 = time.process_time()
    steps = (mapper_compile_plan(layer, get_preset("eyeriss"), MappingCache())
             + entry_point_steps(layer, get_preset("eyeriss")))
    rows = [("(plan: its types and the cache guard)", time.process_time() - t0)]
    for step in steps:
        t = time.process_time()
        step.run()
        rows.append((step.name, time.process_time() - t))
    total = sum(t for _, t in rows)
    print(f"{'CPU s':>7s}  {'share':>5s}  compile step (its own function, with what numba inlines into it)")
    for name, t in rows:
        print(f"{t:7.2f}  {100 * t / total:4.0f}%  {name}")
    big = max(rows[1:], key=lambda r: r[1])
    from accel_models.jit import chain_cost_s, schedule_s
    measured = dict(rows[1:])
    chain = chain_cost_s(steps, measured)
    first = max(chain, key=chain.get)
    print("split by these costs (accel_models.jit.SplitCompile): "
          + ", ".join(f"{w} worker(s) {schedule_s(steps, measured, w):.1f} s" for w in (1, 2, 4))
          + f"; longest chain of callees {chain[first]:.1f} s (from {first})")
    twice = _compiled_more_than_once()
    print("compiled for more than one signature: " + ("; ".join(twice) if twice else "none"))
    print(f"per-function compile: {total:.1f} s CPU in {len(steps)} steps (largest: {big[0]} {big[1]:.1f} s)")


def _compiled_more_than_once() -> list[str]:
    """The project's numba functions this process holds more than one compilation of (each signature is a whole
    compile of the function and of what it inlines), with their signatures."""
    from numba.core.dispatcher import Dispatcher

    seen, out = set(), []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("accel_models", "mappings", "cosearch", "nets") or module is None:
            continue
        for fn in vars(module).values():
            if isinstance(fn, Dispatcher) and id(fn) not in seen and len(fn.signatures) > 1:
                seen.add(id(fn))
                sigs = " | ".join(", ".join(str(t) for t in sig)[:160] for sig in fn.signatures)
                out.append(f"{fn.py_func.__module__}.{fn.py_func.__name__} x{len(fn.signatures)} ({sigs})")
    return out


def _child_best_mapping() -> None:
    t0, w0 = time.process_time(), time.monotonic()
    sys.path.insert(0, str(ROOT))
    from accel_models import get_preset
    from mappings import best_mapping
    from nets import Layer

    t1 = time.process_time()
    best = best_mapping(Layer.conv(64, 64, 3, 56, name="conv3x3"), get_preset("eyeriss"), budget_evals=256, seed=0)
    t2, w2 = time.process_time(), time.monotonic()
    print(f"imports {t1 - t0:.1f} s CPU, best_mapping {t2 - t1:.1f} s CPU, {w2 - w0:.1f} s wall in all "
          f"(EDP {best.edp_pj_cycles:.6g} pJ*cycles)")
    print(f"TOTAL {t2 - t0:.2f} {w2 - w0:.2f}")


def _child_passes(top: int) -> None:
    """The first best_mapping, its compile split by numba pass (own CPU time of each pass run: nested runs, the
    callees compiled while a caller is typed, are subtracted from the caller's)."""
    from collections import Counter

    from numba.core import event

    stack: list[list] = []
    by_pass: Counter = Counter()
    by_pair: Counter = Counter()

    class _Passes(event.Listener):
        def on_start(self, ev):
            stack.append([ev.data["name"], time.process_time(), 0.0])

        def on_end(self, ev):
            name, t0, inner = stack.pop()
            spent = time.process_time() - t0
            by_pass[name.split(" [")[0]] += spent - inner
            by_pair[name] += spent - inner
            if stack:
                stack[-1][2] += spent

    event.register("numba:run_pass", _Passes())
    _child_best_mapping()
    total = sum(by_pass.values())
    print(f"{'CPU s':>7s}  {'share':>5s}  numba pass (own time, all functions)")
    for name, t in by_pass.most_common(8):
        print(f"{t:7.2f}  {100 * t / total:4.0f}%  {name}")
    print(f"{'CPU s':>7s}  pass [function]")
    for name, t in by_pair.most_common(top):
        print(f"{t:7.2f}  {name}")
    main_passes = ("native_lowering", "inline_inlinables", "nopython_type_inference")
    print(f"compile by pass: {total:.1f} s CPU (" + ", ".join(f"{p} {by_pass[p]:.1f} s" for p in main_passes) + ")")


def _best_mapping(cache: str) -> int:
    """The child `--best-mapping` run twice on one cache folder: empty, then as the first left it."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    totals = []
    for label in ("empty cache", "built cache"):
        c0 = os.times()
        r = subprocess.run([sys.executable, __file__, "--child", "--best-mapping"], env=env, capture_output=True,
                           text=True)
        c1 = os.times()
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            return r.returncode
        lines = r.stdout.strip().splitlines()
        every = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        print(f"{label}: {lines[0]}; {every:.1f} s CPU of every process (with a compile helper's)  (load average "
              f"{os.getloadavg()[0]:.2f} after)", flush=True)
        totals.append(tuple(float(x) for x in lines[-1].split()[1:]) + (every,))
    print(f"first best_mapping: {totals[0][0]:.1f} s CPU, {totals[0][2]:.1f} s CPU in all processes "
          f"({totals[0][1]:.1f} s wall) on an empty cache, {totals[1][0]:.1f} s CPU ({totals[1][1]:.1f} s wall) on a "
          f"built cache")
    return 0


def _compare(other: Path) -> int:
    """`--per-function` here and in the copy `other`, each in a child on an empty cache."""
    totals = []
    for root in (ROOT, other):
        with tempfile.TemporaryDirectory() as cache:
            r = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_cold_compile.py"), "--child",
                                "--per-function"], env={**os.environ, "NUMBA_CACHE_DIR": cache}, cwd=root,
                               capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            return r.returncode
        print(f"{root}:\n{r.stdout}(load average {os.getloadavg()[0]:.2f} after)", flush=True)
        totals.append(float(r.stdout.strip().splitlines()[-1].split()[2]))
    print(f"compile plan: {totals[0]:.1f} s CPU here, {totals[1]:.1f} s CPU in {other} "
          f"({100 * (totals[1] / totals[0] - 1):+.0f}%)")
    return 0


def _after_warm_up(cache: str, workers: int | None) -> int:
    """`cosearch warm-up` on the empty cache `cache`, then the first calls a user makes, each in a new process."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    me = [sys.executable, __file__, "--child"]
    say = lambda text: print(f"{text}  (load average {os.getloadavg()[0]:.2f})", flush=True)  # noqa: E731
    wall, cpu, out = timed_run([sys.executable, "-m", "cosearch", "warm-up",
                           *(["--workers", str(workers)] if workers else [])], env)
    line = next(x for x in out.splitlines() if x.startswith("warm-up:"))
    print("\n".join(x for x in out.splitlines() if x.startswith("worker ")))
    say(f"warm-up: {wall:.1f} s wall, {cpu:.1f} s CPU; {line}")
    _, bm_cpu, out = timed_run([*me, "--best-mapping"], env)
    say(f"first best_mapping: {bm_cpu:.1f} s CPU; {out.strip().splitlines()[0]}")
    _, trial_cpu, out = timed_run([*me, "--top", "5"], env)
    lines = out.strip().splitlines()
    say(f"first default trial: {trial_cpu:.1f} s CPU; {lines[-2]}; {lines[-1]}")
    with tempfile.TemporaryDirectory() as run_out:
        tiny_wall, tiny_cpu, _ = timed_run([sys.executable, str(ROOT / "run_cosearch.py"), *TINY, "--out", run_out],
                                           env)
    say(f"tiny co-search: {tiny_wall:.1f} s wall, {tiny_cpu:.1f} s CPU")
    print(f"after warm-up ({wall:.0f} s wall, {cpu:.0f} s CPU): first best_mapping {bm_cpu:.1f} s CPU, "
          f"first trial {trial_cpu:.1f} s CPU, tiny co-search {tiny_cpu:.1f} s CPU ({tiny_wall:.0f} s wall)")
    return 0


def _tiny(cache: str, timeline: bool = False) -> int:
    """The tiny co-search (`TINY`) on the empty cache `cache`: what a newcomer's first small run waits for; with
    `timeline`, each of its processes' events (the run's and its compile helper's) as well."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(cache) / "numba")}
    if timeline:
        env = timeline_env(env, Path(cache))
    t0 = time.time()
    with tempfile.TemporaryDirectory() as run_out:
        wall, cpu, _ = timed_run([sys.executable, str(ROOT / "run_cosearch.py"), *TINY, "--out", run_out], env)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if timeline:
        print_timeline(Path(cache) / "timeline", t0, None)
    print(f"tiny co-search on an empty cache: {cpu:.1f} s CPU, {wall:.1f} s wall")
    return 0


def _outermost_total(spans: list[tuple[float, str]]) -> float:
    """Compile time not counted twice: the top-level compilations are those of the trial's entry points
    (`run_evolution`, the cost kernel's drivers, the decoder), whose spans contain the others. The search compiles
    neither its decoder nor its driver inside it (both passed by address: `mappings.evolution.Search`)."""
    roots = ("run_evolution", "evaluate_range", "evaluate_batch", "decode_batch", "encode_into")
    by_name: dict[str, float] = {}
    for t, name in spans:
        key = name.rsplit(".", 1)[-1].removesuffix("_perfect")    # the perfect-factor search and driver alike
        if key in roots:
            by_name[key] = max(by_name.get(key, 0.0), t)
    return sum(by_name.values())


SHARE = re.compile(r"split compile: (\d+) of (\d+) steps run here \(([0-9.]+) s CPU")


def _wait_for_shares(out: Path, workers: int, timeout_s: float = 60.0) -> None:
    """Wait until every worker's log holds its share of the compile: a worker still setting up when another's
    first trial ends writes it a moment later (at most `timeout_s`)."""
    logs = [out / "workers" / f"worker-{i}.log" for i in range(workers)]
    t0 = time.time()
    while time.time() - t0 < timeout_s and not all(log.is_file() and SHARE.search(log.read_text()) for log in logs):
        time.sleep(0.2)


def _first_trial_of_command(workers: int, cache: str, timeline: bool = False) -> int:
    """`run_cosearch.py --workers N` on the empty numba cache `cache`: wall time to its first complete trial; with
    `timeline`, each process's events as well (`_timeline_hook`, printed by `_timeline.print_timeline`)."""
    out = Path(cache) / "out"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(cache) / "numba")}
    if timeline:
        env = timeline_env(env, Path(cache))
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_cosearch.py"), "--out", str(out), "--workers",
                             str(workers)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    first = None
    for line in proc.stderr:  # the progress display's lines: "trial n/N ..."
        m = re.search(r"trial (\d+)/", line)
        if m and int(m.group(1)) >= 1:
            first = time.time() - t0
            break
    if first is not None:
        threading.Thread(target=proc.stderr.read, daemon=True).start()   # keep the pipe drained meanwhile
        _wait_for_shares(out, workers)
    proc.send_signal(signal.SIGINT)  # the command stops its workers and keeps what they finished
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if first is None:
        print(f"run_cosearch.py ended (status {proc.returncode}) before a trial completed; see {out}")
        return 1
    shares = []
    for i in range(workers):
        log = out / "workers" / f"worker-{i}.log"
        m = SHARE.search(log.read_text()) if log.is_file() else None
        shares.append(f"{m.group(3)}" if m else "?")
        print(f"worker {i}: " + (f"compiled {m.group(1)} of {m.group(2)} steps, {m.group(3)} s CPU" if m
                                  else "no split compile line in its log"))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if timeline:
        print_timeline(Path(cache) / "timeline", t0, first)
    print(f"cold first trial ({workers} workers): {first:.1f} s wall to the first trial "
          f"(compile {' / '.join(shares)} s CPU per worker)")
    return 0


def _on_empty_cache(run, keep: bool = False) -> int:
    """`run(folder)` on a new empty folder for numba's cache, after a line with the cores and the load; the folder is
    removed after, or with `keep` kept and named (the timeline's events, the cache the run built)."""
    if keep:
        cache = tempfile.mkdtemp(prefix="cold-compile-")
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; empty numba cache in {cache} "
              "(kept)", flush=True)
        return run(cache)
    with tempfile.TemporaryDirectory() as cache:
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; empty numba cache {cache}", flush=True)
        return run(cache)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--top", type=int, default=15, help="compilations listed (default 15)")
    ap.add_argument("--workers", type=int, default=1,
                    help="1 (default): one trial in one process; N >= 2: run_cosearch.py --workers N, to its first "
                         "trial")
    ap.add_argument("--per-function", action="store_true",
                    help="the compile plan's steps one by one on an empty cache, CPU time each")
    ap.add_argument("--best-mapping", action="store_true",
                    help="the first best_mapping in a new process: on an empty cache, then on the cache it built")
    ap.add_argument("--passes", action="store_true",
                    help="the first best_mapping on an empty cache, its compile split by numba pass")
    ap.add_argument("--warm-up", action="store_true",
                    help="cosearch warm-up on an empty cache, then the first best_mapping, trial and tiny co-search")
    ap.add_argument("--tiny", action="store_true",
                    help="the tiny co-search (run_cosearch.py --trials 1 --population 4 --generations 1 --workers 1) "
                         "on an empty cache, CPU and wall")
    ap.add_argument("--warm-up-workers", type=int, default=None,
                    help="the warm-up's processes (default: its own, one per core)")
    ap.add_argument("--compare", type=Path, default=None, metavar="DIR",
                    help="--per-function here and in DIR (a copy of the repository with a kernel change)")
    ap.add_argument("--timeline", action="store_true",
                    help="with --workers N or --tiny: each process's imports, plan, compile steps, compilations "
                         "outside the plan and first trial, in wall time from the command's start")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.workers < 1:
        ap.error(f"--workers must be an integer >= 1, got {args.workers}")
    if args.timeline and args.workers < 2 and not args.tiny:
        ap.error(f"--timeline needs --tiny or --workers N with N >= 2 (the command's processes), got --workers "
                 f"{args.workers}")
    if args.child:
        if args.per_function:
            _child_per_function()
        elif args.passes:
            _child_passes(args.top)
        elif args.best_mapping:
            _child_best_mapping()
        else:
            _child(args.top)
        return 0
    if args.compare is not None:
        if not (args.compare / "benchmarks" / "bench_cold_compile.py").is_file():
            ap.error(f"--compare: {args.compare} holds no benchmarks/bench_cold_compile.py (a copy of the repository)")
        return _compare(args.compare.resolve())
    if args.warm_up:
        return _on_empty_cache(lambda cache: _after_warm_up(cache, args.warm_up_workers))
    if args.tiny:
        return _on_empty_cache(lambda cache: _tiny(cache, args.timeline), keep=args.timeline)
    if args.best_mapping:
        return _on_empty_cache(_best_mapping)
    if args.workers > 1:
        return _on_empty_cache(lambda cache: _first_trial_of_command(args.workers, cache, args.timeline),
                               keep=args.timeline)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        if args.passes:     # every pass in the one process listened to
            env["COSEARCH_COMPILE_HELPER"] = "0"
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; empty numba cache {cache}", flush=True)
        child = (["--per-function"] if args.per_function else ["--passes", "--top", str(args.top)] if args.passes
                 else ["--top", str(args.top)])
        w0, c0 = time.monotonic(), os.times()
        r = subprocess.run([sys.executable, __file__, "--child", *child], env=env, stdout=subprocess.PIPE, text=True)
        c1 = os.times()
        *lines, last = r.stdout.rstrip("\n").splitlines() or [""]
        every = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        print("\n".join(lines))
        print(f"every process: {every:.1f} s CPU (with the compile helper's), {time.monotonic() - w0:.1f} s wall; "
              f"load average {os.getloadavg()[0]:.2f} after")
        print(last)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
