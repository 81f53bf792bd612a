"""The final phase: the best trials re-mapped with the final mapper, a pattern search around the design of each of the
best few (`polish`; the best design of all, a trial's or a polished one, wins, by the final mapper), and the
presets that fit the area budget run on the same network with the same mapper. A multi-objective study re-maps
every design of its front instead; the front's lowest-EDP design is then the one compared with the presets."""
from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

from accel_models import PRESETS
from mappings import MappingCache
from nets import parse_config, to_network

from ..config import POLISH_CANDIDATES, POLISH_TIME_SHARE, CoSearchSettings
from ..fusion import ChosenViews, view_search_settings
from .accuracy import AccuracyModel, accuracy_model
from .baselines import fitting_presets, preset_runs
from .evaluate import NoValidMapping, evaluate_network, network_run
from .objective import geomean, objective
from .polish import polish
from .pareto import non_dominated, point_values, study_front
from .result import CoSearchResult, TrialPoint
from .seeds import is_seed, seed_summary
from .side_by_side import run_in_lanes, run_side_by_side
from .space import AcceleratorSpace, Design
from .study import trial_counts
from .trial import REJECTION_KINDS, search_cache
from .workers import WorkerReport, study_workers

POLISH_ATTR = "cosearch.polish"
"""The study's user attribute holding the last final phase's polish (`CoSearchResult.polish`)."""
FINAL_CANDIDATES = 3
"""The best trials (by the search's objective) re-mapped with the final mapper, with the best seed trial (see
`final_trials`); the best of them after that wins."""


def _trial_points(study) -> list[TrialPoint]:
    points = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        values = tuple(t.values or ())
        points.append(TrialPoint(t.number, values[0] if len(values) == 1 else None, t.state.name,
                                 bool(a.get("feasible")), a.get("accuracy"),
                                 tuple(tuple(s) for s in a.get("subnets", ())), values))
    return points


def _unmet(settings: CoSearchSettings, study, counts: dict[str, int]) -> str:
    """What kept every design out of the budget: the limits no complete trial met (`Budget.unmet_terms`), or the
    area budget when every design was rejected before it ran."""
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    runs = [(t.user_attrs["latency_ms"] / 1e3, t.user_attrs["energy_mj"] / 1e3) for t in complete
            if t.user_attrs.get("latency_ms") and t.user_attrs.get("energy_mj") is not None]
    if len(settings.networks) > 1:
        said = _unmet_per_network(settings, complete)
        if said:
            return said
    elif unmet := settings.limits.unmet_terms(runs):
        return f": no design met {' nor '.join(unmet)}"
    rejected = [t for t in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)) if t.user_attrs.get("reason")]
    if not runs and rejected:
        return f": every design drawn ({counts.get('pruned', len(rejected))}) was rejected before it ran: " + \
            _rejections(rejected)
    return ""


def _rejections(rejected: list) -> str:
    """The rejected trials counted by why (`trial.REJECTION_KINDS`), most first, with the first trial of the most
    common kind as the example: the same study gives the same sentence, whichever trial came last."""
    by_kind: dict[str, list] = {}
    for t in sorted(rejected, key=lambda t: t.number):
        by_kind.setdefault(t.user_attrs.get("reason_kind", "other"), []).append(t)
    kinds = sorted(by_kind, key=lambda k: (-len(by_kind[k]), k))
    example = by_kind[kinds[0]][0]
    counts = ", ".join(f"{len(by_kind[k])} {REJECTION_KINDS.get(k, 'for another reason')}" for k in kinds)
    return f"{counts} (e.g. trial {example.number}: {example.user_attrs['reason']})"


def _time_limit_spent(settings: CoSearchSettings, counts: dict[str, int], reports: list[WorkerReport]) -> str | None:
    """The note of a run whose time limit passed before any trial started (it counts from the command's start, so
    the workers' start-up spends it: a short limit on a busy machine), else None: not that no design met the
    budget, since none was tried."""
    if any(counts.get(state) for state in ("complete", "pruned", "failed", "running")):
        return None
    if settings.time_limit_s is None or not any(r.stop == "time limit" for r in reports):
        return None
    return (f"no trial ran: the time limit ({settings.time_limit_s:g} s, counted from the command's start, the "
            "workers' start-up included) passed before the first trial started; accepted: a longer --time-limit "
            "(the same command with it resumes this study)")


