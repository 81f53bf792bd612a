"""The network search on fixed devices (`--accelerator`): for each device, its layer-cost table (built once, saved in
`--out/tables/`), the NAS strategy on the space's subnets within the limits, and the specialisation table: every
device's subnet run on every device (OFA's table of specialised subnets).

Each device is one trial of an Optuna study in `--storage` (its user attributes: the subnet found, its figures, the
search's history), so a rerun resumes: a device whose trial completed is not searched again, and the report is
written anew. `--workers` processes map the layer tables.
"""
from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from nets import SPACES, get_space, largest_config, mutate_config, parse_config, smallest_config, space_layers

from ...config import CoSearchSettings, UsageError
from ...config.objectives import RunFigures, objective_spec
from ...fusion import layer_wise, view_search_settings
from ...nas_strategies import GradientUnavailable, get_nas_strategy
from ..accuracy import AccuracyModel, accuracy_model, check_floor
from ..evaluate import fusion_summary
from ..out_folder import claim_out, release_out
from ..storage import claim_trial, fail_orphaned_trials, open_storage, start_over, worker_tag
from ..study import IDENTITY_ATTR, check_foreign, describe_mismatch
from .device import Device, DeviceCosts, LayerTable, load_device
from .efficiency import EfficiencyPredictor
from .front import non_dominated, sweep_front
from .problem import NASProblem

PREDICTOR_SAMPLES = 2000
"""Subnets scored with the exact table to train the efficiency predictor (`--efficiency predictor`)."""


@dataclass
class DeviceResult:
    """The search on one device: the subnet found and its figures (exact: the layer table's), and the search's own
    figures (strategy, evaluations, wall time, anytime history, the accuracy-latency front of the subnets it
    scored)."""

    device: str
    description: str
    strategy: str
    evaluations: int
    wall_s: float
    table: dict
    subnet: dict | None
    accuracy: float | None
    latency_s: float | None
    energy_j: float | None
    value: float | None
    feasible: bool
    history: list = field(default_factory=list)
    front: list = field(default_factory=list)
    efficiency: str = "table"
    front_subnets: list = field(default_factory=list)
    """With `--pareto accuracy,latency`: every point of the front, fastest first (latency_s, energy_j, accuracy,
    subnet)."""
    fusion: dict | None = None
    """With a `--fusion` mode other than none: how the subnet runs (`evaluate.fusion_summary`)."""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class NASRunResult:
    """A fixed-device run: its settings, the accuracy source, each device's result, and the cross table: `cross[i][j]`
    the figures of device i's subnet on device j (latency s, energy J)."""

    settings: CoSearchSettings
    accuracy_source: dict | None
    devices: list[DeviceResult]
    cross: list[list[dict | None]]
    timings_s: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> DeviceResult | None:
        """The first device's result that has a subnet; None when no device's search found one (the command line
        then ends with the notes, exit status 2)."""
        return next((d for d in self.devices if d.subnet is not None), None)


def check_inputs(settings: CoSearchSettings) -> tuple[list[Device], AccuracyModel | None]:
    """The devices built and checked against the space and the objective, and the accuracy source; a `UsageError`
    names what does not fit (before any work)."""
    space = get_space(settings.space)
    devices = [load_device(spec) for spec in settings.devices]
    for spec, device in zip(settings.devices, devices):
        if device.lut is not None:
            if space.latency_table_keys(largest_config(space)) is None:
                keyed = [s.cli_name for s in SPACES if s.latency_table_keys(largest_config(s)) is not None]
                raise UsageError(f"--accelerator {spec.text}: a latency table covers only the spaces whose operators "
                                 f"such tables name ({', '.join(keyed)}), not --space {space.cli_name}")
            needs_energy = [o for o in (settings.objective.name, *settings.pareto) if objective_spec(o).needs_energy]
            if needs_energy or settings.limits.energy_j is not None or settings.limits.power_w is not None:
                raise UsageError(f"--accelerator {spec.text}: a latency table has no energy; accepted objectives: "
                                 "accuracy, latency, mnasnet (and latency limits)")
            covered = [r for r in space.resolutions if r in device.lut.resolutions]
            if not covered:
                raise UsageError(f"--accelerator {spec.text}: its resolutions {list(device.lut.resolutions)} are none "
                                 f"of the space's ({space.resolutions[0]}..{space.resolutions[-1]})")
            lacking = device.lut.missing(space, [c for c in space.covering_configs() if c.r in covered])
            if lacking is not None:
                raise UsageError(f"--accelerator {spec.text}: the table for resolution {lacking[0]} has no entry "
                                 f"{lacking[1]!r}; it must hold every operator the space builds at its resolutions")
    strategy = get_nas_strategy(settings.nas_strategy)
    why = strategy.check_inputs(space, devices)
    if why is not None:
        raise UsageError(f"--nas-strategy {strategy.name}: {why}")
    accuracy = accuracy_model(settings)
    check_floor(settings, accuracy)
    return devices, accuracy


