"""Sizes as text: bytes in binary units (B, KiB, MiB), for tables, reports and design descriptions."""
from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB
_UNITS = (("MiB", "M", MIB), ("KiB", "K", KIB))


def format_bytes(n_bytes: float, decimals: int | None = None, largest: str = "MiB", compact: bool = False) -> str:
    """Bytes in the largest unit up to `largest` ('KiB' or 'MiB') that the value reaches: '97.3 KiB', '24 MiB'.

    decimals: None writes the value in its shortest form ('%g'); n rounds to at most n decimals (trailing zeros
    dropped). Below 1 KiB the byte count is written as is. compact: unit letter only, no space ('97.3K'; bytes
    without a unit: '512'), for narrow tables.
    """
    units = _UNITS[[name for name, _, _ in _UNITS].index(largest):]
    for name, letter, scale in units:
        if n_bytes >= scale:
            value = n_bytes / scale
            text = f"{value:g}" if decimals is None else f"{value:.{decimals}f}".rstrip("0").rstrip(".")
            return f"{text}{letter}" if compact else f"{text} {name}"
    return f"{n_bytes:g}" if compact else f"{n_bytes:g} B"
