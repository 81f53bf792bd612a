"""`cosearch warm-up`: build numba's cache before the first run, on every core.

    cosearch warm-up                  # one process per core; the co-search's options (--network ...) pick the plan
    python -m cosearch warm-up

A fresh clone's first co-search, or first `mappings.best_mapping`, compiles the numba kernels (about 80 s of CPU on
one core); a later process loads them from numba's cache in about a second.
This command compiles them ahead, in worker processes that share the mapper's compile plan
(`cosearch.search.worker_compile`, steps handed out longest remaining chain first), and returns when the cache holds
them all. numba's cache is built for the CPU it runs on, so it is built on the user's machine; a cache already
built makes this a load of a few seconds. The results of a run never depend on it: a run without it compiles what
it needs itself.
"""
from __future__ import annotations

import argparse
import errno
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mappings
from accel_models.jit import SplitCompile, cache_dir_problem, cache_folder
from mappings import MapperSettings, MappingCache

from .config import UsageError, given_options, make_settings, parse_options
from .search.worker_compile import ENTRY_COST_S, compile_plan, entry_point_steps, plan_inputs


WORKERS_MAX = 8
"""Worker processes at most: the plan's longest chain bounds the wall time long before more would help."""


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
"""OSErrors that say the disk (or the user's quota) holding numba's cache is full."""
DISK_FULL_EXIT = 3
"""A worker's exit status when a write failed for want of space (its report could not be written either)."""
STOP_WAIT_S = 10.0
"""How long a stopped warm-up waits for its workers to end after forwarding the signal, before killing them."""


@dataclass(frozen=True)
class WarmUpReport:
    """What `warm_up` did: wall seconds, CPU seconds of the workers (each one's
    whole process: imports, plan and compile), and the steps each worker ran; `disk_full`: a step failed because
    the disk holding numba's cache (`cache_dir`) has no space left."""

    wall_s: float
    cpu_s: float
    steps: int
    by_worker: tuple[dict[str, float], ...]
    failed: tuple[str, ...]
    disk_full: bool = False
    cache_dir: str = ""

    def details(self) -> str:
        """Each worker's steps with their CPU seconds, one line per worker."""
        return "\n".join(f"worker {i}: " + ", ".join(f"{name} {t:.1f}" for name, t in w.items())
                         for i, w in enumerate(self.by_worker))

    def line(self) -> str:
        shares = " / ".join(f"{sum(w.values()):.0f}" for w in self.by_worker)
        failed = f"; failed: {', '.join(self.failed)} (a run compiles those itself)" if self.failed else ""
        if self.disk_full:
            failed += (f"; the disk holding numba's cache ({self.cache_dir or 'its folder'}) is full (no space left "
                       "on device): free some space, then run warm-up again")
        return (f"warm-up: {self.steps} compile steps in {self.wall_s:.1f} s wall, {self.cpu_s:.1f} s CPU on "
                f"{len(self.by_worker)} worker(s) ({shares} s CPU each){failed}")


def warm_up_plan(settings) -> list:
    """The steps: the trial's mapper plan (`cosearch.search.worker_compile.compile_plan`) and `entry_point_steps`, on
    the same layer and design, and the steps of the library's own default mapper (`factors="perfect"`: the
    perfect-factor driver, `accel_models.kernel.evaluate_range_perfect`, and a search with it) that those lack, so that a first
    `best_mapping` after the warm-up compiles nothing either."""
    plan = compile_plan(settings) + entry_point_steps(*plan_inputs(settings))
    names = {s.name for s in plan}
    layer, accelerator = plan_inputs(settings)
    mapper = MapperSettings(factors="perfect")
    perfect = mapper.strategy.compile_plan(layer, accelerator, MappingCache(mapper), settings.mapper_objective)
    return plan + [s for s in perfect if s.name not in names]


def _worker(folder: str, settings) -> None:
    """One worker process: take steps of the shared plan until all are done; write what it ran to `folder`. It
    starts with SIGINT ignored (`warm_up`: Ctrl-C reaches the command, which stops the workers with SIGTERM)."""
    try:
        split = SplitCompile(warm_up_plan(settings), Path(folder), say=lambda text: None)
        split.start()
        split.finish()
        done = [json.loads(p.read_text()) | {"name": p.stem} for p in Path(folder).glob("*.done")]
        (Path(folder) / f"worker-{os.getpid()}.json").write_text(json.dumps({
            "compiled": split.compiled, "failed": [d["name"] for d in done if d.get("error")],
            "errnos": sorted({d["errno"] for d in done if d.get("errno") is not None}), "cpu_s": time.process_time()}))
    except OSError as exc:   # its notes could not be written (a full disk): said by its exit status, not a traceback
        sys.exit(DISK_FULL_EXIT if exc.errno in DISK_FULL_ERRNOS else 1)


