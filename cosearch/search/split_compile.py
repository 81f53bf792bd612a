"""Worker processes that start on a cold numba cache share the compile: each compiles steps of the mapper's compile
plan that no other worker has taken, and loads the others' from numba's cache; `cosearch warm-up` runs the same
schedule ahead of the first run.

On a fresh clone every worker process would compile the same numba tree, the mapper's search over the cost kernel
and the decoder (~70 s CPU each, on both cores at once). The tree is a chain of callers over callees that compile
independently (`mappings.compile_plan`). A worker takes, of the steps not done whose callees are done, the one that
heads the costliest chain of compiles still ahead (each step's measured CPU seconds,
`mappings.compile_plan.COMPILE_COST_S`, plus its longest chain of callers: the critical-path rule of list
scheduling; a step without a figure counts the median of the others, and the plan's order breaks ties), holding an
OS lock on it (a worker that dies releases it, and its step is taken again), compiles it (numba writes it to its
cache), marks it done, and goes on. So on two workers one compiles the kernel's longest callee while the other
compiles the rest beside it, and the search is compiled once, with its callees loaded from the cache. On a warm
cache each step is a load from the cache (milliseconds). Where there are no file locks (Windows) every worker
compiles alone, as before.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from accel_models import Accelerator
from accel_models.kernel import CompileStep
from mappings import MappingCache
from mappings.compile_plan import COMPILE_COST_S
from nets import Layer, get_space, largest_config, to_network

from .._files import write_text_atomic
from ..config import CoSearchSettings
from .space import AcceleratorSpace

MAX_WAIT_S = 120.0
"""How long a worker waits for steps other live workers are compiling; past it, its trial compiles what is
missing itself (a worker stopped, or a very loaded machine: never a hang)."""
POLL_S = 0.05
"""How often a waiting worker looks at the steps again."""


def plan_inputs(settings: CoSearchSettings) -> tuple[Layer, Accelerator]:
    """The layer and design a compile plan is built on: the first layer of the trial's network and the middle
    design of the accelerator space (types, not values, decide what numba compiles)."""
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.5 for g in space.genes}, name="compile-plan")
    network = (to_network(largest_config(get_space(settings.space))) if settings.searches_subnet
               else settings.network.build())
    return network.layers[0], design.accelerator


def compile_plan(settings: CoSearchSettings) -> list[CompileStep]:
    """The compile plan of a trial's mapper searches, as the mapper strategy gives it (`MapperStrategy.compile_plan`),
    on `plan_inputs`."""
    layer, accelerator = plan_inputs(settings)
    return settings.mapper.strategy.compile_plan(layer, accelerator, MappingCache(settings.mapper),
                                                 settings.mapper_objective)


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


def schedule_s(steps: Sequence[CompileStep], cost_s: Mapping[str, float], workers: int) -> float:
    """The wall time, in compile seconds, of `workers` processes taking steps as `SplitCompile` does, each step
    lasting its figure in `cost_s`: the plan's prediction (the longest chain of callees bounds it from below)."""
    chain, lasts = chain_cost_s(steps, cost_s), _own_cost_s(steps, cost_s)
    names = set(lasts)
    left = sorted(steps, key=lambda s: -chain[s.name])
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
    return max(end.values(), default=0.0)


class SplitCompile:
    """The steps of a compile plan shared by the worker processes given the same `folder` (one per command).

    `start()` compiles what this worker can take now and returns when every step left is done, taken by another
    worker, or waits for one; `finish()` then waits until all are done (taking any step a worker left), at most
    `max_wait_s`. A worker does its other set-up between the two."""

    def __init__(self, steps: Sequence[CompileStep], folder: Path, max_wait_s: float = MAX_WAIT_S,
                 poll_s: float = POLL_S, say: Callable[[str], None] | None = None,
                 cost_s: Mapping[str, float] = COMPILE_COST_S) -> None:
        steps = list(steps) if fcntl is not None else []
        chain = chain_cost_s(steps, cost_s)
        self.steps = sorted(steps, key=lambda s: -chain[s.name])  # stable: the plan's order among equals
        self.folder = folder
        self.max_wait_s, self.poll_s = max_wait_s, poll_s
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self.compiled: dict[str, float] = {}
        """The steps this worker ran, with their CPU seconds (a compile, or a load on a warm cache)."""
        self.wall_s = 0.0
        """The wall time spent in `start` and `finish`: the compile a first trial would otherwise have done."""
        if self.steps:
            folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        t0 = time.monotonic()
        while (taken := self._take()) is not None:
            self._run(*taken)
        self.wall_s += time.monotonic() - t0

    def finish(self) -> None:
        t0 = time.monotonic()
        self._wait(t0)
        self.wall_s += time.monotonic() - t0

    def _wait(self, t0: float) -> None:
        while not all(self._done(s.name) for s in self.steps):
            taken = self._take()
            if taken is not None:
                self._run(*taken)
            elif time.monotonic() - t0 > self.max_wait_s:
                left = [s.name for s in self.steps if not self._done(s.name)]
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

    def _take(self) -> tuple[CompileStep, int] | None:
        """The step heading the costliest chain among those not done whose callees are done and that no other
        worker holds, locked."""
        for step in self.steps:
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
        error = None
        try:
            step.run()
        except Exception as exc:  # a plan out of step with the code compiles nothing useful; never stop a worker
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.say(f"split compile: step {step.name} failed ({error}); the trial compiles it")
        cpu_s = time.process_time() - t0
        self.compiled[step.name] = cpu_s
        try:
            write_text_atomic(self.folder / f"{step.name}.done",
                              json.dumps({"pid": os.getpid(), "cpu_s": round(cpu_s, 3), "error": error}))
        finally:
            os.close(fd)
