"""A runnable PyTorch model of a subnet, built from the same plan as `to_network` (OFA's plan here; an elastic
transformer's `TransformerSpec` in `nets.transformer.torch_model`).

Randomly initialised (PyTorch defaults); no dropout (it is not a compute layer). Options serve the
zero-cost proxies: `residual=False` drops the skip additions (Zen-score), `batchnorm=False` drops BN
(SynFlow).
"""
from __future__ import annotations

import torch
from torch import nn

from ._shapes import same_padding
from .ofa.plan import BottleneckUnit, ConvUnit, GlobalPoolUnit, LinearUnit, MaxPoolUnit, MBBlockUnit, Plan, SEUnit
from .spaces.config import SubnetConfig
from .spaces.registry import DEFAULT_SPACE, get_space

_ACTIVATIONS = {"relu": nn.ReLU, "relu6": nn.ReLU6, "h_swish": nn.Hardswish}
# nn.Hardswish is x * relu6(x + 3) / 6 and nn.Hardsigmoid relu6(x + 3) / 6, OFA's Hswish / Hsigmoid.


def _activation(name: str | None) -> nn.Module:
    if name is None:
        return nn.Identity()
    return _ACTIVATIONS[name]()  # not in place: hooks (NASWOT) read activation inputs


class ConvBNAct(nn.Module):
    """Conv2d with padding k//2, optional BatchNorm and activation, optional identity skip."""

    def __init__(self, unit: ConvUnit, bn_eps: float, batchnorm: bool = True, residual: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(unit.c_in, unit.c_out, unit.kernel, unit.stride, same_padding(unit.kernel),
                              groups=unit.groups, bias=unit.bias)
        self.bn = nn.BatchNorm2d(unit.c_out, eps=bn_eps) if unit.bn and batchnorm else nn.Identity()
        self.act = _activation(unit.act)
        self.residual = unit.residual and residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.bn(self.conv(x)))
        return x + y if self.residual else y


class SqueezeExcite(nn.Module):
    """OFA's SEModule: channel gates from the pooled map through two 1x1 convs with biases."""

    def __init__(self, unit: SEUnit) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(unit.channels, unit.mid, 1, bias=True)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(unit.mid, unit.channels, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean(dim=(2, 3), keepdim=True)
        return x * self.gate(self.expand(self.relu(self.reduce(y))))


class MBBlock(nn.Module):
    def __init__(self, unit: MBBlockUnit, bn_eps: float, batchnorm: bool, residual: bool) -> None:
        super().__init__()
        self.expand = ConvBNAct(unit.expand, bn_eps, batchnorm) if unit.expand is not None else None
        self.depthwise = ConvBNAct(unit.depthwise, bn_eps, batchnorm)
        self.se = SqueezeExcite(unit.se) if unit.se is not None else None
        self.project = ConvBNAct(unit.project, bn_eps, batchnorm)
        self.residual = unit.residual and residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.depthwise(y)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class Bottleneck(nn.Module):
    def __init__(self, unit: BottleneckUnit, bn_eps: float, batchnorm: bool, residual: bool) -> None:
        super().__init__()
        self.downsample = None
        if unit.downsample is not None:
            pool: nn.Module = (nn.AvgPool2d(unit.pool_stride, unit.pool_stride, ceil_mode=True)
                               if unit.pool_stride > 1 else nn.Identity())
            self.downsample = nn.Sequential(pool, ConvBNAct(unit.downsample, bn_eps, batchnorm))
        self.conv1 = ConvBNAct(unit.conv1, bn_eps, batchnorm)
        self.conv2 = ConvBNAct(unit.conv2, bn_eps, batchnorm)
        self.conv3 = ConvBNAct(unit.conv3, bn_eps, batchnorm)
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.residual:  # no skip link: the shortcut branch (and its conv) is gone
            return self.act(self.conv3(self.conv2(self.conv1(x))))
        shortcut = self.downsample(x) if self.downsample is not None else x  # first, as OFA does
        return self.act(self.conv3(self.conv2(self.conv1(x))) + shortcut)


class GlobalAvgPool(nn.Module):
    """The global average pool (a pool layer to `from_torch`, as `GlobalPoolUnit` is to the plan's network)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, 1)


class OFASubnet(nn.Module):
    """features (up to the global pool) -> pool -> head (1x1 convs on the pooled map) -> classifier."""

    def __init__(self, features: list[nn.Module], head: list[nn.Module], classifier: nn.Linear,
                 resolution: int, space: str) -> None:
        super().__init__()
        self.features = nn.Sequential(*features)
        self.pool = GlobalAvgPool()
        self.head = nn.Sequential(*head)
        self.classifier = classifier
        self.resolution = resolution
        self.space = space

    def forward_pre_gap(self, x: torch.Tensor) -> torch.Tensor:
        """The feature map before global average pooling (Zen-score's f(x))."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.head(self.pool(self.features(x)))
        return self.classifier(torch.flatten(y, 1))


def build_torch(config: SubnetConfig | dict, space: str | None = None, **options) -> nn.Module:
    """A randomly initialised `torch.nn.Module` of the subnet; its layers equal `to_network(config)`'s (a dict is
    parsed in `space`, MBv3 w1.2 by default). Built by the config's space (`SearchSpace.build_torch`); `options`
    are its own (OFA-style plans: `residual`, `batchnorm`, see `plan_module`).

    Input: images [N, 3, r, r] for a CNN subnet (any size works; `config.r` is the size `to_network` assumes);
    for a transformer subnet `nets.transformer.torch_model.example_input(config.to_spec())` (images or token
    ids).
    """
    if not isinstance(config, SubnetConfig):
        config = get_space(space or DEFAULT_SPACE).parse(config)
    return config.space_def.build_torch(config, **options)


def plan_module(plan: Plan, *, residual: bool = True, batchnorm: bool = True) -> nn.Module:
    """The module of a unit plan; `residual=False` drops the skip additions (Zen-score), `batchnorm=False` BN
    (SynFlow)."""
    features: list[nn.Module] = []
    head: list[nn.Module] = []
    classifier: nn.Linear | None = None
    target = features
    for unit in plan.units:
        if isinstance(unit, ConvUnit):
            target.append(ConvBNAct(unit, plan.bn_eps, batchnorm, residual))
        elif isinstance(unit, MBBlockUnit):
            target.append(MBBlock(unit, plan.bn_eps, batchnorm, residual))
        elif isinstance(unit, BottleneckUnit):
            target.append(Bottleneck(unit, plan.bn_eps, batchnorm, residual))
        elif isinstance(unit, MaxPoolUnit):
            target.append(nn.MaxPool2d(unit.kernel, unit.stride, unit.padding))
        elif isinstance(unit, GlobalPoolUnit):
            target = head
        elif isinstance(unit, LinearUnit):
            classifier = nn.Linear(unit.c_in, unit.c_out, bias=unit.bias)
    assert classifier is not None, "every plan ends with a classifier"
    return OFASubnet(features, head, classifier, plan.resolution, plan.name)
