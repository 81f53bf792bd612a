"""Elastic transformer search spaces: their genes and the `TransformerSpec` of a subnet.

- `ViTSpace`, AutoFormer's style (Chen et al., "AutoFormer", ICCV 2021, Table 1, supernet "small"):
  embedding width {320, 384, 448}, depth {12, 13, 14}, and per block heads {5, 6, 7} (of 64 dims each, so
  AutoFormer's Q-K-V width is 64 x heads) and MLP ratio {3, 3.5, 4} (hidden = ratio x embedding width);
  ViT/16 at 224 x 224, 1000 classes.
- `DecoderSpace`, GPT-2's block (Radford et al., 2019) with HAT's elastic choices (Wang et al., ACL 2020):
  width {512, 640, 768}, depth 6-12, and per block heads {8, 10, 12} (of 64) and FFN width {1024, 2048,
  3072}; vocabulary 50,257, 1024 positions. The sequence length and prefill / decode are settings of the
  space, not genes.

Genes follow OFA's format (`nets.spaces.GeneTable`): scalar genes (depth, width) and one entry per block slot; a
subnet of depth d uses the first d slots, the rest are ignored. The registered spaces (`vit-elastic`,
`decoder-elastic`, `decoder-elastic-decode`) are `nets.spaces` members built on these classes.

Accuracy: no trained predictor exists for these spaces here; each family has a published-figure estimate
(`nets.estimators.ParamsInterpolation`, `nets.estimators.ScalingLawEstimate`), labelled as an estimate.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..network import Network
from ..spaces.genes import GeneTable
from ..spaces.protocol import SearchSpace
from ..spaces.terms import LayerTerm
from .config import DecoderConfig, ViTConfig
from .spec import Block, TransformerSpec
from .workload import count_params, transformer_network

HEAD_DIM = 64
"""Width of one attention head in both spaces (AutoFormer's and GPT-2's)."""


class _TransformerSpace(SearchSpace):
    """What both elastic transformer families share: a config's `TransformerSpec` gives its layers, parameters and
    PyTorch model; every per-block shape depends on the width and the block's own genes only."""

    config_type: ClassVar[type]
    width_gene: ClassVar[str]

    def to_spec(self, config) -> TransformerSpec:
        raise NotImplementedError

    def network(self, config, batch: int = 1) -> Network:
        config = self.parse(config)
        net = transformer_network(self.to_spec(config), batch)
        return Network(net.name, net.layers, {**net.meta, "config": config.to_dict()})

    def parameters(self, config) -> int:
        return count_params(self.to_spec(self.parse(config)))

    def build_torch(self, config, **options):
        """`nets.transformer.torch_model.build_transformer` of the config's spec (no options)."""
        from nets.transformer.torch_model import build_transformer  # torch

        return build_transformer(self.to_spec(self.parse(config)))

    def layer_terms(self) -> tuple[LayerTerm, ...]:
        """Block i's layers depend on whether the depth reaches it, the width and its own per-slot genes; the
        embedding and the head on the width alone."""
        per_slot = [f for f in self.genes() if f not in self.scalar_genes]
        terms = [LayerTerm((("d", 0), (self.width_gene, 0), *((f, i) for f in per_slot)), f"blocks.{i}.")
                 for i in range(self.n_slots)]
        return (*terms, LayerTerm(((self.width_gene, 0),), None))

    def covering_configs(self) -> Iterator:
        """A block's layers depend on the width and its own per-slot genes, so at the largest depth one config per
        (width, per-slot choices) with every block alike covers every shape (the embedding and head layers depend
        on the width only)."""
        genes = self.genes()
        per_slot = [f for f in genes if f not in self.scalar_genes]
        depth = max(genes["d"][0])
        first, second = (genes[f][0] for f in per_slot)
        for width in genes[self.width_gene][0]:
            for a in first:
                for b in second:
                    yield self.config_type(**{"d": depth, self.width_gene: width, per_slot[0]: (a,) * self.n_slots,
                                              per_slot[1]: (b,) * self.n_slots}, space=self.name)


