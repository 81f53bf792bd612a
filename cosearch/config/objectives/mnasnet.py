"""`mnasnet`: MnasNet's reward ACC x (LAT / T)^w, w = alpha if LAT <= T else beta, maximised (Tan et al., "MnasNet:
Platform-Aware Neural Architecture Search for Mobile", CVPR 2019, Sec. 3, Eq. 2). T is `--target-latency`, or else
the budget's `latency<=` term, which is then the reward's soft target and no longer a hard limit."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..budget import Budget
from ..validate import UsageError, parse_duration
from .base import ObjectiveFlag, ObjectiveSpec, RunFigures

MNASNET_SOFT = (-0.07, -0.07)
"""MnasNet's soft constraint, (alpha, beta) = (-0.07, -0.07): the exponent w of (LAT / T) below and above the
target T (Tan et al., CVPR 2019, Sec. 3)."""
MNASNET_HARD = (0.0, -1.0)
"""MnasNet's hard-constraint variant (same paper and section): no reward below T, a steep penalty above it."""
EXPONENT_RANGE = (-10.0, 0.0)
"""Accepted exponents: a positive one would reward a slower network."""


def mnasnet_reward(accuracy: float, latency_s: float, target_s: float, exponents: tuple[float, float]) -> float:
    """ACC x (LAT / T)^w, w = alpha if LAT <= T else beta (Tan et al., CVPR 2019, Eq. 2)."""
    alpha, beta = exponents
    return accuracy * (latency_s / target_s) ** (alpha if latency_s <= target_s else beta)


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


@dataclass(frozen=True)
class MnasNetReward(ObjectiveSpec):
    """The reward at target `target_latency_s` (s) with `exponents` (alpha, beta); `target_from_budget`: T is the
    budget's latency term, which is then the reward's soft target rather than a hard limit."""

    name = "mnasnet"
    maximize = True
    unit = ""
    label = "MnasNet reward"
    mapper_objective = "latency"
    needs_accuracy = True
    penalty = -1.0  # below any reward (>= 0)
    formula = "ACC x (LAT / T)^w, w = alpha if LAT <= T else beta"
    note = "MnasNet, Tan et al., CVPR 2019, Eq. 2"
    flags = (
        ObjectiveFlag("--target-latency", "MnasNet's latency target T for --objective mnasnet, e.g. 2ms",
                      metavar="DURATION", check=check_target_latency, shown_default="the budget's latency<= term",
                      attribute="target_latency_s",
                      write=lambda spec: None if spec.target_from_budget else f"{spec.target_latency_s:g}s"),
        ObjectiveFlag("--mnasnet-exponents", "MnasNet's exponents w below and above T: soft, hard (0,-1) or "
                      "ALPHA,BETA, each in [-10, 0]", metavar="A,B", check=check_exponents,
                      shown_default=f"soft ({MNASNET_SOFT[0]:g},{MNASNET_SOFT[1]:g})", attribute="exponents",
                      write=lambda spec: None if spec.exponents == MNASNET_SOFT
                      else ",".join(f"{x:g}" for x in spec.exponents)),
    )

    target_latency_s: float = 1e-3
    exponents: tuple[float, float] = MNASNET_SOFT
    target_from_budget: bool = False

    def value(self, run: RunFigures) -> float:
        if run.accuracy is None or math.isnan(run.accuracy):
            raise ValueError("objective mnasnet: the run has no accuracy estimate")
        return mnasnet_reward(run.accuracy, run.latency_s, self.target_latency_s, self.exponents)

    @classmethod
    def from_options(cls, options: dict[str, Any], budget: Budget) -> "MnasNetReward":
        given = options.get("target_latency")
        target = budget.latency_s if given is None else given
        if target is None:
            raise UsageError("--objective mnasnet: needs the latency target T: give --target-latency (e.g. 2ms) or a "
                             "latency<= term in --budget")
        exponents = options.get("mnasnet_exponents")
        return cls(target, MNASNET_SOFT if exponents is None else tuple(exponents), given is None)

    def limits(self, budget: Budget) -> Budget:
        """The budget, less its latency term when that is the reward's target."""
        if self.target_from_budget:
            return Budget(budget.area_mm2, None, budget.energy_j, budget.power_w, budget.accuracy)
        return budget

    def describe(self) -> str:
        a, b = self.exponents
        text = (f"maximise MnasNet's reward ACC x (LAT / T)^w, T = {self.target_latency_s * 1e3:g} ms, "
                f"w = {a:g} if LAT <= T else {b:g}")
        return text + (" (the budget's latency term is this target, not a hard limit)" if self.target_from_budget
                       else "")

    def settings(self) -> dict:
        return {"target_latency_s": self.target_latency_s, "exponents": list(self.exponents),
                "target_from_budget": self.target_from_budget}

    def latency_target(self, limits: Budget) -> float:
        """The reward's target T."""
        return self.target_latency_s

    def gradient_reward(self, accuracy, latency_s):
        return mnasnet_reward(accuracy, latency_s, self.target_latency_s, self.exponents)


__all__ = ["MNASNET_SOFT", "MNASNET_HARD", "EXPONENT_RANGE", "mnasnet_reward", "MnasNetReward",
           "check_target_latency", "check_exponents"]