def _unmet_per_network(settings: CoSearchSettings, complete) -> str:
    """`_unmet` for several networks (`--networks`), where a design is within the budget only if every network's run
    is: each network no design ran within a limit, named with that limit and its nearest run; or, when each
    network met the limits on some design, that none met them on all the networks at once."""
    per_network: dict[str, list[tuple[float, float]]] = {n.name: [] for n in settings.networks}
    for t in complete:
        for name, (latency_ms, energy_mj) in (t.user_attrs.get("runs_per_network") or {}).items():
            if latency_ms:
                per_network.setdefault(name, []).append((latency_ms / 1e3, energy_mj / 1e3))
    missed = [f"{' nor '.join(terms)} on {name}" for name, runs in per_network.items()
              if (terms := settings.limits.unmet_terms(runs))]
    if missed:
        return f": no design met {'; nor '.join(missed)}"
    if any(per_network.values()):
        return f": each network met the budget on some design, but no design met it on all of {', '.join(per_network)}"
    return ""


def polish_budget(polish_evals: int, complete_trials: int) -> int:
    """Designs the polish scores around each candidate: `--polish-evals`, but never more than the study's complete
    trials, so that the final phase of a short search does not outlast the search (a one-trial run polishes one
    design; the default 300-trial run its full 128)."""
    return max(0, min(polish_evals, complete_trials))


def polish_time_s(time_limit_s: float | None) -> float | None:
    """The pattern search's wall time, all its candidates together: `POLISH_TIME_SHARE` of the search's time limit,
    so that the final phase grows with the search and not with the machine's slowness; None (no bound) without a
    time limit, where a run's result depends on its settings alone."""
    return None if time_limit_s is None else POLISH_TIME_SHARE * time_limit_s


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
        notes.append(_time_limit_spent(settings, counts, reports)
                     or f"no trial produced a design within the budget{_unmet(settings, study, counts)}; nothing to "
                        "compare")
        return CoSearchResult(settings, None, None, None, {}, [], source, _trial_points(study), counts, reports,
                              {"final": time.time() - t0}, notes)
    cache = MappingCache(settings.final_mapper)
    front: list[dict] = []
    if settings.pareto:
        front, candidates = _front(settings, study_front(feasible, settings.pareto), {t.number: t for t in feasible},
                                   accuracy, cache)
    else:
        chosen = final_trials(feasible, study, settings.objective.maximize)
        runs = run_in_lanes([partial(_final_runs, settings, trial, accuracy, cache) for trial in chosen],
                            settings.workers)
        candidates = [(score.sort_key(), trial.number, trial, design, cost, extra)
                      for trial, (score, design, cost, extra) in zip(chosen, runs)]
    best_key, _, best_trial, design, best, best_extra = min(candidates, key=lambda c: c[:2])
    polished: dict = {}
    polish_evals = polish_budget(settings.polish_evals, counts.get("complete", 0))
    if not settings.pareto and polish_evals > 0:
        t_polish = time.time()
        polished, winner = _polish_candidates(replace(settings, polish_evals=polish_evals), candidates, accuracy,
                                              cache)
        if winner is not None:
            best_trial, design, best, best_extra = winner
        polished["wall_s"] = round(time.time() - t_polish, 2)
        study.set_user_attr(POLISH_ATTR, polished)  # optuna-dashboard shows it beside the trials
    attrs = best_trial.user_attrs
    network = best.network
    names = [settings.resources.preset] if settings.resources is not None else None
    presets = _preset_runs(settings, network, cache, names)
    per_network: dict[str, dict] = {}
    if settings.networks or (settings.resources is not None and not settings.searches_subnet):
        for cost in [best, *best_extra]:
            runs = presets if cost is best else _preset_runs(settings, cost.network, cache, names)
            per_network[cost.network.name] = {"cosearch": cost.metrics(),
                                              **{p.name: p.cost.metrics() for p in runs if p.cost is not None}}
        for p in presets if settings.networks else ():
            edps = [per_network[n].get(p.name, {}).get("edp_j_s") for n in per_network]
            if p.cost is not None and all(edps):
                ratio = geomean(edps) / geomean(m["cosearch"]["edp_j_s"] for m in per_network.values())
                notes.append(f"geometric-mean EDP over {', '.join(per_network)}: {p.name} / co-searched = {ratio:.2f}")
    search_metrics = {k: attrs.get(k) for k in ("latency_ms", "energy_mj", "edp_j_s", "power_mw", "utilization",
                                                 "accuracy", "area_mm2", "wall_s", "mapper")}
    violation = settings.limits.violation(best.latency_s, best.energy_j)
    if violation > 0:
        notes.append(f"after final mapping the best design is {violation:.1%} over the latency/energy/power budget")
    timings = {"final": time.time() - t0, **({"polish": polished["wall_s"]} if polished else {})}
    return CoSearchResult(settings, design, best, best_trial.number, search_metrics, presets, source,
                          _trial_points(study), counts, reports, timings, notes, per_network,
                          front, seed_summary(study), polished)


