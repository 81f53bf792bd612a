"""Bad input and the checks of single values: `UsageError`, integers in a range, choices, quantities with units.

Every reader of cosearch's input (budgets, options, storage URLs, networks) raises `UsageError` with a
message naming the field and what it accepts; the command line prints it on one line and exits with
status 2. Durations have one set of units, used by the budget's `latency<=` and by `--time-limit`.
"""
from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from numbers import Integral, Real
from typing import Any

from nets.registry import Registry, RegistryError


class UsageError(ValueError):
    """Bad input (a budget, a flag, a config, a storage URL): the message names the field and what it accepts."""


DURATION_UNITS_S: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "m": 60.0, "min": 60.0, "h": 3600.0}
"""The units of a duration (`latency<=5ms`, `--time-limit 5m`), as multipliers to seconds."""

_QUANTITY = re.compile(r"^([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z0-9%]*)$")
_NO_LIMIT = ("none", "0")
_FLOAT_MAX = sys.float_info.max


def accepted_units(units: Mapping[str, float]) -> str:
    return f"accepted units: {', '.join(units)}"


def split_quantity(field: str, text: str, accepted: str, zero_ok: bool = False) -> tuple[float, str]:
    """The number and the unit of text such as '10ms' or '76%': a finite number > 0 (>= 0 if `zero_ok`)."""
    m = _QUANTITY.match(text.strip())
    if not m:
        raise UsageError(f"{field}: {text!r} is not a number with a unit; {accepted}")
    value = float(m.group(1))
    if not math.isfinite(value):
        raise UsageError(f"{field}: {text!r} is too large (beyond {_FLOAT_MAX:.3g}); {accepted}")
    if value < 0 or (value == 0 and not zero_ok):
        raise UsageError(f"{field}: must be {'>= 0' if zero_ok else '> 0'}, got {text!r}; {accepted}")
    return value, m.group(2)


def parse_quantity(field: str, text: str, units: Mapping[str, float], default_unit: str | None = None,
                   zero_ok: bool = False) -> float:
    """A number with one of `units` (matched case-insensitively), in the base unit those units multiply to."""
    accepted = accepted_units(units)
    value, unit = split_quantity(field, text, accepted, zero_ok)
    if not unit:
        if default_unit is None:
            raise UsageError(f"{field}: {text!r} has no unit; {accepted}")
        unit = default_unit
    scale = {u.lower(): s for u, s in units.items()}.get(unit.lower())
    if scale is None:
        raise UsageError(f"{field}: unknown unit {unit!r}; {accepted}")
    return value * scale


def parse_duration(text: str | float | None, field: str = "--time-limit") -> float | None:
    """Seconds from '90', '90s', '250ms', '5m', '1.5h' (a bare number is seconds); None, 'none' and '0' mean
    no limit. Empty text is refused: a missing value is not taken as "no limit"."""
    if text is None:
        return None
    accepted = (f"accepted: a duration >= 0, as a number of seconds or a number with a unit "
                f"({', '.join(DURATION_UNITS_S)}), or none")
    if isinstance(text, bool) or not isinstance(text, (str, Real)):
        raise UsageError(f"{field}: expected a duration such as 90s or 5m, got {text!r}; {accepted}")
    if isinstance(text, str):
        if not text.strip():
            raise UsageError(f"{field}: empty; {accepted}")
        if text.strip().lower() in _NO_LIMIT:
            return None
        if text.strip().startswith("-"):
            raise UsageError(f"{field}: must be a duration >= 0, got {text!r}; {accepted}")
        try:
            value = parse_quantity(field, text, DURATION_UNITS_S, default_unit="s", zero_ok=True)
        except UsageError:
            raise UsageError(f"{field}: cannot read {text!r} as a duration; {accepted}") from None
    else:
        value = float(text)
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{field}: must be a duration >= 0, got {text!r}; {accepted}")
    return value or None


def check_int(field: str, value, lo: int, hi: int | None = None) -> int:
    """`value` as an int if it is an integer in [lo, hi] (any integer type, numpy's included; not a bool)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lo or (hi is not None and value > hi):
        accepted = f"an integer >= {lo}" + ("" if hi is None else f" and <= {hi}")
        raise UsageError(f"{field}: must be {accepted}, got {value!r}")
    return int(value)


def is_number(value) -> bool:
    """A real number of any type (numpy's included), not a bool."""
    return isinstance(value, Real) and not isinstance(value, bool)


def check_choice(field: str, value, choices: Sequence[str], what: str = "value") -> str:
    """`value` if it is one of `choices`."""
    if value not in choices:
        raise UsageError(f"{field}: unknown {what} {value!r}; accepted: {', '.join(choices)}")
    return value


def plain_name(text: str, fallback: str) -> str:
    """A name made of `text`'s letters, digits and _.+- (other runs become '-'), or `fallback` if none is left."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-.") or fallback


def named_apart(specs: list, renames: Sequence[Callable[[Any, int], str]], may_rename: Callable[[Any], bool]) -> list:
    """`specs` (frozen dataclasses with a `name`) whose names clash, renamed by each of `renames` in turn (spec and
    its position -> a new name) where `may_rename` allows: different things given under one name (two files
    called model.onnx in two folders) keep apart; the same thing given twice is the caller's to refuse first."""
    for rename in renames:
        names = [s.name for s in specs]
        specs = [replace(s, name=rename(s, i)) if may_rename(s) and names.count(s.name) > 1 else s
                 for i, s in enumerate(specs)]
    return specs


def check_member(registry: Registry) -> Callable[[str, Any], str]:
    """A check of an option naming a member of `registry` (`nets.registry.Registry`): the name if it is one, else
    a `UsageError` naming the flag and the accepted names."""
    def check(field: str, value) -> str:
        try:
            registry.get(value, field)
        except RegistryError as exc:
            raise UsageError(str(exc)) from None
        return value
    return check