def _genes(space, device: Device):
    genes = space.genes()
    if device.lut is not None:
        genes = {**genes, "r": (tuple(r for r in genes["r"][0] if r in device.lut.resolutions),)}
    return genes


def _smallest(space, genes):
    """The smallest subnet at the smallest resolution the device covers: nearly always the fastest."""
    config = smallest_config(space)
    if "r" in genes:
        config = config.replace(r=min(genes["r"][0]))
    return config


def _fastest_latency_s(space, genes, costs: DeviceCosts) -> float:
    """The smallest subnet's latency: a subnet that meets a latency limit exists only if (nearly always) it does."""
    return costs.network(_smallest(space, genes)).latency_s


def _front(problem: NASProblem) -> list[list]:
    """The accuracy-latency front of the subnets scored within the limits: [latency ms, accuracy] pairs."""
    within = [e for e in problem.evaluated.values() if e.feasible and math.isfinite(e.accuracy)]
    return [[e.cost.latency_s * 1e3, e.accuracy] for e in non_dominated(within)]


def device_costs(settings: CoSearchSettings, device: Device, say: Callable[[str], None]) -> tuple[DeviceCosts, dict]:
    """The device's costs for the space: its layer table built (or read), or its latency table; and what the table
    is (for the report)."""
    space = get_space(settings.space)
    if device.accelerator is None:
        return DeviceCosts(device, space, None), {"latency_table": list(device.lut.files)}
    table = LayerTable(device.accelerator, settings.final_mapper, settings.mapper_objective, settings.out / "tables",
                       settings.timing)
    t0 = time.perf_counter()
    table.ensure(space_layers(space), settings.workers, say)
    view_mapper = view_search_settings(settings.mapper, settings.mapper_objective)
    costs = DeviceCosts(device, space, table, settings.fusion, view_mapper, keep_views=True)
    views = {} if settings.fusion == "none" else {
        "view_mapper_evals": view_mapper.budget_evals,
        "view_searches_loaded": 0 if costs.views is None else costs.views.loaded}
    return costs, {"path": str(table.path), "shapes_loaded": table.loaded, "shapes_mapped": table.mapped,
                   "map_s": round(time.perf_counter() - t0, 2), "mapper_evals": settings.final_mapper.budget_evals,
                   **views}


def check_target(settings: CoSearchSettings, device: Device, costs: DeviceCosts) -> None:
    """A latency limit that no subnet meets on the device is a `UsageError`."""
    limit = settings.limits.latency_s
    space = get_space(settings.space)
    if limit is not None:
        fastest = _fastest_latency_s(space, _genes(space, device), costs)
        if fastest > limit:
            plans = f" by its {costs.ranking.name} plan, which the search ranks by" if costs.ranks_otherwise else ""
            raise UsageError(f"budget latency<={limit * 1e3:g}ms: no subnet of {space.cli_name} meets it on "
                             f"{device.name} (its smallest subnet takes {fastest * 1e3:.3g} ms{plans})")


