"""What a co-search optimises (`--objective`, `--target-latency`, `--mnasnet-exponents`, `--pareto`), checked.

Single objectives: `edp` (energy x delay, J*s, minimised: NAAS's), `latency` (ms, minimised), `energy` (mJ,
minimised), `accuracy` (top-1, maximised under the budget's hard limits: ProxylessNAS's and OFA's
specialisation), `mnasnet` (MnasNet's reward ACC x (LAT / T)^w, maximised). `--pareto` names two or three of
accuracy, latency, energy and area for a multi-objective study instead. The search itself (scores, ranks,
penalties) lives in `cosearch.search.objective` and `cosearch.search.pareto`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .budget import Budget
from .validate import UsageError, check_choice, parse_duration

OBJECTIVES = ("edp", "latency", "energy", "accuracy", "mnasnet")
MAXIMIZED = ("accuracy", "mnasnet")
PARETO_METRICS = ("accuracy", "latency", "energy", "area")
MNASNET_SOFT = (-0.07, -0.07)
"""MnasNet's soft constraint, (alpha, beta) = (-0.07, -0.07): the exponent w of (LAT / T) below and above the
target T (Tan et al., "MnasNet: Platform-Aware Neural Architecture Search for Mobile", CVPR 2019, Sec. 3)."""
MNASNET_HARD = (0.0, -1.0)
"""MnasNet's hard-constraint variant (same paper and section): no reward below T, a steep penalty above it."""
EXPONENT_RANGE = (-10.0, 0.0)
"""Accepted MnasNet exponents: a positive one would reward a slower network."""
MAPPER_OBJECTIVE = {"edp": "edp", "latency": "latency", "energy": "energy", "accuracy": "latency",
                    "mnasnet": "latency"}
"""What the per-layer mapper minimises under each objective: a network's latency (energy) is the sum of its
layers', so the lowest-latency mapping of every layer gives the network's lowest latency, the one the
accuracy objective's latency limit and MnasNet's reward are measured on."""


@dataclass(frozen=True)
class ObjectiveSpec:
    """The objective of a co-search; `target_latency_s` is MnasNet's T, `exponents` its (alpha, beta)."""

    name: str = "edp"
    target_latency_s: float | None = None
    exponents: tuple[float, float] = MNASNET_SOFT
    target_from_budget: bool = False
    """T is the budget's latency term, which is then MnasNet's soft target rather than a hard limit."""

    @property
    def maximize(self) -> bool:
        return self.name in MAXIMIZED

    @property
    def mapper_objective(self) -> str:
        return MAPPER_OBJECTIVE[self.name]

    @property
    def needs_accuracy(self) -> bool:
        return self.name in MAXIMIZED

    def limits(self, budget: Budget) -> Budget:
        """The hard limits a run must meet: the budget, less its latency term when that is MnasNet's target."""
        if self.target_from_budget:
            return Budget(budget.area_mm2, None, budget.energy_j, budget.power_w, budget.accuracy)
        return budget

    def label(self) -> str:
        """The objective's name and unit, as Optuna and the dashboard show it."""
        return {"edp": "EDP (J*s)", "latency": "latency (ms)", "energy": "energy (mJ)", "accuracy": "accuracy (top-1)",
                "mnasnet": "MnasNet reward"}[self.name]

    def describe(self) -> str:
        """One line: what is optimised, with MnasNet's formula and constants."""
        if self.name != "mnasnet":
            return f"{'maximise' if self.maximize else 'minimise'} {self.label()}"
        a, b = self.exponents
        return (f"maximise MnasNet's reward ACC x (LAT / T)^w, T = {self.target_latency_s * 1e3:g} ms, "
                f"w = {a:g} if LAT <= T else {b:g}")

    def to_dict(self) -> dict:
        d = {"name": self.name, "direction": "maximize" if self.maximize else "minimize", "label": self.label(),
             "text": self.describe(), "mapper_objective": self.mapper_objective}
        if self.name == "mnasnet":
            d.update(target_latency_s=self.target_latency_s, exponents=list(self.exponents),
                     target_from_budget=self.target_from_budget)
        return d

    def identity(self) -> dict:
        return {k: v for k, v in self.to_dict().items() if k not in ("label", "text")}


