"""Workers: processes that run trials of one study until a quota, the study's target or a deadline is reached.

One worker runs in the calling process; `--workers N` starts N processes (spawned, so each loads its
own numba kernels; on a cold numba cache they share the compile: `worker_compile`), each with its own sampler
seed, all on one storage. Workers on other machines are
the same command pointed at the same RDB storage and study name.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from accel_models.jit import SplitCompile

try:
    import resource
except ImportError:  # Windows has no getrusage
    resource = None

from .._files import write_text_atomic
from .._load_guard import caused_by_interrupt
from ..config import CoSearchSettings, UsageError
from .cache_snapshot import load_cache, save_cache
from .optuna_hooks import OPTIMIZE_LOGGER
from .worker_compile import compile_plan, worker_split
from .interrupts import raise_if_requested, watch
from .storage import (fail_dead_trials, fail_trials_of_ended_workers, fail_trials_of_this_process, heartbeat_s,
                      hold_trial_start, open_storage, release_trial_start, retry_trial, worker_tag)
from .study import load_study, trial_counts
from .trial import TrialObjective

WORKER_FOLDER = "workers"
INPUT_ERROR = "input error: "
"""How a worker's report starts its stop reason when the run's input stopped it (a `UsageError`)."""
"""Under --out: each worker process's log (its standard error) and report, and each worker's mapping cache."""
INTERRUPT_WAIT_S = 30
"""How long an interrupted command waits, in all, for its worker processes to end their trials (a compiled mapper
call notices the interrupt only when it returns; one in a numba compile, at the next layer) before killing them."""
INTERRUPTED = "interrupted (Ctrl-C or SIGTERM); queued to run again on resume"
"""The reason an interrupted trial carries (user attribute "reason")."""
UNRECORDED = ("{why}; its worker process ended (or was killed, after {wait_s} s) without recording it; queued to run "
              "again on resume")
"""The reason of a trial its command marked failed, stopping its workers (`_fail_unrecorded_trials`)."""
STUDY_POLL_S = 0.05
"""How often a worker process started before its study was ready (`start_worker_processes`) looks for it."""
WAIT_POLL_S = 1.0
"""How often a worker waiting for the study's last trials on other workers looks again."""
MAX_REJECTIONS_IN_A_ROW = 500
"""A worker gives up when this many designs in a row are over the area budget (a sampler stuck outside it)."""


