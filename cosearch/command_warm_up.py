"""`cosearch warm-up`: build numba's cache before the first run, on every core.

    cosearch warm-up                  # one process per core; the co-search's options (--network ...) pick the plan
    python -m cosearch warm-up

A fresh clone's first co-search, or first `mappings.best_mapping`, compiles the numba kernels (about 80 s of CPU on
one core); a later process loads them from numba's cache in about a second.
This command compiles them ahead, in worker processes that share the mapper's compile plan
(`cosearch.search.split_compile`, steps handed out longest remaining chain first), and returns when the cache holds
them all. numba's cache is built for the CPU it runs on, so it is built on the user's machine; a cache already
built makes this a load of a few seconds. The results of a run never depend on it: a run without it compiles what
it needs itself.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mappings import MapperSettings, MappingCache
from mappings.compile_plan import COMPILE_COST_S
from mappings.split_compile import SplitCompile

from .config import given_options, make_settings, parse_options
from .search.split_compile import ENTRY_COST_S, compile_plan, entry_point_steps, plan_inputs


WORKERS_MAX = 8
"""Worker processes at most: the plan's longest chain bounds the wall time long before more would help."""


@dataclass(frozen=True)
class WarmUpReport:
    """What `warm_up` did: wall seconds, CPU seconds of the workers (each one's
    whole process: imports, plan and compile), and the steps each worker ran."""

    wall_s: float
    cpu_s: float
    steps: int
    by_worker: tuple[dict[str, float], ...]
    failed: tuple[str, ...]

    def details(self) -> str:
        """Each worker's steps with their CPU seconds, one line per worker."""
        return "\n".join(f"worker {i}: " + ", ".join(f"{name} {t:.1f}" for name, t in w.items())
                         for i, w in enumerate(self.by_worker))

    def line(self) -> str:
        shares = " / ".join(f"{sum(w.values()):.0f}" for w in self.by_worker)
        failed = f"; failed: {', '.join(self.failed)} (a run compiles those itself)" if self.failed else ""
        return (f"warm-up: {self.steps} compile steps in {self.wall_s:.1f} s wall, {self.cpu_s:.1f} s CPU on "
                f"{len(self.by_worker)} worker(s) ({shares} s CPU each){failed}")


def warm_up_plan(settings) -> list:
    """The steps: the trial's mapper plan (`cosearch.search.split_compile.compile_plan`) and `entry_point_steps`, on
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
    """One worker process: take steps of the shared plan until all are done; write what it ran to `folder`."""
    split = SplitCompile(warm_up_plan(settings), Path(folder), say=lambda text: None,
                         cost_s={**COMPILE_COST_S, **ENTRY_COST_S})
    split.start()
    split.finish()
    failed = [p.stem for p in Path(folder).glob("*.done") if json.loads(p.read_text()).get("error")]
    (Path(folder) / f"worker-{os.getpid()}.json").write_text(json.dumps({"compiled": split.compiled,
                                                                          "failed": failed,
                                                                          "cpu_s": time.process_time()}))


def warm_up(settings, workers: int | None = None) -> WarmUpReport:
    """Compile the mapper's plan for `settings` (a `CoSearchSettings`) into numba's cache, in `workers` processes
    (default: one per core, at most `WORKERS_MAX`)."""
    workers = max(1, min(WORKERS_MAX, workers or os.cpu_count() or 1))
    t0 = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="cosearch-warm-up-") as folder:
        procs = [ctx.Process(target=_worker, args=(folder, settings)) for _ in range(workers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        reports = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("worker-*.json"))]
        steps = len(list(Path(folder).glob("*.done")))
    cpu_s = sum(r["cpu_s"] for r in reports)
    failed = sorted({name for r in reports for name in r["failed"]})
    if len(reports) < workers:
        failed.append(f"{workers - len(reports)} worker(s) ended early")
    return WarmUpReport(time.monotonic() - t0, cpu_s, steps, tuple(r["compiled"] for r in reports), tuple(failed))


def command(argv: list[str], prog: str, parser: argparse.ArgumentParser) -> int:
    """`prog warm-up [co-search options]`: `warm_up` for the settings the options give (`--workers`: the processes
    that compile, as many as the co-search would start: one per core by default). Raises `UsageError` for options
    that make no settings."""
    parser.description = (f"{__doc__.splitlines()[0]} The co-search's options below pick what it compiles (the "
                          f"defaults: what `{prog}` alone runs); --workers: the processes that compile.")
    args = parse_options(parser, argv)
    settings = make_settings(**given_options(args))     # a UsageError is the caller's one-line error
    n = min(WORKERS_MAX, settings.workers)
    print(f"{prog} warm-up: compiling the numba kernels into numba's cache in {n} process(es); a run after this "
          f"one loads them", file=sys.stderr, flush=True)
    report = warm_up(settings, n)
    print(report.details(), file=sys.stderr)
    print(report.line())
    return 1 if report.failed else 0


__all__ = ["warm_up", "warm_up_plan", "entry_point_steps", "ENTRY_COST_S", "WarmUpReport", "command", "WORKERS_MAX"]
