"""The `vit-elastic` search space: an AutoFormer-style elastic ViT/16 at 224 x 224 (Chen et al., "AutoFormer",
ICCV 2021, supernet "small"; `nets.transformer.ViTSpace`). Accuracy: a published-figure estimate, labelled so."""
from __future__ import annotations

from ..transformer.spaces import ViTSpace

VIT_ELASTIC = ViTSpace()

__all__ = ["VIT_ELASTIC"]
