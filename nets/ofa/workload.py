"""A plan's compute layers as `Layer`s (`plan_network`), and its parameter count.

Max and average pools (the stem's max pool, the ResNet-D shortcut's average pool, the global average pool) are
layers (`Layer.pool`), the squeeze-and-excite's global pool included.

A unit's layers depend only on the unit and its input size, so they are built once and shared (subnet
searches build thousands of networks from a few thousand distinct units)."""
from __future__ import annotations

from functools import lru_cache

from ..layer import Layer
from ..network import Network
from .._shapes import conv_out, pool_out, same_padding
from .plan import BottleneckUnit, ConvUnit, GlobalPoolUnit, LinearUnit, MaxPoolUnit, MBBlockUnit, Plan, SEUnit


@lru_cache(maxsize=1 << 16)
def _conv_layer(unit: ConvUnit, hw: int, batch: int) -> tuple[Layer, int]:
    out = conv_out(hw, unit.kernel, unit.stride, same_padding(unit.kernel))
    return Layer.conv(unit.c_in, unit.c_out, unit.kernel, out, unit.stride, unit.groups, batch,
                      name=unit.name), out


@lru_cache(maxsize=1 << 14)
def _se_layers(unit: SEUnit, hw: int, batch: int) -> tuple[Layer, ...]:
    """The SE's global pool of its `hw` x `hw` input, then its two 1x1 convs on the pooled 1x1 map."""
    pool = (Layer.pool(unit.channels, hw, 1, hw, batch, name=f"{unit.name}.pool"),) if hw > 1 else ()
    return pool + (Layer.conv(unit.channels, unit.mid, 1, 1, batch=batch, name=f"{unit.name}.reduce"),
            Layer.conv(unit.mid, unit.channels, 1, 1, batch=batch, name=f"{unit.name}.expand"))


@lru_cache(maxsize=1 << 12)
def _pool_layer(channels: int, kernel: int, stride: int, out: int, batch: int, name: str) -> Layer:
    return Layer.pool(channels, kernel, out, stride, batch, name=name)


@lru_cache(maxsize=1 << 10)
def _linear_layer(unit: LinearUnit, batch: int) -> Layer:
    """The classifier's layer, built once per unit: building a `Layer` checks it (measured: `to_network` 214 -> 178
    us)."""
    return Layer.fc(unit.c_in, unit.c_out, batch, name=unit.name)


def plan_layers(plan: Plan, batch: int = 1) -> list[Layer]:
    """Every conv / depthwise / SE conv / pool / linear layer of a plan, in execution order."""
    return plan_graph(plan, batch)[0]


def plan_graph(plan: Plan, batch: int = 1) -> tuple[list[Layer], list[tuple[int, int]]]:
    """`plan_layers` and the residual shortcuts (`Network.skips`): an inverted-residual block with a shortcut adds
    its input (the output of the layer before the block) to its projection's output."""
    layers: list[Layer] = []
    skips: list[tuple[int, int]] = []
    hw = plan.resolution

    def conv(unit: ConvUnit, size: int) -> int:
        layer, out = _conv_layer(unit, size, batch)
        layers.append(layer)
        return out

    def pool(channels: int, kernel: int, stride: int, out: int, name: str) -> int:
        if kernel > 1 or stride > 1:    # a 1x1 window at stride 1 is the identity
            layers.append(_pool_layer(channels, kernel, stride, out, batch, name))
        return out

    for unit in plan.units:
        if isinstance(unit, ConvUnit):
            hw = conv(unit, hw)
        elif isinstance(unit, MBBlockUnit):
            block_input = len(layers) - 1
            if unit.expand is not None:
                hw = conv(unit.expand, hw)
            hw = conv(unit.depthwise, hw)
            if unit.se is not None:
                layers += _se_layers(unit.se, hw, batch)
            hw = conv(unit.project, hw)
            if unit.residual:
                skips.append((block_input, len(layers) - 1))
        elif isinstance(unit, BottleneckUnit):
            if unit.downsample is not None:  # the shortcut runs first, as in OFA's forward
                s = unit.pool_stride
                pooled = pool(unit.downsample.c_in, s, s, pool_out(hw, s, s, ceil_mode=True), f"{unit.name}.avg_pool")
                conv(unit.downsample, pooled)
            hw = conv(unit.conv1, hw)
            hw = conv(unit.conv2, hw)
            hw = conv(unit.conv3, hw)
        elif isinstance(unit, MaxPoolUnit):
            channels = layers[-1].K * layers[-1].G
            hw = pool(channels, unit.kernel, unit.stride, pool_out(hw, unit.kernel, unit.stride, unit.padding),
                      "max_pooling")
        elif isinstance(unit, GlobalPoolUnit):
            hw = pool(layers[-1].K * layers[-1].G, hw, hw, 1, "global_avg_pool")
        elif isinstance(unit, LinearUnit):
            layers.append(_linear_layer(unit, batch))
        else:  # pragma: no cover - the plan's unit types are closed
            raise TypeError(f"unknown plan unit {unit!r}")
    return layers, skips


def plan_network(plan: Plan, batch: int = 1, config=None) -> Network:
    """The plan's layers as a network named after its space and resolution; `config` (a `SubnetConfig`) is recorded
    in its meta."""
    meta = {"space": plan.name, "resolution": plan.resolution, "batch": batch}
    if config is not None:
        meta["config"] = config.to_dict()
    layers, skips = plan_graph(plan, batch)
    return Network(f"{plan.name}@{plan.resolution}", layers, meta, tuple(skips))


def _conv_params(unit: ConvUnit) -> int:
    weights = unit.c_out * (unit.c_in // unit.groups) * unit.kernel * unit.kernel
    return weights + (unit.c_out if unit.bias else 0) + (2 * unit.c_out if unit.bn else 0)


def plan_params(plan: Plan) -> int:
    """Trainable parameters as PyTorch counts them: conv/linear weights and biases, BN scale and shift."""
    total = 0
    for unit in plan.units:
        if isinstance(unit, ConvUnit):
            total += _conv_params(unit)
        elif isinstance(unit, MBBlockUnit):
            total += sum(_conv_params(u) for u in (unit.expand, unit.depthwise, unit.project) if u is not None)
            if unit.se is not None:
                total += 2 * unit.se.channels * unit.se.mid + unit.se.mid + unit.se.channels
        elif isinstance(unit, BottleneckUnit):
            total += sum(_conv_params(u) for u in (unit.conv1, unit.conv2, unit.conv3, unit.downsample)
                         if u is not None)
        elif isinstance(unit, LinearUnit):
            total += unit.c_in * unit.c_out + (unit.c_out if unit.bias else 0)
    return total
