"""`MapperStrategy`: how a per-layer mapper searches the space of an `Encoding`. Each strategy is a frozen dataclass
of its own settings (checked when made) with a `search` method; `best_mapping` and `MappingCache` take one."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from numbers import Integral
from typing import ClassVar

import numpy as np

from accel_models import MappingArrays

from ..encoding import Encoding
from ..result import MapperResult


def check_integer(owner: str, name: str, value, lo: int) -> None:
    """A ValueError naming `owner.name` unless `value` is an integer >= lo (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
        raise ValueError(f"{owner}.{name} must be an integer >= {lo}, got {value!r}")


def check_number(owner: str, name: str, value, lo: float, hi: float) -> None:
    """A ValueError naming `owner.name` unless `value` is a number in [lo, hi] (NaN is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ValueError(f"{owner}.{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")


def check_island_settings(strategy) -> None:
    """The settings the island strategies share (`islands`, `popsize` (0: the strategy's default), `sigma0`,
    `patience`, `max_popsize`, `local_restarts`, `local_sigma`), each checked with a ValueError naming it."""
    owner = type(strategy).__name__
    for field, lo in (("islands", 1), ("patience", 1), ("max_popsize", 2)):
        check_integer(owner, field, getattr(strategy, field), lo)
    if strategy.popsize != 0:
        check_integer(owner, "popsize", strategy.popsize, 2)
    for field, lo, hi in (("sigma0", 1e-12, 1e6), ("local_sigma", 1e-12, 1e6), ("local_restarts", 0.0, 1.0)):
        check_number(owner, field, getattr(strategy, field), lo, hi)


COMPILE_ONLY = "compile_only"
"""A strategy field's metadata key: the field chooses which compiled code runs a search, and no result depends on it,
so `to_dict` (a study's identity, a mapping cache's record) leaves it out."""


@dataclass(frozen=True)
class MapperStrategy:
    """A search strategy over an encoding's genes. `name`: how `best_mapping(strategy=...)` names it;
    `takes_constraints`: whether it searches under mapspace constraints (an encoding with them)."""

    name: ClassVar[str]
    takes_constraints: ClassVar[bool] = True

    def search(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
               seed: int, seeds: np.ndarray) -> MapperResult:
        """The best mapping of `enc`'s layer on its accelerator for `objective` ("edp", "energy", "latency"), within
        `budget_evals` evaluations and/or `time_limit_s` seconds (at least one is given), deterministic for a
        `seed` under an evaluation budget; `seeds` [S, enc.size]: genes of good mappings known before (may be
        empty), which a strategy may score first and start from."""
        raise NotImplementedError

    def search_finalists(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
                         seed: int, seeds: np.ndarray, count: int) -> tuple[MapperResult, MappingArrays | None]:
        """`search`'s result and up to `count` distinct valid mappings it ended among (`MappingArrays`, its best
        first; None when nothing valid was found), for a choice the search's objective did not make (another timing
        model's cycles: `mappings.timed_choice`). Here the best alone: the evolution strategy offers its final
        population besides, a `TrackedStrategy` the best-ranked mappings it scored."""
        result = self.search(enc, objective, budget_evals, time_limit_s, seed, seeds)
        return result, result.arrays

    def compile_plan(self, layer, accelerator, cache, objective: str) -> list:
        """The steps (`accel_models.jit.CompileStep`) that compile what this strategy's first search of `layer`
        on `accelerator` through `cache` (a `MappingCache`) runs, so that worker processes starting cold can share
        them (`cosearch.search.worker_compile`); none by default (a strategy whose compiled parts are compiled on
        first use)."""
        return []

    def with_one_driver(self) -> "MapperStrategy":
        """This strategy for a run that compiles the cost kernel's full driver before any search of it could finish
        sooner without it (a co-search whose workers each run one trial: `cosearch.config.make_settings`): its
        searches take that driver for every layer. Itself here (a strategy with no compiled driver of its own)."""
        return self

    def to_dict(self) -> dict:
        """The strategy's name and settings (what a mapping cache and a study record), without the fields marked
        `COMPILE_ONLY` (which code runs a search, not what it finds)."""
        d = asdict(self)
        for f in fields(self):
            if f.metadata.get(COMPILE_ONLY):
                del d[f.name]
        return {"strategy": self.name, **d}


__all__ = ["MapperStrategy", "COMPILE_ONLY", "check_integer", "check_number", "check_island_settings"]
