"""`NASStrategy`: how a network search explores a `NASProblem`. Each strategy is a frozen dataclass of its own settings
(checked when made) with `search(problem)`, which scores subnets through the problem until its budget is spent (or
the strategy has converged) and leaves the best in `problem.best`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real
from typing import ClassVar

from ..problem import NASProblem


def check_positive_int(owner: str, name: str, value, lo: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
        raise ValueError(f"{owner}.{name} must be an integer >= {lo}, got {value!r}")


def check_fraction(owner: str, name: str, value, lo: float = 0.0, hi: float = 1.0) -> None:
    if isinstance(value, bool) or not isinstance(value, Real) or not lo <= value <= hi:
        raise ValueError(f"{owner}.{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")


@dataclass(frozen=True)
class NASStrategy:
    """A network search strategy; `name` is its `--nas-strategy` value, `source` the method it follows."""

    name: ClassVar[str]
    source: ClassVar[str] = ""

    def search(self, problem: NASProblem) -> None:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return {"strategy": self.name, **asdict(self)}


__all__ = ["NASStrategy", "check_positive_int", "check_fraction"]
