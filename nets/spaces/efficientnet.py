"""The `efficientnet` search space: EfficientNet's compound-scaling family of B0 (Tan and Le, ICML 2019), one gene
phi from 0 (B0) to 7 (B7's nominal phi) in steps of 0.01; the network of a phi is B0 scaled by
(beta^phi, alpha^phi, gamma^phi x 224) (`nets.efficientnet`). Its accuracy is the published B0-B7 top-1
interpolated in phi: an estimate, labelled so."""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..efficientnet import N_CLASSES, PHI_MAX, PHI_STEP, compound_scaling, efficientnet_plan
from ..ofa.plan import Plan
from ..ofa.spaces import PlanSpace
from .config import SubnetConfig
from .genes import GeneTable
from .terms import LayerTerm


@dataclass(frozen=True)
class EfficientNetConfig(SubnetConfig):
    """A member of the compound-scaling family: phi (0 = B0)."""

    phi: float
    space: str = "efficientnet"

    def __post_init__(self) -> None:
        phi = self.phi[0] if isinstance(self.phi, Sequence) and len(self.phi) == 1 else self.phi
        if isinstance(phi, bool) or not isinstance(phi, (int, float)) or not 0 <= phi <= PHI_MAX \
                or abs(phi - round(phi, 2)) > 1e-9:
            raise ValueError(f"efficientnet: config field 'phi' = {self.phi!r} is not accepted; accepted values: "
                             f"0 to {PHI_MAX:g} in steps of {PHI_STEP:g}")
        object.__setattr__(self, "phi", round(float(phi), 2))
        super().__post_init__()

    @property
    def scaling(self) -> tuple[float, float, int]:
        """(width, depth, resolution) of this phi."""
        return compound_scaling(self.phi)


@dataclass(frozen=True)
class EfficientNetSpace(PlanSpace):
    """The compound-scaling family of B0: configs {"phi": x}, x in 0, 0.01, ..., 7."""

    config_type: ClassVar[type] = EfficientNetConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("phi",)
    resolution_gene: ClassVar[str | None] = None  # phi scales the resolution together with depth and width

    name: str = "efficientnet"
    cli_name: str = "efficientnet"
    phi_choices: tuple[float, ...] = tuple(round(i * PHI_STEP, 2) for i in range(int(PHI_MAX / PHI_STEP) + 1))
    n_classes: int = N_CLASSES

    def genes(self) -> GeneTable:
        return {"phi": (self.phi_choices,)}

    def plan(self, config) -> Plan:
        width, depth, resolution = self.parse(config).scaling
        return efficientnet_plan(width, depth, resolution, self.name)

    def layer_terms(self) -> tuple[LayerTerm, ...]:
        """phi scales every layer: one term."""
        return (LayerTerm((("phi", 0),), None),)

    def covering_configs(self) -> Iterator[EfficientNetConfig]:
        """Every phi: each scales every layer differently."""
        for phi in self.phi_choices:
            yield EfficientNetConfig(phi=phi, space=self.name)

    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        from nets.estimators.efficientnet_published import EfficientNetPublished

        return EfficientNetPublished()


EFFICIENTNET = EfficientNetSpace()

__all__ = ["EfficientNetConfig", "EfficientNetSpace", "EFFICIENTNET"]
