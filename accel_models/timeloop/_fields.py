"""Timeloop's small field conventions: numbers, instance ranges (`RF[1..8]`), classes, tensor lists (keep / bypass)."""
from __future__ import annotations

import re
from typing import Any

from ..accelerator import STORAGE_KINDS, TENSORS
from ._yaml import Flow

_RANGE = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<lo>\d+)\.\.(?P<hi>\d+)\]$")


def number(value: Any, field: str, integer: bool = False, positive: bool = True) -> int | float:
    """A YAML scalar as a number (PyYAML reads '1e-9' as a string), checked for sign and integrality."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{field} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number, got {value!r}")
    if integer and not float(value).is_integer():
        raise ValueError(f"{field} must be an integer, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{field} must be > 0, got {value!r}")
    return int(value) if integer else value


def split_range(name: str) -> tuple[str, int]:
    """'RF[1..8]' -> ('RF', 8); a name without a range is one instance."""
    m = _RANGE.match(str(name).strip())
    if not m:
        return str(name).strip(), 1
    lo, hi = int(m["lo"]), int(m["hi"])
    if hi < lo:
        raise ValueError(f"name {name!r}: empty instance range [{lo}..{hi}]")
    return m["base"].strip(), hi - lo + 1


def range_name(base: str, instances: int) -> str:
    """('RF', 8) -> 'RF[1..8]', the inverse of `split_range`."""
    return f"{base}[1..{instances}]"


def leaf_name(path: str) -> str:
    """An energy table's dotted path -> its element's base name: 'system.PE[0..167].mac' -> 'mac'."""
    return re.sub(r"\[\d+\.\.\d+\]", "", str(path)).split(".")[-1].strip()


def storage_kind(accelergy_class: str) -> str:
    """An Accelergy storage class -> `StorageLevel.kind` (DRAM, regfile; any other class is modelled as SRAM)."""
    return accelergy_class if accelergy_class in STORAGE_KINDS else "SRAM"


def tensor_list(value: Any, field: str) -> tuple[str, ...]:
    """A `keep` / `bypass` value (one name or a list) -> tensor names, each checked."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    bad = [t for t in items if t not in TENSORS]
    if bad:
        raise ValueError(f"{field}: unknown tensor(s) {bad}; accepted: {', '.join(TENSORS)}")
    return tuple(items)


def bypass_entry(target: str, kept: tuple[str, ...] | list[str]) -> dict:
    """A `type: bypass` entry (in a mapping or in mapspace constraints): what `target` keeps and bypasses."""
    return {"target": target, "type": "bypass", "keep": Flow(kept),
            "bypass": Flow([t for t in TENSORS if t not in kept])}