@dataclass(frozen=True)
class WorkerReport:
    """What one worker did: trials it completed, pruned (designs rejected before any mapping), failed; why it stopped.

    A worker is named by its host, process id and index in its command (`name`): commands sharing a storage
    each have a worker 0. `this_command` is False for a worker of another command on the same study, known only
    from the trials it ran (no wall time, stop reason or memory)."""

    index: int
    complete: int
    pruned: int
    failed: int
    wall_s: float | None
    stop: str
    pid: int = 0
    peak_rss_mb: float | None = None
    """The worker process's peak resident memory (MB; None where the OS does not report it)."""
    host: str = ""
    this_command: bool = True

    @property
    def trials(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def name(self) -> str:
        """host:pid/index, unique among the workers of a study."""
        return f"{self.host}:{self.pid}/{self.index}"

    def to_dict(self) -> dict:
        return {**asdict(self), "trials": self.trials, "name": self.name}


def study_workers(study, reports: list[WorkerReport]) -> list[WorkerReport]:
    """Every worker that ran trials of `study` (from the trials' "worker" attributes), with the trials it ran there,
    and every worker of this command (`reports`: its stop reason, time and memory): this command's first."""
    from optuna.trial import TrialState

    names = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed"}
    ran: dict[tuple, dict[str, int]] = {}
    for t in study.get_trials(deepcopy=False):
        w = t.user_attrs.get("worker")
        if isinstance(w, dict) and t.state in names:
            counts = ran.setdefault((w.get("host", ""), w.get("pid", 0), w.get("index", 0)),
                                    {"complete": 0, "pruned": 0, "failed": 0})
            counts[names[t.state]] += 1
    zero = {"complete": 0, "pruned": 0, "failed": 0}
    mine = [replace(r, **ran.pop((r.host, r.pid, r.index), zero)) for r in reports]
    others = [WorkerReport(index, c["complete"], c["pruned"], c["failed"], None, "another command", pid, None, host,
                           this_command=False) for (host, pid, index), c in sorted(ran.items())]
    return mine + others


def peak_rss_mb() -> float | None:
    """This process's peak resident memory in MB (Linux reports KiB, macOS bytes); None elsewhere."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def run_worker(settings: CoSearchSettings, index: int = 0, quota: int | None = None, deadline: float | None = None,
               on_trial: Callable[[], None] | None = None, parent_pid: int | None = None,
               accuracy=None, split: SplitCompile | None = None,
               study_ready: Callable[[], bool] | None = None) -> WorkerReport:
    """Run trials in this process until `quota` complete trials, the study's `settings.trials`, or `deadline` (epoch s).

    While other workers run the study's last trials, a worker waits rather than start one past the target; if one
    of them dies, its trial is queued again and run here. `split`: the numba compile shared with the other
    worker processes of the command, started before the study is loaded; its first trial's steps are finished before
    the first trial, the rest before the second (or before a search that needs them: `SplitCompile.open_for_searches`).
    `study_ready`: for a worker started before its command prepared the study, whether it is ready now (the worker
    polls it after starting its compile, before loading the study; "parent process gone" if its command ended).

    The trials' numpy work is small matrices: with more than one BLAS thread per worker (while every core
    already runs a worker) OpenBLAS threads spin against each other, measured 95 ms instead of 2.5 ms per
    batch of 100 accuracy predictions; so each worker runs its BLAS on one thread.

    For its trials the worker moves the objects alive before the first one (the imports, the study, the kernels'
    types) out of the garbage collector's passes (`gc.freeze`), and back when it returns, unless the caller had
    frozen objects itself: a full pass traverses that heap, ~80 ms, several times in a dozen trials."""
    frozen_before = gc.get_freeze_count() > 0
    searches_see = split.open_for_searches() if split is not None else nullcontext()
    with threadpool_limits(limits=1, user_api="blas"), searches_see:
        try:
            return _run_worker(settings, index, quota, deadline, on_trial, parent_pid, accuracy, split, study_ready)
        finally:
            if not frozen_before:
                gc.unfreeze()


def _fail_own_trials(settings: CoSearchSettings, study) -> None:
    """On an interrupt that ended `study.optimize`: the trial it left RUNNING, if any, failed and queued again.
    `_resumable` does so for an interrupt inside the objective; one that lands in Optuna's own steps between the
    objective's return and the trial's record would leave it RUNNING until the next run found it orphaned. (A trial
    interrupted before its objective claimed it carries no worker tag: the next run fails it once the heartbeat's
    grace period has passed, `fail_orphaned_trials`.) A storage that fails here leaves it to that next run."""
    try:
        fail_trials_of_this_process(study, open_storage(settings.storage), INTERRUPTED)
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0]
        print(f"the interrupted trial was not marked failed ({type(exc).__name__}: {first_line}); the next run of "
              f"the same command fails it and queues it again", file=sys.stderr)


def _max_wait_s() -> float:
    """How long a worker waits for the study's last trials on other workers: past the heartbeat's grace period a
    dead worker's trial has been failed and queued again; a trial still running then has a live worker."""
    interval_s, grace_s = heartbeat_s()
    return grace_s + 3 * interval_s


