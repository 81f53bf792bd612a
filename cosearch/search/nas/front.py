"""The accuracy-latency front of a device (`--accelerator D --pareto accuracy,latency`): the strategy run at several
latency targets, each the most accurate subnet within its target, and the non-dominated set of every subnet scored.

This is how OFA presents specialisation (a curve of the most accurate subnet at each latency target of a device,
Cai et al., ICLR 2020, Fig. 1 and Table 3) and the epsilon-constraint method of multi-objective optimisation: any
single-objective strategy then yields a front. The targets are spaced geometrically between the smallest subnet's
latency and the largest's, so that each covers the same latency ratio.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from ...config.objectives import objective_spec
from .problem import Evaluated, NASProblem

FRONT_TARGETS = 8
"""Latency targets of the sweep; the evaluation budget is split evenly between them."""


def latency_targets_s(fastest_s: float, slowest_s: float, n: int = FRONT_TARGETS) -> list[float]:
    """`n` targets from just above the fastest subnet's latency to the slowest's, in equal ratios (s)."""
    if n < 1:
        raise ValueError(f"latency_targets_s: n must be >= 1, got {n}")
    low, high = fastest_s * 1.02, max(slowest_s, fastest_s * 1.02)
    if n == 1:
        return [high]
    step = (high / low) ** (1.0 / (n - 1))
    return [low * step ** i for i in range(n)]


def non_dominated(points: list, latency: Callable = lambda e: e.cost.latency_s,
                  accuracy: Callable = lambda e: e.accuracy) -> list:
    """The points no other point beats on both latency (lower) and accuracy (higher), fastest first; by default the
    points are `Evaluated` subnets."""
    front: list = []
    best = -math.inf
    for point in sorted(points, key=lambda e: (latency(e), -accuracy(e))):
        if accuracy(point) > best:
            front.append(point)
            best = accuracy(point)
    return front


def sweep_front(make_problem: Callable[..., NASProblem], search: Callable[[NASProblem], None], base: NASProblem,
                fastest_s: float, slowest_s: float, n: int = FRONT_TARGETS) -> tuple[list[Evaluated], int]:
    """Run `search` on one problem per latency target (accuracy maximised within it and the base problem's limits,
    `base.budget_evals / n` evaluations each, seeds offset per target); the front of every subnet scored within the
    base limits, and the evaluations spent in all."""
    accuracy = objective_spec("accuracy")()
    targets = latency_targets_s(fastest_s, slowest_s, n)
    share = max(1, base.budget_evals // len(targets))
    scored: dict[str, Evaluated] = {}
    spent = 0
    for i, target in enumerate(targets):
        limit = target if base.limits.latency_s is None else min(target, base.limits.latency_s)
        problem = make_problem(objective=accuracy, limits=replace(base.limits, latency_s=limit), budget_evals=share,
                               seed=base.seed + i)
        search(problem)
        spent += problem.evaluations
        scored.update(problem.evaluated)
    within = [e for e in scored.values() if e.cost is not None and math.isfinite(e.accuracy)
              and base.limits.violation(e.cost.latency_s, e.cost.energy_j) == 0
              and (base.limits.accuracy is None or e.accuracy >= base.limits.accuracy)]
    return non_dominated(within), spent


__all__ = ["FRONT_TARGETS", "latency_targets_s", "non_dominated", "sweep_front"]
