"""Timeloop mapspace constraints: the `bypass` targets that say which tensors each level may keep."""
from __future__ import annotations

from ..accelerator import TENSORS, Accelerator
from ._fields import bypass_entry, split_range, tensor_list
from ._yaml import dump


def constraint_keeps(doc: dict | None, names: list[str]) -> dict[str, tuple[str, ...]]:
    """Tensors each level may keep, from mapspace-constraint `bypass` targets (all tensors otherwise)."""
    keeps = {n: TENSORS for n in names}
    if not doc:
        return keeps
    root = doc.get("mapspace_constraints", doc.get("architecture_constraints", doc))
    targets = root.get("targets", []) if isinstance(root, dict) else root
    for i, entry in enumerate(targets or []):
        if entry.get("type") not in ("bypass", "datatype"):
            continue
        base, _ = split_range(entry.get("target", ""))
        if base not in keeps:
            raise ValueError(f"constraints.targets[{i}].target: {base!r} names no storage level; levels: {names}")
        bypass = tensor_list(entry.get("bypass"), f"constraints.targets[{i}].bypass")
        keeps[base] = tuple(t for t in keeps[base] if t not in bypass)
    return keeps


def constraints_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """The levels' `keeps` as Timeloop mapspace constraints, for timeloop-mapper.

    The outermost level and every level that cannot keep all tensors get a bypass target; the
    others are left free, as in the corpus's mapper benchmark.
    """
    targets = [bypass_entry(lv.name, lv.keeps) for l, lv in enumerate(accelerator.levels)
               if l == 0 or lv.keeps != TENSORS]
    return dump({"mapspace_constraints": {"targets": targets}})