def _run_worker(settings: CoSearchSettings, index: int, quota: int | None, deadline: float | None,
                on_trial: Callable[[], None] | None, parent_pid: int | None, accuracy,
                split: SplitCompile | None, study_ready: Callable[[], bool] | None) -> WorkerReport:
    from optuna.trial import TrialState

    t0 = time.time()
    later_left = split is not None    # the steps the first trial did not wait for, not yet taken
    if split is not None:
        split.start()
    while study_ready is not None and not study_ready():
        raise_if_requested()  # a SIGTERM a compile swallowed: the command is stopping, it will not be ready
        if parent_pid is not None and os.getppid() != parent_pid:
            return WorkerReport(index, 0, 0, 0, time.time() - t0, "parent process gone", os.getpid(), peak_rss_mb(),
                                worker_tag()["host"])
        time.sleep(STUDY_POLL_S)
    study = load_study(settings, index)
    objective = _resumable(TrialObjective(settings, index, accuracy), settings.out / WORKER_FOLDER, index, study)
    if split is not None:
        split.finish()
    # the shared compile stands for the one the first trial would have done: a deadline it passed still lets the
    # first trial run (it would have started before compiling)
    compile_s = split.wall_s if split is not None else 0.0
    if not gc.get_freeze_count():     # the long-lived heap out of the collector's passes (`run_worker`)
        gc.collect()
        gc.freeze()
    counts = {TrialState.COMPLETE: 0, TrialState.PRUNED: 0, TrialState.FAIL: 0}
    last: dict = {}
    rejected_in_a_row = 0

    def remember(_study, frozen) -> None:
        last["state"] = frozen.state

    stop = ""
    waiting_since = None
    while not stop:
        if later_left and any(counts.values()):  # before a next trial, what the first one (complete or not) did
            split.finish_later()                  # not wait for (`SplitCompile.later`)
            later_left = False
        hold_trial_start(settings.out)            # until the next trial exists, or this worker waits or stops
        study_counts = trial_counts(study)
        if quota is not None and counts[TrialState.COMPLETE] >= quota:
            stop = "quota done"
        elif deadline is not None and time.time() - (0.0 if any(counts.values()) else compile_s) >= deadline:
            stop = "time limit"
        elif parent_pid is not None and os.getppid() != parent_pid:
            stop = "parent process gone"
        elif study_counts["complete"] >= settings.trials:
            stop = "study target reached"
        elif rejected_in_a_row >= MAX_REJECTIONS_IN_A_ROW:
            stop = f"{MAX_REJECTIONS_IN_A_ROW} designs in a row over the area budget"
        elif study_counts["complete"] + study_counts["running"] >= settings.trials and not study_counts["waiting"]:
            # other workers run the study's last trials: wait (no trial past the target) until they end, or one
            # of them is found dead (Optuna's heartbeat; a dead process of this host) and its trial
            # is queued again, which this worker then runs
            release_trial_start()
            waiting_since = waiting_since or time.time()
            if time.time() - waiting_since > _max_wait_s():
                stop = "the study's last trials run on other workers"
                break
            fail_dead_trials(study)
            time.sleep(WAIT_POLL_S)
            continue
        if stop:
            release_trial_start()
            break
        waiting_since = None
        raise_if_requested()  # an interrupt lost in a compile since the last trial: no new trial
        last.clear()
        try:
            study.optimize(objective, n_trials=1, callbacks=[remember], gc_after_trial=False)
        except ValueError as exc:
            if not _finished_elsewhere(exc):
                raise
            continue   # another process ran the same queued trial to its end first: its result stands
        except BaseException as exc:
            if caused_by_interrupt(exc):
                _fail_own_trials(settings, study)
            raise
        finally:
            release_trial_start()      # held still if the trial ended before its objective ran
        state = last.get("state", TrialState.FAIL)
        counts[state] = counts.get(state, 0) + 1
        rejected_in_a_row = rejected_in_a_row + 1 if state == TrialState.PRUNED else 0
        if on_trial is not None:
            on_trial()
    if split is not None and stop != "parent process gone":
        split.complete()     # what the trials did not call, which the command's final phase does: beside the others
    return WorkerReport(index, counts[TrialState.COMPLETE], counts[TrialState.PRUNED], counts[TrialState.FAIL],
                        time.time() - t0, stop, os.getpid(), peak_rss_mb(), worker_tag()["host"])


class _QuietInterrupt(logging.Filter):
    """Drops Optuna's "Trial N failed ..." warnings (40 lines with the traceback and every gene) once a trial was
    interrupted, or failed on the run's input (a `UsageError`): the command line says either in one line."""

    interrupted = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not (self.interrupted and record.getMessage().startswith("Trial "))


