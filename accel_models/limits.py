"""What the cost model can count: a (layer, accelerator) pair whose cycles could exceed int64 is refused up front.

Cycles are int64 counts: a level's cycles are its traffic (words) divided by its bandwidth (words/cycle), so a
bandwidth far below the traffic (1e-13 words/cycle) gives more cycles than int64 holds, and a wrapped-around count
would be smaller than a correct one. Rather than check every mapping in the compiled kernel, a pair is checked
once, before any mapping of it is scored, against an upper bound of any level's traffic under any mapping; a pair
that could overflow is a ValueError naming the level and the bandwidth it would need.
"""
from __future__ import annotations

from nets import Layer

from .accelerator import Accelerator

MAX_CYCLES = 2**62
"""Most cycles the cost model counts (int64, with a factor of 2 to spare for sums)."""
TRAFFIC_MARGIN = 64
"""Bound of any level's accesses (reads + fills + updates, all tensors, all instances) per MAC and per unit of
the input's stride x dilation product: each MAC reads one word of each operand and updates one output at the
innermost level, each level's fills feed the level below, and a strided window's bounding box may hold words no
MAC reads (up to stride x dilation per word read): about 12 words per MAC at most by that count (an estimate, not a
proof), so 64 leaves a margin of about 5."""

_BANDWIDTHS = ("read_bandwidth", "write_bandwidth", "shared_bandwidth")


class NotCountable(ValueError):
    """A (layer, accelerator) pair whose cycles could exceed what the cost model counts (`check_countable`): no
    mapping of the layer can be scored on that accelerator."""


def traffic_bound_words(layer: Layer) -> int:
    """An upper bound of the words any one level moves for `layer` under any mapping (see TRAFFIC_MARGIN)."""
    window = max(1, layer.stride_w * layer.dilation_w) * max(1, layer.stride_h * layer.dilation_h)
    return TRAFFIC_MARGIN * window * layer.macs


def check_countable(owner: str, layer: Layer, accelerator: Accelerator) -> None:
    """A `NotCountable` (a ValueError) naming `owner`, the level and its bandwidth if `layer` on `accelerator` could
    take more cycles than the model counts (`MAX_CYCLES`); nothing otherwise."""
    traffic = traffic_bound_words(layer)
    for level in accelerator.levels:
        for name in _BANDWIDTHS:
            bandwidth = getattr(level, name)
            if bandwidth is not None and traffic / bandwidth > MAX_CYCLES:
                needed = traffic / MAX_CYCLES
                raise NotCountable(f"{owner}: {accelerator.name} level {level.name} {name} = {bandwidth:g} "
                                   f"words/cycle is too low for layer {layer.name or 'layer'} ({layer.macs:,} MACs): "
                                   f"its cycles could exceed 2**62, beyond what the model counts; accepted: a "
                                   f"bandwidth >= {needed:.3g} words/cycle for this layer")


__all__ = ["MAX_CYCLES", "TRAFFIC_MARGIN", "NotCountable", "traffic_bound_words", "check_countable"]
