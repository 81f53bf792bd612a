"""`ExhaustiveStrategy` ("exhaustive"): every mapping of the encoding's space (`mappings.exhaustive`; with
`factors="residual"` the residual splits the decode reaches, canonical residual ends included), for spaces small
enough to enumerate: the exact optimum the other strategies are checked against."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..encoding import Encoding
from ..exhaustive import ExhaustiveSpace
from ..result import MapperResult
from .tracker import Tracker
from .base import MapperStrategy, check_integer


@dataclass(frozen=True)
class ExhaustiveStrategy(MapperStrategy):
    """Every mapping, refused with a ValueError when the space holds more than `max_mappings`. Budgets and seeds do
    not apply (the search is complete); mapspace constraints are not taken."""

    name = "exhaustive"
    takes_constraints = False

    max_mappings: int = 2_000_000

    def __post_init__(self) -> None:
        check_integer(type(self).__name__, "max_mappings", self.max_mappings, 1)

    def search(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
               seed: int, seeds: np.ndarray) -> MapperResult:
        space = ExhaustiveSpace(enc, self.max_mappings)
        space.check()
        tracker = Tracker(enc.layer, enc.accelerator, objective, None, None)
        for chunk in space.chunks():
            tracker.score(chunk)
        return tracker.result(self.name, seed)


__all__ = ["ExhaustiveStrategy"]