def check_objective(flag: str, value) -> str:
    return check_choice(flag, value, OBJECTIVES, "objective")


def check_target_latency(flag: str, value) -> float:
    """A duration > 0 (seconds)."""
    seconds = parse_duration(value, flag)
    if seconds is None:
        raise UsageError(f"{flag}: must be a duration > 0, such as 2ms or 0.5ms, got {value!r}")
    return seconds


def check_exponents(flag: str, value) -> tuple[float, float]:
    """'soft', 'hard' or 'ALPHA,BETA', each in EXPONENT_RANGE."""
    accepted = (f"accepted: soft ({MNASNET_SOFT[0]:g},{MNASNET_SOFT[1]:g}), hard ({MNASNET_HARD[0]:g},"
                f"{MNASNET_HARD[1]:g}) or ALPHA,BETA with each in [{EXPONENT_RANGE[0]:g}, {EXPONENT_RANGE[1]:g}]")
    if isinstance(value, (tuple, list)) and len(value) == 2:
        parts = list(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("soft", "hard"):
            return MNASNET_SOFT if text == "soft" else MNASNET_HARD
        parts = text.split(",")
    else:
        raise UsageError(f"{flag}: cannot read {value!r}; {accepted}")
    try:
        numbers = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise UsageError(f"{flag}: cannot read {value!r}; {accepted}") from None
    if len(numbers) != 2 or not all(math.isfinite(x) and EXPONENT_RANGE[0] <= x <= EXPONENT_RANGE[1] for x in numbers):
        raise UsageError(f"{flag}: {value!r} is not two exponents in range; {accepted}")
    return numbers


def check_pareto(flag: str, value) -> tuple[str, ...]:
    """Two or three distinct names of PARETO_METRICS, comma-joined (or a sequence)."""
    parts = value if isinstance(value, (list, tuple)) else str(value).split(",")
    names = tuple(str(p).strip().lower() for p in parts)
    accepted = f"accepted: two or three of {', '.join(PARETO_METRICS)}, comma-joined, e.g. accuracy,latency"
    unknown = [n for n in names if n not in PARETO_METRICS]
    if unknown:
        raise UsageError(f"{flag}: unknown metric {unknown[0]!r}; {accepted}")
    if not 2 <= len(names) <= 3 or len(set(names)) != len(names):
        raise UsageError(f"{flag}: {value!r} must name two or three different metrics; {accepted}")
    return names


def pareto_mapper_objective(metrics: tuple[str, ...]) -> str:
    """What the per-layer mapper minimises in a multi-objective study: latency or energy when only one of them is a
    metric, EDP (both at once) otherwise."""
    costs = [m for m in metrics if m in ("latency", "energy")]
    return costs[0] if len(costs) == 1 else "edp"


def make_objective(name: str, target_latency_s: float | None, exponents: tuple[float, float] | None,
                   budget: Budget) -> ObjectiveSpec:
    """The objective of the options, checked against the budget (MnasNet's T: --target-latency or latency<=)."""
    if name != "mnasnet":
        for flag, given in (("--target-latency", target_latency_s), ("--mnasnet-exponents", exponents)):
            if given is not None:
                raise UsageError(f"{flag}: applies to --objective mnasnet only, got --objective {name}")
        return ObjectiveSpec(name)
    from_budget = target_latency_s is None
    target = budget.latency_s if from_budget else target_latency_s
    if target is None:
        raise UsageError("--objective mnasnet: needs the latency target T: give --target-latency (e.g. 2ms) or a "
                         "latency<= term in --budget")
    return ObjectiveSpec(name, target, exponents if exponents is not None else MNASNET_SOFT, from_budget)


__all__ = ["OBJECTIVES", "MAXIMIZED", "PARETO_METRICS", "MNASNET_SOFT", "MNASNET_HARD", "MAPPER_OBJECTIVE",
           "ObjectiveSpec", "pareto_mapper_objective", "check_objective", "check_target_latency", "check_exponents", "check_pareto",
           "make_objective"]
