"""`ObjectiveSpec`: what one objective of a co-search is (name, direction, unit, label, what the per-layer mapper
minimises under it) and its formula on one run; each objective is one module with a subclass."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..budget import Budget

MAPPER_OBJECTIVES = ("edp", "energy", "latency")
"""What a per-layer mapper can minimise (`mappings`' objectives)."""


@dataclass(frozen=True)
class RunFigures:
    """What an objective reads of one run: a network on an accelerator (latency s, energy J, per inference), the
    subnet's estimated accuracy (None for a network without one) and the accelerator's area (mm2)."""

    latency_s: float
    energy_j: float
    accuracy: float | None = None
    area_mm2: float | None = None


@dataclass(frozen=True)
class ObjectiveFlag:
    """A command-line option of one objective (MnasNet's target latency, its exponents), which the option table
    adds after `--objective`. flag: `--target-latency`; help, metavar, shown_default: as the help and the README
    show them; check: (flag, value) -> the checked value, which `from_options` reads under `keyword`; attribute:
    the objective's field it sets; write: the text that reproduces an objective's value (None: left out)."""

    flag: str
    help: str
    metavar: str
    check: Callable[[str, Any], Any]
    shown_default: str
    attribute: str
    write: Callable[[Any], str | None]

    @property
    def keyword(self) -> str:
        """The `make_settings` keyword: the flag without dashes, '-' as '_'."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective. Subclasses set the class attributes and `value`; an objective with settings of its own (MnasNet's
    target) holds them as dataclass fields and reads them in `from_options`.

    name: `--objective` / `--pareto` name; maximize: its direction; unit: of `value`; label: name and unit as Optuna
    and the dashboard show it; mapper_objective: what each layer's mapping minimises under it (a network's latency
    and energy are sums over its layers, so the best mapping of each layer for them gives the network's best);
    needs_accuracy: `value` reads the subnet's accuracy; needs_energy: `value` reads the run's energy (a device
    that gives latency only cannot score it); flags: the objective's own command-line options; penalty: the base
    of the value a design over the hard limits scores (worse than any real value, in `unit`); single / pareto:
    usable as `--objective` / as a `--pareto` metric; run_cost: a cost that a subnet changes on one accelerator
    (the multi-objective trade-offs weigh these)."""

    name: ClassVar[str]
    maximize: ClassVar[bool] = False
    unit: ClassVar[str] = ""
    label: ClassVar[str]
    mapper_objective: ClassVar[str] = "edp"
    needs_accuracy: ClassVar[bool] = False
    needs_energy: ClassVar[bool] = False
    flags: ClassVar[tuple[ObjectiveFlag, ...]] = ()
    penalty: ClassVar[float] = 1e6
    single: ClassVar[bool] = True
    pareto: ClassVar[bool] = False
    run_cost: ClassVar[bool] = False
    value_format: ClassVar[str] = ".4g"
    """How reports format a value (a format spec)."""
    formula: ClassVar[str] = ""
    """The formula in words, for `describe` and the README's table."""
    note: ClassVar[str] = ""
    """Where it comes from or how it is used, for the README's table."""

    def value(self, run: RunFigures) -> float:
        """The objective's figure of one run, in `unit`."""
        raise NotImplementedError

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize else "minimize"

    @classmethod
    def from_options(cls, options: dict[str, Any], budget: Budget) -> "ObjectiveSpec":
        """The objective from the command line's values, by keyword (its `flags`' among them); `make_objective` has
        refused the options of other objectives."""
        return cls()

    def limits(self, budget: Budget) -> Budget:
        """The hard limits a run must meet under this objective (the budget, by default)."""
        return budget

    def latency_target(self, limits: Budget) -> float | None:
        """The latency (s) a search on fixed devices aims at under this objective: the limits' latency term by
        default (None: none)."""
        return limits.latency_s

    def gradient_reward(self, accuracy, latency_s):
        """The objective as a differentiable function of a subnet's accuracy and latency (s) (floats or torch
        tensors), for a gradient search that maximises it; None where the objective is not one such function (the
        search then trades accuracy against the latency target)."""
        return None

    def describe(self) -> str:
        """One line: what is optimised."""
        return f"{'maximise' if self.maximize else 'minimise'} {self.label}"

    def to_dict(self) -> dict:
        return {"name": self.name, "direction": self.direction, "label": self.label, "text": self.describe(),
                "mapper_objective": self.mapper_objective, **self.settings()}

    def settings(self) -> dict:
        """The objective's own settings (none by default), as `to_dict` and the study's identity record them."""
        return {}

    def identity(self) -> dict:
        return {k: v for k, v in self.to_dict().items() if k not in ("label", "text")}


__all__ = ["MAPPER_OBJECTIVES", "RunFigures", "ObjectiveFlag", "ObjectiveSpec"]
