"""The architecture of one subnet as a list of units: the single source that `to_network` and
`build_torch` both read, so that the layer list and the runnable model cannot drift apart.

Layouts follow OFA's subnet classes (MobileNetV3, ProxylessNASNets, ResNets in mit-han-lab/once-for-all).
"""
from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class ConvUnit:
    """Conv2d (+ BatchNorm) (+ activation), 'same' padding k//2; `residual` adds the unit's input."""

    name: str
    c_in: int
    c_out: int
    kernel: int = 1
    stride: int = 1
    groups: int = 1
    act: str | None = None
    bn: bool = True
    bias: bool = False
    residual: bool = False


@dataclass(frozen=True)
class SEUnit:
    """Squeeze-and-excite: global pool, 1x1 reduce (bias) + ReLU, 1x1 expand (bias) + h-sigmoid, scale."""

    name: str
    channels: int
    mid: int


@dataclass(frozen=True)
class MBBlockUnit:
    """Inverted residual: [1x1 expand] -> depthwise kxk -> [SE] -> 1x1 project (no activation)."""

    name: str
    expand: ConvUnit | None
    depthwise: ConvUnit
    se: SEUnit | None
    project: ConvUnit
    residual: bool


@dataclass(frozen=True)
class BottleneckUnit:
    """ResNet bottleneck (stride on the 3x3, ResNet-D shortcut: avg-pool then 1x1 conv), final ReLU."""

    name: str
    conv1: ConvUnit
    conv2: ConvUnit
    conv3: ConvUnit
    downsample: ConvUnit | None  # None: identity shortcut
    pool_stride: int  # avg-pool kernel = stride before the downsample conv (1: no pool)


@dataclass(frozen=True)
class MaxPoolUnit:
    kernel: int
    stride: int
    padding: int


@dataclass(frozen=True)
class GlobalPoolUnit:
    """Global average pool to 1x1 (the feature map before it is Zen-score's 'pre-GAP' map)."""


@dataclass(frozen=True)
class LinearUnit:
    name: str
    c_in: int
    c_out: int
    bias: bool = True


Unit = ConvUnit | MBBlockUnit | BottleneckUnit | MaxPoolUnit | GlobalPoolUnit | LinearUnit


@dataclass(frozen=True)
class Plan:
    """Units in execution order, and the input resolution (pixels) of the config."""

    name: str
    units: tuple[Unit, ...]
    resolution: int
    bn_eps: float


def _mb_block(space, name: str, c_in: int, c_out: int, kernel: int, stride: int, expand: int,
              act: str, use_se: bool) -> MBBlockUnit:
    mid = space.mid_channels(c_in, expand) if expand != 1 else c_in
    return MBBlockUnit(
        name=name,
        expand=ConvUnit(f"{name}.expand", c_in, mid, 1, act=act) if expand != 1 else None,
        depthwise=ConvUnit(f"{name}.depthwise", mid, mid, kernel, stride, groups=mid, act=act),
        se=SEUnit(f"{name}.se", mid, space.se_channels(mid)) if use_se else None,
        project=ConvUnit(f"{name}.project", mid, c_out, 1),
        residual=stride == 1 and c_in == c_out,
    )


def mb_plan(space, config) -> Plan:
    """The units of an MBConfig of `space` (an `MBSpace`)."""
    units: list[Unit] = [ConvUnit("first_conv", 3, space.stem_width, 3, 2, act=space.stem_act)]
    units.append(_mb_block(space, "blocks.0", space.stem_width, space.first_block_width, 3, 1, 1,
                           space.first_block_act, False))
    c_in = space.first_block_width
    for i, stage in enumerate(space.stages):
        for j, slot in enumerate(space.stage_slots(i)[:config.d[i]]):
            units.append(_mb_block(space, f"blocks.{slot + 1}", c_in, stage.width, config.ks[slot],
                                   stage.stride if j == 0 else 1, config.e[slot], stage.act, stage.use_se))
            c_in = stage.width
    if space.mobilenet_v3_head:
        units += [ConvUnit("final_expand_layer", c_in, space.final_expand_width, 1, act=space.head_act),
                  GlobalPoolUnit(),
                  ConvUnit("feature_mix_layer", space.final_expand_width, space.last_channel, 1,
                           act=space.head_act, bn=False)]
    else:
        units += [ConvUnit("feature_mix_layer", c_in, space.last_channel, 1, act=space.head_act),
                  GlobalPoolUnit()]
    units.append(LinearUnit("classifier", space.last_channel, space.n_classes))
    return Plan(space.name, tuple(units), config.r, space.bn_eps)


def resnet_plan(space, config) -> Plan:
    """The units of a ResNetConfig of `space` (a `ResNetSpace`)."""
    stem_mid = space.stem_widths(config.w[0])[0]
    stem_out = space.stem_widths(config.w[1])[1]
    units: list[Unit] = [ConvUnit("input_stem.0", 3, stem_mid, 3, 2, act="relu")]
    if config.d[0] == space.max_extra_depth:
        units.append(ConvUnit("input_stem.1", stem_mid, stem_mid, 3, 1, act="relu", residual=True))
    units.append(ConvUnit("input_stem.2", stem_mid, stem_out, 3, 1, act="relu"))
    units.append(MaxPoolUnit(3, 2, 1))
    c_in = stem_out
    for i, extra in enumerate(config.d[1:]):
        width = space.stage_width(i, config.w[i + 2])
        for j, slot in enumerate(space.stage_slots(i)[:space.base_depths[i] + extra]):
            stride = space.stage_strides[i] if j == 0 else 1
            mid = space.mid_channels(width, config.e[slot])
            name = f"blocks.{slot}"
            shortcut = j == 0  # OFA: a stage's first block changes width (and maybe stride)
            units.append(BottleneckUnit(
                name=name,
                conv1=ConvUnit(f"{name}.conv1", c_in, mid, 1, act="relu"),
                conv2=ConvUnit(f"{name}.conv2", mid, mid, 3, stride, act="relu"),
                conv3=ConvUnit(f"{name}.conv3", mid, width, 1),
                downsample=ConvUnit(f"{name}.downsample", c_in, width, 1) if shortcut else None,
                pool_stride=stride if shortcut else 1,
            ))
            c_in = width
    units += [GlobalPoolUnit(), LinearUnit("classifier", c_in, space.n_classes)]
    return Plan(space.name, tuple(units), config.r, space.bn_eps)
