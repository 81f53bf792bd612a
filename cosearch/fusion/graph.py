"""The activations of a network as tensors with lifetimes: who writes each, who reads it, how big it is.

A network is its layers in execution order plus its graph (`nets.Network.input_sources`: the producers of each
layer's Inputs; `Network.skips`: residual adds). A tensor is what one or more layers read whole as their Inputs: the
outputs of its producers concatenated along channels (one producer: a plain edge). Several layers naming the same
producers read one tensor (a branch); a layer whose output a residual shortcut adds is read by that adder in its
epilogue. A layer whose input the graph does not record (a reshaped tensor, an attention product's operands) or
that reads the network's input reads it from DRAM: the graph errs towards DRAM, never towards a tensor on chip that
the network does not keep.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from nets import Network


@dataclass(frozen=True)
class Activation:
    """The outputs of `producers` (channel slices of one tensor, in channel order), read whole as Inputs by
    `readers` and added by `adders` (residual shortcuts), alive from its first producer's run to its last reader's.

    words: what it occupies on chip, the largest of its views in the cost model: the producers' output boxes side
    by side and each reader's input box (without padding a same-padded KxK conv's input box is its halo larger)."""

    producers: tuple[int, ...]
    readers: tuple[int, ...]
    adders: tuple[int, ...]
    words: int
    first: int = field(init=False, repr=False, compare=False)
    """Its first producer."""
    last: int = field(init=False, repr=False, compare=False)
    """The last layer that writes, reads or adds it."""

    def __post_init__(self) -> None:   # kept, not recomputed: a plan asks them for every layer and candidate
        object.__setattr__(self, "first", min(self.producers))
        object.__setattr__(self, "last", max(self.producers + self.readers + self.adders))

    def alive_at(self, index: int) -> bool:
        return self.first <= index <= self.last

    def touches(self, index: int) -> bool:
        """Whether layer `index` writes, reads or adds this tensor."""
        return index in self.producers or index in self.readers or index in self.adders


def activations(network: Network) -> tuple[Activation, ...]:
    """Every tensor some layer reads (whole, as its Inputs) or adds, from the network's graph, by first producer."""
    layers = network.layers
    return tuple(Activation(producers, readers, adders, tensor_words(layers, producers, readers))
                 for producers, readers, adders in tensor_graph(network.input_sources, network.skips))


@lru_cache(maxsize=1024)
def tensor_graph(input_sources: tuple, skips: tuple) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """(producers, readers, adders) of every tensor of a graph (`Network.input_sources`, `Network.skips`), ordered as
    `activations` orders them: the graph alone, remembered (the subnets of a search share a few hundred graphs)."""
    readers: dict[tuple[int, ...], list[int]] = {}
    for i, producers in enumerate(input_sources):
        if producers and -1 not in producers:
            readers.setdefault(producers, []).append(i)
    adders: dict[tuple[int, ...], list[int]] = {}
    for producer, consumer in skips:
        if producer >= 0:
            adders.setdefault((producer,), []).append(consumer)
    found = [(producers, tuple(readers.get(producers, ())), tuple(sorted(adders.get(producers, ()))))
             for producers in set(readers) | set(adders)]
    return tuple(sorted(found, key=lambda t: (min(t[0]), t[0])))


def tensor_words(layers, producers: tuple[int, ...], readers: tuple[int, ...]) -> int:
    """What a tensor occupies on chip (`Activation.words`): its producers' outputs side by side or its largest
    reader's input box, whichever is larger."""
    words = 0
    for p in producers:
        words += layers[p].output_words
    for r in readers:
        w = layers[r].input_words
        if w > words:
            words = w
    return words


def consumers(network: Network) -> dict[int, tuple[int, ...]]:
    """Per layer, the layers that read its output (as a whole tensor or a slice of a concatenation) or add it."""
    found: dict[int, set[int]] = {}
    for i, producers in enumerate(network.input_sources):
        for p in producers:
            found.setdefault(p, set()).add(i)
    for producer, consumer in network.skips:
        found.setdefault(producer, set()).add(consumer)
    return {p: tuple(sorted(c)) for p, c in found.items()}


__all__ = ["Activation", "activations", "consumers", "tensor_graph", "tensor_words"]