def search_device(settings: CoSearchSettings, device: Device, costs: DeviceCosts, table_info: dict,
                  accuracy: AccuracyModel | None, deadline: float | None = None) -> DeviceResult:
    """Run the strategy on the device; the best subnet with its exact figures."""
    space = get_space(settings.space)
    genes = _genes(space, device)
    limits = settings.limits
    exact = costs.network
    cost = exact
    efficiency = "table"
    if settings.efficiency == "predictor":
        predictor = EfficiencyPredictor.fit(space, genes, exact, PREDICTOR_SAMPLES, seed=settings.seed,
                                            energy=device.has_energy)
        cost = predictor.cost
        efficiency = f"predictor ({predictor.describe()}; an ESTIMATE, the subnet found checked with the table)"
    strategy = get_nas_strategy(settings.nas_strategy)

    def make_problem(**changes) -> NASProblem:
        fields = {"objective": settings.objective, "limits": limits, "budget_evals": settings.nas_evals,
                  "seed": settings.seed, **changes}
        return NASProblem(space, genes, accuracy, cost, fields["objective"], fields["limits"], fields["budget_evals"],
                          seed=fields["seed"], deadline=deadline, seeds=(_smallest(space, genes),),
                          term_costs=(lambda i: costs.term_tables(i, genes)) if costs.terms else None,
                          latency_floor=costs.latency_floor_s)

    problem = make_problem()
    t0 = time.perf_counter()
    front_points = None
    try:
        if settings.pareto:
            slowest = exact(largest_config(space, r=max(genes["r"][0]) if "r" in genes else None)).latency_s
            front_points, spent = sweep_front(make_problem, strategy.search, problem,
                                              _fastest_latency_s(space, genes, costs), slowest)
        else:
            strategy.search(problem)
    except GradientUnavailable as exc:
        raise UsageError(str(exc)) from None
    wall = time.perf_counter() - t0
    if costs.ranks_otherwise:
        efficiency += f" (subnets ranked by their {costs.ranking.name} plans, the one found planned {costs.fusion.name})"
    if front_points is not None:
        return _front_result(settings, device, strategy.name, spent, wall, table_info, front_points, exact,
                             cost is not exact, efficiency, costs)
    best = problem.best
    subnet = accuracy_value = latency = energy = value = None
    feasible = False
    if best is not None:
        accuracy_value = best.accuracy
        subnet = best.config.to_dict()
        final = costs.final(best.config) if cost is not exact or best.cost is None or costs.ranks_otherwise \
            else best.cost
        latency, energy = final.latency_s, final.energy_j
        value = settings.objective.value(RunFigures(latency, energy, accuracy_value))
        feasible = limits.violation(latency, energy) == 0 and (
            limits.accuracy is None or accuracy_value >= limits.accuracy)
    fusion = None
    if best is not None and settings.fusion != "none" and costs.table is not None:
        table = costs.table
        network, acc = space.network(best.config), table.accelerator
        fusion = fusion_summary(costs.plan(best.config), layer_wise(network, acc, table.cache, table.objective),
                                acc.levels[0].word_bits / 8,         # no area: a Timeloop device may have none
                                lambda run: table.run_cycles(run.layer, run.result, run.residency, run.parts))
    return DeviceResult(device.name, device.describe(), strategy.name, problem.evaluations, wall, table_info,
                        subnet, accuracy_value, latency, energy, value, feasible,
                        [list(h) for h in problem.history], _front(problem), efficiency, fusion=fusion)


