"""`CMAESStrategy` ("cmaes"): CMA-ES from the `cmaes` package over the encoding, several runs side by side, each
generation of all of them decoded and scored in one batch: the reference the compiled strategy is held to."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..encoding import Encoding
from .base import check_island_settings
from .tracker import Tracker, TrackedStrategy


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold R^n onto [0,1]^n by mirroring at the bounds (period 2): CMA-ES's boundary handling."""
    return 1.0 - np.abs(np.mod(x, 2.0) - 1.0)


@dataclass(frozen=True)
class CMAESStrategy(TrackedStrategy):
    """`islands` CMA-ES runs side by side (population `popsize`, 0: the package's default; first step `sigma0`). A run
    that converges or makes no progress for `patience` generations restarts, around the best genes so far with step
    `local_sigma` (probability `local_restarts`; BIPOP-CMA-ES's local regime, Hansen 2009) or from a random mean with
    a doubled population (IPOP-CMA-ES, Auger and Hansen 2005), up to `max_popsize` and 4x the gene count (sep-CMA's
    covariance update diverges beyond). `variant` "sep" is diagonal sep-CMA (Ros and Hansen 2008: O(n) per sample,
    and it learns per-gene scales fast on short budgets), "full" the full covariance (an n x n eigendecomposition per
    generation). Seeds are scored first; the best of them is the first run's mean. A generation is never cut, so a
    search can overshoot its evaluation budget by one generation."""

    name = "cmaes"

    islands: int = 4
    popsize: int = 0
    sigma0: float = 0.3
    variant: str = "sep"
    patience: int = 40
    max_popsize: int = 256
    local_restarts: float = 0.5
    local_sigma: float = 0.2

    def __post_init__(self) -> None:
        check_island_settings(self)
        if self.variant not in ("sep", "full"):
            raise ValueError(f"{type(self).__name__}.variant must be 'sep' or 'full', got {self.variant!r}")

    def explore(self, enc: Encoding, tracker: Tracker, seed: int, seeds: np.ndarray) -> None:
        from cmaes import CMA, SepCMA

        rng = np.random.default_rng(seed)
        n = enc.size
        if n == 0:
            tracker.score(enc.decode(np.zeros((1, 0))))
            return
        x0 = None
        if len(seeds):
            f = tracker.score(enc.decode(_reflect(np.asarray(seeds, dtype=float))))
            x0 = _reflect(np.asarray(seeds[int(np.argmin(f))], dtype=float))
        cls = {"sep": SepCMA, "full": CMA}[self.variant]
        pad = 1 if n == 1 else 0           # cmaes wants n >= 2: a 1-gene space gets an ignored gene
        cap = max(4 + int(3 * math.log(n + pad)), min(self.max_popsize, 4 * (n + pad)))
        popsize = self.popsize or None
        best_x = {"x": None, "f": math.inf}

        def start(pop: int | None, mean: np.ndarray | None = None, sigma: float = self.sigma0):
            if mean is None:
                mean = rng.random(n + pad)
            pop = None if pop is None else min(pop, cap)
            opt = cls(mean=mean, sigma=sigma, seed=int(rng.integers(2**31)), population_size=pop)
            return {"opt": opt, "best": math.inf, "stall": 0}

        runs = []
        for k in range(self.islands):
            mean = np.concatenate([x0, np.full(pad, 0.5)]) if k == 0 and x0 is not None else None
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
                if broken or r["opt"].should_stop() or r["stall"] > self.patience:
                    if self.local_restarts > 0 and rng.random() < self.local_restarts and best_x["x"] is not None:
                        runs[k] = start(popsize, _reflect(best_x["x"]), self.local_sigma)
                    else:
                        runs[k] = start(2 * r["opt"].population_size)


__all__ = ["CMAESStrategy"]
