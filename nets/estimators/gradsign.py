"""GradSign (Zhang and Jia, "GradSign: Model Performance Inference with Theoretical Insights", ICLR 2022).

For each sample i of a mini-batch, the gradient of its own loss at initialisation; the score sums, over
every weight k of the conv / linear layers, |sum_i sign(g_ik)|: how consistently the samples' local
optima agree. Data-free here: standard-normal images with uniformly random labels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._proxy import ZeroCostProxy, weight_layers


class GradSign(ZeroCostProxy):
    """sum_k |sum_i sign(dL_i/dtheta_k)| over a random mini-batch (higher = better)."""

    name = "gradsign"

    def __init__(self, resolution: int = 64, batch_size: int = 8, seed: int = 0) -> None:
        super().__init__(resolution, batch_size, seed)
        if resolution < 64:
            # one sample at a time: training-mode BatchNorm needs >= 2 pixels in the last (1/32) map
            raise ValueError(f"GradSign.resolution must be >= 64 pixels, got {resolution}")

    def _score(self, model: nn.Module) -> float:
        model.train()
        images = self._images()
        layers = weight_layers(model)
        n_classes = layers[-1].weight.shape[0]
        labels = torch.randint(0, n_classes, (self.batch_size,))
        sign_sums = [torch.zeros_like(m.weight) for m in layers]
        for i in range(self.batch_size):  # sample-wise gradients, one backward each
            model.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images[i:i + 1]), labels[i:i + 1])
            loss.backward()
            for acc, m in zip(sign_sums, layers):
                if m.weight.grad is not None:
                    acc.add_(torch.sign(m.weight.grad))
        model.zero_grad(set_to_none=True)
        return float(sum(float(acc.abs().sum()) for acc in sign_sums))
