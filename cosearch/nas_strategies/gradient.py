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

import numpy as np

from nets import slot_choices

from .base import BudgetSpent, NASProblemLike, NASStrategy, check_fraction, check_positive_int, config_from


class GradientUnavailable(ValueError):
    """The space or device cannot give what the gradient strategy needs (a per-choice table, a differentiable
    accuracy)."""


@dataclass(frozen=True)
class Gradient(NASStrategy):
    """`steps` Adam steps at `learning_rate`; the latency weight starts at `latency_weight` (ProxylessNAS's lambda)
    and adapts by `lambda_growth`; the argmax is scored every `check_every` steps."""

    name = "gradient"
    per_choice_costs = True
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

    def check_inputs(self, space, devices) -> str | None:
        """The gradient needs a per-choice cost table, which a space without layer terms cannot give."""
        if space.layer_terms() is None:
            return f"space {space.cli_name} has no per-choice cost table"
        return None

    @staticmethod
    def check(problem: NASProblemLike) -> str | None:
        """Why the strategy cannot run on `problem` (None: it can)."""
        if problem.term_costs is None or problem.space.layer_terms() is None:
            return f"space {problem.space.cli_name} or this device has no per-choice cost table"
        if not hasattr(getattr(problem.accuracy, "estimator", None), "soft_score"):
            label = problem.accuracy.source.label if problem.accuracy is not None else "none"
            return (f"the accuracy of {problem.space.cli_name} ({label}) has no differentiable form; OFA's predictor "
                    "(ofa-mbv3) has one")
        if problem.objective.latency_target(problem.limits) is None:
            return "it needs a latency target: a latency<= term in --budget (or MnasNet's --target-latency)"
        return None

    def search(self, problem: NASProblemLike) -> None:
        import torch

        why = self.check(problem)
        if why is not None:
            raise GradientUnavailable(f"--nas-strategy gradient: {why}")
        space = problem.space
        decisions = slot_choices(problem.genes)
        sizes = [len(choices) for _, _, choices in decisions]
        terms = space.layer_terms()
        expected_latency = ExpectedCost(terms, [problem.term_costs(i)[0] for i in range(len(terms))],
                                        [(f, p) for f, p, _ in decisions])
        spread = _Spread(space.genes(), decisions)
        target = problem.objective.latency_target(problem.limits)
        weight = self.latency_weight
        estimator = problem.accuracy.estimator
        # all logits in one [decisions, widest] tensor (one softmax, one Adam update); the padding is -inf
        mask = torch.full((len(sizes), max(sizes)), -math.inf, dtype=torch.float64)
        for i, n in enumerate(sizes):
            mask[i, :n] = 0.0
        real = mask == 0.0
        alpha = torch.zeros_like(mask, requires_grad=True)
        optimizer = torch.optim.Adam([alpha], lr=self.learning_rate)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)    # tensors of a few hundred numbers: intra-op threads only add synchronisation
        try:
            for step in range(self.steps):
                table = torch.softmax(alpha + mask, dim=1)
                probs = list(torch.split(table[real], sizes))     # one node each, not one per decision
                accuracy = estimator.soft_score(spread(probs))
                latency = expected_latency(probs)
                reward = problem.objective.gradient_reward(accuracy, latency)
                if reward is not None:      # the objective is the loss (MnasNet's reward)
                    loss = -reward
                else:                       # accuracy against the latency target, the weight adapting below
                    loss = (1.0 - accuracy) + weight * (latency - target) / target
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if (step + 1) % self.check_every == 0 or step == self.steps - 1:
                    with torch.no_grad():
                        pick = [int(torch.argmax(alpha[i, :n])) for i, n in enumerate(sizes)]
                    (scored,) = problem.evaluate([config_from(space, decisions, pick)])
                    if reward is None:
                        weight = weight * self.lambda_growth if not scored.feasible else \
                            weight / math.sqrt(self.lambda_growth)
        except BudgetSpent:
            return
        finally:
            torch.set_num_threads(threads)


