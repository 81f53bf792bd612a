"""Processes that start on a cold numba cache share the compile of a compile plan (a list of `CompileStep`): each
compiles steps no other process has taken, and loads the others' from numba's cache.

numba compiles a caller's callees one after the other in one process, and with `cache=True` writes each to its
cache, from which a caller compiled later in another process loads it. A plan's steps are the callees, each with the
steps that compile its own callees (`CompileStep.after`). A process takes, of the steps not done whose callees are
done, the one that heads the costliest chain of compiles still ahead (each step's measured CPU seconds, `STEP_COST_S`,
which the packages that add steps register, plus its longest chain of callers: the critical-path rule of list
scheduling; a step without a figure counts the median of the others, and the plan's order breaks ties), holding an
OS lock on it (a process that dies releases it, and its step is taken again), compiles it (numba writes it to its
cache), marks it done, and goes on. On a warm cache each step is a load from the cache (milliseconds). Where there
are no file locks (Windows) every process compiles alone.

Who shares: the co-search's worker processes, `cosearch warm-up`, and a first search in a process whose numba cache
lacks it (`mappings.split_compile.compile_first_search`: one helper process, `start_helper`, compiles the search's
callees beside the caller's chain, so that a first `best_mapping` waits for the longest chain rather than the sum).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from ._freshness import ensure_fresh_kernel_cache
from ._steps import CompileStep, callee_closure

MAX_WAIT_S = 120.0
"""How long a process waits for steps other live processes are compiling; past it, its caller compiles what is
missing itself (a process stopped, or a very loaded machine: never a hang)."""
POLL_S = 0.05
"""How often a waiting worker looks at the steps again."""
_OPEN: SplitCompile | None = None
"""The split this process's searches see (`SplitCompile.open_for_searches`), if any."""
STEP_COST_S: dict[str, float] = {}
"""CPU seconds each named step compiles on its own, its callees compiled before it (`register_step_costs`): what
`SplitCompile` balances the processes by. Only the proportions matter; a figure out of date changes which process
compiles what, never what is compiled."""


def register_step_costs(cost_s: Mapping[str, float]) -> None:
    """Add the measured CPU seconds of a package's steps to `STEP_COST_S` (the mapper's, the co-search's)."""
    STEP_COST_S.update(cost_s)


def open_split() -> SplitCompile | None:
    """The split this process's searches see (`SplitCompile.open_for_searches`), or None."""
    return _OPEN


