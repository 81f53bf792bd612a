"""Every distinct layer shape a search space can produce: what a layer-wise latency table (ProxylessNAS's and OFA's
latency look-up tables) must cover so that any subnet's latency is a sum over the table. Each space names the
configs that cover it (`SearchSpace.covering_configs`); this collects their distinct shapes."""
from __future__ import annotations

from ..layer import Layer
from .protocol import SearchSpace
from .registry import get_space


def space_layers(space: str | SearchSpace, batch: int = 1) -> list[Layer]:
    """One layer per distinct shape (by `Layer.shape_key`) that some subnet of `space` contains, in first-seen order,
    each named after its first occurrence (with its network's name)."""
    space = get_space(space)
    seen: dict[tuple, Layer] = {}
    for config in space.covering_configs():
        network = space.network(config, batch)
        for layer in network.layers:
            if layer.shape_key not in seen:
                seen[layer.shape_key] = layer.with_name(f"{network.name}:{layer.name}")
    return list(seen.values())


__all__ = ["space_layers"]