@dataclass(frozen=True)
class ViTSpace(_TransformerSpace):
    """An AutoFormer-style elastic ViT (configs {"d", "e", "h", "m"}: depth, embedding width, per-slot heads and
    MLP ratios)."""

    config_type: ClassVar[type] = ViTConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("d", "e")
    width_gene: ClassVar[str] = "e"

    name: str = "vit_elastic"
    cli_name: str = "vit-elastic"
    depths: tuple[int, ...] = (12, 13, 14)
    widths: tuple[int, ...] = (320, 384, 448)
    heads: tuple[int, ...] = (5, 6, 7)
    mlp_ratios: tuple[float, ...] = (3.0, 3.5, 4.0)
    image: int = 224
    patch: int = 16
    classes: int = 1000

    @property
    def n_slots(self) -> int:
        return max(self.depths)

    def genes(self) -> GeneTable:
        return {"d": (self.depths,), "e": (self.widths,), "h": (self.heads,) * self.n_slots,
                "m": (self.mlp_ratios,) * self.n_slots}

    def to_spec(self, config) -> TransformerSpec:
        """The ViT of a config: e wide, d blocks with their heads and MLP width round(m x e)."""
        blocks = tuple(Block(config.h[i], round(config.m[i] * config.e), head_dim=HEAD_DIM) for i in range(config.d))
        tokens = (self.image // self.patch) ** 2 + 1
        return TransformerSpec(f"{self.name}", "vit", config.e, blocks, tokens, tokens, image=self.image,
                               patch=self.patch, classes=self.classes, meta={"space": self.name})

    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        from nets.estimators.transformer_estimates import ParamsInterpolation

        return ParamsInterpolation()


@dataclass(frozen=True)
class DecoderSpace(_TransformerSpace):
    """An elastic GPT-2-style decoder (configs {"d", "w", "h", "f"}: depth, width, per-slot heads and FFN
    widths) run in `mode` 'prefill' (a `context`-token prompt) or 'decode' (one token, `context` keys).

    `default_accuracy`: the accuracy floor a search uses when none is given, on the estimate's scale
    (exp(-loss), see `nets.estimators.ScalingLawEstimate`): exp(-3.04), a loss of 3.04 nats per token, which
    about half of the random subnets reach.
    """

    config_type: ClassVar[type] = DecoderConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("d", "w")
    width_gene: ClassVar[str] = "w"

    name: str = "gpt_elastic"
    cli_name: str = "decoder-elastic"
    depths: tuple[int, ...] = (6, 7, 8, 9, 10, 11, 12)
    widths: tuple[int, ...] = (512, 640, 768)
    heads: tuple[int, ...] = (8, 10, 12)
    ffn_widths: tuple[int, ...] = (1024, 2048, 3072)
    mode: str = "prefill"
    context: int = 1024
    vocab: int = 50257
    positions: int = 1024
    default_accuracy: float = 0.04783  # exp(-3.04)

    def __post_init__(self) -> None:
        if self.mode not in ("prefill", "decode"):
            raise ValueError(f"DecoderSpace.mode must be 'prefill' or 'decode', got {self.mode!r}")
        if not 1 < self.context <= self.positions:
            raise ValueError(f"DecoderSpace.context must be in 2..{self.positions}, got {self.context}")

    @property
    def n_slots(self) -> int:
        return max(self.depths)

    @property
    def tokens(self) -> int:
        return self.context if self.mode == "prefill" else 1

    def genes(self) -> GeneTable:
        return {"d": (self.depths,), "w": (self.widths,), "h": (self.heads,) * self.n_slots,
                "f": (self.ffn_widths,) * self.n_slots}

    def to_spec(self, config) -> TransformerSpec:
        """The decoder of a config: w wide, d GPT-2 blocks with their heads and FFN widths."""
        blocks = tuple(Block(config.h[i], config.f[i], head_dim=HEAD_DIM) for i in range(config.d))
        return TransformerSpec(f"{self.name}", "decoder", config.w, blocks, self.tokens, self.context, norm_eps=1e-5,
                               vocab=self.vocab, positions=self.positions, lm_head=True,
                               meta={"space": self.name, "mode": self.mode})

    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        from nets.estimators.transformer_estimates import ScalingLawEstimate

        return ScalingLawEstimate()


__all__ = ["ViTSpace", "DecoderSpace"]
