"""The efficiency predictor (`--efficiency predictor`): an MLP from a subnet's encoding to its latency and energy on
one device, trained on subnets scored with the device's exact layer table: the "network-wise latency prediction
model" of the hardware-aware NAS literature (OFA's latency predictor, ProxylessNAS's latency model), here an
ESTIMATE standing in for the table (which is exact), labelled wherever shown, and the subnet a search finds with it
is scored with the table.

Encoding: one-hot per gene (every slot's choice, the resolution), as OFA's accuracy predictor encodes subnets.
Targets: log latency and log energy (scale-free; their errors are relative). Architecture: two hidden layers of 128
ReLU units, trained with Adam on the mean squared error (torch), run in numpy once trained.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nets import GeneTable, SearchSpace, SubnetConfig, slot_choices

from .problem import SubnetCost, config_from

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


@dataclass
class EfficiencyPredictor:
    """A trained MLP (weights as numpy arrays) and the decisions it encodes."""

    space: SearchSpace
    decisions: list
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
        rng = np.random.default_rng([seed, 17])
        decisions = slot_choices(genes)
        configs = [_draw(space, decisions, rng) for _ in range(samples)]
        x = np.stack([encode(space, decisions, c) for c in configs])
        costs = [exact(c) for c in configs]
        y = np.array([[math.log(c.latency_s), math.log(c.energy_j) if energy else 0.0] for c in costs])
        mean, scale = y.mean(0), y.std(0) + 1e-12
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], HIDDEN), torch.nn.ReLU(),
                                  torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 2))
        net = net.double()
        opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
        xt, yt = torch.as_tensor(x), torch.as_tensor((y - mean) / scale)
        for _ in range(EPOCHS):
            opt.zero_grad()
            loss = ((net(xt) - yt) ** 2).mean()
            loss.backward()
            opt.step()
        layers = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
                  for m in net if isinstance(m, torch.nn.Linear)]
        return cls(space, decisions, layers, mean, scale, energy, samples, time.perf_counter() - t0)

    def predict(self, configs) -> np.ndarray:
        """[n, 2]: predicted latency (s) and energy (J) of each config."""
        x = np.stack([encode(self.space, self.decisions, c) for c in configs])
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


def _draw(space: SearchSpace, decisions, rng: np.random.Generator) -> SubnetConfig:
    return config_from(space, decisions, [int(rng.integers(len(c))) for _, _, c in decisions])


__all__ = ["EfficiencyPredictor", "encode"]