def _own_cost_s(steps: Sequence[CompileStep], cost_s: Mapping[str, float]) -> dict[str, float]:
    """Each step's figure in `cost_s`; a step without one costs the median of the others (1 s if none has one)."""
    known = sorted(cost_s[s.name] for s in steps if s.name in cost_s)
    default = known[len(known) // 2] if known else 1.0
    return {s.name: cost_s.get(s.name, default) for s in steps}


def chain_cost_s(steps: Sequence[CompileStep], cost_s: Mapping[str, float]) -> dict[str, float]:
    """Each step's CPU seconds plus those of its costliest chain of callers in the plan (the steps that list it in
    `after`, transitively): how long the compile still runs after the step starts, at best."""
    own = _own_cost_s(steps, cost_s)
    callers: dict[str, list[str]] = {s.name: [] for s in steps}
    for step in steps:
        for callee in step.after:
            callers.setdefault(callee, []).append(step.name)
    chain: dict[str, float] = {}

    def of(name: str) -> float:
        if name not in chain:
            chain[name] = own[name] + max((of(c) for c in callers.get(name, ())), default=0.0)
        return chain[name]
    return {s.name: of(s.name) for s in steps}


def _order(steps: Sequence[CompileStep], cost_s: Mapping[str, float],
           later: Collection[str]) -> tuple[list[CompileStep], set[str]]:
    """The steps in the order processes take them (those not in `later` and their callees first, a callee being
    needed before its caller, `later` or not; among those, the costliest chain of callers first, `chain_cost_s`;
    stable: the plan's order among equals), and the names of the needed ones."""
    chain = chain_cost_s(steps, cost_s)
    needed = callee_closure(steps, [s.name for s in steps if s.name not in later])
    return sorted(steps, key=lambda s: (s.name not in needed, -chain[s.name])), needed


def schedule_s(steps: Sequence[CompileStep], cost_s: Mapping[str, float], workers: int,
               later: Collection[str] = ()) -> float:
    """The wall time, in compile seconds, of `workers` processes taking steps as `SplitCompile` does, each step
    lasting its figure in `cost_s`, until every step not in `later` is done (`SplitCompile.later`: those come last):
    the plan's prediction (the longest chain of callees bounds it from below)."""
    left, needed = _order(steps, cost_s, later)
    lasts = _own_cost_s(steps, cost_s)
    names = set(lasts)
    free = [0.0] * workers
    end: dict[str, float] = {}
    while left:
        w = min(range(workers), key=free.__getitem__)
        ready = [s for s in left if all(end.get(a, math.inf) <= free[w] for a in s.after if a in names)]
        if not ready:  # this worker waits for the next callee to end
            free[w] = min(t for t in end.values() if t > free[w])
            continue
        left.remove(ready[0])
        end[ready[0].name] = free[w] = free[w] + lasts[ready[0].name]
    return max((t for name, t in end.items() if name in needed), default=0.0)


class SplitCompile:
    """The steps of a compile plan shared by the worker processes given the same `folder` (one per command).

    `start()` compiles what this worker can take now and returns when every step left is done, taken by another
    worker, or waits for one; `finish()` then waits until all are done (taking any step a worker left), at most
    `max_wait_s`. A worker does its other set-up between the two.

    `later`: steps its first trial does not call (no callee of another step). They come after every other step:
    `start()` leaves them, `finish()` takes one only while it waits for another worker's step and returns once the
    others are done, and `finish_later()`, before the worker's second trial, takes those still free. So a worker with
    nothing else to compile starts its first trial rather than compile them first. While the worker runs its trials
    under `open_for_searches()`, a search whose steps are later ones (`compile_first_search`: a layer with residual
    factors, searched with the full driver) first takes the steps still free and waits for the others (`complete`),
    rather than have numba compile them again beside the worker that holds them."""

    def __init__(self, steps: Sequence[CompileStep], folder: Path, max_wait_s: float = MAX_WAIT_S,
                 poll_s: float = POLL_S, say: Callable[[str], None] | None = None,
                 cost_s: Mapping[str, float] | None = None, later: Collection[str] = ()) -> None:
        steps = list(steps) if fcntl is not None else []
        cost_s = STEP_COST_S if cost_s is None else cost_s
        # needed: the names of the steps `finish()` waits for (all but `later`)
        self.steps, self.needed = _order(steps, cost_s, later)
        self.folder = folder
        self.max_wait_s, self.poll_s = max_wait_s, poll_s
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self.compiled: dict[str, float] = {}
        """The steps this worker ran, with their CPU seconds (a compile, or a load on a warm cache)."""
        self.wall_s = 0.0
        """The wall time spent in `start` and `finish`: the compile a first trial would otherwise have done."""
        self._running = False       # in a step's run (`complete_for` then does nothing)
        self._completed = False     # `complete()` has returned
        if self.steps:
            folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        t0 = time.monotonic()
        while (taken := self._take(later=False)) is not None:
            self._run(*taken)
        self.wall_s += time.monotonic() - t0

    def finish(self) -> None:
        t0 = time.monotonic()
        self._wait(t0, self.needed)
        self.wall_s += time.monotonic() - t0

    def complete(self) -> None:
        """Take every step left, later ones too, and wait until all are done (at most `max_wait_s`; not in `wall_s`);
        once (a second call returns at once)."""
        if not self._completed:
            self._wait(time.monotonic(), {s.name for s in self.steps})
            self._completed = True

    def complete_for(self, search_step: str) -> None:
        """Before a search whose plan step is `search_step` (`mappings.compile_plan.SEARCH` or `SEARCH_PERFECT`):
        `complete()` if that step is a later one, once. Nothing if it is needed (done before the first trial), not in
        the plan, or this process is running a step (the plan's own search)."""
        if self._completed or self._running or search_step in self.needed:
            return
        if any(s.name == search_step for s in self.steps):
            self.complete()

    @contextmanager
    def open_for_searches(self) -> Iterator[SplitCompile]:
        """This process's searches, inside the block, see this split (`open_split`; `mappings.split_compile`): one that
        needs its later steps completes it first. One split is open at a time in a process."""
        global _OPEN
        _OPEN = self
        try:
            yield self
        finally:
            _OPEN = None

    def finish_later(self) -> None:
        """Take the `later` steps no worker has taken (before this worker's second trial; not in `wall_s`):
        one another worker holds is not waited for."""
        before = len(self.compiled)
        while (taken := self._take(later=True)) is not None:
            self._run(*taken)
        if len(self.compiled) > before:
            ran = list(self.compiled)[before:]
            self.say(f"split compile: after the first trial, {', '.join(ran)} run here "
                     f"({sum(self.compiled[n] for n in ran):.1f} s CPU)")

    def _wait(self, t0: float, names: Collection[str]) -> None:
        """Take steps until those in `names` are all done (needed ones first; a later step fills a wait)."""
        while not all(self._done(s.name) for s in self.steps if s.name in names):
            taken = self._take(later=False) or self._take(later=True)
            if taken is not None:
                self._run(*taken)
            elif time.monotonic() - t0 > self.max_wait_s:
                left = [s.name for s in self.steps if s.name in names and not self._done(s.name)]
                self.say(f"split compile: gave up waiting for {', '.join(left)} after {self.max_wait_s:g} s; "
                         f"the trial compiles them")
                return
            else:
                time.sleep(self.poll_s)
        if self.steps:
            total = sum(self.compiled.values())
            self.say(f"split compile: {len(self.compiled)} of {len(self.steps)} steps run here ({total:.1f} s CPU: "
                     f"{', '.join(self.compiled)}), the others by other workers (loaded from numba's cache)")

    def _done(self, name: str) -> bool:
        return (self.folder / f"{name}.done").exists()

    def _take(self, later: bool) -> tuple[CompileStep, int] | None:
        """The step heading the costliest chain among those not done whose callees are done and that no other
        worker holds, locked: among the needed steps, or (`later`) among the others."""
        for step in self.steps:
            if (step.name in self.needed) == later:
                continue
            if self._done(step.name) or not all(self._done(a) for a in step.after):
                continue
            fd = os.open(self.folder / f"{step.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another worker compiles it
                os.close(fd)
                continue
            if self._done(step.name):  # done between the look and the lock
                os.close(fd)
                continue
            return step, fd
        return None

    def _run(self, step: CompileStep, fd: int) -> None:
        """Run the step, mark it done (also when it failed: the trial compiles what it did not), release its lock."""
        t0 = time.process_time()
        error, errno = None, None
        self._running = True
        try:
            step.run()
        except Exception as exc:  # a plan out of step with the code compiles nothing useful; never stop a worker
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            errno = getattr(exc, "errno", None)    # an OSError's (ENOSPC: the disk holding the cache is full)
            self.say(f"split compile: step {step.name} failed ({error}); the trial compiles it")
        finally:
            self._running = False
        cpu_s = time.process_time() - t0
        self.compiled[step.name] = cpu_s
        try:
            done = self.folder / f"{step.name}.done"       # written whole, then renamed: never read half-written
            tmp = done.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "cpu_s": round(cpu_s, 3), "error": error, "errno": errno}))
            os.replace(tmp, done)
        finally:
            os.close(fd)


