"""SynFlow (Tanaka et al., "Pruning neural networks without any data by iteratively conserving synaptic
flow", NeurIPS 2020) summed over all weights as a NAS proxy (Abdelfattah et al., "Zero-Cost Proxies for
Lightweight NAS", ICLR 2021).

With every parameter replaced by its absolute value and an all-ones input, R = sum of the outputs;
the score is sum over conv / linear weights of theta * dR/dtheta. BatchNorm is left out (as in
Abdelfattah et al.'s implementation) and the pass runs in float64 because R grows geometrically
with depth; the natural log of the sum is returned (same ranking, finite).
SynFlow assumes positively homogeneous units (ReLU): saturating ones break it, e.g. with all-positive
weights every ReLU6 of a ProxylessNAS subnet clips at 6 and passes no gradient, so its score reduces
to the classifier's term; it is informative on the MobileNetV3 (ReLU, hard-swish) and ResNet spaces.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._proxy import ZeroCostProxy, weight_layers


class SynFlow(ZeroCostProxy):
    """log of the SynFlow saliency summed over all conv / linear weights (higher = better)."""

    name = "synflow"
    build_options = {"batchnorm": False}
    uses_batch = False  # one all-ones image

    def _score(self, model: nn.Module) -> float:
        model.eval()
        model.double()
        with torch.no_grad():
            for p in model.parameters():
                p.abs_()
        model.zero_grad()
        ones = torch.ones(1, 3, self.resolution, self.resolution, dtype=torch.float64)
        model(ones).sum().backward()
        with torch.no_grad():
            total = sum(float((m.weight * m.weight.grad).sum()) for m in weight_layers(model)
                        if m.weight.grad is not None)
        if not total > 0.0 or math.isinf(total):
            raise FloatingPointError(f"SynFlow: saliency sum {total} is not a positive finite number")
        return math.log(total)
