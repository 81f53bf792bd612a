"""`gradient`: ProxylessNAS's differentiable search (Cai, Zhu, Han, "ProxylessNAS", ICLR 2019, Sec. 3.3) on the
device's exact per-choice cost table.

Architecture logits alpha per gene, p = softmax(alpha). The expected latency E[LAT] = sum over the space's layer
terms (`nets.spaces.terms`: a block's layers as a function of the few genes that shape them: its own choices, its
stage's depth, the resolution, a neighbouring stage's width where it reads it) and over the joint choices of each
term's genes of the product of their probabilities times the term's latency there, from the device's table. The
terms add up exactly to a subnet's layers, so E[LAT] is the exact expectation under the factorised distribution,
not an approximation; the table per choice is the term's cost at every joint choice of its genes (ProxylessNAS's
per-operator table, extended to the genes a block's shapes depend on). The accuracy is the space's estimator on
the expected one-hot features (OFA's predictor is an MLP on one-hot choices; `soft_score`).

Loss: ProxylessNAS's additive latency regulariser (its code's "add#linear": CE + lambda (E[LAT] - T) / T, lambda 0.2
by default), with the cross-entropy replaced by the estimated error 1 - ACC(p): L = 1 - ACC(p) + lambda (E[LAT] -
T) / T. Adam (Kingma and Ba, ICLR 2015) on alpha. Every `check_every` steps the argmax subnet is scored exactly (one
evaluation, when it is new); to meet a hard limit T, lambda grows by `lambda_growth` when the argmax is over it and
shrinks by the same factor's square root when it is within (a dual ascent on the constraint, added here: a fixed
lambda hits T only by tuning). The result is the best argmax scored, checked with its exact latency. MnasNet's
objective takes its reward ACC(p) x (E[LAT] / T)^w as the loss instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from nets import slot_choices

from ..problem import BudgetSpent, NASProblem, config_from
from .base import NASStrategy, check_fraction, check_positive_int


class GradientUnavailable(ValueError):
    """The space or device cannot give what the gradient strategy needs (a per-choice table, a differentiable
    accuracy)."""


@dataclass(frozen=True)
class Gradient(NASStrategy):
    """`steps` Adam steps at `learning_rate`; the latency weight starts at `latency_weight` (ProxylessNAS's lambda)
    and adapts by `lambda_growth`; the argmax is scored every `check_every` steps."""

    name = "gradient"
    source = ("ProxylessNAS's gradient on the expected latency (Cai et al., ICLR 2019, Sec. 3.3; its add#linear "
              "loss), on the exact per-choice table, with OFA's accuracy predictor on soft features")

    steps: int = 3000
    learning_rate: float = 0.05
    latency_weight: float = 0.2
    lambda_growth: float = 1.5
    check_every: int = 5

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "steps", self.steps)
        check_positive_int(owner, "check_every", self.check_every)
        check_fraction(owner, "learning_rate", self.learning_rate, 1e-6, 10.0)
        check_fraction(owner, "latency_weight", self.latency_weight, 0.0, 1e6)
        check_fraction(owner, "lambda_growth", self.lambda_growth, 1.0, 100.0)

    @staticmethod
    def check(problem: NASProblem) -> str | None:
        """Why the strategy cannot run on `problem` (None: it can)."""
        if problem.term_costs is None or problem.space.layer_terms() is None:
            return f"space {problem.space.cli_name} or this device has no per-choice cost table"
        if not hasattr(getattr(problem.accuracy, "estimator", None), "soft_score"):
            label = problem.accuracy.source.label if problem.accuracy is not None else "none"
            return (f"the accuracy of {problem.space.cli_name} ({label}) has no differentiable form; OFA's predictor "
                    "(ofa-mbv3) has one")
        target = problem.limits.latency_s if problem.objective.name != "mnasnet" else problem.objective.target_latency_s
        if target is None:
            return "it needs a latency target: a latency<= term in --budget (or MnasNet's --target-latency)"
        return None

    def search(self, problem: NASProblem) -> None:
        import torch

        why = self.check(problem)
        if why is not None:
            raise GradientUnavailable(f"--nas-strategy gradient: {why}")
        space = problem.space
        decisions = slot_choices(problem.genes)
        index = {(f, p): i for i, (f, p, _) in enumerate(decisions)}
        full = space.genes()
        alpha = [torch.zeros(len(choices), dtype=torch.float64, requires_grad=True) for _, _, choices in decisions]
        terms = space.layer_terms()
        tables = [torch.as_tensor(problem.term_costs(i)[0], dtype=torch.float64) for i in range(len(terms))]
        mnasnet = problem.objective.name == "mnasnet"
        target = problem.objective.target_latency_s if mnasnet else problem.limits.latency_s
        weight = self.latency_weight
        optimizer = torch.optim.Adam(alpha, lr=self.learning_rate)

        def expected_latency(probs) -> torch.Tensor:
            return expected_cost(terms, tables, {g: probs[i] for g, i in index.items()})

        def full_probs(probs) -> dict:
            out = {}
            for (f, p, choices), q in zip(decisions, probs):
                scattered = torch.zeros(len(full[f][p]), dtype=torch.float64)
                scattered = scattered.index_add(0, torch.tensor([full[f][p].index(c) for c in choices]), q)
                out[(f, p)] = scattered
            return out

        estimator = problem.accuracy.estimator
        try:
            for step in range(self.steps):
                probs = [torch.softmax(a, 0) for a in alpha]
                accuracy = estimator.soft_score(full_probs(probs))
                latency = expected_latency(probs)
                if mnasnet:
                    alpha_w, beta_w = problem.objective.exponents
                    w = alpha_w if float(latency) <= target else beta_w
                    loss = -accuracy * (latency / target) ** w
                else:
                    loss = (1.0 - accuracy) + weight * (latency - target) / target
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if (step + 1) % self.check_every == 0 or step == self.steps - 1:
                    pick = [int(torch.argmax(a)) for a in alpha]
                    (scored,) = problem.evaluate([config_from(space, decisions, pick)])
                    if not mnasnet:
                        weight = weight * self.lambda_growth if not scored.feasible else \
                            weight / math.sqrt(self.lambda_growth)
        except BudgetSpent:
            return


def expected_cost(terms, tables, probs: dict):
    """E[cost] under a factorised distribution over the genes (`probs`: gene (field, position) -> a torch tensor of
    probabilities over the gene's choices, in the tables' order): for each layer term, its table (the term's cost at
    every joint choice of its support) contracted with its genes' probabilities, summed over the terms."""
    import torch

    total = torch.zeros((), dtype=torch.float64)
    for term, table in zip(terms, tables):
        spec = _LETTERS[:len(term.support)]
        total = total + torch.einsum(f"{spec},{','.join(spec)}->", torch.as_tensor(table, dtype=torch.float64),
                                     *(probs[g] for g in term.support))
    return total


_LETTERS = "abcdefghijklmnop"


__all__ = ["Gradient", "GradientUnavailable", "expected_cost"]
