"""Channel rounding shared by the CNN families (OFA's spaces, EfficientNet): widths as multiples of a divisor."""
from __future__ import annotations

CHANNEL_DIVISOR = 8
"""OFA rounds every width to a multiple of 8 (MyNetwork.CHANNEL_DIVISIBLE)."""


def make_divisible(value: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """Round a channel count to a multiple of `divisor` (TF-slim / OFA rule; docs/sources.md).

    max(divisor, int(v + divisor/2) // divisor * divisor), plus one divisor if that lost more than 10 %.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


__all__ = ["CHANNEL_DIVISOR", "make_divisible"]
