"""`ExhaustiveStrategy` ("exhaustive"): every mapping of the encoding's space (`mappings.exhaustive`; with
`factors="residual"` the residual splits the decode reaches, canonical residual ends included), for spaces small
enough to enumerate: the exact optimum the other strategies are checked against."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..encoding import Encoding
from ..exhaustive import ExhaustiveSpace
from .base import check_integer
from .tracker import Tracker, TrackedStrategy


@dataclass(frozen=True)
class ExhaustiveStrategy(TrackedStrategy):
    """Every mapping, refused with a ValueError when the space holds more than `max_mappings`. Budgets, time limits
    and seeds do not apply (the search is complete; the tracker's stopping rule is never asked); its finalists are
    the best of the whole space. Mapspace constraints are not taken."""

    name = "exhaustive"
    takes_constraints = False

    max_mappings: int = 2_000_000

    def __post_init__(self) -> None:
        check_integer(type(self).__name__, "max_mappings", self.max_mappings, 1)

    def explore(self, enc: Encoding, tracker: Tracker, seed: int, seeds: np.ndarray) -> None:
        space = ExhaustiveSpace(enc, self.max_mappings)
        space.check()
        for chunk in space.chunks():
            tracker.score(chunk)


__all__ = ["ExhaustiveStrategy"]
