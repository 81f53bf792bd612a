"""Once-for-All's space families (MobileNetV3 / ProxylessNAS, ResNet-50): their facts, configs, unit plans and
layers. The registered spaces built on them are `nets.spaces` members."""
from .config import MBConfig, ResNetConfig
from .plan import Plan
from .spaces import MBSpace, MBStage, PlanSpace, ResNetSpace, mbv3_facts, proxyless_facts
from .workload import plan_layers, plan_network, plan_params

__all__ = ["MBConfig", "ResNetConfig", "Plan", "MBSpace", "MBStage", "PlanSpace", "ResNetSpace",
           "mbv3_facts", "proxyless_facts", "plan_layers", "plan_network", "plan_params"]
