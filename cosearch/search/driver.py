"""The nested co-search from settings to result: Optuna over accelerators (outer), subnet evolution (middle),
the mapper (inner).

`run_search(settings)` checks what the settings alone cannot (a budget below the space's smallest
design, an accuracy floor above the space's best subnet), creates or resumes the study, runs the
workers until `settings.trials` trials are complete or the time limit passes, then finalizes: re-maps
the best designs and runs the presets (`finalize`). `cosearch.run` adds the report.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from .._load_guard import caused_by_interrupt
from ..config import CoSearchSettings, UsageError
from ..fusion import resolve_fusion_groups, smallest_peak_words
from .accuracy import AccuracyModel, accuracy_model, check_floor
from .finalize import finalize
from .latency_table import table_layers
from .out_folder import claim_out, release_out
from .progress import Progress, ProgressTracker
from .result import CoSearchResult
from .space import AcceleratorSpace
from .worker_compile import compile_beside
from .study import load_study, prepare_study, trial_counts
from .workers import INPUT_ERROR, WorkerReport, run_worker, start_worker_processes


def check_feasible(settings: CoSearchSettings) -> AccuracyModel | None:
    """The accuracy model of the settings, after checking that the budget admits a design of the accelerator space
    and that the accuracy floor is below the space's largest subnet (a `UsageError` otherwise)."""
    space = AcceleratorSpace.for_settings(settings)
    _check_groups_fit(settings, space)
    if settings.latency_table is not None:  # the table's layers, listed now rather than after the whole search
        try:
            table_layers(settings)
        except (NotImplementedError, ValueError, TypeError, KeyError) as exc:
            what = f"space {settings.space}" if settings.searches_subnet else "the networks"
            raise UsageError(f"--export-latency-table: the layer shapes of {what} cannot be listed "
                             f"({' '.join(str(exc).split()) or type(exc).__name__}); accepted: a space or networks "
                             "whose layers cosearch lists") from None
    accuracy = accuracy_model(settings)
    check_floor(settings, accuracy)
    return accuracy


def _check_groups_fit(settings: CoSearchSettings, space: AcceleratorSpace) -> None:
    """A `UsageError` when a user-given group (`--fusion-groups`) needs more words on chip than the largest global
    buffer of the space holds: no design could run it, so the search would only reject designs."""
    if settings.fusion_groups is None:
        return
    for spec in settings.networks or (settings.network,):
        network = spec.build()
        for first, last in resolve_fusion_groups(network, settings.fusion_groups, "--fusion-groups"):
            if last == first:
                continue
            peak = smallest_peak_words(network.layers[first:last + 1])
            if peak >= space.most_glb_words:
                bound = (f"area<={space.area_budget_mm2:g}mm2" if settings.resources is None
                         else f"{settings.resources.preset}'s on-chip bytes")
                raise UsageError(
                    f"--fusion-groups: no design of the space can hold group {first}-{last} of {network.name}: its "
                    f"intermediate rows need {peak} words on chip at its smallest tile, and the largest global "
                    f"buffer under {bound} holds {space.most_glb_words} words; accepted: a "
                    "shorter group or fewer rows per layer, or a larger area budget")


class WorkerFailure(RuntimeError):
    """Every worker process stopped on an error before running a trial (their logs are in OUT/workers/)."""


def run_search(settings: CoSearchSettings, on_progress: Callable[[Progress], None] | None = None,
               on_message: Callable[[str], None] | None = None) -> CoSearchResult:
    """Search (or resume) and finalize; returns the result (not yet written: see `cosearch.run`).

    An interrupt (Ctrl-C) raises KeyboardInterrupt, wherever it lands (see `caused_by_interrupt`)."""
    try:
        return _run_search(settings, on_progress, on_message)
    except UsageError:
        release_out(settings)
        raise
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt) and caused_by_interrupt(exc):
            raise KeyboardInterrupt from None
        raise


def _run_search(settings: CoSearchSettings, on_progress: Callable[[Progress], None] | None,
                on_message: Callable[[str], None] | None) -> CoSearchResult:
    say = on_message or (lambda _msg: None)
    t0 = time.time()
    accuracy = check_feasible(settings)
    replaced = claim_out(settings, say)  # before any work: a folder that cannot be written, or another run's, fails
    deadline = None if settings.time_limit_s is None else t0 + settings.time_limit_s
    # the worker processes start now, on the cores the command leaves idle while it prepares the study: their imports
    # and compile need only the settings; they load the study once `run` tells them it is ready
    early = None
    try:
        if settings.workers > 1:
            early = start_worker_processes(settings, settings.workers, deadline)
        study = prepare_study(settings, say, replaced)
        say(settings.describe())
        if accuracy is not None:
            say(f"accuracy: {accuracy.source.label}" + (f" ({accuracy.source.path})" if accuracy.source.path else ""))
            if accuracy.source.notice:
                say(accuracy.source.notice)
        before = trial_counts(study)
        remaining = max(0, settings.trials - before["complete"])
        if before["complete"]:
            say(f"resuming study {settings.study_name!r}: {before['complete']} complete trials kept, "
                f"{remaining} to go")
        tracker = ProgressTracker(study, settings, t0, deadline)
        notify = (lambda: on_progress(tracker.snapshot())) if on_progress else None
        if notify:
            notify()
    except BaseException:
        if early is not None:  # they never loaded the study: nothing of theirs to record
            early.stop()
        raise
    if early is not None and remaining == 0:
        early.stop()
    reports: list[WorkerReport] = []
    if remaining > 0:
        if settings.workers == 1:
            with compile_beside(settings) as split:     # on a cold numba cache, a helper process compiles beside it
                reports = [run_worker(settings, 0, remaining, deadline, on_trial=notify, accuracy=accuracy,
                                      split=split)]
        else:
            reports = early.run(notify)  # stops them on an interrupt
            # the trials were written by other processes: read them on a fresh connection (this process's cached
            # view could miss trials that finished while it was reading; seen as a resumed run reporting the
            # counts it started with)
            study = tracker.study = load_study(settings)
        failed = [r for r in reports if r.stop.startswith(("error", "exited with status", INPUT_ERROR))]
        if failed and len(failed) == len(reports) and not any(r.trials for r in reports):
            causes = {r.stop for r in failed}
            if len(causes) == 1 and failed[0].stop.startswith(INPUT_ERROR):  # the input, said once
                raise UsageError(failed[0].stop[len(INPUT_ERROR):])
            raise WorkerFailure(f"every worker failed; worker {failed[0].index}: {failed[0].stop}")
    t_search = time.time()
    if notify:  # the search's last count (worker processes are polled, and may end between two polls)
        notify()
    if on_progress:
        on_progress(tracker.snapshot("final mapping and presets"))
    result = finalize(settings, study, reports, accuracy)
    result.timings_s = {"search": t_search - t0, **result.timings_s}
    return result
