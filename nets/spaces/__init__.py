"""Subnet search spaces behind one protocol (`SearchSpace`), registered by name.

Each member is one module implementing the protocol and one `SPACES.register` line below: OFA's MobileNetV3 w1.2
(`ofa-mbv3`, with OFA's accuracy predictor), ProxylessNAS w1.3 (`ofa-proxyless`), OFA-ResNet50 (`ofa-resnet50`),
EfficientNet's compound scaling (`efficientnet`), an elastic ViT (`vit-elastic`) and an elastic GPT-2-style
decoder (`decoder-elastic`, `decoder-elastic-decode`). A user's space is registered the same way
(`nets.spaces.SPACES.register(MySpace())`) and is then accepted everywhere a space name is (`--space`, `make_settings`).
The functions here work on any registered space through its gene table and protocol.
"""
from __future__ import annotations

from typing import Any

from ..network import Network
from .config import SubnetConfig
from .cover import space_layers
from .evolution import (RngLike, as_rng, crossover_configs, largest_config, mutate_config, sample_config,
                        sample_configs, smallest_config)
from .genes import GeneTable, slot_choices
from .protocol import SearchSpace
from .registry import DEFAULT_SPACE, SPACES, get_space, register_space, space_names, unregister_space
from .ofa_mbv3 import MBV3_W12
from .ofa_proxyless import PROXYLESS_W13
from .ofa_resnet50 import RESNET50
from .efficientnet import EFFICIENTNET, EfficientNetConfig, EfficientNetSpace
from .vit_elastic import VIT_ELASTIC
from .decoder_elastic import GPT_ELASTIC, GPT_ELASTIC_DECODE

SPACES.register(MBV3_W12)
SPACES.register(PROXYLESS_W13)
SPACES.register(RESNET50)
SPACES.register(EFFICIENTNET)
SPACES.register(VIT_ELASTIC)
SPACES.register(GPT_ELASTIC)
SPACES.register(GPT_ELASTIC_DECODE)

def parse_config(data: Any, space: str | SearchSpace = DEFAULT_SPACE) -> SubnetConfig:
    """A config from its dict format (OFA's {"ks", "e", "d", "r"}, {"d", "e", "w", "r"}; {"phi"}; the transformers'
    {"d", "e", "h", "m"} or {"d", "w", "h", "f"}) in `space`, checked; a config object is returned as it is."""
    if isinstance(data, SubnetConfig):
        return data
    return get_space(space).parse(data)


def to_network(config: SubnetConfig | dict, batch: int = 1, space: str | None = None) -> Network:
    """The subnet's layers (a dict is parsed in `space`, MBv3 w1.2 by default)."""
    config = parse_config(config, space or DEFAULT_SPACE)
    return config.space_def.network(config, batch)


def count_macs(config: SubnetConfig | dict, space: str | None = None) -> int:
    """Multiply-accumulates of one input (batch 1)."""
    return to_network(config, 1, space).macs


def count_params(config: SubnetConfig | dict, space: str | None = None) -> int:
    """Trainable parameters as PyTorch counts them."""
    config = parse_config(config, space or DEFAULT_SPACE)
    return config.space_def.parameters(config)


__all__ = ["SearchSpace", "SubnetConfig", "GeneTable", "slot_choices", "register_space", "unregister_space",
           "get_space", "space_names", "SPACES", "DEFAULT_SPACE", "parse_config", "to_network", "count_macs",
           "count_params", "space_layers", "RngLike", "as_rng", "sample_config", "sample_configs", "mutate_config",
           "crossover_configs", "largest_config", "smallest_config", "MBV3_W12", "PROXYLESS_W13", "RESNET50",
           "EFFICIENTNET", "EfficientNetConfig", "EfficientNetSpace", "VIT_ELASTIC", "GPT_ELASTIC",
           "GPT_ELASTIC_DECODE"]
