"""Every distinct layer shape a search space can produce: what a layer-wise latency table (ProxylessNAS's and OFA's
latency look-up tables) must cover so that any subnet's latency is a sum over the table.

A layer's shape depends only on its block's genes and its input size, so a few configs cover a space:
- OFA MobileNetV3 / ProxylessNAS: the stages' widths are fixed, so for every resolution, kernel size and
  expand ratio, one config with that kernel and ratio in every slot and every stage at its maximum depth
  (a stage's first block and its later ones: every position a block can take);
- OFA ResNet-50: a stage's first block reads the previous stage's width, so the width indices follow
  w[k] = (a + b k) mod 3, which over (a, b) puts every pair of indices at every pair of neighbours, for
  every resolution and bottleneck ratio, at maximum depths;
- EfficientNet: every phi of the space.
"""
from __future__ import annotations

from collections.abc import Iterator

from .efficientnet import EfficientNetConfig, EfficientNetSpace
from .layer import Layer
from .ofa import MBConfig, MBSpace, ResNetConfig, ResNetSpace, get_space, to_network


def _covering_configs(space) -> Iterator:
    genes = space.genes()
    if isinstance(space, MBSpace):
        depths = tuple(max(c) for c in genes["d"])
        for r in space.resolutions:
            for k in space.ks_choices:
                for e in space.e_choices:
                    yield MBConfig(ks=(k,) * space.n_slots, e=(e,) * space.n_slots, d=depths, r=r, space=space.name)
    elif isinstance(space, ResNetSpace):
        depths = tuple(max(c) for c in genes["d"])
        n_w = len(space.width_mults)
        for r in space.resolutions:
            for e in space.e_choices:
                for a in range(n_w):
                    for b in range(n_w):
                        w = tuple((a + b * k) % n_w for k in range(len(genes["w"])))
                        yield ResNetConfig(d=depths, e=(e,) * space.n_slots, w=w, r=r, space=space.name)
    elif isinstance(space, EfficientNetSpace):
        for phi in space.phi_choices:
            yield EfficientNetConfig(phi=phi, space=space.name)
    else:
        raise ValueError(f"space_layers: no layer cover for space {getattr(space, 'name', space)!r}; accepted: the "
                         "OFA MobileNetV3 / ProxylessNAS / ResNet-50 spaces and efficientnet")


def space_layers(space, batch: int = 1) -> list[Layer]:
    """One layer per distinct shape (by `Layer.shape_key`) that some subnet of `space` contains, in first-seen order,
    each named after its first occurrence (with the config's resolution)."""
    seen: dict[tuple, Layer] = {}
    for config in _covering_configs(get_space(space)):
        network = to_network(config, batch)
        for layer in network.layers:
            if layer.shape_key not in seen:
                seen[layer.shape_key] = layer.with_name(f"{network.name}:{layer.name}")
    return list(seen.values())


__all__ = ["space_layers"]
