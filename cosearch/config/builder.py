"""`make_settings`: the options' values (given or default, each checked by the option table), assembled into
`CoSearchSettings` with the checks that involve several options."""
from __future__ import annotations

import inspect
import math
from dataclasses import replace
from typing import Any

from nets import get_space, space_names

from ..fusion import resolve_fusion_groups
from .budget import Budget, parse_budget
from .devices import parse_devices
from .loops import FINAL_MAPPER, SEARCH_MAPPER, EvolutionSettings
from .objectives import DEFAULT_OBJECTIVE, make_objective, objective_spec
from ..nas_strategies import get_nas_strategy
from .options import DEFAULT_ACCURACY, FIXED_DEVICE_FUSION, SETTING_OPTIONS, option_values
from .settings import CoSearchSettings
from .storage_url import parse_storage
from .validate import UsageError
from .workloads import NetworkSpec, default_accuracy, parse_network, parse_networks, space_alias

_NESTED = {"evolution": EvolutionSettings(), "mapper": SEARCH_MAPPER, "final_mapper": FINAL_MAPPER}
"""The settings inside the settings that options set a field of, with the values of their other fields."""


def make_settings(budget: str | list[str] | Budget | None = None, **options: Any) -> CoSearchSettings:
    """Checked settings from command-line-like values; every problem is a `UsageError` naming its option.

    The keywords are the options of `cosearch.config.options.OPTIONS` (`trials=20`, `mapper_evals=512`,
    `match_resources="eyeriss"`, `networks="vgg16,resnet50"`, ...); an option not given takes the table's
    default. Whether the budget admits any design of the accelerator space, and whether the accuracy
    floor can be met, are checked by `cosearch.run` before the search starts (they need the search's models).
    """
    given = {**options, **({"budget": budget} if budget is not None else {})}
    values = option_values(given)
    resources = values["match_resources"]
    devices = () if values["accelerator"] is None else parse_devices(values["accelerator"])
    if devices:
        _check_fixed_devices(given, values)
        if "objective" not in given and not values["pareto"]:
            values["objective"] = "accuracy"
        per_choice = get_nas_strategy(values["nas_strategy"]).per_choice_costs
        if "fusion" not in given:
            values["fusion"] = "none" if per_choice else FIXED_DEVICE_FUSION
        elif per_choice and values["fusion"] != "none":
            raise UsageError(f"--nas-strategy {values['nas_strategy']} and --fusion {values['fusion']}: the strategy "
                             "needs per-choice cost tables, which a fusion plan does not give (a layer's cost depends "
                             "on its neighbours); accepted: --fusion none")
    budget = _budget(values["budget"] if budget is not None else None, resources, fixed=bool(devices))
    space = values["space"]
    networks: tuple[NetworkSpec, ...] = ()
    if values["networks"] is not None:
        if values["network"] is not None:
            raise UsageError("--networks and --network: give one of them")
        networks = parse_networks(values["networks"], space)
    network = networks[0] if networks else (None if values["network"] is None else parse_network(values["network"],
                                                                                                 space))
    _check_no_effect(given, values, network, networks, space)
    _check_fusion_groups(values, network, networks)
    objective_name = values["objective"]
    reads_accuracy = any(objective_spec(m).needs_accuracy for m in (objective_name, *(values["pareto"] or ())))
    floor_needed = not (devices and reads_accuracy)
    budget = _accuracy_floor(budget, values["accuracy"], network, space, default=floor_needed)
    objective = make_objective(objective_name, values, budget)
    pareto = values["pareto"] or ()
    sampler = _sampler(values["sampler"], pareto)
    _check_accuracy_known(objective.name if objective.needs_accuracy else None, pareto, network, networks)
    fields: dict[str, Any] = {}
    for keyword, option in SETTING_OPTIONS.items():
        if not option.derived:
            name, _, inner = option.field.partition(".")
            if inner:
                fields.setdefault(name, {})[inner] = values[keyword]
            else:
                fields[name] = values[keyword]
    seed = fields["seed"]
    fields.setdefault("final_mapper", {})["factors"] = fields["mapper"]["factors"]   # --factors: both mappers
    for name, base in _NESTED.items():
        fields[name] = replace(base, **fields.get(name, {}), **({"seed": seed} if hasattr(base, "seed") else {}))
    if not devices and fields["trials"] <= fields["workers"]:
        # every worker's first trial is its last, and the final phase calls the full driver: a perfect-factor driver
        # compiled for the first trials could only add to a cold run
        for name in ("mapper", "final_mapper"):
            fields[name] = replace(fields[name], strategy=fields[name].strategy.with_one_driver())
    what = (network.name if network.fixed else "subnet") if network is not None else space
    if devices:
        what = f"nas-{'+'.join(d.name for d in devices)}-{space}-{values['nas_strategy']}"
    if len(networks) > 1:
        what = "+".join(n.name for n in networks)
    if resources is not None:
        what += f"-{resources.preset}"
        fields.update(technology_nm=resources.technology_nm, clock_ghz=resources.clock_ghz)
    goal = (f"-pareto-{'-'.join(pareto)}" if pareto
            else "" if objective.name == DEFAULT_OBJECTIVE else f"-{objective.name}")
    study_name = values["study_name"] or f"cosearch-{what}-{budget.slug}{goal}-seed{seed}"
    if pareto and objective.name != DEFAULT_OBJECTIVE:
        raise UsageError(f"--pareto and --objective {objective.name}: give one of them (--pareto sets the objectives)")
    fields.update(objective=objective, sampler=sampler, pareto=pareto, devices=devices)
    return CoSearchSettings(budget=budget, network=network, networks=networks if len(networks) > 1 else (),
                            storage=parse_storage(values["storage"], fields["out"], start_over=fields["start_over"]),
                            study_name=study_name,
                            **fields)