_QUIET_INTERRUPT = _QuietInterrupt()
logging.getLogger(OPTIMIZE_LOGGER).addFilter(_QUIET_INTERRUPT)


def _resumable(objective: TrialObjective, folder: Path, index: int, study) -> Callable:
    """`objective` with the mapping cache its worker left (`cache_snapshot`), saving its cache after each trial
    that used it (before Optuna records the trial). A trial interrupted (Ctrl-C) is queued to run again
    (`retry_trial`) and ends in a plain KeyboardInterrupt."""
    import optuna

    load_cache(folder, index, study, objective.cache)

    def run(trial) -> float:
        before = (objective.cache.hits, objective.cache.misses)
        try:
            try:
                value = objective(trial)
            except optuna.TrialPruned:
                if (objective.cache.hits, objective.cache.misses) != before:
                    save_cache(folder, index, trial, objective.cache)
                raise
            save_cache(folder, index, trial, objective.cache)
            return value
        except optuna.TrialPruned:
            raise
        except UsageError as exc:  # the run's input: said once by the command line
            _QUIET_INTERRUPT.interrupted = True
            trial.set_user_attr("status", "failed")
            trial.set_user_attr("reason", str(exc))
            raise
        except BaseException as exc:
            if not caused_by_interrupt(exc):
                raise
            _QUIET_INTERRUPT.interrupted = True
            trial.set_user_attr("status", "failed")
            trial.set_user_attr("reason", INTERRUPTED)
            retry_trial(trial.study, next(t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number))
            raise KeyboardInterrupt from None

    return run


def run_worker_processes(settings: CoSearchSettings, workers: int, deadline: float | None,
                         on_poll: Callable[[], None] | None = None, poll_s: float = 1.0) -> list[WorkerReport]:
    """Start `workers` worker processes on the study (prepared), each running trials until the study's target, poll
    until all exit, return their reports (in worker order): `start_worker_processes`, then `WorkerProcesses.run`."""
    return start_worker_processes(settings, workers, deadline).run(on_poll, poll_s)


def start_worker_processes(settings: CoSearchSettings, workers: int, deadline: float | None) -> WorkerProcesses:
    """Start `workers` worker processes for `settings`' study, which the command may still be preparing: each
    imports, plans and starts its share of the numba compile (`worker_compile`), then waits for `WorkerProcesses.run`
    (or `stop`) before it loads the study. Started before the command's own `prepare_study`, they use the idle cores
    meanwhile. `settings.out` must be claimed (`claim_out`): their logs and job go to OUT/workers/.

    Each worker is a fresh interpreter running `cosearch.search.worker_process` on a pickled job, not a
    multiprocessing child: those re-import the caller's main script, which fails for code run from
    standard input and re-runs scripts without a main guard. A worker's standard error goes to
    OUT/workers/worker-N.log."""
    folder = settings.out / WORKER_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{time.time_ns()}"
    job = folder / f"job-{tag}.pickle"
    job.write_bytes(pickle.dumps((settings, deadline, os.getpid())))
    root = str(Path(__file__).resolve().parents[2])           # where this cosearch is imported from
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    launched = WorkerProcesses(settings, job, tag)
    try:
        for i in range(workers):
            launched.logs.append(open(folder / f"worker-{i}.log", "w"))
            launched.procs.append(subprocess.Popen(_worker_argv(job, i, tag), stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL, stderr=launched.logs[-1], env=env))
    except BaseException:
        launched.stop()  # none of them has loaded the study yet: no trial of theirs to record
        raise
    return launched


