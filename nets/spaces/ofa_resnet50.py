"""The `ofa-resnet50` search space: OFA-ResNet50 with NAAS's choices (Lin, Yang, Han, DAC 2021): depths, bottleneck
ratios, width multipliers and resolution. No trained accuracy predictor ships for it: a zero-cost proxy calibrated
onto top-1 scores it, labelled so."""
from __future__ import annotations

from ..ofa.spaces import ResNetSpace

RESNET50 = ResNetSpace()

__all__ = ["RESNET50"]
