"""Timeloop mapspace constraints: the targets of `constraints:` / `mapspace_constraints:` / `architecture_constraints:`
(and those written inside v0.4 components) -> which tensors each level may keep, and `MapspaceConstraints`
for the mapper (exact factors, fixed innermost loops, the dims each fan-out axis may unroll, keep/bypass).
"""
from __future__ import annotations

import warnings

from ..accelerator import TENSORS, Accelerator
from ..mapspace import LevelConstraints, MapspaceConstraints
from ._fields import bypass_entry, number, parse_factors, parse_permutation, show, split_range
from ._yaml import dump
from .problem import ProblemNames

CONSTRAINT_KEYS = ("constraints", "mapspace_constraints", "architecture_constraints")
"""Top-level keys holding constraints (timeloopfe v0.4's, and Timeloop's two older ones)."""
_KEYS = {"temporal": ("factors", "permutation"), "spatial": ("factors", "permutation", "split"),
         "bypass": ("keep", "bypass")}
_UNENFORCED_KEYS = ("no_link_transfer", "no_multicast_no_reduction", "no_reuse", "no_temporal_reuse",
                    "rmw_first_update", "remainders", "no_coalesce")
"""Options Timeloop's constraints give that cosearch's mapper does not enforce (a non-empty one warns)."""
_BYPASS_TYPES = ("bypass", "datatype", "dataspace", "bypassing")
_IGNORED_TYPES = ("max_overbooked_proportion", "utilization", "parallelism", "no_link_transfer", "no_multicast",
                  "no_reduction", "no_multicast_no_reduction")


def constraint_targets(doc: dict | list | None) -> list[dict]:
    """The constraint targets of a document (each with its `_where` for errors)."""
    if not doc:
        return []
    if isinstance(doc, list):
        roots = [("constraints", doc)]
    else:
        roots = [(k, doc[k]) for k in CONSTRAINT_KEYS if doc.get(k) is not None]
        if not roots and "targets" in doc:
            roots = [("constraints", doc)]
    out = []
    for key, root in roots:
        targets = root.get("targets", []) if isinstance(root, dict) else root
        if not isinstance(targets, list):
            raise ValueError(f"{key}.targets: expected a list of {{target, type, ...}} entries, got {show(targets)}")
        for i, t in enumerate(targets):
            if not isinstance(t, dict):
                raise ValueError(f"{key}.targets[{i}]: expected {{target, type, ...}}, got {show(t)}")
            out.append({**t, "_where": t.get("_where", f"{key}.targets[{i}]")})
    return out


def _level(t: dict, level_names: list[str], aliases: dict[str, str]) -> str:
    """The level a constraint targets (by `target`, or `name` as Timeloop also reads it)."""
    target = t.get("target", t.get("name"))
    base, _ = split_range(str(target if target is not None else ""))
    base = aliases.get(base, base)
    if base not in level_names:
        raise ValueError(f"{t['_where']}.target: {target!r} names no storage level; levels: {level_names}")
    return base


def _kind(t: dict) -> str | None:
    kind = t.get("type")
    if kind in _BYPASS_TYPES:
        return "bypass"
    if kind in ("temporal", "spatial"):
        return kind
    if kind in _IGNORED_TYPES:
        warnings.warn(f"{t['_where']}: constraint type {kind!r} is not modelled by cosearch; ignored", stacklevel=4)
        return None
    raise ValueError(f"{t['_where']}.type must be temporal, spatial or bypass (dataspace, datatype), got {show(kind)}")


