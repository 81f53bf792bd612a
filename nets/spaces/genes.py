"""Gene tables: the accepted values of every field of a subnet config, and the check of a config against them.

A gene table maps each config field to a tuple with one entry per position: a per-slot field (OFA's kernel
sizes, one per block slot) has one position per slot, a scalar field (the resolution, a depth) has one. Each
entry is the tuple of values accepted there. Sampling, mutation and crossover (`nets.spaces.evolution`), the
search strategies and the config check all read a space through its gene table.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from numbers import Real
from typing import Any

GeneTable = dict[str, tuple[tuple, ...]]
"""For each config field, the accepted values at each position (a scalar field has one position)."""


def describe_choices(choices: tuple) -> str:
    """Human-readable accepted values: a list, or 'a, b, ..., z (step s)' for long progressions."""
    if len(choices) > 5:
        steps = {b - a for a, b in zip(choices, choices[1:])}
        if len(steps) == 1:
            return f"{choices[0]}, {choices[1]}, ..., {choices[-1]} (step {steps.pop()})"
    return ", ".join(str(c) for c in choices)


def _check_value(space: str, field: str, where: str, value: Any, choices: tuple) -> Any:
    """The choice equal to `value` (so 6.0 becomes 6), or a ValueError naming the field."""
    if isinstance(value, Real) and not isinstance(value, bool):
        for choice in choices:
            if value == choice:
                return choice
    raise ValueError(f"{space}: config field {where} = {value!r} is not accepted; "
                     f"accepted values for {field!r}: {describe_choices(choices)}")


@lru_cache(maxsize=256)
def _shared_int_choices(per_position: tuple) -> frozenset | None:
    """The choices of a per-slot gene when every slot has the same integer ones (OFA's ks, e, d), else None."""
    first = per_position[0] if per_position else None
    if first is None or any(c != first for c in per_position) or not all(type(c) is int for c in first):
        return None
    return frozenset(first)


def check_genes(space_name: str, genes: GeneTable, scalar: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    """Every field of `values` checked against `genes` (fields in `scalar` hold one value, the others a list of one
    value per position); returns normalised values (tuples, the choices themselves). A ValueError names the field."""
    out: dict[str, Any] = {}
    for field, per_position in genes.items():
        value = values[field]
        if field in scalar:
            # OFA's evolution code stores the resolution as a one-element list.
            if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 1:
                value = value[0]
            out[field] = _check_value(space_name, field, f"'{field}'", value, per_position[0])
            continue
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{space_name}: config field {field!r} must be a list of {len(per_position)} "
                             f"values, got {type(value).__name__} {value!r}")
        if len(value) != len(per_position):
            raise ValueError(f"{space_name}: config field {field!r} must have {len(per_position)} entries, "
                             f"got {len(value)}")
        shared = _shared_int_choices(per_position)
        if shared is not None and all(type(v) is int for v in value) and shared.issuperset(value):
            out[field] = tuple(value)  # the usual case, checked at once: a subnet search draws thousands a trial
            continue
        out[field] = tuple(_check_value(space_name, field, f"{field}[{i}]", v, choices)
                           for i, (v, choices) in enumerate(zip(value, per_position)))
    return out


def slot_choices(genes: GeneTable) -> list[tuple[str, int, tuple]]:
    """Every decision of a gene table as (field, position, choices), in table order: what a policy over the space
    (a controller, architecture logits) draws one value for."""
    return [(field, i, choices) for field, per_position in genes.items() for i, choices in enumerate(per_position)]


__all__ = ["GeneTable", "describe_choices", "check_genes", "slot_choices"]
