"""What caching a layer's weights in the home level saves per word, as the resident planner ranks layers by it."""
from __future__ import annotations

import math

from numba import njit

GAIN_DIGITS = 12
"""Significant digits a gain is ranked by: layers of one shape save the same per word up to the order in which
their runs' figures were summed, and ranking on the noise would order them arbitrarily (equal gains go by layer)."""


@njit(cache=True)
def weight_gain(saved: float, words: int) -> float:
    """`saved` (the linearised objective a layer's run loses with its weights cached) per word of its weights, to
    `GAIN_DIGITS` significant digits (compiled: the screened plan calls it too)."""
    gain = saved / words
    if gain <= 0.0:
        return gain
    scale = 10.0 ** (math.floor(math.log10(gain)) - (GAIN_DIGITS - 1))
    return math.floor(gain / scale + 0.5) * scale