def _tensors(value, names: ProblemNames, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(names.tensor(str(v), field) for v in items)


def _check_keys(t: dict, kind: str) -> None:
    """Timeloop reads the keys it knows and ignores the others: so does cosearch, with a warning."""
    allowed = ("target", "name", "type", "_where", "_bypass_all_but") + _KEYS[kind] + _UNENFORCED_KEYS
    unknown = [str(k) for k in t if k not in allowed]
    if unknown:
        warnings.warn(f"{t['_where']}: key(s) {unknown} ignored (a {kind} constraint gives target, type, "
                      f"{', '.join(_KEYS[kind])})", stacklevel=4)
    unenforced = [k for k in _UNENFORCED_KEYS if t.get(k)]
    if unenforced:
        warnings.warn(f"{t['_where']}: {', '.join(unenforced)} not enforced by cosearch's mapper", stacklevel=4)


def _keep_and_bypass(t: dict, names: ProblemNames) -> tuple[tuple[str, ...], tuple[str, ...]]:
    keep = _tensors(t.get("keep"), names, f"{t['_where']}.keep")
    bypass = _tensors(t.get("bypass"), names, f"{t['_where']}.bypass")
    if "_bypass_all_but" in t:   # a !Parallel branch bypasses what it does not keep (timeloopfe)
        bypass += tuple(x for x in TENSORS if x not in keep and x not in bypass)
    both = sorted(set(keep) & set(bypass))
    if both:
        raise ValueError(f"{t['_where']}: {both} both kept and bypassed")
    return keep, bypass


def constraint_keeps(targets: list[dict], level_names: list[str], names: ProblemNames | None = None,
                     aliases: dict[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    """Tensors each level may keep: every tensor but those a bypass target bypasses (their other keys are
    checked by `mapspace_constraints`)."""
    names = names or ProblemNames.standard()
    keeps = {n: TENSORS for n in level_names}
    for t in targets:
        if t.get("type") not in _BYPASS_TYPES:
            continue
        level = _level(t, level_names, aliases or {})
        _, bypass = _keep_and_bypass(t, names)
        keeps[level] = tuple(x for x in keeps[level] if x not in bypass)
    return keeps


def mapspace_constraints(targets: list[dict], accelerator: Accelerator, names: ProblemNames,
                         bounds: dict[str, int]) -> MapspaceConstraints:
    """Constraint targets -> `MapspaceConstraints` (a placeholder level keeps nothing and loops only spatially,
    as timeloopfe constrains it). `bounds`: the problem's bounds by its own dim names (factor 0 = whole dim)."""
    meta = accelerator.meta.get("timeloop", {})
    aliases = meta.get("aliases", {})
    level_names = list(accelerator.level_names)
    parts: dict[str, dict] = {n: {} for n in level_names}
    for name in meta.get("placeholders", []):
        if name in parts:
            parts[name] = {"bypass": TENSORS, "temporal_factors": {d: 1 for d in names.dims.values()}}
    for t in targets:
        kind = _kind(t)
        if kind is None:
            continue
        _check_keys(t, kind)
        level = _level(t, level_names, aliases)
        p = parts[level]
        where = t["_where"]
        if kind == "bypass":
            keep, bypass = _keep_and_bypass(t, names)
            p["keep"] = tuple(x for x in TENSORS if x in keep or (x in p.get("keep", ()) and x not in bypass))
            p["bypass"] = tuple(x for x in TENSORS if x in bypass or (x in p.get("bypass", ()) and x not in keep))
            continue
        exact, maxes, mins = parse_factors(t.get("factors"), names.dims, f"{where}.factors", bounds)
        limits = [f"{d}<={f}" for d, f in maxes.items()] + [f"{d}>={f}" for d, f in mins.items()]
        if limits:
            warnings.warn(f"{where}.factors: max/min factors ({', '.join(limits)}) are not enforced by cosearch's "
                          "mapper", stacklevel=3)
        key = f"{kind}_factors"
        clash = [d for d in exact if d in p.get(key, {}) and p[key][d] != exact[d]]
        if clash:
            raise ValueError(f"{where}.factors: {clash} constrained twice at {level} (architecture and mapspace "
                             "constraints disagree?)")
        p[key] = {**p.get(key, {}), **exact}
        if t.get("permutation") is not None:
            perm = parse_permutation(t["permutation"], names.dims, f"{where}.permutation")
            if kind == "temporal":
                p["temporal_order"] = tuple(perm)
            elif t.get("split") is not None:
                split = number(t["split"], f"{where}.split", integer=True, positive=False)
                if split < 0:       # past the last dim: all on X, as in Timeloop
                    raise ValueError(f"{where}.split must be >= 0 (a permutation position), got {split}")
                p["spatial_x"], p["spatial_y"] = tuple(perm[:split]), tuple(perm[split:])
                free = tuple(d for d in names.dims.values() if d not in perm)
                p["spatial_x"] += free
                p["spatial_y"] += free
    levels = {name: LevelConstraints(**p) for name, p in parts.items() if p}
    return MapspaceConstraints(levels)


def constraints_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """The levels' `keeps` as Timeloop mapspace constraints, for timeloop-mapper.

    The outermost level and every level that cannot keep all tensors get a bypass target; the
    others are left free, as in the corpus's mapper benchmark.
    """
    targets = [bypass_entry(lv.name, lv.keeps) for l, lv in enumerate(accelerator.levels)
               if l == 0 or lv.keeps != TENSORS]
    return dump({"mapspace_constraints": {"targets": targets}})
