"""Every subnet search space of `nets` behind one set of functions: OFA's CNN spaces (`nets.ofa`), EfficientNet's
compound scaling (`nets.efficientnet`, which rides on OFA's machinery) and the elastic transformers (`nets.transformer`). Names, configs and the evolution operators work the same on all of them;
`to_network` gives a subnet's layers whatever its family."""
from __future__ import annotations

from typing import Any

from .efficientnet import EFFICIENTNET, EfficientNetConfig, EfficientNetSpace
from .network import Network
from .ofa import config as ofa_config
from .ofa import evolution, workload
from .ofa.config import MBConfig, ResNetConfig
from .ofa.spaces import SPACES as OFA_SPACES
from .ofa.spaces import Space as OFASpace
from .ofa.spaces import lookup_space
from .transformer.config import DecoderConfig, ViTConfig
from .transformer.spaces import TRANSFORMER_SPACES, DecoderSpace, ViTSpace
from .transformer.workload import count_params as spec_params
from .transformer.workload import transformer_network

SubnetConfig = MBConfig | ResNetConfig | EfficientNetConfig | ViTConfig | DecoderConfig
"""A subnet of any space."""
Space = OFASpace | EfficientNetSpace | ViTSpace | DecoderSpace

SPACES: dict[str, Space] = {**OFA_SPACES, EFFICIENTNET.name: EFFICIENTNET, **TRANSFORMER_SPACES}
"""Every search space by name."""
DEFAULT_SPACE = "ofa_mbv3_w1.2"

crossover_configs = evolution.crossover_configs
mutate_config = evolution.mutate_config


def get_space(name: str | Space) -> Space:
    """A space by name (or a space object passed through); the error lists the accepted names."""
    return lookup_space(SPACES, name, "search space")


def parse_config(data: Any, space: str | Space = DEFAULT_SPACE) -> SubnetConfig:
    """A config from its dict format (OFA's {"ks", "e", "d", "r"}, {"d", "e", "w", "r"}; the transformers'
    {"d", "e", "h", "m"} or {"d", "w", "h", "f"}), validated; a config object is returned as it is."""
    if isinstance(data, (MBConfig, ResNetConfig, EfficientNetConfig, ViTConfig, DecoderConfig)):
        return data
    return ofa_config.parse_config(data, get_space(space))


def config_type(space: str | Space) -> type:
    return ofa_config.config_type(get_space(space))


def sample_config(space: str | Space, rng: evolution.RngLike = None) -> SubnetConfig:
    """A uniformly random subnet config of `space` (every gene independently)."""
    return evolution.sample_config(get_space(space), rng)


def sample_configs(space: str | Space, n: int, rng: evolution.RngLike = None) -> list[SubnetConfig]:
    """n random configs from one Generator (deterministic under a seed)."""
    return evolution.sample_configs(get_space(space), n, rng)


def largest_config(space: str | Space, r: int | None = None) -> SubnetConfig:
    """Every gene at its largest choice (an OFA space's resolution too unless `r` is given)."""
    return evolution.largest_config(get_space(space), r)


def smallest_config(space: str | Space, r: int | None = None) -> SubnetConfig:
    """Every gene at its smallest choice (an OFA space's resolution too unless `r` is given)."""
    return evolution.smallest_config(get_space(space), r)


def to_network(config: SubnetConfig | dict, batch: int = 1, space: str | None = None) -> Network:
    """The subnet's layers (a dict is parsed in `space`, MBv3 w1.2 by default)."""
    config = parse_config(config, space or DEFAULT_SPACE)
    if isinstance(config, (ViTConfig, DecoderConfig)):
        net = transformer_network(config.to_spec(), batch)
        return Network(net.name, net.layers, {**net.meta, "config": config.to_dict()})
    return workload.to_network(config, batch)


def count_macs(config: SubnetConfig | dict, space: str | None = None) -> int:
    """Multiply-accumulates of one input (batch 1)."""
    return to_network(config, 1, space).macs


def count_params(config: SubnetConfig | dict, space: str | None = None) -> int:
    """Trainable parameters as PyTorch counts them."""
    config = parse_config(config, space or DEFAULT_SPACE)
    if isinstance(config, (ViTConfig, DecoderConfig)):
        return spec_params(config.to_spec())
    return workload.count_params(config)


__all__ = ["SubnetConfig", "Space", "SPACES", "get_space", "parse_config", "config_type", "sample_config",
           "sample_configs", "mutate_config", "crossover_configs", "largest_config", "smallest_config", "to_network",
           "count_macs", "count_params"]
