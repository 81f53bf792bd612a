"""The bookkeeping of a strategy driven from Python (CMA-ES, random, exhaustive, a user's own): every batch of
mappings scored by the compiled cost model, the best mapping, counters, the improvement history and the stopping
rule; on request, the best distinct valid mappings scored (the finalists a choice under another timing model takes:
`mappings.timed_choice`), kept in a bounded heap."""
from __future__ import annotations

import heapq
import math
import time

import numpy as np

from accel_models import Accelerator, MappingArrays
from accel_models.cost_model import evaluate_batch
from nets import Layer

from ..encoding import Encoding
from ..fitness import fitness, objective_index, objective_value
from ..result import MapperResult
from .base import MapperStrategy


class Tracker:
    """Best mapping, counters and the improvement history of one search; with `finalists` > 0, also the best
    `finalists` distinct valid mappings it scored (`finalists()`)."""

    def __init__(self, layer: Layer, accelerator: Accelerator, objective: str, budget: int | None,
                 time_limit_s: float | None, finalists: int = 0) -> None:
        self.layer, self.accelerator, self.objective = layer, accelerator, objective
        self.budget, self.time_limit_s = budget, time_limit_s
        self.t0 = time.perf_counter()
        self.evaluations = 0
        self.valid = 0
        self.best_f = math.inf
        self.best: tuple[MappingArrays, int, float] | None = None
        self.history: list[tuple[int, float, float]] = []
        self._keep = finalists
        self._heap: list[tuple[float, int, bytes, MappingArrays]] = []  # (-fitness, -order scored, key, row)
        self._keys: set[bytes] = set()

    def score(self, arrays: MappingArrays) -> np.ndarray:
        res = evaluate_batch(self.layer, self.accelerator, arrays)
        f = fitness(res, self.objective)
        if self._keep:
            self._offer(arrays, f, res.valid)
        self.evaluations += arrays.batch_size
        self.valid += int(res.valid.sum())
        b = int(np.argmin(f))
        if res.valid[b] and f[b] < self.best_f:
            self.best_f = float(f[b])
            self.best = (arrays.row(b), int(res.cycles[b]), float(res.energy_pj[b]))
            value = objective_value(res.energy_pj[b], res.cycles[b], objective_index(self.objective))
            self.history.append((self.evaluations, time.perf_counter() - self.t0, float(value)))
        return f

    def _offer(self, arrays: MappingArrays, f: np.ndarray, valid: np.ndarray) -> None:
        """Keep the batch's valid mappings that rank among the best `finalists` scored so far, by fitness, then by
        the order scored (so the first-scored of equal fitness ranks first, as the best does); a mapping scored
        again is kept once. Only the batch's valid rows better than the heap's worst are sorted, and the walk through
        them stops at the first that no longer ranks."""
        worst = -self._heap[0][0] if len(self._heap) == self._keep else math.inf
        rows = np.flatnonzero(valid & (f < worst))
        if not len(rows):
            return
        rows = rows[np.argsort(f[rows], kind="stable")]
        full = arrays.with_residuals()
        for b in rows:
            fb = float(f[b])
            if len(self._heap) == self._keep and fb >= -self._heap[0][0]:
                break                                   # sorted: none after it ranks better
            key = b"".join(a[b].tobytes() for a in full)
            if key in self._keys:
                continue                                # kept already, scored earlier with the same fitness
            entry = (-fb, -(self.evaluations + int(b)), key, full.row(b).copy())
            self._keys.add(key)
            if len(self._heap) < self._keep:
                heapq.heappush(self._heap, entry)
            else:
                self._keys.discard(heapq.heappushpop(self._heap, entry)[2])

    def finalists(self) -> MappingArrays | None:
        """The best distinct valid mappings scored (at most `finalists`), best first: the first is the search's
        best (`result().arrays`); None when none was valid or none were asked for."""
        if not self._heap:
            return None
        ranked = sorted(self._heap, key=lambda e: (-e[0], -e[1]))
        return MappingArrays.concatenate([e[3] for e in ranked])

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


class TrackedStrategy(MapperStrategy):
    """A strategy driven from Python: `explore` scores batches through a `Tracker` until it says `done()` (or the
    space is exhausted). Its search is the tracker's best; its finalists the best distinct valid mappings the tracker
    scored, so a choice under another timing model picks among everything the search saw rank well."""

    def explore(self, enc: Encoding, tracker: Tracker, seed: int, seeds: np.ndarray) -> None:
        """Score mappings of `enc` through `tracker` (its budget and time limit are the search's), deterministic for
        `seed`; `seeds` as `MapperStrategy.search` has them."""
        raise NotImplementedError

    def search(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
               seed: int, seeds: np.ndarray) -> MapperResult:
        return self.search_finalists(enc, objective, budget_evals, time_limit_s, seed, seeds, 0)[0]

    def search_finalists(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
                         seed: int, seeds: np.ndarray, count: int) -> tuple[MapperResult, MappingArrays | None]:
        """`search`'s result (the same: keeping finalists changes no step of the search) and the best `count`
        distinct valid mappings the search scored, best first."""
        tracker = Tracker(enc.layer, enc.accelerator, objective, budget_evals, time_limit_s, count)
        self.explore(enc, tracker, seed, seeds)
        return tracker.result(self.name, seed), tracker.finalists()