PARETO_SAMPLERS = ("nsga2", "tpe", "random")
"""Optuna's samplers that handle several objectives (CMA-ES handles one)."""


def _sampler(given: str | None, pareto: tuple[str, ...]) -> str:
    """The outer sampler: the one given, else CMA-ES (NSGA-II for a multi-objective study)."""
    if given is None:
        return "nsga2" if pareto else "cmaes"
    if pareto and given not in PARETO_SAMPLERS:
        raise UsageError(f"--sampler {given}: optimises one objective; with --pareto accepted: "
                         f"{', '.join(PARETO_SAMPLERS)}")
    return given


def _check_accuracy_known(objective: str | None, pareto: tuple[str, ...], network: NetworkSpec | None,
                          networks: tuple[NetworkSpec, ...]) -> None:
    """An objective that scores accuracy needs a subnet search or one subnet config (zoo networks carry none)."""
    readers = [m for m in pareto if objective_spec(m).needs_accuracy]
    flag = f"--objective {objective}" if objective else (f"--pareto {readers[0]}" if readers else None)
    if flag is None:
        return
    if len(networks) > 1 or (network is not None and network.fixed):
        what = "--networks" if len(networks) > 1 else f"--network {network.name}"
        raise UsageError(f"{flag}: scores accuracy, which {what} does not have; accepted: a subnet search (--space) "
                         "or a subnet config as --network")


def _budget(spec: str | list[str] | Budget | None, resources, fixed: bool = False) -> Budget:
    """The budget given (or the default); under `--match-resources` it has no area term (the preset's resources
    bound the designs instead, and their area is only reported), and on fixed devices (`--accelerator`) neither
    (the device is given)."""
    if isinstance(spec, Budget):
        budget = spec
    else:
        if spec is None:
            spec = [] if resources is not None or fixed else SETTING_OPTIONS["budget"].default
        budget = parse_budget(spec, require_area=resources is None and not fixed)
    if fixed and math.isfinite(budget.area_mm2):
        raise UsageError("--accelerator and an area term in --budget: the devices are fixed, an area applies to an "
                         "accelerator search; accepted with --accelerator: latency<=, energy<=, power<=, accuracy>=")
    if resources is not None and math.isfinite(budget.area_mm2):
        raise UsageError(f"--budget area={budget.area_mm2:g}mm2 and --match-resources {resources.preset}: give one "
                         f"bound (under --match-resources the designs are bounded by {resources.preset}'s resources "
                         "and their area is only reported); accepted: --budget without an area term there")
    return budget


def _names(network: NetworkSpec | None, networks: tuple[NetworkSpec, ...]) -> str:
    return f"--networks {','.join(n.name for n in networks)}" if len(networks) > 1 else f"--network {network.name}"


