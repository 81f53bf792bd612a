"""Per-layer mappers: the best mapping of one layer on one accelerator, by the compiled evolution strategy
(`evolution`, the co-search's), CMA-ES from the `cmaes` package (its reference), random or exhaustive search.

All search the space of `Encoding` (loop orders, tiling, spatial unrolling, keep/bypass) and score every
batch with the compiled cost model. Results are deterministic given the seed and `budget_evals`; a
`time_limit_s` stops wherever the clock says.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Integral

import numpy as np

from accel_models import Accelerator, MappingArrays, MapspaceConstraints, mapping_to_timeloop_yaml
from accel_models.cost_model import evaluate_batch
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.numba_cache import ensure_fresh_kernel_cache
from nets import Layer

from .encoding import Encoding
from ._fast_random import NORMAL_TABLE, new_state
from .evolution import HISTORY, EvolutionSettings, run_evolution
from .exhaustive import ExhaustiveSpace
from .fitness import OBJECTIVES, fitness, objective_index
from .mapping import Mapping

STRATEGIES = ("es", "cmaes", "random", "exhaustive")
DEFAULT_BUDGET_EVALS = 20_000


@dataclass
class MapperResult:
    """The best mapping a mapper found and what it cost to find it.

    history: (evaluations, wall_s, best objective value so far) at every improvement; the objective
    is in pJ*cycles (edp), pJ (energy) or cycles (latency). mapping is None if nothing valid was found.
    genes: the best mapping's genes in the search's encoding (strategy "es"), for warm starts.
    """

    layer: Layer
    accelerator: Accelerator
    objective: str
    strategy: str
    arrays: MappingArrays | None
    cycles: int
    energy_pj: float
    evaluations: int
    valid_evaluations: int
    wall_s: float
    seed: int
    history: list[tuple[int, float, float]] = field(default_factory=list)
    genes: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def valid(self) -> bool:
        return self.arrays is not None

    @cached_property
    def mapping(self) -> Mapping | None:
        """The best mapping as a `Mapping` (built on first use), None if nothing valid was found."""
        return None if self.arrays is None else Mapping.from_arrays(self.arrays, 0)

    @property
    def edp_pj_cycles(self) -> float:
        """Energy x cycles in pJ*cycles (inf if no valid mapping)."""
        return self.energy_pj * self.cycles if self.valid else math.inf

    @property
    def edp_j_cycle(self) -> float:
        """Energy x cycles in J*cycles (Timeloop's mapper prints this)."""
        return self.edp_pj_cycles * 1e-12

    @property
    def edp_j_s(self) -> float:
        """Energy x delay in J*s at the accelerator's clock."""
        return self.edp_j_cycle / (self.accelerator.clock_ghz * 1e9)

    @property
    def utilization(self) -> float:
        """MACs / (MAC units x cycles)."""
        return self.layer.macs / (self.accelerator.num_macs * self.cycles) if self.valid else 0.0

    @property
    def objective_value(self) -> float:
        """The searched objective: pJ*cycles, pJ or cycles."""
        if not self.valid:
            return math.inf
        return {"edp": self.edp_pj_cycles, "energy": self.energy_pj, "latency": float(self.cycles)}[self.objective]

    def summary(self) -> str:
        if not self.valid:
            return f"{self.strategy}: no valid mapping in {self.evaluations:,} evaluations ({self.wall_s:.2f} s)"
        return (f"{self.strategy}: EDP {self.edp_j_cycle:.4g} J*cycle, {self.cycles:,} cycles, "
                f"{self.energy_pj * 1e-6:.4g} uJ, {self.evaluations:,} evaluations in {self.wall_s:.2f} s")

    def describe(self) -> str:
        """The best mapping as a loop nest."""
        return self.mapping.describe(self.accelerator) if self.valid else "no valid mapping"

    def to_timeloop_yaml(self) -> str:
        """The best mapping as a Timeloop mapping YAML, to confirm in timeloop-model."""
        if not self.valid:
            raise ValueError("MapperResult.to_timeloop_yaml: the mapper found no valid mapping to export")
        return mapping_to_timeloop_yaml(self.arrays, self.accelerator, self.layer, 0)

    def to_dict(self) -> dict:
        """JSON-ready form without the layer and accelerator (the cache's key stands for them)."""
        return {"objective": self.objective, "strategy": self.strategy, "cycles": int(self.cycles),
                "energy_pj": float(self.energy_pj), "evaluations": int(self.evaluations),
                "valid_evaluations": int(self.valid_evaluations), "wall_s": float(self.wall_s),
                "seed": self.seed, "history": [list(h) for h in self.history],
                "arrays": None if self.arrays is None else {k: v.tolist() for k, v in self.arrays._asdict().items()}}

    @classmethod
    def from_dict(cls, d: dict, layer: Layer, accelerator: Accelerator) -> "MapperResult":
        arrays = None if d["arrays"] is None else MappingArrays(
            **{k: np.array(v, dtype=np.int64) for k, v in d["arrays"].items()})
        return cls(layer, accelerator, d["objective"], d["strategy"], arrays, d["cycles"], d["energy_pj"],
                   d["evaluations"], d["valid_evaluations"], d["wall_s"], d["seed"],
                   [tuple(h) for h in d["history"]])


class _Tracker:
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
            value = {"edp": res.energy_pj[b] * res.cycles[b], "energy": res.energy_pj[b],
                     "latency": float(res.cycles[b])}[self.objective]
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


# ---- strategies ---------------------------------------------------------------------------
def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold R^n onto [0,1]^n by mirroring at the bounds (period 2): CMA-ES's boundary handling."""
    return 1.0 - np.abs(np.mod(x, 2.0) - 1.0)


def _random_search(enc: Encoding, tracker: _Tracker, rng: np.random.Generator, batch_size: int) -> None:
    while not tracker.done():
        n = batch_size if tracker.remaining() is None else min(batch_size, tracker.remaining())
        tracker.score(enc.decode(rng.random((n, enc.size))))


def _cmaes_search(enc: Encoding, tracker: _Tracker, rng: np.random.Generator, islands: int,
                  popsize: int | None, sigma0: float, variant: str, x0: np.ndarray | None,
                  patience: int, max_popsize: int, local_restarts: float, local_sigma: float) -> None:
    """Several CMA-ES instances side by side, one kernel call per generation. An instance that
    converges or stalls restarts either around the best genes so far with a small step
    (probability `local_restarts`; BIPOP-CMA-ES's local regime, Hansen 2009) or from a random
    mean with a doubled population (IPOP-CMA-ES, Auger & Hansen 2005)."""
    from cmaes import CMA, SepCMA

    n = enc.size
    if n == 0:
        tracker.score(enc.decode(np.zeros((1, 0))))
        return
    cls = {"sep": SepCMA, "full": CMA}[variant]
    pad = 1 if n == 1 else 0           # cmaes wants n >= 2: a 1-gene space gets an ignored gene
    # sep-CMA's covariance update diverges (negative variances) when the population is much
    # larger than the dimension; IPOP doubles the population only up to this cap.
    cap = max(4 + int(3 * math.log(n + pad)), min(max_popsize, 4 * (n + pad)))
    best_x = {"x": None, "f": math.inf}

    def start(pop: int | None, mean: np.ndarray | None = None, sigma: float = sigma0):
        if mean is None:
            mean = rng.random(n + pad)
        pop = None if pop is None else min(pop, cap)
        opt = cls(mean=mean, sigma=sigma, seed=int(rng.integers(2**31)), population_size=pop)
        return {"opt": opt, "best": math.inf, "stall": 0}

    runs = []
    for k in range(islands):
        mean = None
        if k == 0 and x0 is not None:
            mean = np.concatenate([x0, np.full(pad, 0.5)])
        runs.append(start(popsize, mean))
    while not tracker.done():
        asked = [[r["opt"].ask() for _ in range(r["opt"].population_size)] for r in runs]
        xs = np.array([x for a in asked for x in a])
        f = tracker.score(enc.decode(_reflect(xs[:, :n])))
        j = int(np.argmin(f))
        if f[j] < best_x["f"]:
            best_x["x"], best_x["f"] = xs[j].copy(), float(f[j])
        i = 0
        for k, r in enumerate(runs):
            m = len(asked[k])
            fk = f[i:i + m]
            i += m
            r["opt"].tell(list(zip(asked[k], fk.tolist())))
            if fk.min() < r["best"] - 1e-9:
                r["best"], r["stall"] = float(fk.min()), 0
            else:
                r["stall"] += 1
            broken = not np.isfinite(r["opt"].mean).all()
            if broken or r["opt"].should_stop() or r["stall"] > patience:
                if local_restarts > 0 and rng.random() < local_restarts and best_x["x"] is not None:
                    runs[k] = start(popsize, _reflect(best_x["x"]), local_sigma)
                else:
                    runs[k] = start(2 * r["opt"].population_size)


def best_mapping(layer: Layer, accelerator: Accelerator, objective: str = "edp", strategy: str = "es",
                 budget_evals: int | None = None, time_limit_s: float | None = None, seed: int = 0,
                 bypass: str = "auto", fixed_keep: dict[str, tuple[str, ...]] | None = None,
                 initial: Mapping | MappingArrays | None = None, seeds: np.ndarray | None = None,
                 islands: int = 4, popsize: int | None = None,
                 sigma0: float = 0.3, cma_variant: str = "sep", patience: int = 40, max_popsize: int = 256,
                 local_restarts: float = 0.5, local_sigma: float = 0.2, seed_sigma: float = 0.1, batch_size: int = 1024,
                 max_mappings: int = 2_000_000, constraints: MapspaceConstraints | None = None) -> MapperResult:
    """The best mapping of `layer` on `accelerator` for `objective` ("edp", "energy" or "latency").

    strategy "es" (default): the compiled sep-CMA-ES of `evolution`, `islands` side by side, the whole run
    in one compiled call; `seeds` (gene vectors [S, n] of this encoding, e.g. good mappings found before)
    are scored first and centre the first island with the step `seed_sigma`. strategy "cmaes": `islands` CMA-ES
    runs over the encoding, each generation of all of them decoded and scored in one batch; a run that converges
    or makes no progress for `patience` generations restarts, locally (probability `local_restarts`, step
    `local_sigma`) or from a random mean with a doubled population (up to `max_popsize`, and 4x the gene count:
    sep-CMA diverges beyond). cma_variant "sep" (default) is diagonal sep-CMA (Ros & Hansen 2008): O(n)
    per sample, and it learns per-gene scales fast on the short budgets of an inner loop; "full"
    needs an n x n eigendecomposition per generation. "random": uniform x in batches of
    `batch_size`. "exhaustive": every mapping of the space (see `exhaustive`), refused with a
    ValueError above `max_mappings`.
    cmaes and random stop at `budget_evals` evaluations (20,000 if neither limit is given) or after
    `time_limit_s` seconds, whichever comes first; a CMA-ES generation is never cut, so it can
    overshoot the budget by one generation ("es" cuts its last generation to the budget). `initial` (a
    mapping) seeds the first run's mean (for "es": one more seed).
    `bypass`, `fixed_keep` and `constraints` (mapspace constraints, e.g. Timeloop's) are `Encoding`'s.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"best_mapping.objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"best_mapping.strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if budget_evals is not None and (not isinstance(budget_evals, int) or budget_evals < 1):
        raise ValueError(f"best_mapping.budget_evals must be a positive integer or None, got {budget_evals!r}")
    if time_limit_s is not None and not time_limit_s > 0:
        raise ValueError(f"best_mapping.time_limit_s must be > 0 seconds or None, got {time_limit_s!r}")
    if cma_variant not in ("sep", "full"):
        raise ValueError(f"best_mapping.cma_variant must be 'sep' or 'full', got {cma_variant!r}")
    for name, value, lo in (("islands", islands, 1), ("popsize", 2 if popsize is None else popsize, 2),
                            ("patience", patience, 1), ("max_popsize", max_popsize, 2), ("batch_size", batch_size, 1),
                            ("max_mappings", max_mappings, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
            raise ValueError(f"best_mapping.{name} must be an integer >= {lo}, got {value!r}")
    for name, value, lo, hi in (("sigma0", sigma0, 1e-12, 1e6), ("local_sigma", local_sigma, 1e-12, 1e6),
                                ("seed_sigma", seed_sigma, 1e-12, 1e6),
                                ("local_restarts", local_restarts, 0.0, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise ValueError(f"best_mapping.{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")
    if budget_evals is None and time_limit_s is None:
        budget_evals = DEFAULT_BUDGET_EVALS
    if constraints is not None and strategy == "exhaustive":
        raise ValueError("best_mapping: the exhaustive strategy does not take mapspace constraints; "
                         "use strategy='es', 'cmaes' or 'random'")
    enc = Encoding(layer, accelerator, bypass=bypass, fixed_keep=fixed_keep, constraints=constraints)
    rng = np.random.default_rng(seed)
    if strategy == "exhaustive":
        space = ExhaustiveSpace(enc, max_mappings)
        space.check()
        tracker = _Tracker(layer, accelerator, objective, None, None)
        for chunk in space.chunks():
            tracker.score(chunk)
    elif strategy == "random":
        tracker = _Tracker(layer, accelerator, objective, budget_evals, time_limit_s)
        _random_search(enc, tracker, rng, batch_size)
    elif strategy == "es":
        extra = [] if initial is None else [enc.encode(initial)]
        given = np.zeros((0, enc.size)) if seeds is None else np.atleast_2d(np.asarray(seeds, dtype=np.float64))
        if given.shape[1] != enc.size:
            raise ValueError(f"best_mapping.seeds must have {enc.size} genes per row, got {given.shape[1]}")
        settings = evolution_settings(islands=islands, popsize=popsize, sigma0=sigma0, patience=patience,
                                      max_popsize=max_popsize, local_restarts=local_restarts, local_sigma=local_sigma,
                                      seed_sigma=seed_sigma)
        return evolve(enc, objective, np.concatenate([given] + [e[None] for e in extra]), budget_evals,
                      time_limit_s, seed, settings)
    else:
        tracker = _Tracker(layer, accelerator, objective, budget_evals, time_limit_s)
        x0 = None if initial is None else enc.encode(initial)
        _cmaes_search(enc, tracker, rng, islands, popsize, sigma0, cma_variant, x0, patience, max_popsize,
                      local_restarts, local_sigma)
    return tracker.result(strategy, seed)


def evolution_settings(islands: int = 4, popsize: int | None = None, sigma0: float = 0.3, patience: int = 40,
                       max_popsize: int = 256, local_restarts: float = 0.5, local_sigma: float = 0.2,
                       seed_sigma: float = 0.1, **_other) -> EvolutionSettings:
    """The compiled search's settings from `best_mapping`'s keyword arguments (the others are ignored)."""
    return EvolutionSettings(islands=islands, popsize=popsize or 0, sigma0=sigma0, patience=patience,
                             max_popsize=max_popsize, local_restarts=local_restarts, local_sigma=local_sigma,
                             seed_sigma=seed_sigma)


CHUNK_EVALS = 4096
"""With a time limit and no evaluation budget, the compiled search runs in calls of this many evaluations,
each seeded with the best genes so far, until the time is up."""


def evolve(enc: Encoding, objective: str, seeds: np.ndarray, budget_evals: int | None, time_limit_s: float | None,
           seed: int = 0, settings: EvolutionSettings = EvolutionSettings()) -> MapperResult:
    """The compiled evolution strategy on `enc`: `budget_evals` evaluations (or calls of CHUNK_EVALS until
    `time_limit_s`), started from `seeds` (gene rows)."""
    t0 = time.perf_counter()
    layer, acc = enc.layer, enc.accelerator
    la, aa, tables = layer_arrays(layer), accelerator_arrays(acc), enc.tables
    hist_e, hist_w, hist_v = np.zeros(HISTORY, dtype=np.int64), np.zeros(HISTORY), np.zeros(HISTORY)
    n_seeds = len(seeds)
    seeds = np.ascontiguousarray(seeds if n_seeds else np.zeros((1, enc.size)), dtype=np.float64)
    evaluations = valid = 0
    history: list[tuple[int, float, float]] = []
    best_x, best_f = None, math.inf
    rng = new_state(seed)
    ensure_fresh_kernel_cache()
    while True:
        budget = budget_evals if budget_evals is not None else CHUNK_EVALS
        t_call = time.perf_counter() - t0
        x, f, cycles, energy_pj, evals, ok, n_hist = run_evolution(
            seeds, n_seeds, budget, rng, NORMAL_TABLE, settings.islands, settings.popsize,
            settings.sigma0, settings.seed_sigma, settings.patience, settings.max_popsize, settings.local_restarts,
            settings.local_sigma, objective_index(objective), tables, la, aa, acc.num_levels, hist_e, hist_w, hist_v)
        for h in range(n_hist):
            if not history or hist_v[h] < history[-1][2]:
                history.append((evaluations + int(hist_e[h]), t_call + float(hist_w[h]), float(hist_v[h])))
        evaluations += int(evals)
        valid += int(ok)
        if f < best_f:
            best_x, best_f, best_cost = x.copy(), float(f), (int(cycles), float(energy_pj))
        if budget_evals is not None or time_limit_s is None or time.perf_counter() - t0 >= time_limit_s:
            break
        seeds, n_seeds = best_x[None].copy(), 1
    wall = time.perf_counter() - t0
    if best_x is None or best_f >= 1e3:
        return MapperResult(layer, acc, objective, "es", None, 0, math.inf, evaluations, valid, wall, seed,
                            history)
    return MapperResult(layer, acc, objective, "es", enc.decode(best_x[None]), *best_cost, evaluations, valid, wall,
                        seed, history, genes=best_x)


def with_layer(result: MapperResult, layer: Layer) -> MapperResult:
    """The same result reported for another layer of the same shape (e.g. a cache hit)."""
    renamed = copy.copy(result)
    renamed.layer = layer
    return renamed
