"""The final phase: the best trials re-mapped with the final mapper (the best of them wins), and the presets that
fit the area budget run on the same network with the same mapper."""
from __future__ import annotations

import time

from nets import parse_config, to_network

from ..config import CoSearchSettings
from .accuracy import AccuracyModel, accuracy_model
from .baselines import preset_runs
from .evaluate import evaluate_network
from .objective import geomean, objective
from .result import CoSearchResult, TrialPoint
from .space import Design
from .study import trial_counts
from .workers import WorkerReport, study_workers

FINAL_CANDIDATES = 3
"""The best trials (by search EDP) re-mapped with the final mapper; the best of them after that wins."""


def _trial_points(study) -> list[TrialPoint]:
    points = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        points.append(TrialPoint(t.number, t.value, t.state.name, bool(a.get("feasible")), a.get("accuracy"),
                                 tuple(tuple(s) for s in a.get("subnets", ()))))
    return points


def finalize(settings: CoSearchSettings, study, reports: list[WorkerReport],
             accuracy: AccuracyModel | None = None) -> CoSearchResult:
    """The best feasible trials re-mapped with the final mapper (the best of them wins), and the presets that
    fit the area budget on the same network with the same mapper."""
    from optuna.trial import TrialState

    t0 = time.time()
    counts = trial_counts(study)
    reports = study_workers(study, reports)
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
    cache = settings.final_mapper.cache()
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
        score = objective([cost, *extra], settings.budget)
        candidates.append((not score.feasible, score.edp_j_s, trial.number, trial, design, cost, extra))
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
    search_metrics = {k: attrs.get(k) for k in ("latency_ms", "energy_mj", "edp_j_s", "power_mw", "utilization",
                                                 "accuracy", "area_mm2", "wall_s", "mapper")}
    violation = settings.budget.violation(best.latency_s, best.energy_j)
    if violation > 0:
        notes.append(f"after final mapping the best design is {violation:.1%} over the latency/energy/power budget")
    return CoSearchResult(settings, design, best, best_trial.number, search_metrics, presets, source,
                          _trial_points(study), counts, reports, {"final": time.time() - t0}, notes, per_network)
