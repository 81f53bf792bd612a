"""`NASStrategy`: how a network search explores a `cosearch.search.nas.NASProblem`. Each strategy is a frozen
dataclass of its own settings (checked when made) with `search(problem)`, which scores subnets through the problem
until its budget is spent (`BudgetSpent`) or the strategy has converged, and leaves the best in `problem.best`.

This package sits below `cosearch.search` so that the option table (`cosearch.config`) can check `--nas-strategy`
against the registry: strategies read a problem through its attributes and never import it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

from nets import SearchSpace, SubnetConfig

NASProblemLike = Any
"""A `cosearch.search.nas.NASProblem` (not imported: the problem's module raises `BudgetSpent` from here)."""


class BudgetSpent(Exception):
    """The problem's evaluation budget is used up (strategies stop on it)."""


def check_positive_int(owner: str, name: str, value, lo: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
        raise ValueError(f"{owner}.{name} must be an integer >= {lo}, got {value!r}")


def check_fraction(owner: str, name: str, value, lo: float = 0.0, hi: float = 1.0) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not lo <= value <= hi:
        raise ValueError(f"{owner}.{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")


def config_from(space: SearchSpace, decisions: Sequence[tuple[str, int, tuple]], picks: Sequence[int]) -> SubnetConfig:
    """The config that takes choice `picks[i]` at decision `decisions[i]` (`nets.slot_choices` of a gene table)."""
    values: dict[str, list] = {}
    for (gene, _, choices), k in zip(decisions, picks):
        values.setdefault(gene, []).append(choices[k])
    return space.make({f: v[0] if f in space.scalar_genes else tuple(v) for f, v in values.items()})


@dataclass(frozen=True)
class NASStrategy:
    """A network search strategy; `name` is its `--nas-strategy` value, `source` the method it follows."""

    name: ClassVar[str]
    source: ClassVar[str] = ""
    per_choice_costs: ClassVar[bool] = False
    """Whether the strategy needs the device's per-choice cost tables (`NASProblem.term_costs`), which a device
    scored with a fusion mode other than none does not give (a layer's cost there depends on its neighbours)."""

    def check_inputs(self, space: SearchSpace, devices: Sequence) -> str | None:
        """Why the strategy cannot search `space` on `devices` (`cosearch.search.nas.Device`s), said before any
        work; None: it can (the default)."""
        return None

    def search(self, problem: NASProblemLike) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"strategy": self.name, **asdict(self)}


__all__ = ["NASStrategy", "BudgetSpent", "config_from", "check_positive_int", "check_fraction"]