class _Spread:
    """The probabilities over the search's choices of each gene as probabilities over the space's full gene table
    (what the accuracy estimator reads); the identity when the search has every choice."""

    def __init__(self, full, decisions) -> None:
        self.keys = [(f, p) for f, p, _ in decisions]
        self.where = [None if tuple(choices) == tuple(full[f][p]) else
                      ([full[f][p].index(c) for c in choices], len(full[f][p])) for f, p, choices in decisions]

    def __call__(self, probs) -> dict:
        import torch

        out = {}
        for key, where, q in zip(self.keys, self.where, probs):
            if where is not None:
                q = torch.zeros(where[1], dtype=q.dtype).index_add(0, torch.tensor(where[0]), q)
            out[key] = q
        return out


class ExpectedCost:
    """E[cost] under a factorised distribution over the genes, as a torch function of the genes' probability
    vectors with its exact gradient: for each layer term, its table (the term's cost at every joint choice of its
    support) contracted with its genes' probabilities, summed over the terms. Computed in numpy: terms whose tables
    have one shape are stacked, so a step is a few `einsum`s (value) plus one per table axis (the gradient: the table
    contracted with every other gene's probabilities)."""

    def __init__(self, terms, tables, genes) -> None:
        where = {g: i for i, g in enumerate(genes)}
        groups: dict[tuple, list[int]] = {}
        for i, table in enumerate(tables):
            groups.setdefault(np.shape(table), []).append(i)
        self.groups = []
        for shape, members in groups.items():
            stacked = np.stack([np.asarray(tables[i], dtype=np.float64) for i in members])
            axes = [[where[terms[i].support[a]] for i in members] for a in range(len(shape))]
            self.groups.append((stacked, axes, self._specs(len(shape))))
        self.genes = len(genes)

    @staticmethod
    def _specs(k: int) -> tuple[str, list[str]]:
        """The einsum of the value and, per axis, of the gradient (`z` runs over the stacked terms)."""
        letters = _LETTERS[:k]
        value = ",".join([f"z{letters}"] + [f"z{c}" for c in letters]) + "->"
        grads = [",".join([f"z{letters}"] + [f"z{letters[j]}" for j in range(k) if j != a]) + f"->z{letters[a]}"
                 for a in range(k)]
        return value, grads

    def value_and_grads(self, probs: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
        """E[cost] and its gradient with respect to each gene's probabilities (in `genes` order)."""
        total = 0.0
        grads = [np.zeros_like(p) for p in probs]
        for stacked, axes, (value_spec, grad_specs) in self.groups:
            k = len(axes)
            if k == 0:              # a term no gene shapes: a constant
                total += float(stacked.sum())
                continue
            operands = [np.stack([probs[g] for g in genes]) for genes in axes]
            total += float(np.einsum(value_spec, stacked, *operands, optimize=True))
            for a, spec in enumerate(grad_specs):
                part = np.einsum(spec, stacked, *(operands[j] for j in range(k) if j != a), optimize=True)
                for row, g in zip(part, axes[a]):
                    grads[g] += row
        return total, grads

    def __call__(self, probs):
        return _ExpectedCostFunction.apply(self, *probs)


def _expected_cost_function():
    import torch

    class Function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, plan, *probs):
            value, grads = plan.value_and_grads([p.detach().numpy() for p in probs])
            ctx.grads = grads
            return torch.tensor(value, dtype=torch.float64)

        @staticmethod
        def backward(ctx, upstream):
            return (None, *(upstream * torch.from_numpy(g) for g in ctx.grads))

    return Function


class _Lazy:
    """torch is imported on first use (the command line does not import it unless the gradient strategy runs)."""

    def __init__(self, make) -> None:
        self.make, self.made = make, None

    def apply(self, *args):
        if self.made is None:
            self.made = self.make()
        return self.made.apply(*args)


_ExpectedCostFunction = _Lazy(_expected_cost_function)


def expected_cost(terms, tables, probs: dict):
    """E[cost] under a factorised distribution over the genes (`probs`: gene (field, position) -> a torch tensor of
    probabilities over the gene's choices, in the tables' order), differentiable with respect to `probs`."""
    genes = list(probs)
    return ExpectedCost(terms, tables, genes)([probs[g] for g in genes])


_LETTERS = "abcdefghijklmnop"


__all__ = ["Gradient", "GradientUnavailable", "ExpectedCost", "expected_cost"]
