"""`random`: uniform subnets within the limits (every gene drawn independently, drawn again while the subnet's cost
is over the latency / energy / power limits, as OFA's random sampling does), until the budget is spent: every NAS
paper's baseline. The best wins."""
from __future__ import annotations

from dataclasses import dataclass

from .base import BudgetSpent, NASProblemLike, NASStrategy, check_positive_int


@dataclass(frozen=True)
class RandomSearch(NASStrategy):
    """`batch` subnets drawn and scored at a time."""

    name = "random"
    source = "uniform sampling of the gene table (the baseline of NAS papers, e.g. Li and Talwalkar, UAI 2019)"

    batch: int = 64

    def __post_init__(self) -> None:
        check_positive_int(type(self).__name__, "batch", self.batch)

    def search(self, problem: NASProblemLike) -> None:
        stale = 0
        while not problem.done and stale < 100:
            before = problem.evaluations
            try:
                problem.evaluate([problem.sample_within(problem.sample)
                                  for _ in range(min(self.batch, problem.remaining))])
            except BudgetSpent:
                return
            stale = stale + 1 if problem.evaluations == before else 0   # a tiny space drawn out


__all__ = ["RandomSearch"]
