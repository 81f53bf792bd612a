"""EfficientNet (Tan and Le, "EfficientNet: Rethinking Model Scaling for CNNs", ICML 2019): B0's blocks, compound
scaling and the released B0-B7 as zoo networks (the `efficientnet` search space, one gene phi, is
`nets.spaces.efficientnet`).

Compound scaling (the paper's Eq. 3): depth alpha^phi, width beta^phi, resolution gamma^phi, with alpha = 1.2,
beta = 1.1, gamma = 1.15 (its Sec. 3.3). Widths and depths are rounded as the paper's code does
(tensorflow/tpu models/official/efficientnet, efficientnet_model.py): `round_filters` to a multiple of 8 (the
TF-slim rule, the same as OFA's `make_divisible`), `round_repeats` up (ceil). The code leaves the resolution to
hand-set values, all multiples of 4 (224 ... 600); the space rounds gamma^phi x 224 to the nearest multiple of 4.
The released B1-B7 use the code's hand-set (width, depth, resolution), not alpha/beta/gamma^phi.

Accuracy of a phi of the space: ImageNet top-1 of the released B0-B7 (the paper's Table 2) interpolated linearly
in phi, with B_i at phi = i (the paper obtains B1-B7 by scaling B0 "with different phi"): an ESTIMATE, not a
measurement, labelled so wherever it is shown. Published figures: docs/sources.md.
"""
from __future__ import annotations

import math

import numpy as np

from .channels import make_divisible
from .network import Network
from .ofa.plan import ConvUnit, GlobalPoolUnit, LinearUnit, MBBlockUnit, Plan, SEUnit
from .ofa.workload import plan_layers

ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
"""Depth, width and resolution bases of compound scaling (EfficientNet paper, Sec. 3.3: alpha x beta^2 x gamma^2 ~ 2,
so FLOPs grow about 2^phi)."""
BASE_RESOLUTION = 224
SE_RATIO = 0.25
"""Squeeze-excite bottleneck: max(1, int(block input filters x 0.25)) (the paper's code, se_ratio)."""
STEM_FILTERS, HEAD_FILTERS, N_CLASSES = 32, 1280, 1000
B0_BLOCKS: tuple[tuple[int, int, int, int, int, int], ...] = (
    # (expand ratio, kernel, first stride, input filters, output filters, repeats): the paper's Table 1
    (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1))
RELEASED: dict[str, tuple[float, float, int]] = {
    # (width coefficient, depth coefficient, resolution): the paper's code, efficientnet_builder.efficientnet_params
    "efficientnet_b0": (1.0, 1.0, 224), "efficientnet_b1": (1.0, 1.1, 240), "efficientnet_b2": (1.1, 1.2, 260),
    "efficientnet_b3": (1.2, 1.4, 300), "efficientnet_b4": (1.4, 1.8, 380), "efficientnet_b5": (1.6, 2.2, 456),
    "efficientnet_b6": (1.8, 2.6, 528), "efficientnet_b7": (2.0, 3.1, 600)}
PUBLISHED_TOP1 = (0.771, 0.791, 0.801, 0.816, 0.829, 0.836, 0.840, 0.843)
"""ImageNet top-1 of B0 ... B7 (the paper's Table 2)."""
PUBLISHED_MACS = (0.39e9, 0.70e9, 1.0e9, 1.8e9, 4.2e9, 9.9e9, 19e9, 37e9)
"""Multiply-adds ("FLOPs") of B0 ... B7 (the paper's Table 2)."""
PHI_STEP = 0.01
PHI_MAX = 7.0
"""The space's phi runs from 0 (B0) to 7 (B7's nominal phi) in steps of 0.01: continuous for the network, whose
widths move in steps of 8 channels and resolutions in steps of 4 pixels."""


def round_filters(filters: int, width: float) -> int:
    """Filters x width rounded to a multiple of 8 (at least 8, never 10% below): the paper code's round_filters."""
    return make_divisible(filters * width)


