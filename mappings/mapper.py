"""Per-layer mappers: the best mapping of one layer on one accelerator, by CMA-ES, random or exhaustive search.

All three search the space of `Encoding` (loop orders, tiling, spatial unrolling, keep/bypass)
and score every batch with one call of the compiled cost model. Results are deterministic given
the seed and `budget_evals`; a `time_limit_s` stops wherever the clock says.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from accel_models import Accelerator, MappingArrays, MapspaceConstraints, mapping_to_timeloop_yaml
from accel_models.cost_model import BatchResult, evaluate_batch
from nets import Layer

from .encoding import Encoding
from .exhaustive import ExhaustiveSpace
from .mapping import Mapping

OBJECTIVES = ("edp", "energy", "latency")
STRATEGIES = ("cmaes", "random", "exhaustive")
DEFAULT_BUDGET_EVALS = 20_000


@dataclass
class MapperResult:
    """The best mapping a mapper found and what it cost to find it.

    history: (evaluations, wall_s, best objective value so far) at every improvement; the objective
    is in pJ*cycles (edp), pJ (energy) or cycles (latency). mapping is None if nothing valid was found.
    """

    layer: Layer
    accelerator: Accelerator
    objective: str
    strategy: str
    mapping: Mapping | None
    arrays: MappingArrays | None
    cycles: int
    energy_pj: float
    evaluations: int
    valid_evaluations: int
    wall_s: float
    seed: int
    history: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.mapping is not None

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
        return cls(layer, accelerator, d["objective"], d["strategy"],
                   None if arrays is None else Mapping.from_arrays(arrays, 0), arrays, d["cycles"], d["energy_pj"],
                   d["evaluations"], d["valid_evaluations"], d["wall_s"], d["seed"],
                   [tuple(h) for h in d["history"]])


# ---- scoring ------------------------------------------------------------------------------
_TIE = 1e-6
"""Weight of the secondary metric in `fitness`: breaks exact ties (e.g. equal EDP) toward the mapping
that is also better on the other metric, without reordering any real difference."""
_INVALID = 1e3
"""Fitness of an invalid mapping (plus its reason code): above any log-objective of a valid one."""


def fitness(res: BatchResult, objective: str) -> np.ndarray:
    """Lower is better: log of the objective, near-ties broken by the other metric; invalid = 1e3 + reason."""
    energy, cycles = np.maximum(res.energy_pj, 1e-300), np.maximum(res.cycles, 1).astype(np.float64)
    if objective == "edp":
        f = np.log(energy) + np.log(cycles) + _TIE * np.log(cycles)
    elif objective == "energy":
        f = np.log(energy) + _TIE * np.log(cycles)
    else:
        f = np.log(cycles) + _TIE * np.log(energy)
    return np.where(res.valid, f, _INVALID + res.reason)


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
            return MapperResult(self.layer, self.accelerator, self.objective, strategy, None, None, 0, math.inf,
                                self.evaluations, self.valid, wall, seed, self.history)
        arrays, cycles, energy = self.best
        return MapperResult(self.layer, self.accelerator, self.objective, strategy, Mapping.from_arrays(arrays, 0),
                            arrays, cycles, energy, self.evaluations, self.valid, wall, seed, self.history)


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


def best_mapping(layer: Layer, accelerator: Accelerator, objective: str = "edp", strategy: str = "cmaes",
                 budget_evals: int | None = None, time_limit_s: float | None = None, seed: int = 0,
                 bypass: str = "auto", fixed_keep: dict[str, tuple[str, ...]] | None = None,
                 initial: Mapping | MappingArrays | None = None, islands: int = 4, popsize: int | None = None,
                 sigma0: float = 0.3, cma_variant: str = "sep", patience: int = 40, max_popsize: int = 256,
                 local_restarts: float = 0.5, local_sigma: float = 0.2, batch_size: int = 1024,
                 max_mappings: int = 2_000_000, constraints: MapspaceConstraints | None = None) -> MapperResult:
    """The best mapping of `layer` on `accelerator` for `objective` ("edp", "energy" or "latency").

    strategy "cmaes": `islands` CMA-ES runs over the encoding, each generation of all of them
    decoded and scored in one batch; a run that converges or makes no progress for `patience`
    generations restarts, locally (probability `local_restarts`, step `local_sigma`) or from a
    random mean with a doubled population (up to `max_popsize`, and 4x the gene count: sep-CMA
    diverges beyond). cma_variant "sep" (default) is diagonal sep-CMA (Ros & Hansen 2008): O(n)
    per sample, and it learns per-gene scales fast on the short budgets of an inner loop; "full"
    needs an n x n eigendecomposition per generation. "random": uniform x in batches of
    `batch_size`. "exhaustive": every mapping of the space (see `exhaustive`), refused with a
    ValueError above `max_mappings`.
    cmaes and random stop at `budget_evals` evaluations (20,000 if neither limit is given) or after
    `time_limit_s` seconds, whichever comes first; a CMA-ES generation is never cut, so it can
    overshoot the budget by one generation. `initial` (a mapping) seeds the first run's mean.
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
    if islands < 1:
        raise ValueError(f"best_mapping.islands must be >= 1, got {islands!r}")
    if budget_evals is None and time_limit_s is None:
        budget_evals = DEFAULT_BUDGET_EVALS
    if constraints is not None and strategy == "exhaustive":
        raise ValueError("best_mapping: the exhaustive strategy does not take mapspace constraints; "
                         "use strategy='cmaes' or 'random'")
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
    else:
        tracker = _Tracker(layer, accelerator, objective, budget_evals, time_limit_s)
        x0 = None if initial is None else enc.encode(initial)
        _cmaes_search(enc, tracker, rng, islands, popsize, sigma0, cma_variant, x0, patience, max_popsize,
                      local_restarts, local_sigma)
    return tracker.result(strategy, seed)


def with_layer(result: MapperResult, layer: Layer) -> MapperResult:
    """The same result reported for another layer of the same shape (e.g. a cache hit)."""
    return replace(result, layer=layer)
