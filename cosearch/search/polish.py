"""The final phase's local search: the best design's genes moved one at a time, its network fixed (a pattern search).

Why: the outer CMA-ES drifts slowly towards the designs it ends at, because a noisy objective (each trial's layer
costs come from a short mapper search, its subnet from a short evolution) shrinks its step about as fast as it
moves. In a 10-minute default run (seed 0, 795 complete trials, 57 generations) the spread of its samples (standard
deviation per gene, averaged over the genes) fell from 0.13-0.15 to 0.05 while the mean of `pes` moved from 0.66 to
0.88 and that of `dram_bw` from 0.86 to 0.92-0.95: the designs it ends at fill the area budget with PEs and have the
most DRAM bandwidth, which a 3-minute run has not reached. A short compass search around the best design (the
exploratory moves of Hooke and Jeeves' pattern search, "'Direct search' solution of numerical and statistical
problems", J. ACM 8(2), 1961, without their pattern moves: each gene moved by +-step in turn, the step halved when
none improves) takes it most of the way in about a hundred evaluations, each one mapping the fixed network on a new
accelerator with the search's mapper (no subnet search); its budget and candidates: docs/defaults.md.

A move that changes a gene is tried as it is and "fitted": with `pes` set to the most PEs that fit the budget beside
the moved buffers (`fit_pes`), since a design that frees area (smaller register files, a smaller buffer) gains from
it only once PEs use that area, and one that grows past the budget fits only once PEs give some back.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..config import POLISH_EVALUATIONS
from .objective import Objective
from .space import AcceleratorSpace, Design

POLISH_STEPS = (0.2, 0.1, 0.05)
"""The gene steps of the pattern search, largest first: a step is halved when no move of it improves."""
_FIT_BISECTIONS = 12  # pes gene resolution 1/4096: 0.2% in PE count over the widest range (16-65,536 PEs, log scale)


@dataclass(frozen=True)
class PolishResult:
    """The polished genes and design, their score and the start's (both by `score_of`), and what was tried."""

    genes: dict[str, float]
    design: Design
    score: Objective | None
    start_score: Objective | None
    """None: the start design has no valid mapping with `score_of`'s mapper (nothing was moved)."""
    evaluations: int
    moves: tuple[str, ...]
    """The accepted moves in order, e.g. 'dram_bw +0.2', 'rf_weights -0.1 (fitted)'."""
    wall_s: float
    timed_out: bool = False
    """Whether `stop_at` ended the search before its evaluations or its smallest step did."""

    @property
    def improved(self) -> bool:
        return self.start_score is not None and self.score.sort_key() < self.start_score.sort_key()


def fit_pes(space: AcceleratorSpace, genes: Mapping[str, float]) -> dict[str, float] | None:
    """`genes` with `pes` at the largest value whose design fits the space's budget (None if not even the fewest
    PEs fit): up from `genes["pes"]` if its design fits, down from it if it does not."""
    def fits(value: float) -> bool:
        return space.check(space.decode({**genes, "pes": value})).fits

    if fits(genes["pes"]):
        lo, hi = genes["pes"], 1.0
        if fits(hi):
            return {**genes, "pes": hi}
    else:
        lo, hi = 0.0, genes["pes"]
        if not fits(lo):
            return None
    for _ in range(_FIT_BISECTIONS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return {**genes, "pes": lo}


def polish(space: AcceleratorSpace, genes: Mapping[str, float], score_of: Callable[[Design], Objective | None],
           max_evaluations: int = POLISH_EVALUATIONS, steps: tuple[float, ...] = POLISH_STEPS,
           stop_at: float | None = None) -> PolishResult:
    """Pattern search from `genes` (a point of `space`): each gene moved by +-step in turn, as it is and fitted
    (`fit_pes`), a move kept when its design scores better (`Objective.sort_key`); the step halves (`steps`) when a
    whole pass keeps none. `score_of(design)` scores a design (None: no valid mapping); designs over the budget and
    designs already scored are skipped, so `max_evaluations` counts distinct designs scored (after the start's own
    score; a start without a valid mapping is returned as it is, unscored). `stop_at`: a `time.monotonic()` time
    after which no further design is scored (the start is scored whatever the time); None: no time bound."""
    t0 = time.perf_counter()
    x = {g: min(1.0, max(0.0, float(genes[g]))) for g in space.genes}
    design = space.decode(x)
    start = score_of(design)
    if start is None:
        return PolishResult(x, design, None, None, 0, (), time.perf_counter() - t0)
    best, scored, moves = start, {design: start}, []

    def candidates(name: str, step: float):
        for sign in (1.0, -1.0):
            moved = {**x, name: min(1.0, max(0.0, x[name] + sign * step))}
            if moved[name] == x[name]:
                continue
            label = f"{name} {sign * step:+g}"
            yield moved, label
            fitted = fit_pes(space, moved)
            if fitted is not None and fitted["pes"] != moved["pes"]:
                yield fitted, f"{label} (fitted)"

    fitted = fit_pes(space, x)
    pending = [] if fitted is None or fitted["pes"] == x["pes"] else [(fitted, "pes fitted")]
    for step in steps:
        kept = True
        while kept:
            kept = False
            for name in space.genes:
                # lazily: a fitted variant (a bisection of ~13 area checks) only when the moves before it did not win
                for cand, label in itertools.chain(pending, candidates(name, step)):
                    d = space.decode(cand)
                    if d in scored or not space.check(d).fits:
                        continue
                    if len(scored) - 1 >= max_evaluations:
                        return PolishResult(x, design, best, start, len(scored) - 1, tuple(moves),
                                            time.perf_counter() - t0)
                    if stop_at is not None and time.monotonic() >= stop_at:
                        return PolishResult(x, design, best, start, len(scored) - 1, tuple(moves),
                                            time.perf_counter() - t0, timed_out=True)
                    s = score_of(d)
                    scored[d] = s
                    if s is not None and s.sort_key() < best.sort_key():
                        x, design, best, kept = cand, d, s, True
                        moves.append(label)
                        break
                pending = []
    return PolishResult(x, design, best, start, len(scored) - 1, tuple(moves), time.perf_counter() - t0)