def _check_no_effect(given: dict[str, Any], values: dict[str, Any], network: NetworkSpec | None,
                     networks: tuple[NetworkSpec, ...], space: str) -> None:
    """Options given that the run would ignore are refused, not dropped without a word: `--space` next to zoo
    networks (a subnet config is read in `--space`), `--predictor` where nothing reads a predictor file."""
    zoo = len(networks) > 1 or (network is not None and network.fixed)
    if "space" in given and zoo:
        raise UsageError(f"--space {space_alias(space)}: has no effect with {_names(network, networks)} (a network of "
                         "the zoo); accepted: --space for a subnet search, or with a subnet config as --network")
    if values["predictor"] is None:
        return
    readers = [get_space(n).cli_name for n in space_names().values() if get_space(n).takes_predictor]
    accepted = f"accepted: --predictor with a subnet search or subnet config of {', '.join(readers)}"
    if zoo:
        raise UsageError(f"--predictor: not used with {_names(network, networks)} (a network of the zoo has no "
                         f"accuracy to predict); {accepted}")
    scored = network.config.space if network is not None else space
    if not get_space(scored).takes_predictor:
        raise UsageError(f"--predictor: the space {space_alias(scored)} does not read a predictor file (its accuracy "
                         f"has its own source); {accepted}")


def _check_fusion_groups(values: dict[str, Any], network: NetworkSpec | None,
                         networks: tuple[NetworkSpec, ...]) -> None:
    """`--fusion-groups` runs depth-first on fixed networks, each group a chain of every one of them (the capacity
    depends on the design: a design a group does not fit is infeasible, as one a layer cannot be mapped on)."""
    groups = values["fusion_groups"]
    if groups is None:
        return
    if values["fusion"] != "depth-first":
        raise UsageError(f"--fusion-groups: groups run depth-first; add --fusion depth-first (got --fusion "
                         f"{values['fusion']})")
    if network is None:
        raise UsageError("--fusion-groups: needs a fixed --network or --networks (a subnet search changes the layers)")
    for spec in networks or (network,):
        try:
            resolve_fusion_groups(spec.build(), groups, "--fusion-groups")
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _check_fixed_devices(given: dict[str, Any], values: dict[str, Any]) -> None:
    """Options that contradict a network search on fixed devices (`--accelerator`)."""
    for key, flag in (("match_resources", "--match-resources"), ("network", "--network"), ("networks", "--networks")):
        if values.get(key) is not None:
            raise UsageError(f"--accelerator and {flag}: {flag} applies to an accelerator search (or fixes the "
                             "network); give one of them")
    if values.get("export_latency_table") is not None:
        raise UsageError("--accelerator and --export-latency-table: the latency table is of a co-searched accelerator; "
                         "on fixed devices the layer-cost tables are in OUT/tables")
    pareto = values.get("pareto") or ()
    if pareto and sorted(pareto) != ["accuracy", "latency"]:
        raise UsageError(f"--pareto {','.join(pareto)}: on fixed devices (--accelerator) the front is of accuracy and "
                         "latency; accepted: --pareto accuracy,latency")


def _accuracy_floor(budget: Budget, accuracy: float | None, network: NetworkSpec | None, space: str,
                    default: bool = True) -> Budget:
    """The budget with the accuracy floor of a subnet search (`--accuracy`, or the space's default where `default`);
    none for a fixed network."""
    if accuracy is not None:
        if budget.accuracy is not None and abs(budget.accuracy - accuracy) > 1e-12:
            raise UsageError(f"--accuracy {accuracy:g} disagrees with the budget's accuracy>={budget.accuracy:g}; "
                             "give one of them")
        budget = budget.with_accuracy(accuracy)
    if network is not None:
        if budget.accuracy is not None:
            raise UsageError("--accuracy / accuracy>=: the accuracy floor applies to the OFA subnet search; "
                             "a fixed --network has no accuracy to check")
    elif budget.accuracy is None and default:
        budget = budget.with_accuracy(default_accuracy(space, DEFAULT_ACCURACY))
    return budget


make_settings.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # help() lists the options
    [inspect.Parameter("budget", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)]
    + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=o.default)
       for k, o in SETTING_OPTIONS.items() if k != "budget"],
    return_annotation=CoSearchSettings)
