"""Zen-score (Lin et al., "Zen-NAS: A Zero-Shot NAS for High-Performance Image Recognition", ICCV 2021).

Algorithm 1 of the paper: remove residual links; draw every weight from N(0, 1); for Gaussian inputs x
and perturbations e, Delta = E ||f(x) - f(x + alpha e)||_F on the pre-global-pool feature map f, with
alpha = 0.01; each BatchNorm layer i contributes log sqrt(mean_j sigma_ij^2), sigma_ij being the
mini-batch standard deviation of its channel j; Zen-score = log Delta + sum_i log sigma_i.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._proxy import ZeroCostProxy


def gaussian_init_(model: nn.Module) -> None:
    """Zen-NAS initialisation: conv / linear weights ~ N(0, 1), biases 0, BN scale 1 and shift 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class ZenScore(ZeroCostProxy):
    """Zen-score of the subnet without its residual links (higher = more expressive)."""

    name = "zen"
    build_options = {"residual": False}
    alpha = 0.01  # perturbation scale, Zen-NAS (ICCV 2021) Algorithm 1

    def __init__(self, resolution: int = 64, batch_size: int = 16, seed: int = 0, repeats: int = 1) -> None:
        super().__init__(resolution, batch_size, seed)
        if repeats < 1:
            raise ValueError(f"ZenScore.repeats must be >= 1, got {repeats}")
        self.repeats = repeats

    def _score(self, model: nn.Module) -> float:
        model.train()  # BatchNorm normalises with mini-batch statistics, as the paper assumes
        features = getattr(model, "forward_pre_gap", model)
        scores = []
        for _ in range(self.repeats):
            gaussian_init_(model)
            x, noise = self._images(), self._images()
            log_sigma: list[float] = []

            def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
                var = args[0].detach().double().var(dim=(0, 2, 3), unbiased=False)
                log_sigma.append(0.5 * math.log(float(var.mean())))

            handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
            with torch.no_grad():
                try:
                    fx = features(x)
                finally:
                    for h in handles:
                        h.remove()
                f_mixed = features(x + self.alpha * noise)
            delta = (fx - f_mixed).double().flatten(1).norm(dim=1).mean()
            scores.append(math.log(float(delta)) + sum(log_sigma))
        return sum(scores) / len(scores)
