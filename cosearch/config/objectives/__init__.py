"""What a co-search optimises (`--objective`, `--pareto`): one `ObjectiveSpec` subclass per objective, each in its
own module, registered below by name in `OBJECTIVES`. A new objective is a module with an `ObjectiveSpec` subclass and
one `OBJECTIVES.register` line; `--objective` and `--pareto` then accept it, and its own options (`flags`) join the
command line."""
from __future__ import annotations

from typing import Any

from nets.registry import Registry, RegistryError

from ..budget import Budget
from ..validate import UsageError, check_choice
from .accuracy import Accuracy
from .area import Area
from .base import MAPPER_OBJECTIVES, ObjectiveFlag, ObjectiveSpec, RunFigures
from .edp import EDP
from .energy import Energy
from .latency import Latency
from .mnasnet import (MNASNET_HARD, MNASNET_SOFT, MnasNetReward, check_exponents, check_target_latency,
                      mnasnet_reward)

DEFAULT_OBJECTIVE = "edp"
"""What a co-search optimises when no objective is given: NAAS's (energy x delay)."""


def _check(spec: type[ObjectiveSpec]) -> None:
    if spec.mapper_objective not in MAPPER_OBJECTIVES:
        raise RegistryError(f"objective {spec.name}: mapper_objective must be one of {', '.join(MAPPER_OBJECTIVES)}, "
                            f"got {spec.mapper_objective!r}")


OBJECTIVES: Registry[type[ObjectiveSpec]] = Registry("objective", check=_check)
"""Every objective (an `ObjectiveSpec` subclass) by its `--objective` / `--pareto` name."""

register_objective = OBJECTIVES.register
unregister_objective = OBJECTIVES.unregister


def objective_spec(name: str) -> type[ObjectiveSpec]:
    """A registered objective by name (a `RegistryError` lists the accepted ones)."""
    return OBJECTIVES.get(name)


def single_objectives() -> list[str]:
    """The names `--objective` accepts."""
    return [s.name for s in OBJECTIVES if s.single]


def pareto_metrics() -> list[str]:
    """The names `--pareto` accepts."""
    return [s.name for s in OBJECTIVES if s.pareto]


OBJECTIVES.register(EDP)
OBJECTIVES.register(Latency)
OBJECTIVES.register(Energy)
OBJECTIVES.register(Accuracy)
OBJECTIVES.register(MnasNetReward)
OBJECTIVES.register(Area)


def objective_flags() -> list[tuple[type[ObjectiveSpec], ObjectiveFlag]]:
    """Every registered objective's own command-line options, with the objective, in registration order."""
    return [(spec, flag) for spec in OBJECTIVES for flag in spec.flags]


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


def objectives_table() -> str:
    """The README's table of the objectives (Markdown), one row per registered objective."""
    rows = ["| name | optimises | mapper minimises | `--objective` | `--pareto` |", "|---|---|---|---|---|"]
    for spec in OBJECTIVES:
        text = f"{spec.formula}, {'maximised' if spec.maximize else 'minimised'}" + (f" ({spec.note})" if spec.note
                                                                                    else "")
        rows.append(f"| `{spec.name}` | {text} | {spec.mapper_objective} | {'yes' if spec.single else 'no'} | "
                    f"{'yes' if spec.pareto else 'no'} |")
    return "\n".join(rows)


def make_objective(name: str, options: dict[str, Any], budget: Budget) -> ObjectiveSpec:
    """The objective `name` from the command line's values, checked against the budget; the options of other
    objectives are refused with a `UsageError`."""
    spec = objective_spec(name)
    for owner, flag in objective_flags():
        if flag not in spec.flags and options.get(flag.keyword) is not None:
            raise UsageError(f"{flag.flag}: applies to --objective {owner.name} only, got --objective {spec.name}")
    return spec.from_options(options, budget)


__all__ = ["ObjectiveSpec", "ObjectiveFlag", "RunFigures", "MAPPER_OBJECTIVES", "OBJECTIVES", "DEFAULT_OBJECTIVE",
           "objective_flags", "objectives_table", "register_objective", "unregister_objective",
           "objective_spec", "single_objectives", "pareto_metrics", "pareto_specs", "pareto_mapper_objective",
           "check_objective", "check_pareto", "make_objective", "EDP", "Latency", "Energy", "Accuracy", "Area",
           "MnasNetReward", "MNASNET_SOFT", "MNASNET_HARD", "mnasnet_reward", "check_exponents",
           "check_target_latency"]
