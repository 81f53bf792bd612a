"""Timeloop's small field conventions: numbers (or expressions), instance ranges (`RF[1..8]`), classes,
tensor lists (keep / bypass)."""
from __future__ import annotations

import math
import re
import warnings
from typing import Any

from ..accelerator import STORAGE_KINDS, TENSORS
from ._expressions import ExpressionError, Scope, evaluate
from ._yaml import Flow, Quoted

_RANGE = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<lo>\d+)\.\.(?P<hi>\d+)\]$")


def show(value: Any, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters for one-line error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def number(value: Any, field: str, integer: bool = False, positive: bool = True, scope: Scope | None = None
           ) -> int | float:
    """A YAML scalar as a number, checked for sign and integrality; an unquoted string is evaluated as
    timeloopfe's expression over `scope` (`max(WIDTH, 16)`), and the error says why it has no value."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            if isinstance(value, Quoted):
                raise ValueError(f"{field} must be a number, got {show(value)}") from None
            try:
                value = evaluate(value, scope)
            except ExpressionError as exc:
                raise ValueError(f"{field} must be a number, got {show(value)} ({exc})") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field} must be a number, got {show(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{field} must be a finite number, got {show(value)}")
    if integer and not float(value).is_integer():
        raise ValueError(f"{field} must be an integer, got {show(value)}")
    if positive and value <= 0:
        raise ValueError(f"{field} must be > 0, got {show(value)}")
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


def bypass_entry(target: str, kept: tuple[str, ...] | list[str], tensors: tuple[str, ...] | list[str] = TENSORS
                 ) -> dict:
    """A `type: bypass` entry (in a mapping or in mapspace constraints): what `target` keeps and bypasses."""
    return {"target": target, "type": "bypass", "keep": Flow(kept),
            "bypass": Flow([t for t in tensors if t not in kept])}


_FACTOR = re.compile(r"([A-Za-z_][A-Za-z_]*)\s*(<=|>=|=)?\s*([0-9]+)")


def parse_factors(value: Any, dims: dict[str, str], field: str, bounds: dict[str, int] | None = None,
                  zeros: list[tuple[str, str]] | None = None) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Timeloop's factor text -> ({dim: factor}, {dim: max factor}, {dim: min factor}) with cosearch's dims.

    Accepts `R=3 P=16`, the dumps' `R=1,P=1`, the mapper's `K2 R3`, max and min factors `K<=4 C>=2` (mapspace
    constraints), a list of such items
    or a {dim: factor} mapping; `dims` maps the problem's dim names to cosearch's. A factor 0 means the whole
    dim (`bounds`, by the problem's names), as in Timeloop, which warns so; so does this, and `zeros` (if given)
    collects (dim, what was read) for each such 0.
    """
    if isinstance(value, dict):
        text = " ".join(f"{k}={number(v, f'{field}.{k}', integer=True, positive=False)}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        text = " ".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value.split("#")[0]
    elif value is None:
        text = ""
    else:
        raise ValueError(f"{field}: expected factors such as 'R=3 P=16', got {show(value)}")
    exact: dict[str, int] = {}
    limits: dict[str, dict[str, int]] = {"<=": {}, ">=": {}}
    rest = _FACTOR.sub(" ", text).replace(",", " ").strip()
    if rest:
        raise ValueError(f"{field}: cannot read {rest.split()[0]!r} in {show(text)}; expected DIM=integer items "
                         "(R=3 P=16, or K2 R3)")
    for name, op, num in _FACTOR.findall(text):
        if name not in dims:
            raise ValueError(f"{field}: unknown dim {name!r}; the problem's dims: {' '.join(dims)}")
        d, f = dims[name], int(num)
        target = limits.get(op, exact)
        if d in target:
            raise ValueError(f"{field}: dim {name} given twice")
        if f == 0 and target is exact:
            if bounds is None:
                raise ValueError(f"{field}: factor 0 of {name} (the whole dim) needs the problem's bounds")
            f = bounds[name]
            read = f"{field}: {name}=0 is read as the whole dim, {name}={f} (as Timeloop reads a factor 0)"
            warnings.warn(read, stacklevel=2)
            if zeros is not None:
                zeros.append((name, read))
        if f < 1:
            raise ValueError(f"{field}: factor of {name} must be a positive integer, got {num}")
        target[d] = f
    return exact, limits["<="], limits[">="]


def parse_permutation(value: Any, dims: dict[str, str], field: str) -> list[str]:
    """A permutation (innermost first; `RPK`, `R P K` or a list) -> cosearch dims, innermost first.

    It may name only some of the problem's dims (Timeloop then fixes the innermost loops only).
    """
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        single = all(len(d) == 1 for d in dims)
        items = list(value.replace(" ", "").replace(",", "")) if single else value.replace(",", " ").split()
    else:
        raise ValueError(f"{field}: expected a permutation such as 'RPK' (innermost first), got {show(value)}")
    unknown = [d for d in items if d not in dims]
    if unknown:
        raise ValueError(f"{field}: unknown dim(s) {unknown}; the problem's dims: {' '.join(dims)}")
    if len(set(items)) != len(items):
        raise ValueError(f"{field}: a dim appears twice in {show(value)}")
    return [dims[d] for d in items]
