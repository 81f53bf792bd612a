"""The efficiency predictor (`--efficiency predictor`): an MLP from a subnet's encoding to its latency and energy on
one device, trained on subnets scored with the device's exact layer table: the "network-wise latency prediction
model" of the hardware-aware NAS literature (OFA's latency predictor, ProxylessNAS's latency model), here an
ESTIMATE standing in for the table (which is exact), labelled wherever shown, and the subnet a search finds with it
is scored with the table.

Encoding: one-hot per gene (every slot's choice, the resolution), as OFA's accuracy predictor encodes subnets; where
the space has layer terms (`nets.spaces.terms`: a block's layers as a function of a few genes) and a resolution gene,
also, per term, the one-hot of the joint choice of its genes other than the resolution, scaled by (r / r_max)^2 (a
block's work grows with the square of the input resolution). A subnet's latency is a sum over its terms, so these
features make it close to linear in the input; with the one-hots alone the MLP must learn every gene interaction
from the samples (Kendall tau 0.84 against 0.96 on held-out subnets, docs/nas.md).
Targets: log latency and log energy (scale-free; their errors are relative). Architecture: two hidden layers of 128
ReLU units, trained with Adam on the mean squared error (torch), run in numpy once trained.
"""
from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nets import GeneTable, SearchSpace, SubnetConfig, slot_choices

from ...nas_strategies import config_from
from .problem import SubnetCost

HIDDEN = 128
EPOCHS = 400
LEARNING_RATE = 3e-3


def encode(space: SearchSpace, decisions, config: SubnetConfig) -> np.ndarray:
    """One-hot per decision (field, position) of `decisions` (`nets.slot_choices` of a gene table)."""
    parts = []
    for field, pos, choices in decisions:
        value = getattr(config, field)
        value = value if field in space.scalar_genes else value[pos]
        one = np.zeros(len(choices))
        one[choices.index(value)] = 1.0
        parts.append(one)
    return np.concatenate(parts)


class TermEncoder:
    """A subnet's features: `encode`'s one-hots, then per layer term the one-hot of its non-resolution genes' joint
    choice scaled by (r / r_max)^2 (none when the space has no layer terms or no resolution gene)."""

    def __init__(self, space: SearchSpace, genes: GeneTable) -> None:
        self.space, self.decisions = space, slot_choices(genes)
        terms = space.layer_terms() if "r" in genes and "r" in space.scalar_genes else None
        self.r_max = max(genes["r"][0]) if terms else 1
        self.terms = []
        for term in terms or ():
            support = [g for g in term.support if g[0] != "r"]
            if support:
                joint = itertools.product(*(genes[f][p] for f, p in support))
                self.terms.append((support, {values: i for i, values in enumerate(joint)}))
        self.width = sum(len(c) for _, _, c in self.decisions) + sum(len(index) for _, index in self.terms)

    def __call__(self, config: SubnetConfig) -> np.ndarray:
        x = np.zeros(self.width)
        one_hot = encode(self.space, self.decisions, config)
        x[:len(one_hot)] = one_hot
        at, scale = len(one_hot), (config.r / self.r_max) ** 2 if self.terms else 1.0
        scalar = self.space.scalar_genes
        for support, index in self.terms:
            values = tuple(getattr(config, f) if f in scalar else getattr(config, f)[p] for f, p in support)
            x[at + index[values]] = scale
            at += len(index)
        return x


@dataclass
class EfficiencyPredictor:
    """A trained MLP (weights as numpy arrays) and the decisions it encodes."""

    space: SearchSpace
    encoder: TermEncoder
    layers: list
    mean: np.ndarray
    scale: np.ndarray
    energy: bool
    samples: int
    train_s: float

    @classmethod
    def fit(cls, space: SearchSpace, genes: GeneTable, exact: Callable[[SubnetConfig], SubnetCost], samples: int,
            seed: int = 0, energy: bool = True) -> "EfficiencyPredictor":
        """Train on `samples` uniform subnets of `genes` scored with `exact` (the table)."""
        import torch

        t0 = time.perf_counter()
        encoder = TermEncoder(space, genes)
        configs = draw_configs(space, genes, samples, seed)
        x = np.stack([encoder(c) for c in configs])
        costs = [exact(c) for c in configs]
        y = np.array([[math.log(c.latency_s), math.log(c.energy_j) if energy else 0.0] for c in costs])
        mean, scale = y.mean(0), y.std(0) + 1e-12
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(),
                                  torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 2))
        net = net.double()
        opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
        xt, yt = torch.as_tensor(x), torch.as_tensor((y - mean) / scale)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)    # a small MLP: intra-op threads only contend on a shared machine
        try:
            for _ in range(EPOCHS):
                opt.zero_grad()
                loss = ((net(xt) - yt) ** 2).mean()
                loss.backward()
                opt.step()
        finally:
            torch.set_num_threads(threads)
        layers = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
                  for m in net if isinstance(m, torch.nn.Linear)]
        return cls(space, encoder, layers, mean, scale, energy, samples, time.perf_counter() - t0)

    def predict(self, configs) -> np.ndarray:
        """[n, 2]: predicted latency (s) and energy (J) of each config."""
        x = np.stack([self.encoder(c) for c in configs])
        for i, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return np.exp(x * self.scale + self.mean)

    def cost(self, config: SubnetConfig) -> SubnetCost:
        lat, en = self.predict([config])[0]
        return SubnetCost(float(lat), float(en) if self.energy else math.nan)

    def describe(self) -> str:
        return f"an MLP trained on {self.samples} subnets scored with the layer table in {self.train_s:.1f} s"


def draw_configs(space: SearchSpace, genes: GeneTable, n: int, seed: int) -> list[SubnetConfig]:
    """`n` subnets with every gene of `genes` drawn uniformly (seeded)."""
    rng = np.random.default_rng([seed, 17])
    decisions = slot_choices(genes)
    return [config_from(space, decisions, [int(rng.integers(len(c))) for _, _, c in decisions]) for _ in range(n)]


__all__ = ["EfficiencyPredictor", "TermEncoder", "encode", "draw_configs"]