HELPER_ENV = "COSEARCH_COMPILE_HELPER"
"""Environment variable: "0" stops a first search from starting its helper process (the search then compiles
everything in the calling process, as numba alone does: `helper_would_help`)."""


def helper_would_help(search, factors: str) -> bool:
    """Whether a helper process would share a compile: the driver of the search `search` (an `evolution.Search`:
    `evolution.search_kernel(factors)`) is neither compiled here nor in numba's cache (the driver in the cache means
    its callees are too: little to share), there are two cores or more and file locks, and `COSEARCH_COMPILE_HELPER`
    is not "0"."""
    ensure_fresh_kernel_cache()     # a stale cache index would read as warm
    # the compiled driver's own check first: every search after the first in a process stops there
    return (_cold(search.driver) and fcntl is not None and os.environ.get(HELPER_ENV) != "0"
            and _cores() >= 2)


def start_helper(folder: Path, code: str) -> subprocess.Popen:
    """A helper process running the Python `code` with `folder` as sys.argv[1] (a new interpreter, not a fork or a
    multiprocessing child: it never runs the caller's `__main__`), on this checkout's packages, its output in
    `folder`/helper.log."""
    root = str(Path(__file__).resolve().parents[2])           # this checkout's packages, whatever the cwd
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    with open(folder / "helper.log", "w") as log:
        return subprocess.Popen([sys.executable, "-c", code, str(folder)], env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)


def stop_helper(helper: subprocess.Popen, wait_s: float) -> None:
    """End a helper: wait up to `wait_s` for it to end by itself, then stop it (numba writes each cache file whole,
    then renames it, so a stop never leaves half a file; a step it did not finish is compiled by its caller)."""
    try:
        helper.wait(wait_s)
    except subprocess.TimeoutExpired:
        helper.terminate()
        helper.wait()


def _cold(search) -> bool:
    """Whether the numba function `search` is neither compiled in this process nor in numba's cache (its cache
    index file: numba keeps one per function, beside the compiled signatures)."""
    overloads = getattr(search, "overloads", None)  # a dict; `signatures`, its keys as a new list, cost ~30 us
    if overloads is None or len(overloads):         # a Python function (numba's JIT disabled), or compiled here
        return False
    try:
        index = Path(search._cache._cache_file._index_path)  # numba's own names (numba.core.caching)
    except AttributeError:  # not cached (cache=False), or another numba: nothing to share
        return False
    return not index.exists()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


__all__ = ["SplitCompile", "chain_cost_s", "schedule_s", "helper_would_help", "start_helper", "stop_helper",
           "register_step_costs", "open_split", "STEP_COST_S", "MAX_WAIT_S", "POLL_S", "HELPER_ENV"]
