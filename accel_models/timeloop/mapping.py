"""Timeloop mappings (temporal / spatial / bypass entries per level) <-> `MappingArrays`.

Factors read as Timeloop writes them (`R=3 S=1`, the dumps' `R=1,P=1`, the mapper's `K2 R3`), by the
problem's own dim names (`ProblemNames`), with residual ends as Timeloop v3 writes them (`P=4,1`: end 4, residual
end 1); permutations are innermost-first and may name only some dims;
a spatial entry's first `split` permutation dims go on X; a spatial entry may target a container with a
fan-out (its placeholder level) or the placeholder itself; at a level without fan-out it may only give
factors of 1.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np

from nets import DIMS, Layer

from ..accelerator import TENSORS, Accelerator
from ..mapping_arrays import MappingArrays, bound_from_factors, dim_loops
from ._fields import bypass_entry, number, parse_factors, parse_permutation, show, split_range
from ._permutation import order_outer_first, permutation_inner_first
from ._yaml import YamlSource, dump, load
from .problem import CNN_DIMS, ProblemNames, problem_dims

_ENTRY_KEYS = {"temporal": ("target", "type", "factors", "permutation"),
               "spatial": ("target", "type", "factors", "permutation", "split"),
               "bypass": ("target", "type", "keep", "bypass")}
_KIND = {"temporal": "temporal", "spatial": "spatial", "bypass": "bypass", "datatype": "bypass",
         "dataspace": "bypass"}
_UNMODELLED_KEYS = ("no_link_transfer", "no_multicast_no_reduction", "no_reuse", "no_temporal_reuse",
                    "rmw_first_update", "no_coalesce")
"""Directive options timeloop-model reads that change its counts and cosearch does not model (an empty list is
accepted: it changes nothing)."""


# ---- reader ------------------------------------------------------------------------------
def _mapping_entries(mapping: dict | list) -> list[dict]:
    entries = mapping.get("mapping") if isinstance(mapping, dict) else mapping
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("mapping: expected a list of {target, type, ...} entries under 'mapping'")
    return entries


def _default_names(entries: list[dict]) -> ProblemNames:
    """Without the problem: cosearch's names, grouped_conv's dims if any entry mentions G."""
    mentions_g = any("G" in str(e.get(k, "")) for e in entries for k in ("factors", "permutation"))
    return ProblemNames.standard(DIMS if mentions_g else CNN_DIMS)


def mapping_from_timeloop(mapping_yaml: YamlSource | list, accelerator: Accelerator, layer: Layer | None = None,
                          names: ProblemNames | None = None) -> MappingArrays:
    """A Timeloop mapping -> `MappingArrays` (a batch of one).

    As timeloop-model: missing levels or factors are 1, a missing split puts every dim on X, a level without
    a bypass entry keeps (what the accelerator allows), and a permutation that names only some dims fixes
    the innermost loops (the others go outside, in the problem's order). `names`: the problem's names of
    dims and tensors (default cosearch's). With `layer`, factors must multiply to the bounds.
    """
    entries = _mapping_entries(load(mapping_yaml, "mapping") if not isinstance(mapping_yaml, list)
                               else mapping_yaml)
    names = names or _default_names(entries)
    bounds = None if layer is None else {n: getattr(layer, d) for n, d in names.dims.items()}
    arrays = MappingArrays.empty(1, accelerator.num_levels)
    arrays.keep[0] = [[int(t in lv.keeps) for t in TENSORS] for lv in accelerator.levels]
    seen: set[tuple[int, str]] = set()
    zeros: list[tuple[str, str]] = []  # factors written 0 (the whole dim), named if the products then fail
    aliases = accelerator.meta.get("timeloop", {}).get("aliases", {})
    for i, entry in enumerate(entries):
        level, kind = _entry_target(entry, i, accelerator, seen, aliases)
        where = f"mapping[{i}] ({accelerator.levels[level].name} {kind})"
        unmodelled = [k for k in _UNMODELLED_KEYS if entry.get(k)]
        if unmodelled:
            raise ValueError(f"{where}: {', '.join(unmodelled)} {show(entry[unmodelled[0]])}: not modelled by cosearch "
                             "(Timeloop's counts would differ)")
        unknown = [str(k) for k in entry if k not in _ENTRY_KEYS[kind] + _UNMODELLED_KEYS]
        if unknown:   # timeloop-model reads the keys it knows and ignores the others
            warnings.warn(f"{where}: key(s) {unknown} ignored (a {kind} entry gives "
                          f"{', '.join(_ENTRY_KEYS[kind])})", stacklevel=2)
        if kind == "temporal":
            _read_temporal(arrays, level, entry, names, bounds, where, zeros)
        elif kind == "spatial" and accelerator.levels[level].fanout == 1:
            _no_fanout_spatial(entry, accelerator.levels[level].name, names, bounds, where)
        elif kind == "spatial":
            _read_spatial(arrays, level, entry, names, bounds, where, zeros)
        else:
            _read_bypass(arrays, level, entry, accelerator, names, where)
    if layer is not None:
        _check_products(arrays, layer, names, zeros)
    return arrays


def _entry_target(entry: dict, i: int, accelerator: Accelerator, seen: set, aliases: dict) -> tuple[int, str]:
    base, _ = split_range(str(entry.get("target", "")))
    base = aliases.get(base, base)
    if base not in accelerator.level_names:
        raise ValueError(f"mapping[{i}].target: {show(entry.get('target'))} names no storage level; "
                         f"levels: {', '.join(accelerator.level_names)}")
    kind = _KIND.get(entry.get("type"))
    if kind is None:
        raise ValueError(f"mapping[{i}].type must be temporal, spatial or bypass (datatype, dataspace), "
                         f"got {show(entry.get('type'))}")
    level = accelerator.level_index(base)
    if (level, kind) in seen:
        raise ValueError(f"mapping[{i}]: a second {kind} entry for {base}")
    seen.add((level, kind))
    return level, kind


_RESIDUAL = re.compile(r"([A-Za-z_][A-Za-z_]*)\s*=\s*([0-9]+)\s*,\s*([0-9]+)")
"""A factor with a residual end, `P=4,1` (a comma followed by a number; `R=1,P=1` is two factors)."""


def _factors(entry: dict, names: ProblemNames, bounds, where: str,
             zeros: list[tuple[str, str]] | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """({dim: end}, {dim: residual end}) of an entry; a factor written `D=e,r` has the residual end r (1..e)."""
    text = entry.get("factors", "")
    residuals: dict[str, int] = {}
    if isinstance(text, str):
        for name, e, r in _RESIDUAL.findall(text.split("#")[0]):
            if int(r) < 1 or int(r) > int(e):
                raise ValueError(f"{where}.factors: {name}={e},{r} has a residual end outside 1..{e} (its end)")
            if name in names.dims:
                residuals[names.dims[name]] = int(r)
        text = _RESIDUAL.sub(lambda mt: f"{mt.group(1)}={mt.group(2)}", text)
    exact, maxes, mins = parse_factors(text, names.dims, f"{where}.factors", bounds, zeros)
    if maxes or mins:
        raise ValueError(f"{where}.factors: a mapping gives exact factors, not bounds ({', '.join({**maxes, **mins})})")
    return exact, residuals


def _permutation(entry: dict, names: ProblemNames, factors: dict[str, int], where: str) -> list[str]:
    """The full permutation (innermost first, cosearch dims): the given dims innermost, the rest outside."""
    perm = parse_permutation(entry.get("permutation", ""), names.dims, f"{where}.permutation")
    rest = [names.dims[n] for n in names.order if names.dims[n] not in perm]
    moving = [d for d in rest if factors.get(d, 1) > 1]
    if len(moving) > 1 and entry.get("permutation"):
        warnings.warn(f"{where}.permutation {show(entry.get('permutation'))} leaves out {moving}, whose loops "
                      "then run outside it in the problem's order", stacklevel=4)
    return perm + rest


def _read_temporal(arrays: MappingArrays, level: int, entry: dict, names: ProblemNames, bounds, where: str,
                   zeros: list[tuple[str, str]]) -> None:
    factors, residuals = _factors(entry, names, bounds, where, zeros)
    arrays.temporal[0, level] = [factors.get(d, 1) for d in DIMS]
    arrays.temporal_residual[0, level] = [residuals.get(d, factors.get(d, 1)) for d in DIMS]
    arrays.order[0, level] = order_outer_first(_permutation(entry, names, factors, where))


def _read_spatial(arrays: MappingArrays, level: int, entry: dict, names: ProblemNames, bounds, where: str,
                  zeros: list[tuple[str, str]]) -> None:
    factors, residuals = _factors(entry, names, bounds, where, zeros)
    perm = _permutation(entry, names, factors, where)
    # Dims at permutation positions below `split` go on X; without a split (or with one past the last dim)
    # Timeloop puts all of them on X.
    split = number(entry.get("split", len(perm)), f"{where}.split", integer=True, positive=False)
    if split < 0:
        raise ValueError(f"{where}.split must be >= 0 (a permutation position), got {split}")
    on_x = set(perm[:split])
    arrays.spatial_x[0, level] = [factors.get(d, 1) if d in on_x else 1 for d in DIMS]
    arrays.spatial_y[0, level] = [1 if d in on_x else factors.get(d, 1) for d in DIMS]
    arrays.spatial_x_residual[0, level] = [residuals.get(d, factors.get(d, 1)) if d in on_x else 1 for d in DIMS]
    arrays.spatial_y_residual[0, level] = [1 if d in on_x else residuals.get(d, factors.get(d, 1)) for d in DIMS]
    arrays.spatial_order[0, level] = order_outer_first(perm)


def _no_fanout_spatial(entry: dict, level: str, names: ProblemNames, bounds, where: str) -> None:
    """A spatial entry at a level without fan-out maps nothing when every factor is 1: accepted with a warning
    (timeloop-model stops on any spatial entry there); a factor > 1 has no instances to go to."""
    unrolled = {d: f for d, f in _factors(entry, names, bounds, where)[0].items() if f > 1}
    if unrolled:
        shown = " ".join(f"{names.problem_dim(d)}={f}" for d, f in unrolled.items())
        raise ValueError(f"{where}: {level} has no spatial fan-out to map {shown} onto (spatial factors must be 1)")
    warnings.warn(f"{where}: {level} has no spatial fan-out; its spatial entry (every factor 1) maps nothing "
                  "(timeloop-model refuses it)", stacklevel=4)


def _read_bypass(arrays: MappingArrays, level: int, entry: dict, accelerator: Accelerator, names: ProblemNames,
                 where: str) -> None:
    keep = tuple(names.tensor(t, f"{where}.keep") for t in _names_list(entry.get("keep"), f"{where}.keep"))
    bypass = tuple(names.tensor(t, f"{where}.bypass") for t in _names_list(entry.get("bypass"), f"{where}.bypass"))
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


def _names_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ValueError(f"{field}: expected a list of data spaces, got {show(value)}")
    return [str(v) for v in value]


def _check_products(arrays: MappingArrays, layer: Layer, names: ProblemNames | None = None,
                    zeros: list[tuple[str, str]] = ()) -> None:
    """Timeloop's checks of the factors before any analysis: the bound equation (F3; the product of the factors
    when none has a residual), and no residual on the outermost loop of a dim when that loop is spatial. `zeros`:
    the factors written 0 (dim, how it was read), named when their dim fails."""
    for i, (d, want) in enumerate(zip(DIMS, layer.bounds)):
        loops = dim_loops(arrays, 0, i)
        shown = (names.problem_dim(d) if names else None) or d
        outer = next(((l, kind, e, r) for l, kind, e, r in loops if e > 1), None)
        if outer is not None and outer[1] > 0 and outer[2] != outer[3]:
            raise ValueError(f"mapping.factors: the outermost loop of {shown} is spatial and has a residual "
                             f"({shown}={outer[2]},{outer[3]}); Timeloop refuses an imperfect outermost spatial loop")
        got = bound_from_factors([(e, r) for _, _, e, r in loops])
        if got != want:
            how = ("multiply to" if all(e == r for _, _, e, r in loops)
                   else "cover (F3: acc * end + residual - 1, outermost first)")
            read = [text for name, text in zeros if name == shown]
            raise ValueError(f"mapping.factors: the factors of {shown} {how} {int(got)}, but the problem's "
                             f"{shown} is {want}" + "".join(f"; {text}" for text in read))


# ---- writer ------------------------------------------------------------------------------
def _factors_text(factors: np.ndarray, dims: tuple[str, ...], names: ProblemNames,
                  residuals: np.ndarray | None = None) -> str:
    """Per-DIMS factors -> Timeloop's 'R=1 S=3 ...' over the problem's dims, by its names; a factor whose
    residual end differs is written 'P=4,1'."""
    out = []
    for d in dims:
        e = int(factors[DIMS.index(d)])
        r = e if residuals is None or residuals[DIMS.index(d)] == 0 else int(residuals[DIMS.index(d)])
        out.append(f"{names.problem_dim(d)}={e}" if r == e else f"{names.problem_dim(d)}={e},{r}")
    return " ".join(out)


def _check_row(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int) -> None:
    if not 0 <= b < arrays.batch_size:
        raise ValueError(f"b must be in [0, {arrays.batch_size}), got {b}")
    if arrays.num_levels != accelerator.num_levels:
        raise ValueError(f"arrays have {arrays.num_levels} levels, the accelerator {accelerator.num_levels}")
    _check_products(arrays.row(b), layer)


def _spatial_entry(name: str, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, dims: tuple[str, ...],
                   names: ProblemNames, rx: np.ndarray, ry: np.ndarray) -> dict:
    both = [DIMS[d] for d in range(len(DIMS)) if sx[d] > 1 and sy[d] > 1]
    if both:
        raise ValueError(f"mapping level {name}: dim(s) {both} unrolled on both X and Y; "
                         "Timeloop puts a dim on one axis")
    inner_first = permutation_inner_first(order, dims)
    on_x = [d for d in inner_first if sx[DIMS.index(d)] > 1]
    perm = on_x + [d for d in inner_first if d not in on_x]
    return {"target": name, "type": "spatial", "factors": _factors_text(sx * sy, dims, names, rx * ry),
            "permutation": "".join(names.problem_dim(d) for d in perm), "split": len(on_x)}


def mapping_to_timeloop_yaml(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int = 0,
                             names: ProblemNames | None = None) -> str:
    """Mapping `b` of `arrays` as a Timeloop mapping YAML (temporal, spatial where fanned out, bypass per level).

    `names`: the problem's names of dims and tensors (default cosearch's, cnn_layer or grouped_conv dims).
    """
    _check_row(arrays, accelerator, layer, b)
    arrays = arrays.with_residuals()
    names = names or ProblemNames.standard(problem_dims(layer))
    dims = tuple(names.dims[n] for n in names.order)
    entries = []
    for l, lv in enumerate(accelerator.levels):
        entries.append({"target": lv.name, "type": "temporal",
                        "factors": _factors_text(arrays.temporal[b, l], dims, names, arrays.temporal_residual[b, l]),
                        "permutation": "".join(names.problem_dim(d)
                                               for d in permutation_inner_first(arrays.order[b, l], dims))})
        sx, sy = arrays.spatial_x[b, l], arrays.spatial_y[b, l]
        if lv.fanout > 1:
            rx, ry = arrays.spatial_x_residual[b, l], arrays.spatial_y_residual[b, l]
            entries.append(_spatial_entry(lv.name, sx, sy, arrays.spatial_order[b, l], dims, names,
                                          np.where(rx == 0, sx, rx), np.where(ry == 0, sy, ry)))
        elif (sx > 1).any() or (sy > 1).any():
            raise ValueError(f"mapping level {lv.name}: spatial factors on a level without a fan-out")
        kept = [names.problem_tensor(t) for i, t in enumerate(TENSORS) if arrays.keep[b, l, i]]
        entries.append(bypass_entry(lv.name, kept, [names.problem_tensor(t) for t in TENSORS]))
    return dump({"mapping": entries})
