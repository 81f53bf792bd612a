"""Shared machinery of the zero-cost proxies: seeded model construction and inputs, on the CPU."""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

import torch
from torch import nn

from ..spaces.config import SubnetConfig
from ..torch_build import build_torch
from .base import AccuracyEstimator

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardswish)
"""Rectifier-like units of `build_torch` models (NASWOT codes them by the sign of their input)."""


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The Conv2d and Linear modules: the layers whose weights the gradient-based proxies read."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


class ZeroCostProxy(AccuracyEstimator):
    """A training-free score of a randomly initialised subnet at a small resolution (pixels).

    Everything random (weights, inputs, labels) comes from `seed`, in a forked torch RNG so that the
    caller's global RNG state is left alone: the same config and seed give the same score.
    """

    name = "proxy"
    kind = "proxy"
    build_options: dict = {}  # build_torch keyword options the proxy needs (residual, batchnorm)
    uses_batch = True  # False: the proxy runs a single fixed input and ignores batch_size

    def __init__(self, resolution: int = 64, batch_size: int = 16, seed: int = 0) -> None:
        if resolution < 32:
            raise ValueError(f"{type(self).__name__}.resolution must be >= 32 pixels (the subnets downsample "
                             f"32x), got {resolution}")
        if batch_size < 2:
            raise ValueError(f"{type(self).__name__}.batch_size must be >= 2, got {batch_size}")
        self.resolution = resolution
        self.batch_size = batch_size
        self.seed = seed

    def __repr__(self) -> str:
        batch = f", batch_size={self.batch_size}" if self.uses_batch else ""
        return f"{type(self).__name__}(resolution={self.resolution}{batch}, seed={self.seed})"

    def score(self, config: SubnetConfig | Mapping) -> float:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = build_torch(config, **self.build_options)
            return float(self._score(model))

    def _images(self, batch: int | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Standard-normal images, [batch, 3, resolution, resolution], from the forked RNG."""
        return torch.randn(batch or self.batch_size, 3, self.resolution, self.resolution, dtype=dtype)

    @abstractmethod
    def _score(self, model: nn.Module) -> float:
        """The proxy on a freshly built model (the RNG is already seeded)."""
