"""The mapping a search returns when a timing model other than Timeloop's turns counts into cycles.

The compiled search scores every candidate with the cost model's own cycles (Timeloop's semantics). A timing model
that charges what Timeloop does not (`accel_models.timing.HardwareTiming`: a cost per outer step, a start-up per
layer) can rank the same candidates otherwise: a mapping of many small DRAM-level steps that Timeloop finds best can be
slow on a chip that pays for each step. So under such a model the search keeps its finalists
(`MapperStrategy.search_finalists`: the evolution strategy's best and final population, a Python strategy's
best-ranked mappings scored), times them in one batch, and returns the best by the objective with those cycles
(energy as counted). What it returns keeps the cost model's cycles in `MapperResult.cycles`, as every result
does: the network's totals time each run again under the model (`cosearch.search.run_timing`).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from accel_models import evaluate_batch
from accel_models.timing import TimingModel

from .encoding import Encoding
from .fitness import fitness_into, objective_index
from .result import MapperResult
from .strategies import MapperStrategy

FINALISTS = 64
"""Candidates a search under another timing model keeps and times (distinct valid mappings, best first: the
evolution strategy's best and final population, a `TrackedStrategy`'s best-ranked scored): the co-search's search
mapper runs one island of 8, its final mapper four of 4 + 3 ln(genes) (Hansen's default: 16-18 for 60-100 genes)
until a restart doubles one, so 64 holds a last generation of either."""


def timed_search(strategy: MapperStrategy, enc: Encoding, objective: str, budget_evals: int | None,
                 time_limit_s: float | None, seed: int, seeds: np.ndarray, timing: TimingModel) -> MapperResult:
    """`strategy`'s search of `enc` with the mapping it returns chosen by `objective` under `timing`'s cycles among
    its finalists (at most FINALISTS); its counts, energy and `cycles` (the cost model's) are that mapping's."""
    result, finalists = strategy.search_finalists(enc, objective, budget_evals, time_limit_s, seed, seeds, FINALISTS)
    t0 = time.perf_counter()
    if finalists is None or finalists.batch_size < 2:
        return result
    layer, accelerator = enc.layer, enc.accelerator
    counts = evaluate_batch(layer, accelerator, finalists)
    rows = finalists.with_residuals()
    timed = timing.cycles(layer, accelerator, rows, counts, accelerator.homed_on_chip)
    fit = np.empty(finalists.batch_size)
    fitness_into(counts.reason, counts.energy_pj, timed, len(fit), objective_index(objective), fit)
    best = int(np.argmin(fit))
    wall_s = result.wall_s + time.perf_counter() - t0
    if best == 0:
        return dataclasses.replace(result, wall_s=wall_s)
    chosen = rows.row(best).copy()
    return dataclasses.replace(result, arrays=chosen, cycles=int(counts.cycles[best]),
                               energy_pj=float(counts.energy_pj[best]), wall_s=wall_s, genes=None)


__all__ = ["FINALISTS", "timed_search"]
