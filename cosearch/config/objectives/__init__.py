"""What a co-search optimises (`--objective`, `--pareto`): one `ObjectiveSpec` subclass per objective, each in its
own module, registered below by name. A new objective is a module with an `ObjectiveSpec` subclass and one
`register_objective` line; `--objective` and `--pareto` then accept it."""
from __future__ import annotations

from typing import Any

from ..budget import Budget
from ..validate import UsageError, check_choice
from .accuracy import Accuracy
from .area import Area
from .base import MAPPER_OBJECTIVES, ObjectiveSpec, RunFigures
from .edp import EDP
from .energy import Energy
from .latency import Latency
from .mnasnet import (MNASNET_HARD, MNASNET_SOFT, MnasNetReward, check_exponents, check_target_latency,
                      mnasnet_reward)

_OBJECTIVES: dict[str, type[ObjectiveSpec]] = {}


def register_objective(spec: type[ObjectiveSpec]) -> type[ObjectiveSpec]:
    """Make an objective known by its `name` (new, lower case); returns it."""
    if not isinstance(getattr(spec, "name", None), str) or not spec.name or spec.name in _OBJECTIVES:
        raise ValueError(f"register_objective: {spec!r} needs a new, non-empty name")
    if spec.mapper_objective not in MAPPER_OBJECTIVES:
        raise ValueError(f"register_objective: {spec.name}.mapper_objective must be one of "
                         f"{', '.join(MAPPER_OBJECTIVES)}, got {spec.mapper_objective!r}")
    _OBJECTIVES[spec.name] = spec
    return spec


def unregister_objective(name: str) -> None:
    """Forget an objective (for tests and plug-ins that register temporary ones)."""
    _OBJECTIVES.pop(name)


def objective_spec(name: str) -> type[ObjectiveSpec]:
    """A registered objective by name (a ValueError lists the accepted ones)."""
    try:
        return _OBJECTIVES[name]
    except KeyError:
        raise ValueError(f"unknown objective {name!r}; accepted: {', '.join(_OBJECTIVES)}") from None


def single_objectives() -> list[str]:
    """The names `--objective` accepts."""
    return [n for n, s in _OBJECTIVES.items() if s.single]


def pareto_metrics() -> list[str]:
    """The names `--pareto` accepts."""
    return [n for n, s in _OBJECTIVES.items() if s.pareto]


register_objective(EDP)
register_objective(Latency)
register_objective(Energy)
register_objective(Accuracy)
register_objective(MnasNetReward)
register_objective(Area)


def check_objective(flag: str, value) -> str:
    return check_choice(flag, value, single_objectives(), "objective")


def check_pareto(flag: str, value) -> tuple[str, ...]:
    """Two or three distinct names of the Pareto metrics, comma-joined (or a sequence)."""
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    names = tuple(str(p).strip().lower() for p in parts)
    accepted = f"accepted: two or three of {', '.join(pareto_metrics())}, comma-joined, e.g. accuracy,latency"
    unknown = [n for n in names if n not in pareto_metrics()]
    if unknown:
        raise UsageError(f"{flag}: unknown metric {unknown[0]!r}; {accepted}")
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise UsageError(f"{flag}: {value!r} must name two or three different metrics; {accepted}")
    return names


def pareto_specs(metrics: tuple[str, ...]) -> list[ObjectiveSpec]:
    """The objectives of a multi-objective study's metrics (each with its defaults)."""
    return [objective_spec(m)() for m in metrics]


def pareto_mapper_objective(metrics: tuple[str, ...]) -> str:
    """What the per-layer mapper minimises in a multi-objective study: the one run cost among the metrics (latency
    or energy) when there is one, EDP (both at once) otherwise."""
    costs = [s.mapper_objective for s in pareto_specs(metrics) if s.run_cost]
    return costs[0] if len(costs) == 1 else "edp"


def make_objective(name: str, options: dict[str, Any], budget: Budget) -> ObjectiveSpec:
    """The objective `name` from the command line's values, checked against the budget."""
    return objective_spec(name).from_options(options, budget)


__all__ = ["ObjectiveSpec", "RunFigures", "MAPPER_OBJECTIVES", "register_objective", "unregister_objective",
           "objective_spec", "single_objectives", "pareto_metrics", "pareto_specs", "pareto_mapper_objective",
           "check_objective", "check_pareto", "make_objective", "EDP", "Latency", "Energy", "Accuracy", "Area",
           "MnasNetReward", "MNASNET_SOFT", "MNASNET_HARD", "mnasnet_reward", "check_exponents",
           "check_target_latency"]
