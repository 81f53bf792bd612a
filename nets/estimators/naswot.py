"""NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021).

Each input of a mini-batch gets a binary code: which rectified units it switches on (input > 0).
K_H[i, j] = N_A - Hamming(c_i, c_j) (N_A = number of units); the score is log |det K_H|.
Data-free here: the mini-batch is standard-normal images. Hardswish units are coded by the sign of
their input like ReLUs; the SE gates (hard-sigmoid) are not rectifiers and are not coded.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._proxy import ACTIVATIONS, ZeroCostProxy


class NASWOT(ZeroCostProxy):
    """log |det K_H| of the activation-pattern kernel over a Gaussian mini-batch (higher = better)."""

    name = "naswot"

    def __init__(self, resolution: int = 64, batch_size: int = 32, seed: int = 0) -> None:
        super().__init__(resolution, batch_size, seed)

    def _score(self, model: nn.Module) -> float:
        model.train()  # freshly initialised, as the authors score networks
        kernel = torch.zeros(self.batch_size, self.batch_size, dtype=torch.float64)

        def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
            codes = (args[0].detach().flatten(1) > 0).double()
            # c c^T counts units both on, (1-c)(1-c)^T both off: together N_A - Hamming distance
            kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

        handles = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, ACTIVATIONS)]
        try:
            with torch.no_grad():
                model(self._images())
        finally:
            for h in handles:
                h.remove()
        sign, logdet = np.linalg.slogdet(kernel.numpy())
        return float(logdet) if sign != 0 else float("-inf")
