"""The bookkeeping of a strategy driven from Python (CMA-ES, random, exhaustive, a user's own): every batch of
mappings scored by the compiled cost model, the best mapping, counters, the improvement history and the stopping
rule."""
from __future__ import annotations

import math
import time

import numpy as np

from accel_models import Accelerator, MappingArrays
from accel_models.cost_model import evaluate_batch
from nets import Layer

from ..fitness import fitness, objective_index, objective_value
from ..result import MapperResult


class Tracker:
    """Best mapping, counters and the improvement history of one search."""

    def __init__(self, layer: Layer, accelerator: Accelerator, objective: str, budget: int | None,
                 time_limit_s: float | None) -> None:
        self.layer, self.accelerator, self.objective = layer, accelerator, objective
        self.budget, self.time_limit_s = budget, time_limit_s
        self.t0 = time.perf_counter()
        self.evaluations = 0
        self.valid = 0
        self.best_f = math.inf
        self.best: tuple[MappingArrays, int, float] | None = None
        self.history: list[tuple[int, float, float]] = []

    def score(self, arrays: MappingArrays) -> np.ndarray:
        res = evaluate_batch(self.layer, self.accelerator, arrays)
        f = fitness(res, self.objective)
        self.evaluations += arrays.batch_size
        self.valid += int(res.valid.sum())
        b = int(np.argmin(f))
        if res.valid[b] and f[b] < self.best_f:
            self.best_f = float(f[b])
            self.best = (arrays.row(b), int(res.cycles[b]), float(res.energy_pj[b]))
            value = objective_value(res.energy_pj[b], res.cycles[b], objective_index(self.objective))
            self.history.append((self.evaluations, time.perf_counter() - self.t0, float(value)))
        return f

    def done(self) -> bool:
        if self.budget is not None and self.evaluations >= self.budget:
            return True
        return self.time_limit_s is not None and time.perf_counter() - self.t0 >= self.time_limit_s

    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.evaluations)

    def result(self, strategy: str, seed: int) -> MapperResult:
        wall = time.perf_counter() - self.t0
        if self.best is None:
            return MapperResult(self.layer, self.accelerator, self.objective, strategy, None, 0, math.inf,
                                self.evaluations, self.valid, wall, seed, self.history)
        arrays, cycles, energy = self.best
        return MapperResult(self.layer, self.accelerator, self.objective, strategy, arrays, cycles, energy,
                            self.evaluations, self.valid, wall, seed, self.history)
