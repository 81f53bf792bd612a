"""The per-layer mapper: `MapperSettings` (a strategy, a budget, a seed, the encoding's options) and `best_mapping`,
the best mapping of one layer on one accelerator.

Every strategy (`mappings.strategies`) searches the space of `Encoding` (loop orders, tiling, spatial unrolling,
keep/bypass) and scores every batch with the compiled cost model. Results are deterministic given the seed and
`budget_evals`; a `time_limit_s` stops wherever the clock says.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np

from accel_models import Accelerator, MappingArrays, MapspaceConstraints, check_accelerator, check_countable
from accel_models.timing import TIMINGS, TimeloopTiming, TimingModel, get_timing
from nets import Layer, check_layer

from .encoding import FACTOR_MODES, Encoding
from .fitness import OBJECTIVES
from .mapping import Mapping
from .result import MapperResult
from .strategies import EvolutionStrategy, MapperStrategy, get_strategy
from .timed_choice import timed_search

DEFAULT_BUDGET_EVALS = 20_000
"""Evaluations of a search given neither a budget nor a time limit."""
MAX_BUDGET_EVALS = 2**62
"""Largest evaluation budget: the compiled searches count evaluations in int64."""


@dataclass(frozen=True)
class MapperSettings:
    """How a layer is mapped: the `strategy` (a `MapperStrategy` or its name), at most `budget_evals` evaluations and
    `time_limit_s` seconds (None: no limit; with neither, DEFAULT_BUDGET_EVALS), the `seed`, and the encoding's
    options: `bypass` ("auto", "none" or "all": which tensors may skip a level), `fixed_keep` (a level -> tensors it
    must keep), `constraints` (mapspace constraints, e.g. Timeloop's), `factors` ("residual": tiles that need not
    divide their dims, with residual loops; "perfect": divisors only; "auto": residual where the layer's dims leave an
    axis of the PE array idle with divisors; see `Encoding`); `timing` (a name of `accel_models.timing.TIMINGS` or a
    timing model, resolved to the model): whose cycles choose the mapping returned. The search scores candidates with
    the cost model's own (Timeloop's semantics); under another model the best of its final candidates by the
    objective with that model's cycles is returned (`mappings.timed_choice`)."""

    strategy: MapperStrategy = field(default_factory=EvolutionStrategy)
    budget_evals: int | None = None
    time_limit_s: float | None = None
    seed: int = 0
    bypass: str = "auto"
    fixed_keep: dict | None = None
    constraints: MapspaceConstraints | None = None
    factors: str = "perfect"
    timing: TimingModel = field(default_factory=TimeloopTiming)

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", get_strategy(self.strategy, "best_mapping"))
        object.__setattr__(self, "timing", get_timing(self.timing, "best_mapping.timing"))
        if self.factors not in FACTOR_MODES:
            raise ValueError(f"best_mapping.factors must be one of {', '.join(FACTOR_MODES)}, got {self.factors!r}")
        if self.budget_evals is not None and (isinstance(self.budget_evals, bool) or not isinstance(
                self.budget_evals, Integral) or not 1 <= self.budget_evals <= MAX_BUDGET_EVALS):
            raise ValueError(f"best_mapping.budget_evals must be a positive integer up to {MAX_BUDGET_EVALS} (2**62) "
                             f"or None, got {self.budget_evals!r}")
        if self.time_limit_s is not None and (isinstance(self.time_limit_s, bool) or not isinstance(
                self.time_limit_s, Real) or not 0 < self.time_limit_s < math.inf):
            raise ValueError(f"best_mapping.time_limit_s must be a finite number > 0 (seconds) or None, got "
                             f"{self.time_limit_s!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, Integral) or self.seed < 0:
            raise ValueError(f"best_mapping.seed must be an integer >= 0, got {self.seed!r}")
        if self.constraints is not None and not self.strategy.takes_constraints:
            raise ValueError(f"best_mapping: the {self.strategy.name} strategy does not take mapspace constraints; use "
                             "strategy='es', 'cmaes' or 'random'")

    @property
    def budget(self) -> int | None:
        """The evaluation budget a search runs with (DEFAULT_BUDGET_EVALS when no limit is set)."""
        if self.budget_evals is None and self.time_limit_s is None:
            return DEFAULT_BUDGET_EVALS
        return self.budget_evals

    def encoding(self, layer: Layer, accelerator: Accelerator) -> Encoding:
        """The space the strategy searches for `layer` on `accelerator` (a pair whose cycles the cost model cannot
        count is a ValueError: see `accel_models.limits`)."""
        check_layer("best_mapping", layer)
        check_accelerator("best_mapping", accelerator)
        check_countable("best_mapping", layer, accelerator)
        return Encoding(layer, accelerator, bypass=self.bypass, fixed_keep=self.fixed_keep,
                        constraints=self.constraints, factors=self.factors)

    def search(self, enc: Encoding, objective: str = "edp", seeds: np.ndarray | None = None) -> MapperResult:
        """The strategy's best mapping of `enc`, started from `seeds` (gene rows of `enc`, e.g. warm starts)."""
        if objective not in OBJECTIVES:
            raise ValueError(f"best_mapping.objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        rows = np.zeros((0, enc.size)) if seeds is None else np.atleast_2d(np.asarray(seeds, dtype=np.float64))
        if rows.shape[1] != enc.size:
            raise ValueError(f"best_mapping.seeds must have {enc.size} genes per row, got {rows.shape[1]}")
        if self.timing.name == "timeloop":
            return self.strategy.search(enc, objective, self.budget, self.time_limit_s, self.seed, rows)
        return timed_search(self.strategy, enc, objective, self.budget, self.time_limit_s, self.seed, rows,
                            self.timing)

    def with_seed(self, seed: int) -> "MapperSettings":
        return replace(self, seed=seed)

    def to_dict(self) -> dict:
        """The settings as plain values (the strategy's name and fields flattened in), as a study records them."""
        return {**self.strategy.to_dict(), "budget_evals": self.budget_evals, "time_limit_s": self.time_limit_s,
                "seed": self.seed, "bypass": self.bypass, "fixed_keep": self.fixed_keep,
                "constraints": None if self.constraints is None else repr(self.constraints), "factors": self.factors,
                **({} if self.timing.name == "timeloop" else {"timing": _timing_record(self.timing)})}


def _timing_record(timing: TimingModel) -> str:
    """How a record (`MapperSettings.to_dict`) names a timing model: its name if it is the registered model of that
    name, else its repr (a model of one's own constants)."""
    return timing.name if timing.name in TIMINGS.names() and TIMINGS.get(timing.name) == timing else repr(timing)


def best_mapping(layer: Layer, accelerator: Accelerator, objective: str = "edp",
                 strategy: str | MapperStrategy = "es", budget_evals: int | None = None,
                 time_limit_s: float | None = None, seed: int = 0, bypass: str = "auto",
                 fixed_keep: dict[str, tuple[str, ...]] | None = None, constraints: MapspaceConstraints | None = None,
                 initial: Mapping | MappingArrays | None = None, seeds: np.ndarray | None = None,
                 factors: str = "perfect", timing: "str | TimingModel" = "timeloop") -> MapperResult:
    """The best mapping of `layer` on `accelerator` for `objective` ("edp", "energy" or "latency").

    `strategy`: a name ("es", the compiled evolution strategy, default; "cmaes"; "random"; "exhaustive") or a strategy
    with its own settings, e.g. `CMAESStrategy(variant="full")` (see `mappings.strategies`). The other arguments are
    `MapperSettings`' (`timing`: whose cycles choose the mapping returned); `seeds` (gene rows of this layer's
    encoding) and `initial` (a mapping, encoded) are good mappings known before, which the strategy scores first and
    starts from.
    """
    settings = MapperSettings(strategy, budget_evals, time_limit_s, seed, bypass, fixed_keep, constraints, factors,
                              timing)
    enc = settings.encoding(layer, accelerator)
    rows = np.zeros((0, enc.size)) if seeds is None else np.atleast_2d(np.asarray(seeds, dtype=np.float64))
    if initial is not None and rows.shape[1] == enc.size:
        rows = np.concatenate([rows, enc.encode(initial)[None]])
    return settings.search(enc, objective, rows)


__all__ = ["MapperSettings", "best_mapping", "DEFAULT_BUDGET_EVALS"]