class WorkerProcesses:
    """The worker processes of one command (`start_worker_processes`): `run` once the study is prepared, or `stop`
    them if the command fails before. Only the processes started here are ever stopped."""

    def __init__(self, settings: CoSearchSettings, job: Path, tag: str):
        self.settings, self.job, self.tag = settings, job, tag
        self.procs: list[subprocess.Popen] = []
        self.logs: list = []

    def run(self, on_poll: Callable[[], None] | None = None, poll_s: float = 1.0) -> list[WorkerReport]:
        """Let the workers load the study (prepared now) and run trials; poll until all exit; their reports (in
        worker order). A worker killed mid-way loses nothing: the others re-run its trial. A worker's counts are its
        own trials; they add up to the trials the study gained. On an interrupt (or any error while polling) the
        workers are stopped (`stop`) and it is raised again."""
        try:
            write_text_atomic(_study_ready_file(self.job, self.tag), "ready\n")
            while any([p.poll() is None for p in self.procs]):  # every one polled: a killed worker is reaped
                if on_poll is not None:
                    on_poll()
                time.sleep(poll_s)
        except BaseException as exc:
            self.stop(exc)
            raise
        self._clean_up()
        folder = self.job.parent
        reports = []
        for i, p in enumerate(self.procs):
            path = folder / f"report-{self.tag}-{i}.json"
            if path.is_file():
                reports.append(WorkerReport(**json.loads(path.read_text())))
                path.unlink()
            else:
                reports.append(WorkerReport(i, 0, 0, 0, None, f"exited with status {p.returncode}: "
                                            f"{_last_line(folder / f'worker-{i}.log')}", p.pid, None,
                                            worker_tag()["host"]))
        return reports

    def stop(self, exc: BaseException | None = None) -> None:
        """End the workers (`exc`: why their command stops; None when it needs no trials of them): no worker
        outlives its command, nor leaves a trial RUNNING."""
        try:
            _stop_workers(self.procs)
            if exc is not None:
                why = ("interrupted (Ctrl-C or SIGTERM)" if caused_by_interrupt(exc)
                       else f"its command stopped ({type(exc).__name__})")
                _fail_unrecorded_trials(self.settings, [p.pid for p in self.procs],
                                        UNRECORDED.format(why=why, wait_s=INTERRUPT_WAIT_S))
        finally:  # also after a second Ctrl-C: no job, study-ready file or compile folder left in OUT/workers
            self._clean_up()
            for i in range(len(self.procs)):
                (self.job.parent / f"report-{self.tag}-{i}.json").unlink(missing_ok=True)

    def _clean_up(self) -> None:
        for log in self.logs:
            log.close()
        self.logs = []
        self.job.unlink(missing_ok=True)
        _study_ready_file(self.job, self.tag).unlink(missing_ok=True)
        shutil.rmtree(_compile_folder(self.job, self.tag), ignore_errors=True)


def _worker_argv(job: Path, index: int, tag: str) -> list[str]:
    """The command line of worker process `index` (`worker_process_main`)."""
    return [sys.executable, "-m", "cosearch.search.worker_process", str(job), str(index), tag]


def _stop_workers(procs: list[subprocess.Popen]) -> None:
    """Ask each live worker to end (SIGTERM: it ends its trial as interrupted, queued again), wait for them
    INTERRUPT_WAIT_S in all, then kill those still running (at once on a second interrupt)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    until = time.monotonic() + INTERRUPT_WAIT_S
    try:
        for p in procs:
            p.wait(max(0.0, until - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _fail_unrecorded_trials(settings: CoSearchSettings, pids: list[int], reason: str) -> None:
    """Once the worker processes `pids` have ended: their trials still RUNNING (a worker killed in a long compiled
    call or in a numba compile, or interrupted outside its objective) marked FAIL with `reason` and queued again, so
    a stopped command leaves no trial RUNNING. A storage that fails here leaves them to the next run, which fails
    them as orphans (`fail_orphaned_trials`), and says so in one line on standard error before the command's own."""
    import optuna

    try:
        storage = open_storage(settings.storage)
        fail_trials_of_ended_workers(optuna.load_study(study_name=settings.study_name, storage=storage), storage,
                                     pids, reason)
    except Exception as exc:
        first_line = (str(exc).splitlines() or [""])[0]
        print(f"the workers' unfinished trials were not marked failed ({type(exc).__name__}: {first_line}); the "
              f"next run of the same command fails them and queues them again", file=sys.stderr)