def _final_runs(settings: CoSearchSettings, trial, accuracy: AccuracyModel | None, cache: MappingCache) -> tuple:
    """A final-phase candidate: `trial`'s design and network(s) re-mapped with the final mapper (`cache`); its
    (objective score, design, cost, extra networks' costs)."""
    design = Design.from_dict(trial.user_attrs["design"], name="cosearch_best")
    network, acc_value = _network(settings, trial.user_attrs.get("subnet"), accuracy)
    networks = [network, *(n.build() for n in settings.networks[1:])]
    score, cost, extra = _final_scored(settings, design.accelerator, networks, acc_value, cache)
    return score, design, cost, extra


def final_views(cache: MappingCache) -> ChosenViews:
    """How the final phase's plans (its candidates, the polished designs, the Pareto front and the presets, one rule
    for every row it compares) search the views fused layers run on: every view the plan keeps, with the final
    mapper's own settings (`fusion.ChosenViews` with share 1): what stays on chip (under `depth-first`, the grouping)
    is decided on the moved mappings. Against plans that search every view they try, on six 5 mm2 designs with their
    ofa-mbv3 subnets under `resident` and `depth-first`: EDP x0.961-x1.063 (geometric mean x1.016), and a final phase
    of 35 s against 241 s (`resident`), 97 s against 171 s (`depth-first`) for a 30-trial study on one worker
    (docs/fusion.md)."""
    return ChosenViews(cache.settings, share=1.0)


def _final_scored(settings: CoSearchSettings, accelerator, networks: list, acc_value: float | None,
                  cache: MappingCache) -> tuple:
    """`networks` (the searched one first, then the extra ones) on `accelerator` with the final mapper (`cache`), in
    the run's fusion mode and timing, the views searched as `final_views` says: (objective score, the first
    network's cost, the others' costs); raises `NoValidMapping`."""
    goal, views = settings.mapper_objective, final_views(cache)
    cost = evaluate_network(networks[0], accelerator, cache, goal, accuracy=acc_value, fusion=settings.fusion,
                            search_views=views, fusion_groups=settings.fusion_groups, timing=settings.timing)
    extra = [evaluate_network(n, accelerator, cache, goal, fusion=settings.fusion, search_views=views,
                              fusion_groups=settings.fusion_groups, timing=settings.timing)
             for n in networks[1:]]
    return objective([cost, *extra], settings.limits, settings.objective, acc_value), cost, extra


def _preset_runs(settings: CoSearchSettings, network, cache: MappingCache, names: list[str] | None) -> list:
    """`preset_runs` of the presets `names` (default all) on `network`, the fitting ones planned side by side on
    the search's workers (`run_in_lanes`), in `preset_runs`' order."""
    area = settings.budget.area_mm2
    every = names or list(PRESETS)
    fitting = fitting_presets(area, every)
    planned = run_in_lanes([partial(preset_runs, network, area, cache, names=[name],
                                    objective=settings.mapper_objective, fusion=settings.fusion,
                                    fusion_groups=settings.fusion_groups, timing=settings.timing,
                                    search_views=final_views(cache))
                            for name in fitting], settings.workers)
    runs = dict(zip(fitting, (run for (run,) in planned)))
    others = [name for name in every if name not in runs]
    if others:       # over the budget: listed with their areas, not run
        runs.update((run.name, run) for run in preset_runs(network, area, cache, names=others))
    return [runs[name] for name in every]


