"""`evolution`: OFA's evolutionary search (Cai et al., "Once-for-All", ICLR 2020, Sec. 3.4; the settings of its code,
mit-han-lab/once-for-all ofa/nas/search_algorithm/evolution.py): a population of random subnets, then generations
in which the best `parent_ratio` of the population are kept as parents and `population` children are made, a
`mutation_ratio` share by mutating a random parent (each gene redrawn with probability `mutate_prob`, the resolution
with `resolution_mutate_prob`) and the rest by crossing two random parents (each gene from either), and parents and
children form the next population. As OFA's, the initial subnets and every child are drawn again while their cost is
over the latency / energy / power limits (`NASProblem.sample_within`), before their accuracy is scored."""
from __future__ import annotations

from dataclasses import dataclass

from nets import crossover_configs, mutate_config

from .base import BudgetSpent, NASProblemLike, NASStrategy, check_fraction, check_positive_int


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

    def mutation_table(self, problem: NASProblemLike) -> dict[str, float]:
        """The probability of redrawing each gene: `mutate_prob`, `resolution_mutate_prob` for the space's
        resolution gene."""
        resolution = problem.space.resolution_gene
        return {g: self.resolution_mutate_prob if g == resolution else self.mutate_prob for g in problem.genes}

    def search(self, problem: NASProblemLike) -> None:
        rng = problem.rng
        n_parents = max(1, int(round(self.parent_ratio * self.population)))
        n_mutations = int(round(self.mutation_ratio * self.population))
        table = self.mutation_table(problem)
        try:
            population: list = problem.evaluate(
                list(problem.seeds)[:self.population]
                + [problem.sample_within(problem.sample)
                   for _ in range(max(0, self.population - len(problem.seeds)))])
            for _ in range(self.generations):
                parents = sorted(population, key=problem.rank)[:n_parents]
                children = [problem.sample_within(
                    lambda: mutate_config(parents[int(rng.integers(n_parents))].config, rng, table, problem.genes))
                    for _ in range(n_mutations)]
                children += [problem.sample_within(
                    lambda: crossover_configs(parents[int(rng.integers(n_parents))].config,
                                              parents[int(rng.integers(n_parents))].config, rng))
                    for _ in range(self.population - n_mutations)]
                population = parents + problem.evaluate(children)
        except BudgetSpent:
            return


__all__ = ["Evolution"]