def _last_line(log: Path) -> str:
    """The last non-empty line of a worker's log (its error), or a pointer to the log."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    return lines[-1] if lines else f"see {log}"


_SIGNALS: list[int] = []
"""The signals a worker process received (`_interrupt`), watched by its search (`interrupts`)."""


def _interrupt(signum, _frame) -> None:
    """A worker's SIGTERM: a KeyboardInterrupt, and remembered so that one a numba compile swallowed (see
    `interrupts`) still ends the trial at its next layer."""
    _SIGNALS.append(signum)
    raise KeyboardInterrupt


def _unraisable(info) -> None:
    """A worker's `sys.unraisablehook`. A SIGTERM that lands while numba's compiler runs a Python callback from C
    (llvmlite's object cache) cannot propagate from it: Python reports the KeyboardInterrupt as unraisable, with a
    traceback, and goes on. `_interrupt` has remembered the signal, so the worker stops at its next check: one line
    in its log instead of the traceback. Anything else goes to Python's own hook."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        print("interrupted during a compile: stopping at the next check", file=sys.stderr)
        return
    sys.__unraisablehook__(info)


def _compile_folder(job: Path, tag: str) -> Path:
    """Where the worker processes of one command mark the steps of their shared numba compile."""
    return job.parent / f"compile-{tag}"


def _study_ready_file(job: Path, tag: str) -> Path:
    """The file whose presence tells the worker processes of one command that their study is prepared."""
    return job.parent / f"study-ready-{tag}"


def _split_compile(settings: CoSearchSettings, folder: Path) -> SplitCompile | None:
    """The shared compile of a worker process (None, and a line in its log, if its plan cannot be made: the
    trial then compiles alone)."""
    try:
        return worker_split(compile_plan(settings), folder)
    except Exception as exc:
        print(f"split compile: no plan ({type(exc).__name__}: {exc}); this worker compiles alone", file=sys.stderr)
        return None


def worker_process_main(job: Path, index: int, tag: str) -> int:
    """The body of a worker process: load the job, run trials, write the report next to the job.

    A Ctrl-C reaches the whole process group: a worker ignores it, and ends when its command, interrupted, sends it
    SIGTERM (taken as an interrupt: its trial ends failed and is queued again)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.unraisablehook = _unraisable
    watch(_SIGNALS)
    settings, deadline, parent_pid = pickle.loads(job.read_bytes())
    try:
        try:
            ready = _study_ready_file(job, tag)
            report = run_worker(settings, index, None, deadline, parent_pid=parent_pid,
                                split=_split_compile(settings, _compile_folder(job, tag)), study_ready=ready.is_file)
        except BaseException as exc:
            if caused_by_interrupt(exc):
                raise KeyboardInterrupt from None
            raise
    except KeyboardInterrupt:
        report = WorkerReport(index, 0, 0, 0, None, "interrupted", os.getpid(), None, worker_tag()["host"])
    except UsageError as exc:  # the run's input: the parent says it once, as it says any input error
        print(f"input error: {exc}", file=sys.stderr)
        report = WorkerReport(index, 0, 0, 0, None, f"{INPUT_ERROR}{exc}", os.getpid(), None, worker_tag()["host"])
    except BaseException as exc:  # reported to the parent; the traceback goes to the log
        traceback.print_exc(file=sys.stderr)
        report = WorkerReport(index, 0, 0, 0, None, f"error: {type(exc).__name__}: {exc}", os.getpid(), None,
                              worker_tag()["host"])
    target = job.parent / f"report-{tag}-{index}.json"
    write_text_atomic(target, json.dumps(asdict(report)))
    return 0


def _finished_elsewhere(exc: ValueError) -> bool:
    """Whether `study.optimize` failed only because its trial was already finished when it told the result: with
    several processes on one SQLite study, Optuna can hand the same queued (WAITING) trial, such as a seed design
    or a retried one, to two of them at once; the one that ends second cannot tell it again."""
    return str(exc).startswith("Cannot tell a ") and str(exc).rstrip(".").endswith(" trial")