def _front_result(settings: CoSearchSettings, device: Device, strategy: str, evaluations: int, wall_s: float,
                  table_info: dict, points: list, exact, estimated: bool, efficiency: str,
                  costs: DeviceCosts) -> DeviceResult:
    """A device's accuracy-latency front (`--pareto accuracy,latency`): the result's subnet is the front's most
    accurate one; every front point with its subnet (figures re-scored with the table where the search used the
    efficiency predictor; where subnets are ranked in another mode than the device's, `DeviceCosts.ranks_otherwise`,
    the points keep the ranking's figures and the result's subnet gets its own plan's)."""
    rows = []
    for e in points:
        c = exact(e.config) if estimated else e.cost
        rows.append((c.latency_s, c.energy_j, e.accuracy, e.config))
    rows = non_dominated(rows, latency=lambda row: row[0], accuracy=lambda row: row[2])  # again: exact figures
    front = [[lat * 1e3, acc] for lat, _, acc, _ in rows]
    subnets = [{"latency_s": lat, "energy_j": energy, "accuracy": acc, "subnet": config.to_dict()}
               for lat, energy, acc, config in rows]
    if not rows:
        return DeviceResult(device.name, device.describe(), strategy, evaluations, wall_s, table_info, None, None,
                            None, None, None, False, [], [], efficiency, [])
    lat, energy, acc, config = max(rows, key=lambda row: (row[2], -row[0]))
    if costs.ranks_otherwise:
        own = costs.final(config)
        lat, energy = own.latency_s, own.energy_j
    return DeviceResult(device.name, device.describe(), strategy, evaluations, wall_s, table_info, config.to_dict(),
                        acc, lat, energy, acc, True, [], front, efficiency, subnets)


def run_fixed_device(settings: CoSearchSettings, on_message: Callable[[str], None] | None = None) -> NASRunResult:
    """Check the inputs, build each device's table and check the limits on it, then search each device not searched
    before (a completed trial of the study is kept), then the cross table."""
    say = on_message or (lambda _text: None)
    t0 = time.time()
    devices, accuracy = check_inputs(settings)
    replaced = claim_out(settings, say)
    try:
        return _run_fixed_device(settings, say, t0, devices, accuracy, replaced)
    except UsageError:
        release_out(settings)
        raise


def _run_fixed_device(settings: CoSearchSettings, say: Callable[[str], None], t0: float, devices: list[Device],
                      accuracy: AccuracyModel | None, replaced: dict | None = None) -> NASRunResult:
    import optuna

    study = _prepare_study(settings, say, replaced)
    say(settings.describe())
    if accuracy is not None:
        say(f"accuracy: {accuracy.source.label}")
        if accuracy.source.notice:
            say(accuracy.source.notice)
    prepared = [device_costs(settings, device, say) for device in devices]
    for device, (costs, _) in zip(devices, prepared):
        check_target(settings, device, costs)
    # the time limit is the searches': a first run on a device maps its layer table first (minutes on a busy machine)
    deadline = None if settings.time_limit_s is None else time.time() + settings.time_limit_s
    done = {t.params.get("device"): t for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE}
    results: list[DeviceResult] = []
    for device, (costs, table_info) in zip(devices, prepared):
        if device.name in done:
            results.append(DeviceResult(**done[device.name].user_attrs["result"]))
            say(f"{device.name}: searched before (trial {done[device.name].number}): kept")
            continue
        trial = _ask(study, device, devices)
        claim_trial(trial, {**worker_tag(), "index": 0})
        say(f"{device.name}: {settings.nas_strategy} search, {settings.nas_evals:,} subnet evaluations at most")
        result = search_device(settings, device, costs, table_info, accuracy, deadline)
        trial.set_user_attr("result", json.loads(json.dumps(result.to_dict())))
        for key in ("accuracy", "latency_s", "energy_j", "evaluations", "wall_s", "subnet", "strategy"):
            trial.set_user_attr(key, getattr(result, key))
        failed = -1.0 if settings.pareto else settings.objective.penalty
        study.tell(trial, result.value if result.value is not None and result.feasible else failed)
        results.append(result)
        costs.save_views()
    cross = []
    for r in results:
        config = None if r.subnet is None else parse_config(r.subnet, settings.space)
        row = []
        for costs, _ in prepared:
            c = None if config is None else costs.network(config)
            row.append(None if c is None else
                       {"latency_s": c.latency_s, "energy_j": c.energy_j, "accuracy": r.accuracy})
        cross.append(row)
    for costs, _ in prepared:
        costs.save_views()
    if accuracy is not None:
        accuracy.save_memo()
    notes = [_nothing_found(settings, device, costs, r)
             for device, (costs, _), r in zip(devices, prepared, results) if r.subnet is None]
    return NASRunResult(settings, None if accuracy is None else accuracy.source.to_dict(), results, cross,
                        {"total": time.time() - t0}, notes)


