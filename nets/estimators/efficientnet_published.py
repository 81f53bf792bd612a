"""The accuracy of the `efficientnet` space: published B0-B7 top-1 interpolated in phi (an estimate)."""
from __future__ import annotations

from ..efficientnet import estimated_top1
from .base import AccuracyEstimator


class EfficientNetPublished(AccuracyEstimator):
    """ESTIMATE: ImageNet top-1 of a phi, interpolated linearly between the released B0-B7 at phi = 0..7."""

    name = "efficientnet_published"
    label = ("estimate: EfficientNet B0-B7 published ImageNet top-1 (Tan and Le, ICML 2019, Table 2) interpolated "
             "linearly in phi")
    notice = (f"NOTICE: accuracy of the EfficientNet family is an {label}, not a trained model's top-1 at that "
              "phi.")

    def score(self, config) -> float:
        return estimated_top1(config.phi)


__all__ = ["EfficientNetPublished"]
