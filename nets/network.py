"""A network: an ordered list of layers, repeated shapes counted once with a weight."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace

from .elementwise import ElementwiseOp
from .layer import Layer


@dataclass(frozen=True)
class Network:
    """An ordered sequence of `Layer`s (the compute layers of a model, in execution order).

    `unique_layers()` groups layers of identical shape so that cost models and mappers
    evaluate each shape once and weight it by its count.
    """

    name: str
    layers: tuple[Layer, ...]
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError(f"Network.layers: network {self.name!r} has no layers (need at least 1)")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Network.layers[{i}] must be a Layer, got {type(layer).__name__}")

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_words(self) -> int:
        """Parameters of all layers (words): weights of convs and linears; biases and normalisation parameters
        are not layers, and a product of two activations holds none."""
        return sum(layer.param_words for layer in self.layers)

    def unique_layers(self) -> list[tuple[Layer, int]]:
        """(representative layer, count) per distinct workload (`Layer.group_key`), in first-seen order."""
        groups: "OrderedDict[tuple, list]" = OrderedDict()
        for layer in self.layers:
            entry = groups.setdefault(layer.group_key, [layer, 0])
            entry[1] += 1
        return [(layer, count) for layer, count in groups.values()]

    def group_elementwise(self, layer: Layer) -> tuple[ElementwiseOp, ...]:
        """The element-wise work of every layer that `unique_layers` groups with `layer` (all its runs)."""
        return tuple(op for other in self.layers if other.group_key == layer.group_key for op in other.elementwise)


class LayerRecorder:
    """Builds a layer list in execution order with the element-wise rule of `nets.elementwise`: each op goes to the
    layer recorded last (its epilogue); ops recorded before any layer wait for the first one."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self._pending: list[ElementwiseOp] = []

    def add(self, layer: Layer) -> None:
        if self._pending:
            layer = replace(layer, elementwise=tuple(self._pending) + layer.elementwise)
            self._pending = []
        self.layers.append(layer)

    def op(self, kind: str, elements: int) -> None:
        """Record `kind` over `elements` values (nothing when there are none)."""
        if elements < 1:
            return
        op = ElementwiseOp(kind, int(elements))
        if self.layers:
            self.layers[-1] = replace(self.layers[-1], elementwise=self.layers[-1].elementwise + (op,))
        else:
            self._pending.append(op)


__all__ = ["Network", "LayerRecorder"]
