"""A network: an ordered list of layers, repeated shapes counted once with a weight."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from functools import cached_property

from .elementwise import ElementwiseOp
from .layer import Layer


@dataclass(frozen=True)
class Network:
    """An ordered sequence of `Layer` objects (the compute layers of a model, in execution order).

    `unique_layers()` groups layers of identical shape so that cost models and mappers
    evaluate each shape once and weight it by its count.
    """

    name: str
    layers: tuple[Layer, ...]
    meta: dict = field(default_factory=dict, compare=False)
    skips: tuple[tuple[int, int], ...] = ()
    """Residual adds: (producer, consumer) layer indices, the producer's output added to the consumer's output in its
    epilogue, so it lives on from the producer's run to the consumer's; producer -1 is the network's input."""
    sources: tuple[tuple[int, ...], ...] | None = None
    """Where each layer's Inputs come from: per layer, the layers whose outputs, concatenated along channels in this
    order, form the tensor it reads whole (one producer: a plain edge; several layers naming the same producers: a
    branch, all reading one tensor; -1: the network's input; empty: something the graph does not record, such as a
    reshaped tensor). None: not recorded, and each layer reads the previous one's output when their channels agree
    (`reads_output_of`). `input_sources` gives the record either way."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError(f"Network.layers: network {self.name!r} has no layers (need at least 1)")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Network.layers[{i}] must be a Layer, got {type(layer).__name__}")
        skips = tuple(tuple(s) for s in self.skips)
        for s in skips:
            if len(s) != 2 or not all(type(v) is int for v in s) or not -1 <= s[0] < s[1] < len(self.layers):
                raise ValueError(f"Network.skips: {s!r} must be a (producer, consumer) pair of layer indices with "
                                 f"-1 <= producer < consumer < {len(self.layers)}")
        object.__setattr__(self, "skips", skips)
        if self.sources is not None:
            object.__setattr__(self, "sources", _checked_sources(self.layers, self.sources))

    @cached_property
    def input_sources(self) -> tuple[tuple[int, ...], ...]:
        """Per layer, the producers of its Inputs (`sources`; when not recorded, the previous layer if
        `reads_output_of` it, the network's input for the first layer, none otherwise)."""
        if self.sources is not None:
            return self.sources
        layers = self.layers
        return ((-1,),) + tuple((i - 1,) if reads_output_of(layers[i - 1], layers[i]) else ()
                                for i in range(1, len(layers)))

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
        are not layers, and a product of two activations and a pool (its window is a constant) hold none."""
        return sum(layer.param_words for layer in self.layers if not layer.is_pool)

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


def reads_output_of(previous: Layer, layer: Layer) -> bool:
    """Whether `layer` can read `previous`'s output whole as its Inputs: channels (K x G = C x G) and batch agree, and
    neither is a product of two activations (whose operands the graph does not follow)."""
    return (not previous.weights_are_activations and not layer.weights_are_activations
            and previous.K * previous.G == layer.C * layer.G and previous.N == layer.N)


def _checked_sources(layers: tuple[Layer, ...], sources) -> tuple[tuple[int, ...], ...]:
    """`sources` as tuples, or a one-line ValueError naming the entry at fault."""
    if not isinstance(sources, (tuple, list)) or len(sources) != len(layers):
        got = len(sources) if isinstance(sources, (tuple, list)) else type(sources).__name__
        raise ValueError(f"Network.sources must give one tuple of producers per layer ({len(layers)}), got {got}")
    checked = []
    for i, entry in enumerate(sources):
        entry = tuple(entry) if isinstance(entry, (tuple, list)) else entry
        if not isinstance(entry, tuple) or not all(type(p) is int and -1 <= p < i for p in entry) \
                or len(set(entry)) != len(entry) or (-1 in entry and len(entry) > 1):
            raise ValueError(f"Network.sources[{i}]: {entry!r} must be distinct layer indices in [-1, {i - 1}] "
                             "(-1, the network's input, alone)")
        if not _reads_whole(layers, i, entry):
            layer, producers = layers[i], [layers[p] for p in entry]
            raise ValueError(f"Network.sources[{i}]: layer {layer.name or i} reads {layer.C * layer.G} channels of "
                             f"batch {layer.N}{' as a product of two activations' * layer.weights_are_activations}; "
                             f"producers {list(entry)} give {[p.K * p.G for p in producers]} channels of batch "
                             f"{[p.N for p in producers]}")
        checked.append(entry)
    return tuple(checked)


def _reads_whole(layers, index: int, producers: tuple[int, ...]) -> bool:
    """Whether layer `index` can read the outputs of `producers` (layer indices below it, distinct; or (-1,), the
    network's input; or none), concatenated along channels, as its Inputs: `reads_output_of`'s rule, with the
    producers' channels adding up."""
    if not producers or producers == (-1,):
        return True
    if len(set(producers)) != len(producers) or not all(0 <= p < index for p in producers):
        return False
    layer, found = layers[index], [layers[p] for p in producers]
    return (not layer.weights_are_activations and all(not p.weights_are_activations and p.N == layer.N for p in found)
            and sum(p.K * p.G for p in found) == layer.C * layer.G)


class LayerRecorder:
    """Builds a layer list in execution order with the element-wise rule of `nets.elementwise`: each op goes to the
    layer recorded last (its epilogue); ops recorded before any layer wait for the first one.

    It also follows the dataflow of an imported graph, value by value (a value: any hashable key the import uses,
    an fx node or an ONNX tensor name): which layers' outputs each value holds (`graph_input`, `add(..., output=)`,
    `same`, `concat`, `residual`), hence where each layer's Inputs come from (`add(..., reads=)`) and the residual
    adds; `graph()` gives them as `Network.sources` and `Network.skips`."""

    def __init__(self) -> None:
        self.layers: list[Layer] = []
        self._pending: list[ElementwiseOp] = []
        self._reads: list[object] = []
        self._holds: dict[object, tuple[int, ...]] = {}
        self._skips: list[tuple[int, int]] = []

    _NOT_FOLLOWED = object()

    def add(self, layer: Layer, reads: object = _NOT_FOLLOWED, output: object = None) -> None:
        """Record `layer`, reading the value `reads` as its Inputs (not given: the graph is not followed there, and
        the layer reads the previous one's output when `reads_output_of` says so) and writing the value `output`."""
        if self._pending:
            layer = replace(layer, elementwise=tuple(self._pending) + layer.elementwise)
            self._pending = []
        self.layers.append(layer)
        self._reads.append(reads if reads is self._NOT_FOLLOWED else self._holds.get(reads, ()))
        if output is not None:
            self.produced(output)

    def graph_input(self, value: object) -> None:
        self._holds[value] = (-1,)

    def produced(self, value: object) -> None:
        """`value` is the output of the layer recorded last."""
        self._holds[value] = (len(self.layers) - 1,)

    def same(self, value: object, source: object) -> None:
        """`value` holds what `source` does (an element-wise op, a pool, a reshape of it)."""
        if source in self._holds:
            self._holds[value] = self._holds[source]

    def concat(self, value: object, parts) -> None:
        """`value` is `parts` concatenated along channels."""
        held = [self._holds.get(p, ()) for p in parts]
        if held and all(h and -1 not in h for h in held):
            self._holds[value] = tuple(p for h in held for p in h)

    def residual(self, value: object, a: object, b: object) -> None:
        """`value` = `a` + `b`: when each holds one layer's output (or the network's input), the later one's
        epilogue adds the earlier one (a shortcut), and `value` is the later one's output."""
        held = sorted(self._holds.get(v, ()) for v in (a, b))
        if all(len(h) == 1 for h in held):
            (low,), (high,) = held
            if low < high:
                self._skips.append((low, high))
            self._holds[value] = (high,)

    def graph(self) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, int], ...]]:
        """(`Network.sources`, `Network.skips`) of the layers recorded: a record the layers cannot read whole (its
        channels disagree: a flattened or sliced tensor) becomes none."""
        sources = []
        for i, reads in enumerate(self._reads):
            if reads is self._NOT_FOLLOWED:
                reads = (-1,) if i == 0 else (i - 1,) if reads_output_of(self.layers[i - 1], self.layers[i]) else ()
            sources.append(reads if _reads_whole(self.layers, i, reads) else ())
        return tuple(sources), tuple(dict.fromkeys(self._skips))

    def op(self, kind: str, elements: int) -> None:
        """Record `kind` over `elements` values (nothing when there are none)."""
        if elements < 1:
            return
        op = ElementwiseOp(kind, int(elements))
        if self.layers:
            self.layers[-1] = replace(self.layers[-1], elementwise=self.layers[-1].elementwise + (op,))
        else:
            self._pending.append(op)


__all__ = ["Network", "LayerRecorder", "reads_output_of"]
