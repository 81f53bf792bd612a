"""Subnet configs of the elastic transformer spaces, checked against their gene tables like OFA's configs (so that
sampling, mutation and crossover work on them unchanged)."""
from __future__ import annotations

from dataclasses import dataclass

from ..spaces.config import SubnetConfig
from .spec import TransformerSpec


class _TransformerConfig(SubnetConfig):
    """A config whose first `d` slots are active."""

    d: int

    def active_slots(self) -> list[int]:
        return list(range(self.d))

    def canonical(self):
        """The same subnet with the per-slot genes of inactive slots at their smallest choices (a deduplication key)."""
        space = self.space_def
        genes = space.genes()
        return self.replace(**{f: tuple(v if i < self.d else genes[f][i][0] for i, v in enumerate(getattr(self, f)))
                               for f in genes if f not in space.scalar_genes})

    def to_spec(self) -> TransformerSpec:
        """The transformer of this subnet."""
        return self.space_def.to_spec(self)


@dataclass(frozen=True)
class ViTConfig(_TransformerConfig):
    """A subnet of an elastic ViT space: depth d, embedding width e, per-slot heads h and MLP ratios m."""

    d: int
    e: int
    h: tuple[int, ...]
    m: tuple[float, ...]
    space: str = "vit_elastic"


@dataclass(frozen=True)
class DecoderConfig(_TransformerConfig):
    """A subnet of an elastic decoder space: depth d, width w, per-slot heads h and FFN widths f."""

    d: int
    w: int
    h: tuple[int, ...]
    f: tuple[int, ...]
    space: str = "gpt_elastic"