def polish_lanes(candidates: int, workers: int) -> list[list[int]]:
    """The candidates' indexes (best first) per lane of the polish: one lane per worker, at most one per candidate;
    the best candidate alone in the first lane (it is the likeliest to win), the others dealt in turn to the rest."""
    lanes = max(1, min(workers, candidates))
    if lanes == 1:
        return [list(range(candidates))]
    return [[0]] + [list(range(1 + j, candidates, lanes - 1)) for j in range(lanes - 1)]


def _polish_candidates(settings: CoSearchSettings, candidates: list, accuracy: AccuracyModel | None,
                       final_cache) -> tuple[dict, tuple | None]:
    """The pattern search (`_polish`) from each of the POLISH_CANDIDATES best final-phase candidates (by the final
    mapper); the best design of all, trials' and polished, wins. The candidates run in lanes side by side, one per
    worker (`polish_lanes`, `side_by_side`: the search's cores are free again), each lane's candidates one after
    another, sharing a search mapper's cache (their networks share most layer shapes). With a time limit the lanes
    share `polish_time_s` of CPU time, 1 / lanes of it each as wall time: candidate i of a lane's n stops scoring at
    (i + 1) / n of its lane's part, so time one leaves goes to the next. Returns the summary of the polish that
    produced the winner (else of the best trial's), with the others' under "others" (best first), and, if a polished
    design won, its (trial, design, cost, extra networks' costs)."""
    ranked = sorted(candidates, key=lambda c: c[:2])[:POLISH_CANDIDATES]
    best_key = ranked[0][0]
    lanes = polish_lanes(len(ranked), settings.workers)
    budget_s, t0 = polish_time_s(settings.time_limit_s), time.monotonic()
    lane_s = None if budget_s is None else budget_s / len(lanes)

    def run_lane(members: list[int]) -> list[tuple[dict, tuple | None]]:
        shared_cache = search_cache(settings)
        out = []
        for k, i in enumerate(members):
            key, _, trial, *_rest = ranked[i]
            stop_at = None if lane_s is None else t0 + (k + 1) / len(members) * lane_s
            out.append(_polish(settings, trial, key, accuracy, final_cache, shared_cache, stop_at))
        return out

    per_candidate: dict[int, tuple[dict, tuple | None]] = {}
    for members, results in zip(lanes, run_side_by_side([partial(run_lane, members) for members in lanes])):
        per_candidate.update(zip(members, results))
    summaries, winner, win_key, win_index = [], None, best_key, 0
    for i, (_, _, trial, *_rest) in enumerate(ranked):
        summary, found = per_candidate[i]
        summaries.append(summary)
        if found is not None and found[0] < win_key:
            win_key, win_index, winner = found[0], i, (trial, *found[1:])
    main = summaries.pop(win_index)
    main["kept"] = winner is not None
    if summaries:
        main["others"] = summaries
    return main, winner


