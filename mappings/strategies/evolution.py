"""`EvolutionStrategy` ("es"): the compiled sep-CMA-ES of `mappings.evolution`, several islands side by side, the
whole search in one compiled call: the co-search's per-layer mapper."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from accel_models import MappingArrays
from accel_models.geometry import accelerator_arrays, layer_arrays

from .._fast_random import NORMAL_TABLE, new_state
from ..compile_plan import mapper_compile_plan
from ..encoding import Encoding
from ..evolution import HISTORY, search_kernel
from ..fitness import objective_index
from ..split_compile import compile_first_search
from ..result import MapperResult
from .base import COMPILE_ONLY, MapperStrategy, check_integer, check_island_settings, check_number

CHUNK_EVALS = 4096
"""With a time limit and no evaluation budget, the compiled search runs in calls of this many evaluations,
each seeded with the best genes so far, until the time is up (each call also stops at the time limit itself)."""


@dataclass(frozen=True)
class EvolutionStrategy(MapperStrategy):
    """`islands` sep-CMA-ES runs side by side, each with `popsize` candidates per generation (0: 4 + 3 ln(genes)),
    first step `sigma0` (genes live in [0, 1]); seeds are scored first and centre the first island with the step
    `seed_sigma`. An island that makes no progress for `patience` generations, or whose step collapses, restarts
    around the best genes found with step `local_sigma` (probability `local_restarts`; BIPOP-CMA-ES's local regime,
    Hansen 2009) or from a random mean with twice the population (IPOP-CMA-ES, Auger and Hansen 2005), up to
    `max_popsize` and 4x the gene count. The last generation is cut to the evaluation budget.

    `cold_islands` (0: `islands`): the islands of a search given no seeds. A search that starts from seeds refines
    them; one that starts from nothing decides which basin (which tensor each buffer holds, which dims the array
    unrolls) every later search of the shape starts from, since they are seeded with it, and more islands try more
    basins for the same budget (docs/defaults.md, "The search's mapper").

    `perfect_driver`: whether a layer whose decode gives perfect factors only is searched with the cost kernel's
    perfect-factor driver (`evaluate_range_perfect`, which a first search on a cold cache compiles without the
    residual paths: `mappings.evolution.search_kernel`) rather than the full one. Both count alike, bit for bit, so
    no result depends on it: it is left out of `to_dict` and of equality (`with_one_driver` turns it off)."""

    name = "es"

    islands: int = 4
    popsize: int = 0
    sigma0: float = 0.3
    seed_sigma: float = 0.1
    patience: int = 40
    max_popsize: int = 256
    local_restarts: float = 0.5
    local_sigma: float = 0.2
    cold_islands: int = 0
    perfect_driver: bool = field(default=True, compare=False, metadata={COMPILE_ONLY: True})

    def __post_init__(self) -> None:
        check_island_settings(self)
        check_integer(type(self).__name__, "cold_islands", self.cold_islands, 0)
        check_number(type(self).__name__, "seed_sigma", self.seed_sigma, 1e-12, 1e6)

    def with_one_driver(self) -> "EvolutionStrategy":
        return replace(self, perfect_driver=False)

    def driver_factors(self, factors: str) -> str:
        """The tiling factors whose driver a search of an encoding with `factors` ("auto" resolved) runs
        (`search_kernel`): "perfect" only for a perfect decode under `perfect_driver`, else "residual" (the full
        one)."""
        return "perfect" if factors == "perfect" and self.perfect_driver else "residual"

    def compile_plan(self, layer, accelerator, cache, objective: str) -> list:
        """`mappings.compile_plan.mapper_compile_plan`'s steps (none with numba's JIT disabled: nothing compiles);
        without `perfect_driver`, those of the full driver only."""
        if numba.config.DISABLE_JIT:
            return []
        return mapper_compile_plan(layer, accelerator, cache, objective,
                                   drivers_of=None if self.perfect_driver else "residual")

    def plan_args(self, enc: Encoding, objective: str) -> tuple:
        """`kernel_args` of a first search of `enc` (no seeds, a budget, no time limit): what the compile plan
        compiles the search for (`mappings.compile_plan`)."""
        la, aa = layer_arrays(enc.layer), accelerator_arrays(enc.accelerator)
        history = np.zeros(HISTORY, dtype=np.int64), np.zeros(HISTORY), np.zeros(HISTORY)
        return self.kernel_args(np.zeros((1, enc.size)), 0, CHUNK_EVALS, new_state(0), self.islands, objective,
                                enc.tables, la, aa, enc.accelerator.num_levels, history, math.inf)

    def kernel_args(self, seeds, n_seeds, budget, rng, islands, objective, tables, la, aa, n_levels, history,
                    remaining_s) -> tuple:
        """The compiled search's arguments (`mappings.evolution.run_evolution`'s but its last, the
        `evolution.SearchCalls`), in its order; `history`: the three arrays of the improvements."""
        return (seeds, n_seeds, budget, rng, NORMAL_TABLE, islands, self.popsize, self.sigma0, self.seed_sigma,
                self.patience, self.max_popsize, self.local_restarts, self.local_sigma, objective_index(objective),
                tables, la, aa, n_levels, *history, remaining_s)

    def search(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
               seed: int, seeds: np.ndarray) -> MapperResult:
        return self._search(enc, objective, budget_evals, time_limit_s, seed, seeds, 0)[0]

    def search_finalists(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
                         seed: int, seeds: np.ndarray, count: int) -> tuple[MapperResult, MappingArrays | None]:
        """`search`'s result (the same, bit for bit) and its final population: the best mapping first, then the
        distinct valid mappings of the last generation of every island (of the last call, under a time limit), best
        fitness first, `count` in all at most."""
        result, final = self._search(enc, objective, budget_evals, time_limit_s, seed, seeds, count)
        if not result.valid:
            return result, None
        both = MappingArrays.concatenate([result.arrays] if final is None else [result.arrays, final])
        flat = np.concatenate([f.reshape(len(f), -1) for f in both], axis=1)
        _, first = np.unique(flat, axis=0, return_index=True)      # each mapping's first row: the best order kept
        kept = np.sort(first)[:count]
        return result, MappingArrays(*(f[kept] for f in both))

    def _search(self, enc: Encoding, objective: str, budget_evals: int | None, time_limit_s: float | None,
                seed: int, seeds: np.ndarray, finalists: int) -> tuple[MapperResult, MappingArrays | None]:
        t0 = time.perf_counter()
        layer, acc = enc.layer, enc.accelerator
        la, aa, tables = layer_arrays(layer), accelerator_arrays(acc), enc.tables
        hist_e, hist_w, hist_v = np.zeros(HISTORY, dtype=np.int64), np.zeros(HISTORY), np.zeros(HISTORY)
        n_seeds = len(seeds)
        islands = self.cold_islands if n_seeds == 0 and self.cold_islands else self.islands
        seeds = np.ascontiguousarray(seeds if n_seeds else np.zeros((1, enc.size)), dtype=np.float64)
        evaluations = valid = 0
        history: list[tuple[int, float, float]] = []
        best_x, best_f = None, math.inf
        rng = new_state(seed)
        driver = self.driver_factors(enc.factors)   # perfect factors ("auto" resolved): without the residual paths
        run_evolution = search_kernel(driver)
        compile_first_search(run_evolution, layer, acc, driver, objective,
                             self.plan_args)  # on a cold cache, or a worker's compile not done yet
        while True:
            budget = budget_evals if budget_evals is not None else CHUNK_EVALS
            t_call = time.perf_counter() - t0
            remaining_s = math.inf if time_limit_s is None else max(0.0, time_limit_s - t_call)
            args = self.kernel_args(seeds, n_seeds, budget, rng, islands, objective, tables, la, aa, acc.num_levels,
                                    (hist_e, hist_w, hist_v), remaining_s)
            if finalists:
                x, f, cycles, energy_pj, evals, ok, n_hist, mapping, final = run_evolution(*args, finalists=True)
            else:
                x, f, cycles, energy_pj, evals, ok, n_hist, mapping = run_evolution(*args)
                final = None
            for h in range(n_hist):
                if not history or hist_v[h] < history[-1][2]:
                    history.append((evaluations + int(hist_e[h]), t_call + float(hist_w[h]), float(hist_v[h])))
            evaluations += int(evals)
            valid += int(ok)
            if f < best_f:
                best_x, best_f, best_cost, best_mapping = x.copy(), float(f), (int(cycles), float(energy_pj)), mapping
            if budget_evals is not None or time_limit_s is None or time.perf_counter() - t0 >= time_limit_s:
                break
            seeds, n_seeds = best_x[None].copy(), 1
        wall = time.perf_counter() - t0
        if best_x is None or best_f >= 1e3:
            return MapperResult(layer, acc, objective, self.name, None, 0, math.inf, evaluations, valid, wall, seed,
                                history), None
        return MapperResult(layer, acc, objective, self.name, best_mapping, *best_cost, evaluations, valid,
                            wall, seed, history, genes=best_x), final


__all__ = ["EvolutionStrategy", "CHUNK_EVALS"]
