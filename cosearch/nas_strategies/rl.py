"""`rl`: a controller trained with REINFORCE (Williams 1992), as in Zoph and Le ("Neural Architecture Search with
Reinforcement Learning", ICLR 2017) and MnasNet (Tan et al., CVPR 2019): the policy samples a subnet, the reward is
the objective on the device (MnasNet's ACC x (LAT/T)^w, or the accuracy with the hard limit in MnasNet's
hard-constraint form ACC x (LAT/T)^-1 above T), and the policy's log-probability of the sample is pushed up by the
reward minus an exponential moving average of past rewards (the baseline).

The policy is factorised: one categorical distribution per gene (its logits the parameters), not an RNN. The genes
of these spaces are a fixed list of slots whose effect on accuracy and latency is close to additive (a subnet's
latency is exactly a sum over its blocks, and OFA's accuracy predictor reads independent one-hot features), so a
per-slot policy can represent the optimum; an RNN's conditioning of each choice on the earlier ones would add
parameters to fit from the same few thousand rewards. Updates use Adam (Kingma and Ba, ICLR 2015) on the logits.

Like OFA's evolution and the random baseline, the controller checks a sample's latency / energy / power against the
limits before it is evaluated (the table's cheap look-up, not an evaluation) and draws again while it is over them
(`NASProblem.sample_within`): the policy samples from its distribution restricted to the limits. The score function
is then that restricted distribution's, grad log pi(a | within) = grad log pi(a) - E[grad log pi | within]; for a
factorised categorical, one_hot(a) - P(choice | within) per gene, the expectation estimated by the batch's mean
one-hot. Without limits every draw is kept and this is REINFORCE with the batch mean as an extra baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nets import slot_choices

from .base import BudgetSpent, NASProblemLike, NASStrategy, check_fraction, check_positive_int, config_from


@dataclass(frozen=True)
class Reinforce(NASStrategy):
    """`batch` samples per update, Adam step `learning_rate` (betas 0.9, 0.999), baseline decay `baseline_decay`,
    advantages divided by a running standard deviation of the rewards (same decay) so that the step does not depend
    on the objective's scale."""

    name = "rl"
    source = ("REINFORCE with a moving-average baseline (Zoph and Le, ICLR 2017; MnasNet, Tan et al., CVPR 2019), "
              "factorised categorical policy")

    batch: int = 16
    learning_rate: float = 0.05
    baseline_decay: float = 0.95

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_positive_int(owner, "batch", self.batch)
        check_fraction(owner, "learning_rate", self.learning_rate, 1e-6, 10.0)
        check_fraction(owner, "baseline_decay", self.baseline_decay, 0.0, 0.9999)

    def search(self, problem: NASProblemLike) -> None:
        rng, space = problem.rng, problem.space
        decisions = slot_choices(problem.genes)
        logits = [np.zeros(len(choices)) for _, _, choices in decisions]
        m = [np.zeros_like(x) for x in logits]
        v = [np.zeros_like(x) for x in logits]
        baseline, spread, t = None, 1.0, 0
        stale = 0
        while not problem.done and stale < 50:
            probs = [np.exp(x - x.max()) / np.exp(x - x.max()).sum() for x in logits]
            cdf = np.ones((len(probs), max(len(p) for p in probs)))
            for g, p in enumerate(probs):
                cdf[g, :len(p)] = np.cumsum(p)
            last = np.array([len(p) - 1 for p in probs])

            def draw() -> tuple:
                pick = np.minimum((rng.random(len(probs))[:, None] >= cdf).sum(1), last)
                return tuple(int(k) for k in pick)

            picks, configs = [], []
            for _ in range(self.batch):
                latest: list = []

                def candidate(latest=latest):
                    latest[:] = [draw()]
                    return config_from(space, decisions, latest[0])

                configs.append(problem.sample_within(candidate))   # the last candidate drawn
                picks.append(latest[0])
            before = problem.evaluations
            try:
                scored = problem.evaluate(configs)
            except BudgetSpent:
                return
            stale = stale + 1 if problem.evaluations == before else 0
            rewards = np.array([problem.value_of(e) for e in scored])
            if baseline is None:
                baseline, spread = float(rewards.mean()), float(rewards.std()) or 1.0
            onehots = [np.eye(len(p))[[pick[g] for pick in picks]] for g, p in enumerate(probs)]
            within = [h.mean(0) for h in onehots]       # E[one-hot | within the limits], estimated by the batch
            advantages = (rewards - baseline) / (spread + 1e-12)
            grads = [-(advantages[:, None] * (h - w)).mean(0) for h, w in zip(onehots, within)]  # descent on -R log pi
            d = self.baseline_decay
            baseline = d * baseline + (1 - d) * float(rewards.mean())
            spread = d * spread + (1 - d) * float(np.abs(rewards - baseline).mean())
            t += 1
            for g in range(len(logits)):
                m[g] = 0.9 * m[g] + 0.1 * grads[g]
                v[g] = 0.999 * v[g] + 0.001 * grads[g] ** 2
                step = m[g] / (1 - 0.9 ** t) / (np.sqrt(v[g] / (1 - 0.999 ** t)) + 1e-8)
                logits[g] -= self.learning_rate * step


__all__ = ["Reinforce"]