def _polish(settings: CoSearchSettings, trial, trial_key: tuple, accuracy: AccuracyModel | None,
            final_cache, search_cache, stop_at: float | None = None) -> tuple[dict, tuple | None]:
    """The pattern search (`polish`, until `stop_at` on `time.monotonic()`) from `trial`'s genes with its network(s)
    fixed, scored with the search's mapper (`search_cache`) as a trial scores its subnet (a fusion plan with the
    views it keeps searched, `fusion.ChosenViews`); its design re-mapped with the final mapper. Returns the
    summary for the result and, if the polished design beats the trial's (`trial_key`, its final-mapper sort key),
    its (sort key, design, cost, extra networks' costs)."""
    space = AcceleratorSpace.for_settings(settings)
    network, acc_value = _network(settings, trial.user_attrs.get("subnet"), accuracy)
    networks = [network, *(n.build() for n in settings.networks[1:])]
    goal = settings.mapper_objective
    views = ChosenViews(view_search_settings(search_cache.settings, goal))       # as a trial records its subnet

    def score_of(design: Design):
        try:
            runs = [network_run(n, design.accelerator, search_cache, goal, settings.fusion,
                                settings.fusion_groups, search_views=views, timing=settings.timing)
                    for n in networks]
        except NoValidMapping:
            return None
        return objective(runs, settings.limits, settings.objective, acc_value)

    found = polish(space, trial.params, score_of, settings.polish_evals, stop_at=stop_at)
    summary = {"from_trial": trial.number, "from_design": trial.user_attrs["design"], "evaluations": found.evaluations,
               "moves": list(found.moves), "kept": False, "timed_out": found.timed_out}
    if found.start_score is None:  # the search's mapper, cold, found no valid mapping of some layer: nothing to move
        summary["search_mapper_value"] = None
        return summary, None
    summary["search_mapper_value"] = [found.start_score.value, found.score.value]
    if not found.improved:
        return summary, None
    design = replace(found.design, name="cosearch_best")
    summary["design"] = design.to_dict()
    try:
        score, cost, extra = _final_scored(settings, design.accelerator, networks, acc_value, final_cache)
    except NoValidMapping:  # the final mapper's seeds missed what the search's found: the trial's design stays
        return summary, None
    summary["final_value"] = [-trial_key[1] if settings.objective.maximize else trial_key[1], score.value]
    if score.sort_key() >= trial_key:
        return summary, None
    return summary, (score.sort_key(), design, cost, extra)


def final_trials(feasible: list, study, maximize: bool = False) -> list:
    """The trials the final phase re-maps: the FINAL_CANDIDATES best of `feasible` (complete trials within the
    budget) by the search's objective, and the best seed trial (`seeds`) if it is not among them, so that the
    result is never worse than the best preset design the search started from, after the final mapper too."""
    sign = -1.0 if maximize else 1.0
    ranked = sorted(feasible, key=lambda t: (sign * t.value, t.number))
    chosen = ranked[:FINAL_CANDIDATES]
    seeds = [t for t in ranked if is_seed(t, study)]
    if seeds and seeds[0] not in chosen:
        chosen.append(seeds[0])
    return chosen


def _network(settings: CoSearchSettings, subnet: dict | None, accuracy: AccuracyModel | None):
    """The network a trial ran (its subnet, or the fixed network) and its accuracy estimate (None if unknown)."""
    if settings.searches_subnet:
        config = parse_config(subnet, settings.space)
        return to_network(config), accuracy.score(config)
    network = settings.network.build()
    return network, None if accuracy is None else accuracy.score(settings.network.config)


def _front(settings: CoSearchSettings, trials_front, trials: dict, accuracy: AccuracyModel | None,
           cache) -> tuple[list, list]:
    """Every design of the search's front re-mapped with the final mapper: their entries for the report (the search's
    and the re-evaluated metrics, and whether the re-evaluated point is still non-dominated), and the final-phase
    candidates, lowest EDP first."""
    metrics, entries, candidates = settings.pareto, [], []
    for point in trials_front:
        design = Design.from_dict(point.design, name="cosearch_best")
        network, acc_value = _network(settings, point.subnet, accuracy)
        if "accuracy" in metrics:   # the search's estimate: the predictor scores a population in one batch, and one
            acc_value = point.values[metrics.index("accuracy")]   # config alone can differ from it in the last bit
        cost = evaluate_network(network, design.accelerator, cache, settings.mapper_objective, accuracy=acc_value,
                                fusion=settings.fusion, search_views=final_views(cache),
                                fusion_groups=settings.fusion_groups, timing=settings.timing)
        feasible = settings.limits.violation(cost.latency_s, cost.energy_j) == 0
        values = point_values(metrics, acc_value, cost.latency_s, cost.energy_j, cost.area_mm2)
        entries.append({"trial": point.trial, "metrics": list(metrics), "search_values": list(point.values),
                        "values": list(values), "within_budget": feasible, "design": point.design,
                        "design_text": design.describe(), "subnet": point.subnet, "network": network.name,
                        "macs": network.macs, "edp_j_s": cost.edp_j_s})
        candidates.append(((not feasible, cost.edp_j_s), point.trial, trials[point.trial], design, cost, []))
    keep = set(non_dominated([e["values"] for e in entries], metrics))
    for i, e in enumerate(entries):
        e["non_dominated"] = i in keep
    return entries, candidates