def round_repeats(repeats: int, depth: float) -> int:
    """Repeats x depth rounded up: the paper code's round_repeats."""
    return int(math.ceil(depth * repeats))


def round_resolution(resolution: float) -> int:
    """A resolution rounded to the nearest multiple of 4 (the released resolutions all are)."""
    return int(4 * round(resolution / 4))


def compound_scaling(phi: float) -> tuple[float, float, int]:
    """(width, depth, resolution) of B0 scaled by phi: beta^phi, alpha^phi, gamma^phi x 224 (rounded)."""
    return BETA ** phi, ALPHA ** phi, round_resolution(BASE_RESOLUTION * GAMMA ** phi)


def efficientnet_plan(width: float, depth: float, resolution: int, name: str = "efficientnet") -> Plan:
    """The units of B0 scaled by (width, depth) at `resolution`: stem, MBConv blocks with SE, head, classifier."""
    stem = round_filters(STEM_FILTERS, width)
    units: list = [ConvUnit("stem", 3, stem, 3, 2, act="swish")]
    index = 0
    for expand, kernel, stride, c_in, c_out, repeats in B0_BLOCKS:
        c_in, c_out = round_filters(c_in, width), round_filters(c_out, width)
        for j in range(round_repeats(repeats, depth)):
            block_in, s = (c_in, stride) if j == 0 else (c_out, 1)
            mid = block_in * expand
            n = f"blocks.{index}"
            units.append(MBBlockUnit(
                name=n,
                expand=ConvUnit(f"{n}.expand", block_in, mid, 1, act="swish") if expand != 1 else None,
                depthwise=ConvUnit(f"{n}.depthwise", mid, mid, kernel, s, groups=mid, act="swish"),
                se=SEUnit(f"{n}.se", mid, max(1, int(block_in * SE_RATIO))),
                project=ConvUnit(f"{n}.project", mid, c_out, 1),
                residual=s == 1 and block_in == c_out))
            index += 1
    head = round_filters(HEAD_FILTERS, width)
    units += [ConvUnit("head", units[-1].project.c_out, head, 1, act="swish"), GlobalPoolUnit(),
              LinearUnit("classifier", head, N_CLASSES)]
    return Plan(name, tuple(units), resolution, 1e-3)


def efficientnet_network(width: float, depth: float, resolution: int, name: str, batch: int = 1,
                         **meta) -> Network:
    """The compute layers of B0 scaled by (width, depth) at `resolution`."""
    if batch < 1:
        raise ValueError(f"{name}: batch must be >= 1, got {batch}")
    plan = efficientnet_plan(width, depth, resolution, name)
    return Network(name, plan_layers(plan, batch), {"resolution": resolution, "batch": batch, "width": width,
                                                    "depth": depth, **meta})


def _released(name: str):
    width, depth, default_resolution = RELEASED[name]

    def build(resolution: int | None = None, batch: int = 1) -> Network:
        return efficientnet_network(width, depth, resolution or default_resolution, name, batch)

    build.__name__ = name
    build.__doc__ = (f"{name.replace('_', '-').title()} as released (width {width:g}, depth {depth:g}, "
                     f"{default_resolution} px; Tan and Le, ICML 2019).")
    return build


EFFICIENTNET_ZOO = {name: _released(name) for name in RELEASED}
"""The released B0-B7 by zoo name."""


def estimated_top1(phi: float) -> float:
    """ImageNet top-1 at phi, interpolated linearly between the released B0-B7 at phi = 0..7: an estimate."""
    return float(np.interp(phi, np.arange(len(PUBLISHED_TOP1)), PUBLISHED_TOP1))


__all__ = ["ALPHA", "BETA", "GAMMA", "B0_BLOCKS", "RELEASED", "PUBLISHED_TOP1", "PUBLISHED_MACS", "round_filters",
           "round_repeats", "round_resolution", "compound_scaling", "efficientnet_plan", "efficientnet_network",
           "EFFICIENTNET_ZOO", "PHI_STEP", "PHI_MAX", "estimated_top1"]
