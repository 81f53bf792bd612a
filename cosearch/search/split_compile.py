"""Worker processes that start on a cold numba cache share the compile: each compiles steps of the mapper's compile
plan that no other worker has taken, and loads the others' from numba's cache.

On a fresh clone every worker process would compile the same numba tree, the mapper's search over the cost
kernel and the decoder (~26 s CPU each, on both cores at once). The tree is a chain of callers over
callees that compile independently (`mappings.compile_plan`). A worker takes the first step, in the plan's
order, that is not done and whose callees are done, holding an OS lock on it (a worker that dies releases it,
and its step is taken again), compiles it (numba writes it to its cache), marks it done, and goes on. So on
two workers one compiles the kernel's longest callee while the other compiles the rest beside it, and the
search is compiled once, with its callees loaded from the cache. On a warm cache each step is a load from
the cache (milliseconds). Where there are no file locks (Windows) every worker compiles alone, as before.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path


try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from accel_models.kernel import CompileStep
from mappings import MappingCache
from nets import get_space, largest_config, to_network

from .._files import write_text_atomic
from ..config import CoSearchSettings
from .space import AcceleratorSpace

MAX_WAIT_S = 120.0
"""How long a worker waits for steps other live workers are compiling; past it, its trial compiles what is
missing itself (a worker stopped, or a very loaded machine: never a hang)."""
POLL_S = 0.05
"""How often a waiting worker looks at the steps again."""


def compile_plan(settings: CoSearchSettings) -> list[CompileStep]:
    """The compile plan of a trial's mapper searches, as the mapper strategy gives it (`MapperStrategy.compile_plan`),
    on the first layer of the trial's network and the middle design of the accelerator space (types, not values,
    decide what numba compiles)."""
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.5 for g in space.genes}, name="compile-plan")
    network = (to_network(largest_config(get_space(settings.space))) if settings.searches_subnet
               else settings.network.build())
    return settings.mapper.strategy.compile_plan(network.layers[0], design.accelerator, MappingCache(settings.mapper),
                                                 settings.mapper_objective)


class SplitCompile:
    """The steps of a compile plan shared by the worker processes given the same `folder` (one per command).

    `start()` compiles what this worker can take now and returns when every step left is done, taken by another
    worker, or waits for one; `finish()` then waits until all are done (taking any step a worker left), at most
    `max_wait_s`. A worker does its other set-up between the two."""

    def __init__(self, steps: Sequence[CompileStep], folder: Path, max_wait_s: float = MAX_WAIT_S,
                 poll_s: float = POLL_S, say: Callable[[str], None] | None = None) -> None:
        self.steps = list(steps) if fcntl is not None else []
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
        """The first step not done whose callees are done and that no other worker holds, locked."""
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
