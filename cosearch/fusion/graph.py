"""The activations of a network as tensors with lifetimes: who produces each, who reads it, how big it is.

A network is its layers in execution order (`nets.Network`) plus its shortcuts (`Network.skips`). Layer i's output
is read by layer i + 1 when their channels agree (the chain: i's K x G output channels are i + 1's C x G input
channels, batch equal) and by every layer a shortcut names (added in that layer's epilogue). A layer whose input
does not continue the chain (a side branch, a concatenation, an attention product) reads it from DRAM: the graph
errs towards DRAM, never towards a tensor on chip that the network does not keep.
"""
from __future__ import annotations

from dataclasses import dataclass

from nets import Layer, Network


@dataclass(frozen=True)
class Activation:
    """The output of layer `producer`, read by `reader` (the next layer, as its Inputs; None: no chain reader) and
    added by the layers in `adders` (shortcuts), alive from the producer's run to `last`'s.

    words: what it occupies on chip, the largest of its views in the cost model: the producer's output box and the
    reader's input box (without padding the reader's box of a same-padded KxK conv is its halo larger).
    """

    producer: int
    reader: int | None
    adders: tuple[int, ...]
    words: int

    @property
    def last(self) -> int:
        return max((self.reader if self.reader is not None else self.producer,) + self.adders)

    def alive_at(self, index: int) -> bool:
        return self.producer <= index <= self.last


def chains(previous: Layer, layer: Layer) -> bool:
    """Whether `layer` reads `previous`'s output as its Inputs (channels and batch agree)."""
    return (not previous.weights_are_activations and not layer.weights_are_activations
            and previous.K * previous.G == layer.C * layer.G and previous.N == layer.N)


def activations(network: Network) -> tuple[Activation, ...]:
    """Every layer's output that some later layer reads (by the chain or a shortcut), in producer order."""
    layers = network.layers
    adders: dict[int, list[int]] = {}
    for producer, consumer in network.skips:
        if producer >= 0:
            adders.setdefault(producer, []).append(consumer)
    found = []
    for i, layer in enumerate(layers):
        reader = i + 1 if i + 1 < len(layers) and chains(layer, layers[i + 1]) else None
        adds = tuple(sorted(adders.get(i, ())))
        if reader is None and not adds:
            continue
        words = max(layer.output_words, layers[reader].input_words if reader is not None else 0)
        found.append(Activation(i, reader, adds, words))
    return tuple(found)


__all__ = ["Activation", "activations", "chains"]