def _start(procs: list) -> None:
    """Start the worker processes with SIGINT ignored, which a spawned interpreter keeps (it then installs no
    KeyboardInterrupt handler): a Ctrl-C at the terminal, sent to every process of the group, reaches only the
    command, which forwards it (`_stop`) rather than each worker printing a traceback."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for p in procs:
            p.start()
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(procs: list) -> None:
    """Forward a stop to the workers (SIGTERM: their default action ends them at once, without output) and wait
    for them; any still alive after `STOP_WAIT_S` is killed. No worker outlives the command."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_WAIT_S
    for p in procs:
        if p.pid is not None:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()


def warm_up(settings, workers: int | None = None) -> WarmUpReport:
    """Compile the mapper's plan for `settings` (a `CoSearchSettings`) into numba's cache, in `workers` processes
    (default: one per core, at most `WORKERS_MAX`). A KeyboardInterrupt (Ctrl-C, or SIGTERM where the command
    turns it into one) stops the workers and waits for them before it propagates."""
    workers = max(1, min(WORKERS_MAX, workers or os.cpu_count() or 1))
    t0 = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="cosearch-warm-up-") as folder:
        procs = [ctx.Process(target=_worker, args=(folder, settings)) for _ in range(workers)]
        try:
            _start(procs)
            for p in procs:
                p.join()
        except BaseException:
            _stop(procs)
            raise
        reports = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("worker-*.json"))]
        steps = len(list(Path(folder).glob("*.done")))
    return _report(reports, workers, steps, time.monotonic() - t0, [p.exitcode for p in procs])


def _report(reports: list[dict], workers: int, steps: int, wall_s: float, exit_codes=()) -> WarmUpReport:
    """The `WarmUpReport` of the workers' reports (a worker that wrote none ended early); the disk is full when a
    step failed with ENOSPC / EDQUOT, a worker ended with `DISK_FULL_EXIT`, or something failed and the cache
    folder's disk has under 1 MiB free."""
    cpu_s = sum(r["cpu_s"] for r in reports)
    failed = sorted({name for r in reports for name in r["failed"]})
    if len(reports) < workers:
        failed.append(f"{workers - len(reports)} worker(s) ended early")
    folder = _cache_folder()
    disk_full = any(e in DISK_FULL_ERRNOS for r in reports for e in r.get("errnos", ())) or \
        DISK_FULL_EXIT in exit_codes
    if failed and not disk_full and folder is not None:
        try:
            disk_full = shutil.disk_usage(folder).free < 1 << 20
        except OSError:
            pass
    return WarmUpReport(wall_s, cpu_s, steps, tuple(r["compiled"] for r in reports), tuple(failed), disk_full,
                        "" if folder is None else str(folder))


def _cache_folder() -> Path | None:
    """The folder numba caches the mapper's kernels in (`accel_models.numba_cache.cache_folder`)."""
    return cache_folder(Path(mappings.__file__).parent / "_decode_kernel.py")


def command(argv: list[str], prog: str, parser: argparse.ArgumentParser) -> int:
    """`prog warm-up [co-search options]`: `warm_up` for the settings the options give (`--workers`: the processes
    that compile, as many as the co-search would start: one per core by default). Raises `UsageError` for options
    that make no settings."""
    parser.description = (f"{__doc__.splitlines()[0]} The co-search's options below pick what it compiles (the "
                          f"defaults: what `{prog}` alone runs); --workers: the processes that compile.")
    args = parse_options(parser, argv)
    settings = make_settings(**given_options(args))     # a UsageError is the caller's one-line error
    problem = cache_dir_problem()
    if problem is not None:
        raise UsageError(problem)
    n = min(WORKERS_MAX, settings.workers)
    print(f"{prog} warm-up: compiling the numba kernels into numba's cache ({_cache_folder()}) in {n} process(es); "
          "a run after this one loads them", file=sys.stderr, flush=True)
    report = warm_up(settings, n)
    print(report.details(), file=sys.stderr)
    print(report.line())
    return 1 if report.failed else 0


__all__ = ["warm_up", "warm_up_plan", "entry_point_steps", "ENTRY_COST_S", "WarmUpReport", "command", "WORKERS_MAX"]