SUGGESTED_EVALUATIONS = 100
"""Subnets the time limit suggested by a search that found none should let it evaluate (a strategy's first
population is of this order)."""
RATE_SAMPLES = 3
"""Random subnets whose cost is timed to suggest that limit when the search evaluated none (a search checks each
subnet it draws against the limits before it evaluates it)."""


def _nothing_found(settings: CoSearchSettings, device: Device, costs: DeviceCosts, result: DeviceResult) -> str:
    """Why a device has no subnet: the strategy found none within the limits before its time limit or evaluations
    ran out (strategies draw subnets until one meets the limits before they evaluate it), with the fastest subnet's
    latency for scale."""
    space = get_space(settings.space)
    genes = _genes(space, device)
    fastest_ms = _fastest_latency_s(space, genes, costs) * 1e3
    if result.evaluations:
        per_subnet_s = result.wall_s / result.evaluations
    else:       # subnets the search has not met: a first subnet's cost, not a memo's look-up
        drawn = [mutate_config(_smallest(space, genes), settings.seed + k, prob=1.0, genes=genes)
                 for k in range(RATE_SAMPLES)]
        started = time.perf_counter()
        for config in drawn:
            costs.network(config)
        per_subnet_s = (time.perf_counter() - started) / RATE_SAMPLES
    hundred_s = max(10, math.ceil(SUGGESTED_EVALUATIONS * per_subnet_s / 10) * 10)
    return (f"{device.name}: no subnet found within the budget ({settings.budget.describe() or 'none'}): "
            f"{result.evaluations} evaluated in {result.wall_s:.0f} s, the smallest subnet takes {fastest_ms:.3g} ms; "
            f"accepted: a longer --time-limit (at about {per_subnet_s:.2g} s a subnet, --time-limit {hundred_s}s "
            f"{'evaluates' if result.evaluations else 'checks'} about {SUGGESTED_EVALUATIONS}"
            f"{'' if result.evaluations else ' against the limits'}), more --nas-evals, or a looser limit")



def _ask(study, device: Device, devices: list[Device]):
    import optuna

    study.enqueue_trial({"device": device.name}, skip_if_exists=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # Optuna's heartbeat is meant for `optimize`; one trial is asked here
        return study.ask({"device": optuna.distributions.CategoricalDistribution([d.name for d in devices])})


def _prepare_study(settings: CoSearchSettings, say: Callable[[str], None], replaced: dict | None = None):
    import optuna

    storage = open_storage(settings.storage, check=True, say=say)
    start_over(storage, settings, replaced, say)
    direction = "maximize" if settings.objective.maximize or settings.pareto else "minimize"  # pareto: top accuracy
    try:
        study = optuna.create_study(storage=storage, study_name=settings.study_name, direction=direction)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=settings.study_name, storage=storage)
        created = False
    identity = json.loads(json.dumps(settings.identity()))
    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None and not created:
        check_foreign(study, settings, [direction])
    if stored is None:
        study.set_user_attr(IDENTITY_ATTR, identity)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # experimental in Optuna
            study.set_metric_names(["front's top accuracy" if settings.pareto else settings.objective.label])
    elif stored != identity:
        raise UsageError(f"--study-name: study {settings.study_name!r} in {settings.storage.display} was made by a "
                         f"different search ({describe_mismatch(stored, identity)}); use another --study-name or "
                         "--out, or --start-over")
    fail_orphaned_trials(study, storage)
    return study


__all__ = ["DeviceResult", "NASRunResult", "check_inputs", "device_costs", "check_target", "search_device",
           "run_fixed_device"]
