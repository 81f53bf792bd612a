"""`evolution`: OFA's evolutionary search (Cai et al., "Once-for-All", ICLR 2020, Sec. 3.4; the settings of its code,
mit-han-lab/once-for-all ofa/nas/search_algorithm/evolution.py): a population of random subnets, then generations
in which the best `parent_ratio` of the population are kept as parents and `population` children are made, a
`mutation_ratio` share by mutating a random parent (each gene redrawn with probability `mutate_prob`, the resolution
with `resolution_mutate_prob`) and the rest by crossing two random parents (each gene from either), and parents and
children form the next population. As OFA's, the initial subnets and every child are drawn again while their cost is
over the latency / energy / power limits (`NASProblem.sample_within`), before their accuracy is scored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..problem import BudgetSpent, Evaluated, NASProblem
from .base import NASStrategy, check_fraction, check_positive_int


@dataclass(frozen=True)
class Evolution(NASStrategy):
    """OFA's published settings by default: population 100, parent ratio 0.25, mutation ratio 0.5, gene mutation
    probability 0.1, resolution mutation probability 0.5, 500 generations (at most; the evaluation budget may end it
    first)."""

    name = "evolution"
    source = ("OFA's evolutionary search (Cai et al., ICLR 2020; settings of mit-han-lab/once-for-all "
              "ofa/nas/search_algorithm/evolution.py)")

    population: int = 100
    parent_ratio: float = 0.25
    mutation_ratio: float = 0.5
    mutate_prob: float = 0.1
    resolution_mutate_prob: float = 0.5
    generations: int = 500

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "population", self.population, 2)
        check_positive_int(owner, "generations", self.generations, 0)
        check_fraction(owner, "parent_ratio", self.parent_ratio, 0.01, 1.0)
        for name in ("mutation_ratio", "mutate_prob", "resolution_mutate_prob"):
            check_fraction(owner, name, getattr(self, name))

    def _mutate(self, problem: NASProblem, parent) -> Any:
        rng, space = problem.rng, problem.space
        values = {}
        for f, per in problem.genes.items():
            current = getattr(parent, f)
            current = (current,) if f in space.scalar_genes else current
            prob = self.resolution_mutate_prob if f == "r" else self.mutate_prob
            values[f] = tuple(c[int(rng.integers(len(c)))] if rng.random() < prob else v
                              for v, c in zip(current, per))
        return space.make({f: v[0] if f in space.scalar_genes else v for f, v in values.items()})

    def _cross(self, problem: NASProblem, a, b) -> Any:
        rng, space = problem.rng, problem.space
        values = {}
        for f in problem.genes:
            va, vb = getattr(a, f), getattr(b, f)
            if f in space.scalar_genes:
                values[f] = va if rng.random() < 0.5 else vb
            else:
                values[f] = tuple(x if rng.random() < 0.5 else y for x, y in zip(va, vb))
        return space.make(values)

    def search(self, problem: NASProblem) -> None:
        rng = problem.rng
        n_parents = max(1, int(round(self.parent_ratio * self.population)))
        n_mutations = int(round(self.mutation_ratio * self.population))
        try:
            population: list[Evaluated] = problem.evaluate(
                list(problem.seeds)[:self.population]
                + [problem.sample_within(problem.sample)
                   for _ in range(max(0, self.population - len(problem.seeds)))])
            for _ in range(self.generations):
                parents = sorted(population, key=problem.rank)[:n_parents]
                children = [problem.sample_within(
                    lambda: self._mutate(problem, parents[int(rng.integers(n_parents))].config))
                    for _ in range(n_mutations)]
                children += [problem.sample_within(
                    lambda: self._cross(problem, parents[int(rng.integers(n_parents))].config,
                                        parents[int(rng.integers(n_parents))].config))
                    for _ in range(self.population - n_mutations)]
                population = parents + problem.evaluate(children)
        except BudgetSpent:
            return


__all__ = ["Evolution"]
