"""Timeloop mappings (temporal / spatial / bypass entries per level) <-> `MappingArrays`.

Factors read `R=3 S=1 ...`; permutations are Timeloop's innermost-first text (`_permutation` converts);
a spatial entry's first `split` permutation dims go on X.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nets import DIMS, Layer

from ..accelerator import TENSORS, Accelerator
from ..mapping_arrays import MappingArrays
from ._fields import bypass_entry, number, split_range, tensor_list
from ._permutation import order_outer_first, permutation_inner_first
from ._yaml import YamlSource, dump, load
from .problem import CNN_DIMS, problem_dims


# ---- reader ------------------------------------------------------------------------------

def _parse_factors(value: Any, field: str) -> dict[str, int]:
    """'R=1 S=3 ...' (or a list of 'R=1' items, or a dict) -> {dim: factor}."""
    if isinstance(value, dict):
        items = [(str(k), v) for k, v in value.items()]
    else:
        tokens = value.split("#")[0].split() if isinstance(value, str) else list(value or [])
        items = []
        for tok in tokens:
            dim, sep, num = str(tok).partition("=")
            if not sep:
                raise ValueError(f"{field}: expected DIM=INT items, got {tok!r}")
            items.append((dim.strip(), num.strip()))
    factors: dict[str, int] = {}
    for dim, num in items:
        if dim not in DIMS:
            raise ValueError(f"{field}: unknown dim {dim!r}; accepted: {' '.join(DIMS)}")
        if dim in factors:
            raise ValueError(f"{field}: dim {dim} given twice")
        if isinstance(num, bool) or not (isinstance(num, int) or (isinstance(num, str) and num.isdigit())):
            raise ValueError(f"{field}: factor of {dim} must be a positive integer, got {num!r}")
        if int(num) < 1:
            raise ValueError(f"{field}: factor of {dim} must be a positive integer, got {num!r}")
        factors[dim] = int(num)
    return factors


def _parse_permutation(value: Any, dims: tuple[str, ...], field: str) -> list[str]:
    """A permutation string (innermost first) that names every dim of the problem exactly once."""
    perm = list(value.replace(" ", "")) if isinstance(value, str) else [str(d) for d in value]
    unknown = [d for d in perm if d not in dims]
    if unknown:
        raise ValueError(f"{field}: unknown dim(s) {unknown}; accepted: {''.join(dims)}")
    if len(set(perm)) != len(perm):
        raise ValueError(f"{field}: a dim appears twice in {''.join(perm)!r}")
    missing = [d for d in dims if d not in perm]
    if missing:
        raise ValueError(f"{field}: missing dim(s) {missing} in {''.join(perm)!r}; give all of {''.join(dims)}")
    return perm


def _mapping_entries(mapping: dict | list) -> list[dict]:
    entries = mapping.get("mapping") if isinstance(mapping, dict) else mapping
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("mapping: expected a list of {target, type, ...} entries under 'mapping'")
    return entries


def _mapping_dims(entries: list[dict]) -> tuple[str, ...]:
    """The problem's dims as the mapping shows them: grouped_conv's if any entry mentions G."""
    mentions_g = any("G" in str(e.get(k, "")) for e in entries for k in ("factors", "permutation"))
    return DIMS if mentions_g else CNN_DIMS


def mapping_from_timeloop(mapping_yaml: YamlSource | list, accelerator: Accelerator,
                          layer: Layer | None = None) -> MappingArrays:
    """A Timeloop mapping -> `MappingArrays` (a batch of one).

    As timeloop-model: missing levels or factors are 1, a missing split puts every dim on X, and a
    level without a bypass entry keeps (what the accelerator allows). A permutation must name every
    dim (Timeloop pads a partial one in an arbitrary order). With `layer`, factors must multiply to the bounds.
    """
    entries = _mapping_entries(load(mapping_yaml, "mapping") if not isinstance(mapping_yaml, list)
                               else mapping_yaml)
    dims = _mapping_dims(entries)
    arrays = MappingArrays.empty(1, accelerator.num_levels)
    arrays.keep[0] = [[int(t in lv.keeps) for t in TENSORS] for lv in accelerator.levels]
    seen: set[tuple[int, str]] = set()
    for i, entry in enumerate(entries):
        level, kind = _entry_target(entry, i, accelerator, seen)
        where = f"mapping[{i}] ({accelerator.levels[level].name} {kind})"
        if kind == "temporal":
            _read_temporal(arrays, level, entry, dims, where)
        elif kind == "spatial":
            if accelerator.levels[level].fanout == 1:
                raise ValueError(f"{where}: {accelerator.levels[level].name} has no spatial fan-out to map onto")
            _read_spatial(arrays, level, entry, dims, where)
        else:
            _read_bypass(arrays, level, entry, accelerator, where)
    if layer is not None:
        _check_products(arrays, layer)
    return arrays


def _entry_target(entry: dict, i: int, accelerator: Accelerator, seen: set) -> tuple[int, str]:
    base, _ = split_range(str(entry.get("target", "")))
    if base not in accelerator.level_names:
        raise ValueError(f"mapping[{i}].target: {entry.get('target')!r} names no storage level; "
                         f"levels: {', '.join(accelerator.level_names)}")
    kind = {"datatype": "bypass"}.get(entry.get("type"), entry.get("type"))
    if kind not in ("temporal", "spatial", "bypass"):
        raise ValueError(f"mapping[{i}].type must be temporal, spatial or bypass, got {entry.get('type')!r}")
    level = accelerator.level_index(base)
    if (level, kind) in seen:
        raise ValueError(f"mapping[{i}]: a second {kind} entry for {base}")
    seen.add((level, kind))
    return level, kind


def _read_temporal(arrays: MappingArrays, level: int, entry: dict, dims: tuple[str, ...], where: str) -> None:
    factors = _parse_factors(entry.get("factors", ""), f"{where}.factors")
    arrays.temporal[0, level] = [factors.get(d, 1) for d in DIMS]
    # Without a permutation timeloop-model pads an empty one: the problem's dims in order, the first innermost.
    perm = _parse_permutation(entry.get("permutation", "".join(dims)), dims, f"{where}.permutation")
    arrays.order[0, level] = order_outer_first(perm)


def _read_spatial(arrays: MappingArrays, level: int, entry: dict, dims: tuple[str, ...], where: str) -> None:
    factors = _parse_factors(entry.get("factors", ""), f"{where}.factors")
    perm = _parse_permutation(entry.get("permutation", "".join(dims)), dims, f"{where}.permutation")
    # Dims at permutation positions below `split` go on X; without a split Timeloop puts all of them on X.
    split = number(entry.get("split", len(perm)), f"{where}.split", integer=True, positive=False)
    if not 0 <= split <= len(perm):
        raise ValueError(f"{where}.split must be in [0, {len(perm)}], got {split}")
    on_x = set(perm[:split])
    arrays.spatial_x[0, level] = [factors.get(d, 1) if d in on_x else 1 for d in DIMS]
    arrays.spatial_y[0, level] = [1 if d in on_x else factors.get(d, 1) for d in DIMS]
    arrays.spatial_order[0, level] = order_outer_first(perm)


def _read_bypass(arrays: MappingArrays, level: int, entry: dict, accelerator: Accelerator, where: str) -> None:
    keep = tensor_list(entry.get("keep"), f"{where}.keep")
    bypass = tensor_list(entry.get("bypass"), f"{where}.bypass")
    both = sorted(set(keep) & set(bypass))
    if both:
        raise ValueError(f"{where}: {both} both kept and bypassed")
    lv = accelerator.levels[level]
    barred = [t for t in keep if t not in lv.keeps]
    if barred:
        raise ValueError(f"{where}.keep: the architecture does not let {lv.name} keep {barred}")
    if level == 0 and bypass:
        raise ValueError(f"{where}.bypass: the outermost level must keep every tensor, got {list(bypass)}")
    arrays.keep[0, level] = [int(t in lv.keeps and t not in bypass) for t in TENSORS]


def _check_products(arrays: MappingArrays, layer: Layer) -> None:
    total = (arrays.temporal[0] * arrays.spatial_x[0] * arrays.spatial_y[0]).prod(axis=0)
    for d, got, want in zip(DIMS, total, layer.bounds):
        if got != want:
            raise ValueError(f"mapping.factors: the factors of {d} multiply to {int(got)}, but the problem's {d} "
                             f"is {want}")


# ---- writer ------------------------------------------------------------------------------

def _factors_text(factors: np.ndarray, dims: tuple[str, ...]) -> str:
    """Per-DIMS factors -> Timeloop's 'R=1 S=3 ...' over the problem's dims."""
    return " ".join(f"{d}={int(factors[DIMS.index(d)])}" for d in dims)


def _check_row(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int) -> None:
    if not 0 <= b < arrays.batch_size:
        raise ValueError(f"b must be in [0, {arrays.batch_size}), got {b}")
    if arrays.num_levels != accelerator.num_levels:
        raise ValueError(f"arrays have {arrays.num_levels} levels, the accelerator {accelerator.num_levels}")
    _check_products(arrays.row(b), layer)


def _spatial_entry(name: str, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, dims: tuple[str, ...]) -> dict:
    both = [DIMS[d] for d in range(len(DIMS)) if sx[d] > 1 and sy[d] > 1]
    if both:
        raise ValueError(f"mapping level {name}: dim(s) {both} unrolled on both X and Y; "
                         "Timeloop puts a dim on one axis")
    inner_first = permutation_inner_first(order, dims)
    on_x = [d for d in inner_first if sx[DIMS.index(d)] > 1]
    perm = on_x + [d for d in inner_first if d not in on_x]
    return {"target": name, "type": "spatial", "factors": _factors_text(sx * sy, dims),
            "permutation": "".join(perm), "split": len(on_x)}


def mapping_to_timeloop_yaml(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int = 0) -> str:
    """Mapping `b` of `arrays` as a Timeloop mapping YAML (temporal, spatial where fanned out, bypass per level)."""
    _check_row(arrays, accelerator, layer, b)
    dims = problem_dims(layer)
    entries = []
    for l, lv in enumerate(accelerator.levels):
        entries.append({"target": lv.name, "type": "temporal", "factors": _factors_text(arrays.temporal[b, l], dims),
                        "permutation": "".join(permutation_inner_first(arrays.order[b, l], dims))})
        sx, sy = arrays.spatial_x[b, l], arrays.spatial_y[b, l]
        if lv.fanout > 1:
            entries.append(_spatial_entry(lv.name, sx, sy, arrays.spatial_order[b, l], dims))
        elif (sx > 1).any() or (sy > 1).any():
            raise ValueError(f"mapping level {lv.name}: spatial factors on a level without a fan-out")
        entries.append(bypass_entry(lv.name, [t for i, t in enumerate(TENSORS) if arrays.keep[b, l, i]]))
    return dump({"mapping": entries})
