"""Once-for-All search spaces (MobileNetV3 w1.2, ProxylessNAS w1.3, ResNet-50): configs, sampling,
evolution operators, and the subnet's layers."""
from .config import MBConfig, ResNetConfig, SubnetConfig, config_type, parse_config
from .evolution import (as_rng, crossover_configs, largest_config, mutate_config, sample_config, sample_configs,
                        smallest_config)
from .plan import Plan, subnet_plan
from .spaces import (MBV3_W12, PROXYLESS_W13, RESNET50, SPACES, MBSpace, MBStage, ResNetSpace, Space, get_space,
                     make_divisible)
from .workload import count_macs, count_params, plan_layers, to_network

__all__ = [
    "MBConfig", "ResNetConfig", "SubnetConfig", "config_type", "parse_config",
    "as_rng", "sample_config", "sample_configs", "mutate_config", "crossover_configs", "largest_config",
    "smallest_config",
    "Plan", "subnet_plan",
    "MBSpace", "MBStage", "ResNetSpace", "Space", "SPACES", "MBV3_W12", "PROXYLESS_W13", "RESNET50",
    "get_space", "make_divisible",
    "to_network", "plan_layers", "count_macs", "count_params",
]
