"""Workers: processes that run trials of one study until a quota, the study's target or a deadline is reached.

One worker runs in the calling process; `--workers N` starts N processes (spawned, so each loads its
own numba kernels), each with its own sampler seed, all on one storage. Workers on other machines are
the same command pointed at the same RDB storage and study name.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass

from threadpoolctl import threadpool_limits

from ..config import CoSearchSettings
from .study import load_study, trial_counts
from .trial import TrialObjective

MAX_REJECTIONS_IN_A_ROW = 500
"""A worker gives up when this many designs in a row are over the area budget (a sampler stuck outside it)."""


@dataclass(frozen=True)
class WorkerReport:
    """What one worker did: trials it completed, pruned (designs rejected before any mapping), failed; why it stopped."""

    index: int
    complete: int
    pruned: int
    failed: int
    wall_s: float
    stop: str
    pid: int = 0
    peak_rss_mb: float | None = None
    """The worker process's peak resident memory (MB; None where the OS does not report it)."""

    @property
    def trials(self) -> int:
        return self.complete + self.pruned + self.failed

    def to_dict(self) -> dict:
        return {**asdict(self), "trials": self.trials}


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MB (Linux reports KiB, macOS bytes); None elsewhere."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def run_worker(settings: CoSearchSettings, index: int = 0, quota: int | None = None, deadline: float | None = None,
               on_trial: Callable[[], None] | None = None, parent_pid: int | None = None,
               accuracy=None) -> WorkerReport:
    """Run trials in this process until `quota` complete trials, the study's `settings.trials`, or `deadline` (epoch s).

    The trials' numpy work is small matrices: with more than one BLAS thread per worker (while every core
    already runs a worker) OpenBLAS threads spin against each other, measured 95 ms instead of 2.5 ms per
    batch of 100 accuracy predictions; so each worker runs its BLAS on one thread."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_worker(settings, index, quota, deadline, on_trial, parent_pid, accuracy)


def _run_worker(settings: CoSearchSettings, index: int, quota: int | None, deadline: float | None,
                on_trial: Callable[[], None] | None, parent_pid: int | None, accuracy) -> WorkerReport:
    from optuna.trial import TrialState

    t0 = time.time()
    study = load_study(settings, index)
    objective = TrialObjective(settings, index, accuracy)
    counts = {TrialState.COMPLETE: 0, TrialState.PRUNED: 0, TrialState.FAIL: 0}
    last: dict = {}
    rejected_in_a_row = 0

    def remember(_study, frozen) -> None:
        last["state"] = frozen.state

    stop = ""
    while not stop:
        if quota is not None and counts[TrialState.COMPLETE] >= quota:
            stop = "quota done"
        elif deadline is not None and time.time() >= deadline:
            stop = "time limit"
        elif parent_pid is not None and os.getppid() != parent_pid:
            stop = "parent process gone"
        elif trial_counts(study)["complete"] >= settings.trials:
            stop = "study target reached"
        elif rejected_in_a_row >= MAX_REJECTIONS_IN_A_ROW:
            stop = f"{MAX_REJECTIONS_IN_A_ROW} designs in a row over the area budget"
        if stop:
            break
        last.clear()
        study.optimize(objective, n_trials=1, callbacks=[remember], gc_after_trial=False)
        state = last.get("state", TrialState.FAIL)
        counts[state] = counts.get(state, 0) + 1
        rejected_in_a_row = rejected_in_a_row + 1 if state == TrialState.PRUNED else 0
        if on_trial is not None:
            on_trial()
    return WorkerReport(index, counts[TrialState.COMPLETE], counts[TrialState.PRUNED], counts[TrialState.FAIL],
                        time.time() - t0, stop, os.getpid(), peak_rss_mb())


def _process_main(settings: CoSearchSettings, index: int, quota: int, deadline: float | None, parent_pid: int,
                  queue) -> None:
    try:
        report = run_worker(settings, index, quota, deadline, parent_pid=parent_pid)
    except KeyboardInterrupt:
        report = WorkerReport(index, 0, 0, 0, 0.0, "interrupted", os.getpid())
    except BaseException as exc:  # reported to the parent, which prints it
        traceback.print_exc(file=sys.stderr)
        report = WorkerReport(index, 0, 0, 0, 0.0, f"error: {type(exc).__name__}: {exc}", os.getpid())
    queue.put(report)


def split_quota(remaining: int, workers: int) -> list[int]:
    """Complete trials per worker, as even as possible, summing to `remaining`."""
    return [remaining // workers + (1 if i < remaining % workers else 0) for i in range(workers)]


def run_worker_processes(settings: CoSearchSettings, quotas: list[int], deadline: float | None,
                         on_poll: Callable[[], None] | None = None, poll_s: float = 1.0) -> list[WorkerReport]:
    """Start one spawned process per quota, poll until all exit, return their reports (in worker order).

    A worker's counts are its own trials; they add up to the trials the study gained. Only the
    processes started here are ever stopped (on KeyboardInterrupt), each by its own handle.
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_main, args=(settings, i, q, deadline, os.getpid(), queue),
                         name=f"cosearch-worker-{i}") for i, q in enumerate(quotas)]
    reports: dict[int, WorkerReport] = {}
    try:
        for p in procs:
            p.start()
        while any(p.is_alive() for p in procs) or not queue.empty():
            while not queue.empty():
                r = queue.get()
                reports[r.index] = r
            if on_poll is not None:
                on_poll()
            time.sleep(poll_s)
    except KeyboardInterrupt:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(10)
        raise
    for p in procs:
        p.join()
    while not queue.empty():
        r = queue.get()
        reports[r.index] = r
    return [reports.get(i, WorkerReport(i, 0, 0, 0, 0.0, f"exited with status {p.exitcode}", p.pid or 0))
            for i, p in enumerate(procs)]
