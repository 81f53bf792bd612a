"""The nested co-search: Optuna over accelerators (outer), subnet evolution (middle), the mapper (inner).

`run(settings)` creates or resumes the study, runs the workers until `settings.trials` trials are
complete or the time limit passes, then re-maps the best design's network with the final mapper,
runs the presets that fit the budget on the same network, and writes the report to `settings.out`.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from nets import parse_config, to_network

from .baselines import preset_runs
from ..config.validate import UsageError
from .evaluate import evaluate_network
from .result import CoSearchResult, TrialPoint
from ..config.settings import CoSearchSettings
from .space import Design
from .study import prepare_study, trial_counts
from .trial import accuracy_model, geomean
from .workers import WorkerReport, run_worker, run_worker_processes, split_quota


FINAL_CANDIDATES = 3
"""The best trials (by search EDP) re-mapped with the final mapper; the best of them after that wins."""


@dataclass(frozen=True)
class Progress:
    """A snapshot for a progress display: complete trials of the target, best EDP so far, times."""

    complete: int
    target: int
    pruned: int
    best_edp_j_s: float | None
    elapsed_s: float
    remaining_s: float | None
    phase: str = "search"


class _Tracker:
    """Reads the study and turns it into `Progress` snapshots."""

    def __init__(self, study, settings: CoSearchSettings, start: float, deadline: float | None) -> None:
        self.study, self.settings, self.start, self.deadline = study, settings, start, deadline
        self.initial = trial_counts(study)["complete"]

    def snapshot(self, phase: str = "search") -> Progress:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        feasible = [t.value for t in complete if t.user_attrs.get("feasible")]
        now = time.time()
        elapsed = now - self.start
        done_here = len(complete) - self.initial
        left = max(0, self.settings.trials - len(complete))
        remaining = None
        if done_here > 0:
            remaining = elapsed / done_here * left
        if self.deadline is not None:
            remaining = min(remaining if remaining is not None else math.inf, max(0.0, self.deadline - now))
        return Progress(len(complete), self.settings.trials, pruned, min(feasible) if feasible else None, elapsed,
                        remaining, phase)


def run(settings: CoSearchSettings, on_progress: Callable[[Progress], None] | None = None,
        on_message: Callable[[str], None] | None = None) -> CoSearchResult:
    """Search (or resume), finalize, write the report; returns the result."""
    from ..report.writer import write_report

    say = on_message or (lambda _msg: None)
    t0 = time.time()
    accuracy = accuracy_model(settings)
    if accuracy is not None and settings.budget.accuracy is not None:
        best_possible = accuracy.best_possible()
        if settings.budget.accuracy > best_possible:
            raise UsageError(f"accuracy floor {settings.budget.accuracy:g} is above the space's largest subnet "
                             f"({best_possible:.4f} by {accuracy.source.label})")
    settings.out.mkdir(parents=True, exist_ok=True)
    study = prepare_study(settings)
    say(settings.describe())
    if accuracy is not None:
        say(f"accuracy: {accuracy.source.label}" + (f" ({accuracy.source.path})" if accuracy.source.path else ""))
        if accuracy.source.notice:
            say(accuracy.source.notice)
    before = trial_counts(study)
    remaining = max(0, settings.trials - before["complete"])
    deadline = None if settings.time_limit_s is None else t0 + settings.time_limit_s
    if before["complete"]:
        say(f"resuming study {settings.study_name!r}: {before['complete']} complete trials kept, "
            f"{remaining} to go")
    tracker = _Tracker(study, settings, t0, deadline)
    notify = (lambda: on_progress(tracker.snapshot())) if on_progress else None
    if notify:
        notify()
    reports: list[WorkerReport] = []
    if remaining > 0:
        if settings.workers == 1:
            reports = [run_worker(settings, 0, remaining, deadline, on_trial=notify, accuracy=accuracy)]
        else:
            reports = run_worker_processes(settings, split_quota(remaining, settings.workers), deadline, notify)
    t_search = time.time()
    if on_progress:
        on_progress(tracker.snapshot("final mapping and presets"))
    result = finalize(settings, study, reports, accuracy)
    result.timings_s = {"search": t_search - t0, **result.timings_s}
    t_report = time.time()
    write_report(result)
    result.timings_s.update({"report": time.time() - t_report, "total": time.time() - t0})
    return result


def _trial_points(study) -> list[TrialPoint]:
    points = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        points.append(TrialPoint(t.number, t.value, t.state.name, bool(a.get("feasible")), a.get("accuracy"),
                                 tuple(tuple(s) for s in a.get("subnets", ()))))
    return points


def finalize(settings: CoSearchSettings, study, reports: list[WorkerReport], accuracy=None) -> CoSearchResult:
    """The best feasible trials re-mapped with the final mapper (the best of them wins), and the presets that
    fit the area budget on the same network with the same mapper."""
    from optuna.trial import TrialState

    t0 = time.time()
    counts = trial_counts(study)
    feasible = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if t.user_attrs.get("feasible")]
    notes: list[str] = []
    if accuracy is None:
        accuracy = accuracy_model(settings)
    source = None if accuracy is None else accuracy.source
    if not feasible:
        notes.append("no trial produced a design within the budget; nothing to compare")
        return CoSearchResult(settings, None, None, None, {}, [], source, _trial_points(study), counts, reports,
                              {"final": time.time() - t0}, notes)
    cache = settings.final_mapper.cache(settings.out / "final_mappings.json")
    candidates = []
    for trial in sorted(feasible, key=lambda t: t.value)[:FINAL_CANDIDATES]:
        design = Design.from_dict(trial.user_attrs["design"], name="cosearch_best")
        if settings.searches_subnet:
            config = parse_config(trial.user_attrs["subnet"], settings.space)
            network, acc_value = to_network(config), accuracy.score(config)
        else:
            network = settings.network.build()
            acc_value = None if accuracy is None else accuracy.score(settings.network.config)
        cost = evaluate_network(network, design.accelerator, cache, accuracy=acc_value)
        extra = [evaluate_network(n.build(), design.accelerator, cache) for n in settings.networks[1:]]
        score = geomean([cost.edp_j_s] + [c.edp_j_s for c in extra])
        over = sum(settings.budget.violation(c.latency_s, c.energy_j) for c in [cost, *extra]) > 0
        candidates.append((over, score, trial.number, trial, design, cost, extra))
    _, _, _, best_trial, design, best, best_extra = min(candidates, key=lambda c: c[:3])
    attrs = best_trial.user_attrs
    network = best.network
    names = [settings.resources.preset] if settings.resources is not None else None
    presets = preset_runs(network, settings.budget.area_mm2, cache, names=names)
    per_network: dict[str, dict] = {}
    if settings.networks or (settings.resources is not None and not settings.searches_subnet):
        for cost in [best, *best_extra]:
            runs = presets if cost is best else preset_runs(cost.network, settings.budget.area_mm2, cache, names=names)
            per_network[cost.network.name] = {"cosearch": cost.metrics(),
                                              **{p.name: p.cost.metrics() for p in runs if p.cost is not None}}
        for p in presets if settings.networks else ():
            edps = [per_network[n].get(p.name, {}).get("edp_j_s") for n in per_network]
            if p.cost is not None and all(edps):
                ratio = geomean(edps) / geomean(m["cosearch"]["edp_j_s"] for m in per_network.values())
                notes.append(f"geometric-mean EDP over {', '.join(per_network)}: {p.name} / co-searched = {ratio:.2f}")
    cache.save()
    search_metrics = {k: attrs.get(k) for k in ("latency_ms", "energy_mj", "edp_j_s", "power_mw", "utilization",
                                                 "accuracy", "area_mm2", "wall_s", "mapper")}
    violation = settings.budget.violation(best.latency_s, best.energy_j)
    if violation > 0:
        notes.append(f"after final mapping the best design is {violation:.1%} over the latency/energy/power budget")
    return CoSearchResult(settings, design, best, best_trial.number, search_metrics, presets, source,
                          _trial_points(study), counts, reports, {"final": time.time() - t0}, notes, per_network)
