"""Subnet configs of OFA's spaces in OFA's own format, checked on construction against their space's genes."""
from __future__ import annotations

from dataclasses import dataclass

from ..spaces.config import SubnetConfig


@dataclass(frozen=True)
class MBConfig(SubnetConfig):
    """A subnet of an OFA MobileNetV3 / ProxylessNAS space: per-slot kernel sizes and expand ratios,
    per-stage depths, input resolution (pixels)."""

    ks: tuple[int, ...]
    e: tuple[int, ...]
    d: tuple[int, ...]
    r: int
    space: str = "ofa_mbv3_w1.2"

    def active_slots(self) -> list[int]:
        """Indices of the block slots that the depths switch on, in execution order."""
        space = self.space_def
        return [slot for i, depth in enumerate(self.d) for slot in space.stage_slots(i)[:depth]]

    def canonical(self) -> "MBConfig":
        """The same subnet with inactive slots set to the smallest choices (a deduplication key)."""
        space = self.space_def
        active = set(self.active_slots())
        ks = tuple(k if i in active else space.ks_choices[0] for i, k in enumerate(self.ks))
        e = tuple(x if i in active else space.e_choices[0] for i, x in enumerate(self.e))
        return self.replace(ks=ks, e=e)


@dataclass(frozen=True)
class ResNetConfig(SubnetConfig):
    """A subnet of OFA-ResNet50: depths (stem + 4 stages), per-slot bottleneck ratios,
    width-multiplier indices (6), input resolution (pixels)."""

    d: tuple[int, ...]
    e: tuple[float, ...]
    w: tuple[int, ...]
    r: int
    space: str = "ofa_resnet50"

    def active_slots(self) -> list[int]:
        """Indices of the bottleneck slots that the depths switch on, in execution order."""
        space = self.space_def
        return [slot for i, extra in enumerate(self.d[1:])
                for slot in space.stage_slots(i)[:space.base_depths[i] + extra]]

    def canonical(self) -> "ResNetConfig":
        space = self.space_def
        active = set(self.active_slots())
        e = tuple(x if i in active else space.e_choices[0] for i, x in enumerate(self.e))
        return self.replace(e=e)


__all__ = ["MBConfig", "ResNetConfig"]
