"""Timeloop v0.4 YAML (architecture, problem, mapping, ERT, mapspace constraints) <-> cosearch types.

Readers take YAML text, a parsed dict, or a path (a `Path`, or a one-line string naming a file).
Writers produce the layout of the reference corpus's inputs, which timeloop-model accepts:
`timeloop-model arch.yaml problem.yaml map.yaml ert.yaml`.
"""
from __future__ import annotations

import re
import warnings
from math import prod
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nets import DIMS, Layer

from .accelerator import TENSORS, Accelerator, StorageLevel
from .mapping_arrays import MappingArrays

YamlSource = str | Path | dict
"""YAML text, an already parsed document, or a path to a YAML file."""

_CNN_DIMS: tuple[str, ...] = DIMS[:7]
_COEFFICIENTS: tuple[tuple[str, str], ...] = (
    ("Wstride", "stride_w"), ("Hstride", "stride_h"), ("Wdilation", "dilation_w"), ("Hdilation", "dilation_h"))
_SHAPES: dict[str, tuple[str, ...]] = {"cnn_layer": _CNN_DIMS, "grouped_conv": DIMS}
_COMPUTE_CLASSES = ("intmac", "fpmac", "mac", "compute")
_KINDS = ("DRAM", "SRAM", "regfile")
_RANGE = re.compile(r"^(?P<base>[^\[\]]+)\[(?P<lo>\d+)\.\.(?P<hi>\d+)\]$")
_MODELLED_ATTRS = ("depth", "entries", "width", "memory_width", "datawidth", "word-bits", "word_bits", "block-size",
                   "block_size", "read_bandwidth", "write_bandwidth", "shared_bandwidth", "meshX", "meshY")
_MAC_ATTRS = ("multiplier_width", "adder_width", "width", "meshX", "meshY")


# ---- shared helpers ---------------------------------------------------------------------

def _load(source: YamlSource, what: str) -> dict:
    """Parse `source` (text, dict or path) into a dict; `what` names the document in errors."""
    if isinstance(source, dict):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and _names_file(source)):
        source = Path(source).read_text()
    if not isinstance(source, str):
        raise ValueError(f"{what}: expected YAML text, a dict or a path, got {type(source).__name__}")
    try:
        data = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ValueError(f"{what}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{what}: expected a YAML mapping at the top level, got {type(data).__name__}")
    return data


def _names_file(text: str) -> bool:
    """True if `text` is one line naming an existing file (YAML text never is)."""
    try:
        return "\n" not in text and Path(text).is_file()
    except OSError:
        return False


def _split_range(name: str) -> tuple[str, int]:
    """'RF[1..8]' -> ('RF', 8); a name without a range is one instance."""
    m = _RANGE.match(str(name).strip())
    if not m:
        return str(name).strip(), 1
    lo, hi = int(m["lo"]), int(m["hi"])
    if hi < lo:
        raise ValueError(f"name {name!r}: empty instance range [{lo}..{hi}]")
    return m["base"].strip(), hi - lo + 1


def _number(value: Any, field: str, integer: bool = False, positive: bool = True) -> int | float:
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


def _fmt(value: int | float) -> str:
    """A number as YAML text that reads back to the same value (ints stay ints)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else repr(float(value))


def _flow_list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(items) + "]"


def _problem_dims(layer: Layer) -> tuple[str, ...]:
    """cnn_layer dims unless the layer is grouped (G > 1): then grouped_conv's, as the corpus does."""
    return DIMS if layer.G > 1 else _CNN_DIMS


# ---- architecture + ERT readers -----------------------------------------------------------

def _flatten_arch(arch: dict) -> tuple[list[dict], dict]:
    """Every leaf element of the (possibly nested) subtree, in order, with its total instance count.

    Returns (elements, system attributes); each element is {name, class, attributes, instances}.
    """
    root = arch.get("architecture", arch)
    if not isinstance(root, dict) or not isinstance(root.get("subtree"), list):
        raise ValueError("arch.architecture.subtree: missing (expected a Timeloop v0.4 architecture)")
    elements: list[dict] = []
    system_attrs: dict = {}

    def walk(node: dict, where: str, instances: int) -> None:
        if not isinstance(node, dict) or "name" not in node:
            raise ValueError(f"{where}: expected a node with a name, got {node!r}")
        _, count = _split_range(node["name"])
        instances *= count
        system_attrs.update({k: v for k, v in (node.get("attributes") or {}).items() if k not in system_attrs})
        for j, el in enumerate(node.get("local") or []):
            if not isinstance(el, dict) or "name" not in el or "class" not in el:
                raise ValueError(f"{where}.local[{j}]: an element needs a name and a class, got {el!r}")
            base, n = _split_range(el["name"])
            elements.append({"name": base, "class": str(el["class"]), "attributes": dict(el.get("attributes") or {}),
                             "instances": instances * n, "where": f"{where}.local[{j}] ({base})"})
        for j, sub in enumerate(node.get("subtree") or []):
            walk(sub, f"{where}.subtree[{j}]", instances)

    for i, node in enumerate(root["subtree"]):
        walk(node, f"arch.subtree[{i}]", 1)
    return elements, system_attrs


def _is_compute(el: dict) -> bool:
    cls = el["class"].lower()
    return cls in _COMPUTE_CLASSES or cls.endswith("mac")


def _mesh(el: dict) -> tuple[int, int]:
    """(meshX, meshY) of an element; a missing side is instances / the other (Timeloop's default)."""
    attrs, n, where = el["attributes"], el["instances"], el["where"]
    mx = attrs.get("meshX")
    my = attrs.get("meshY")
    mx = _number(mx, f"{where}.meshX", integer=True) if mx is not None else None
    my = _number(my, f"{where}.meshY", integer=True) if my is not None else None
    if mx is None:
        mx = n // my if my else n
    if my is None:
        my = n // mx
    if mx * my != n:
        raise ValueError(f"{where}.meshX x meshY = {mx} x {my} does not match its {n} instances")
    return mx, my


def _ert_tables(ert: dict) -> dict[str, dict[str, float]]:
    """{element base name: {action: energy pJ}}."""
    root = ert.get("ERT", ert)
    tables = root.get("tables") if isinstance(root, dict) else None
    if not isinstance(tables, list):
        raise ValueError("ert.ERT.tables: missing (expected a Timeloop v0.4 ERT)")
    out: dict[str, dict[str, float]] = {}
    for i, table in enumerate(tables):
        base = re.sub(r"\[\d+\.\.\d+\]", "", str(table.get("name", ""))).split(".")[-1].strip()
        actions: dict[str, float] = {}
        for j, act in enumerate(table.get("actions") or []):
            e = _number(act.get("energy"), f"ert.tables[{i}].actions[{j}].energy", positive=False)
            if e < 0:
                raise ValueError(f"ert.tables[{i}].actions[{j}].energy must be >= 0 pJ, got {e!r}")
            # Several entries of one action differ by Accelergy arguments; cosearch has one energy: the largest.
            actions[act["name"]] = max(e, actions.get(act["name"], e))
        out[base] = actions
    return out


def _energy(tables: dict, level: str, action: str, default: float | None = None) -> float:
    table = tables.get(level)
    if table is None:
        raise ValueError(f"ert: no table for {level!r}; tables: {sorted(tables)}")
    if action in table:
        return table[action]
    if default is not None:
        return default
    raise ValueError(f"ert.{level}: no {action!r} action; actions: {sorted(table)}")


def _storage_level(el: dict, fanout: tuple[int, int], tables: dict, keeps: tuple[str, ...]) -> StorageLevel:
    """One storage element -> `StorageLevel` (capacity = depth x block words; None without a depth)."""
    attrs, where, name = el["attributes"], el["where"], el["name"]

    def get(*keys: str) -> Any:
        return next((attrs[k] for k in keys if attrs.get(k) is not None), None)

    word_bits = _number(get("datawidth", "word-bits", "word_bits"), f"{where}.datawidth", integer=True)
    block = get("block-size", "block_size")
    width = get("width", "memory_width")
    if block is not None:
        block = _number(block, f"{where}.block-size", integer=True)
    elif width is not None:
        width = _number(width, f"{where}.width", integer=True)
        if width % word_bits:
            raise ValueError(f"{where}.width ({width}) must be a multiple of datawidth ({word_bits})")
        block = width // word_bits
    else:
        block = 1
    capacity = None
    if get("depth") is not None:
        capacity = _number(get("depth"), f"{where}.depth", integer=True) * block
    elif get("entries") is not None:
        capacity = _number(get("entries"), f"{where}.entries", integer=True)
    bandwidths = {k: (None if attrs.get(k) is None else _number(attrs[k], f"{where}.{k}"))
                  for k in ("read_bandwidth", "write_bandwidth", "shared_bandwidth")}
    write = _energy(tables, name, "write")
    return StorageLevel(
        name=name, keeps=keeps, capacity_words=capacity, word_bits=word_bits, block_size_words=block, **bandwidths,
        read_energy_pj=_energy(tables, name, "read"), write_energy_pj=write,
        update_energy_pj=_energy(tables, name, "update", default=write), fanout_x=fanout[0], fanout_y=fanout[1],
        kind=el["class"] if el["class"] in _KINDS else "SRAM")


def _fanouts(storage: list[dict], mac: dict) -> list[tuple[int, int]]:
    """Fan-out of each storage level = the next element's mesh / its own, per axis."""
    meshes = [_mesh(el) for el in storage] + [_mesh(mac)]
    out = []
    for el, (px, py), (cx, cy) in zip(storage, meshes, meshes[1:]):
        if cx % px or cy % py:
            raise ValueError(f"{el['where']}: mesh {px}x{py} does not divide the next level's mesh {cx}x{cy}")
        out.append((cx // px, cy // py))
    return out


def _constraint_keeps(doc: dict | None, names: list[str]) -> dict[str, tuple[str, ...]]:
    """Tensors each level may keep, from mapspace-constraint `bypass` targets (all tensors otherwise)."""
    keeps = {n: TENSORS for n in names}
    if not doc:
        return keeps
    root = doc.get("mapspace_constraints", doc.get("architecture_constraints", doc))
    targets = root.get("targets", []) if isinstance(root, dict) else root
    for i, entry in enumerate(targets or []):
        if entry.get("type") not in ("bypass", "datatype"):
            continue
        base, _ = _split_range(entry.get("target", ""))
        if base not in keeps:
            raise ValueError(f"constraints.targets[{i}].target: {base!r} names no storage level; levels: {names}")
        bypass = _tensor_list(entry.get("bypass"), f"constraints.targets[{i}].bypass")
        keeps[base] = tuple(t for t in keeps[base] if t not in bypass)
    return keeps


def accelerator_from_timeloop(arch_yaml: YamlSource, ert_yaml: YamlSource, name: str | None = None,
                              constraints_yaml: YamlSource | None = None) -> Accelerator:
    """A Timeloop v0.4 architecture + ERT (+ optional mapspace constraints) -> `Accelerator`.

    Energies are the ERT's per (vector) access; `keeps` = all tensors except a constraint's bypass.
    """
    arch = _load(arch_yaml, "arch")
    tables = _ert_tables(_load(ert_yaml, "ert"))
    elements, sys_attrs = _flatten_arch(arch)
    computes = [i for i, el in enumerate(elements) if _is_compute(el)]
    if len(computes) != 1 or computes[0] != len(elements) - 1:
        raise ValueError("arch: expected exactly one compute element (class intmac/fpmac/mac/compute), "
                         f"after every storage level; got classes {[el['class'] for el in elements]}")
    storage, mac = elements[:-1], elements[-1]
    if not storage:
        raise ValueError("arch: no storage level above the compute element")
    if constraints_yaml is None and any(k in arch for k in ("mapspace_constraints", "architecture_constraints")):
        constraints_yaml = arch
    keeps = _constraint_keeps(_load(constraints_yaml, "constraints") if constraints_yaml is not None else None,
                              [el["name"] for el in storage])
    levels = tuple(_storage_level(el, fo, tables, keeps[el["name"]])
                   for el, fo in zip(storage, _fanouts(storage, mac)))
    return Accelerator(
        name=name or "timeloop", levels=levels, mac_energy_pj=_energy(tables, mac["name"], "compute"),
        clock_ghz=_clock_ghz(sys_attrs), technology_nm=_technology_nm(sys_attrs),
        mac_bits=int(_number(mac["attributes"].get("multiplier_width", mac["attributes"].get("datawidth", 8)),
                             f"{mac['where']}.multiplier_width", integer=True)),
        meta={"timeloop": _arch_meta(storage, mac)})


def _clock_ghz(sys_attrs: dict) -> float:
    if sys_attrs.get("global_cycle_seconds") is None:
        return 1.0
    seconds = _number(sys_attrs["global_cycle_seconds"], "arch.system.attributes.global_cycle_seconds")
    return float(f"{1e-9 / seconds:.12g}")


def _technology_nm(sys_attrs: dict) -> int | float:
    tech = sys_attrs.get("technology")
    if tech is None:
        return 45
    m = re.match(r"^\s*([0-9.]+)\s*nm\s*$", str(tech))
    if not m:
        raise ValueError(f"arch.system.attributes.technology must look like '45nm', got {tech!r}")
    value = float(m[1])
    return int(value) if value.is_integer() else value


def _arch_meta(storage: list[dict], mac: dict) -> dict:
    """What the cost model ignores but the writer needs to give the same file back."""
    return {
        "classes": {el["name"]: el["class"] for el in storage},
        "extra_attributes": {el["name"]: {k: v for k, v in el["attributes"].items() if k not in _MODELLED_ATTRS}
                             for el in storage},
        "mac": {"name": mac["name"], "class": mac["class"],
                "attributes": {k: v for k, v in mac["attributes"].items() if k not in ("meshX", "meshY")}},
    }


# ---- problem reader --------------------------------------------------------------------------

def _standard_data_spaces(dims: tuple[str, ...]) -> list[dict]:
    return yaml.safe_load(_data_spaces_text(dims))


def _data_spaces_text(dims: tuple[str, ...]) -> str:
    g = "[[G]], " if "G" in dims else ""
    return (f"- name: Weights\n  projection: [{g}[[K]], [[C]], [[R]], [[S]]]\n"
            f"- name: Inputs\n  projection: [[[N]], {g}[[C]], [[R, Wdilation], [P, Wstride]], "
            "[[S, Hdilation], [Q, Hstride]]]\n"
            f"- name: Outputs\n  projection: [[[N]], {g}[[K]], [[Q]], [[P]]]\n  read_write: true\n")


def _shape(problem: dict) -> tuple[str, tuple[str, ...], dict]:
    """(shape name, its dims, its coefficient defaults); only cnn_layer and grouped_conv are accepted."""
    shape = problem.get("shape")
    shape = {"name": shape} if isinstance(shape, str) else (shape or {})
    name = str(shape.get("name", "")).lower().replace("-", "_")
    if name not in _SHAPES:
        raise ValueError(f"problem.shape.name must be one of {', '.join(_SHAPES)}, got {shape.get('name')!r}")
    dims = _SHAPES[name]
    if "dimensions" in shape and tuple(shape["dimensions"]) != dims:
        raise ValueError(f"problem.shape.dimensions of {name} must be {list(dims)}, got {shape['dimensions']!r}")
    if "data_spaces" in shape and _normalise_spaces(shape["data_spaces"]) != _normalise_spaces(
            _standard_data_spaces(dims)):
        raise ValueError(f"problem.shape.data_spaces: only the standard {name} projections are supported")
    defaults = {c["name"]: c.get("default", 1) for c in shape.get("coefficients") or []}
    return name, dims, defaults


def _normalise_spaces(spaces: list[dict]) -> list[tuple]:
    return sorted((s.get("name"), repr(s.get("projection")), bool(s.get("read_write", False))) for s in spaces)


def layer_from_timeloop(problem_yaml: YamlSource, name: str = "") -> Layer:
    """A Timeloop v0.4 cnn_layer / grouped_conv problem -> `Layer` (W* along R/P, H* along S/Q)."""
    problem = _load(problem_yaml, "problem")
    problem = problem.get("problem", problem)
    _, dims, defaults = _shape(problem)
    instance = problem.get("instance")
    if not isinstance(instance, dict):
        raise ValueError("problem.instance: missing (expected the loop bounds, e.g. {R: 3, S: 3, ...})")
    allowed = set(dims) | {c for c, _ in _COEFFICIENTS}
    unknown = sorted(set(instance) - allowed)
    if unknown:
        raise ValueError(f"problem.instance: unknown key(s) {unknown}; accepted: {', '.join(sorted(allowed))}")
    bounds = {d: _number(instance.get(d, 1), f"problem.instance.{d}", integer=True) for d in dims}
    coeffs = {attr: _number(instance.get(c, defaults.get(c, 1)), f"problem.instance.{c}", integer=True)
              for c, attr in _COEFFICIENTS}
    return Layer(**bounds, **coeffs, name=name)


# ---- mapping reader --------------------------------------------------------------------------

def _tensor_list(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    bad = [t for t in items if t not in TENSORS]
    if bad:
        raise ValueError(f"{field}: unknown tensor(s) {bad}; accepted: {', '.join(TENSORS)}")
    return tuple(items)


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


def _order_outer_first(perm_inner_first: list[str]) -> list[int]:
    """Timeloop's innermost-first permutation -> cosearch's outermost-first order; absent dims (G) go outermost."""
    dims = [d for d in DIMS if d not in perm_inner_first] + perm_inner_first[::-1]
    return [DIMS.index(d) for d in dims]


def _mapping_entries(mapping: dict | list) -> list[dict]:
    entries = mapping.get("mapping") if isinstance(mapping, dict) else mapping
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("mapping: expected a list of {target, type, ...} entries under 'mapping'")
    return entries


def _mapping_dims(entries: list[dict]) -> tuple[str, ...]:
    """The problem's dims as the mapping shows them: grouped_conv's if any entry mentions G."""
    mentions_g = any("G" in str(e.get(k, "")) for e in entries for k in ("factors", "permutation"))
    return DIMS if mentions_g else _CNN_DIMS


def mapping_from_timeloop(mapping_yaml: YamlSource | list, accelerator: Accelerator,
                          layer: Layer | None = None) -> MappingArrays:
    """A Timeloop mapping -> `MappingArrays` (a batch of one).

    As timeloop-model: missing levels or factors are 1, a missing split puts every dim on X, and a
    level without a bypass entry keeps (what the accelerator allows). A permutation must name every
    dim (Timeloop pads a partial one in an arbitrary order). With `layer`, factors must multiply to the bounds.
    """
    entries = _mapping_entries(_load(mapping_yaml, "mapping") if not isinstance(mapping_yaml, list)
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
    base, _ = _split_range(str(entry.get("target", "")))
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
    arrays.order[0, level] = _order_outer_first(perm)


def _read_spatial(arrays: MappingArrays, level: int, entry: dict, dims: tuple[str, ...], where: str) -> None:
    factors = _parse_factors(entry.get("factors", ""), f"{where}.factors")
    perm = _parse_permutation(entry.get("permutation", "".join(dims)), dims, f"{where}.permutation")
    # Dims at permutation positions below `split` go on X; without a split Timeloop puts all of them on X.
    split = _number(entry.get("split", len(perm)), f"{where}.split", integer=True, positive=False)
    if not 0 <= split <= len(perm):
        raise ValueError(f"{where}.split must be in [0, {len(perm)}], got {split}")
    on_x = set(perm[:split])
    arrays.spatial_x[0, level] = [factors.get(d, 1) if d in on_x else 1 for d in DIMS]
    arrays.spatial_y[0, level] = [1 if d in on_x else factors.get(d, 1) for d in DIMS]
    arrays.spatial_order[0, level] = _order_outer_first(perm)


def _read_bypass(arrays: MappingArrays, level: int, entry: dict, accelerator: Accelerator, where: str) -> None:
    keep = _tensor_list(entry.get("keep"), f"{where}.keep")
    bypass = _tensor_list(entry.get("bypass"), f"{where}.bypass")
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


def load_timeloop(arch: YamlSource, problem: YamlSource, mapping: YamlSource, ert: YamlSource,
                  constraints: YamlSource | None = None) -> tuple[Layer, Accelerator, MappingArrays]:
    """The four timeloop-model inputs -> (layer, accelerator, mapping arrays)."""
    layer = layer_from_timeloop(problem)
    accelerator = accelerator_from_timeloop(arch, ert, constraints_yaml=constraints)
    return layer, accelerator, mapping_from_timeloop(mapping, accelerator, layer)


# ---- writers ---------------------------------------------------------------------------------

def _check_row(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int) -> None:
    if not 0 <= b < arrays.batch_size:
        raise ValueError(f"b must be in [0, {arrays.batch_size}), got {b}")
    if arrays.num_levels != accelerator.num_levels:
        raise ValueError(f"arrays have {arrays.num_levels} levels, the accelerator {accelerator.num_levels}")
    _check_products(arrays.row(b), layer)


def _spatial_lines(name: str, sx: np.ndarray, sy: np.ndarray, order: np.ndarray, dims: tuple[str, ...]) -> list[str]:
    both = [DIMS[d] for d in range(len(DIMS)) if sx[d] > 1 and sy[d] > 1]
    if both:
        raise ValueError(f"mapping level {name}: dim(s) {both} unrolled on both X and Y; "
                         "Timeloop puts a dim on one axis")
    inner_first = [DIMS[d] for d in order[::-1] if DIMS[d] in dims]
    on_x = [d for d in inner_first if sx[DIMS.index(d)] > 1]
    perm = on_x + [d for d in inner_first if d not in on_x]
    factors = " ".join(f"{d}={int(sx[DIMS.index(d)] * sy[DIMS.index(d)])}" for d in dims)
    return [f"  - target: {name}", "    type: spatial", f"    factors: {factors}",
            f"    permutation: {''.join(perm)}", f"    split: {len(on_x)}"]


def mapping_to_timeloop_yaml(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int = 0) -> str:
    """Mapping `b` of `arrays` as a Timeloop mapping YAML (temporal, spatial where fanned out, bypass per level)."""
    _check_row(arrays, accelerator, layer, b)
    dims = _problem_dims(layer)
    lines = ["mapping:"]
    for l, lv in enumerate(accelerator.levels):
        t = arrays.temporal[b, l]
        perm = "".join(DIMS[d] for d in arrays.order[b, l][::-1] if DIMS[d] in dims)
        lines += [f"  - target: {lv.name}", "    type: temporal",
                  "    factors: " + " ".join(f"{d}={int(t[DIMS.index(d)])}" for d in dims),
                  f"    permutation: {perm}"]
        sx, sy = arrays.spatial_x[b, l], arrays.spatial_y[b, l]
        if lv.fanout > 1:
            lines += _spatial_lines(lv.name, sx, sy, arrays.spatial_order[b, l], dims)
        elif (sx > 1).any() or (sy > 1).any():
            raise ValueError(f"mapping level {lv.name}: spatial factors on a level without a fan-out")
        kept = [t for i, t in enumerate(TENSORS) if arrays.keep[b, l, i]]
        lines += [f"  - target: {lv.name}", "    type: bypass", f"    keep: {_flow_list(kept)}",
                  f"    bypass: {_flow_list([t for t in TENSORS if t not in kept])}"]
    return "\n".join(lines) + "\n"


def problem_to_timeloop_yaml(layer: Layer) -> str:
    """`Layer` -> a Timeloop v0.4 problem (cnn_layer, or grouped_conv when G > 1)."""
    dims = _problem_dims(layer)
    shape = "grouped_conv" if "G" in dims else "cnn_layer"
    spaces = "".join("      " + line + "\n" for line in _data_spaces_text(dims).splitlines())
    coeffs = "".join(f"      - {{name: {c}, default: 1}}\n" for c, _ in _COEFFICIENTS)
    instance = "".join(f"    {d}: {getattr(layer, d)}\n" for d in dims)
    instance += "".join(f"    {c}: {getattr(layer, attr)}\n" for c, attr in _COEFFICIENTS)
    return (f"problem:\n  version: 0.4\n  shape:\n    name: {shape}\n    dimensions: [{', '.join(dims)}]\n"
            f"    coefficients:\n{coeffs}    data_spaces:\n{spaces}  instance:\n{instance}")


def _seconds_text(clock_ghz: float) -> str:
    """1 / clock as Timeloop writes it ('1e-9', not '1e-09')."""
    text = repr(1e-9 / clock_ghz)
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)


def _level_attributes(acc: Accelerator, l: int) -> list[tuple[str, Any]]:
    lv = acc.levels[l]
    extra = acc.meta.get("timeloop", {}).get("extra_attributes", {}).get(lv.name, {})
    attrs: list[tuple[str, Any]] = []
    if lv.capacity_words is not None:
        if lv.capacity_words % lv.block_size_words:
            attrs.append(("entries", lv.capacity_words))
        else:
            attrs.append(("depth", lv.capacity_words // lv.block_size_words))
    attrs += [("width", lv.width_bits), ("datawidth", lv.word_bits), *extra.items()]
    attrs += [(k, getattr(lv, k)) for k in ("read_bandwidth", "write_bandwidth", "shared_bandwidth")
              if getattr(lv, k) is not None]
    mx = prod(x.fanout_x for x in acc.levels[:l])
    my = prod(x.fanout_y for x in acc.levels[:l])
    return attrs + [("meshX", mx), ("meshY", my)]


def _mac_entry(acc: Accelerator) -> tuple[str, str, list[tuple[str, Any]]]:
    mac = acc.meta.get("timeloop", {}).get("mac", {})
    attrs = dict(mac.get("attributes") or {"multiplier_width": acc.mac_bits, "adder_width": 2 * acc.mac_bits,
                                            "width": acc.mac_bits})
    attrs["multiplier_width"] = acc.mac_bits
    ordered = [(k, attrs[k]) for k in _MAC_ATTRS if k in attrs] + [(k, v) for k, v in attrs.items()
                                                                   if k not in _MAC_ATTRS]
    mx, my = acc.mesh
    return mac.get("name", "MAC"), mac.get("class", "intmac"), ordered + [("meshX", mx), ("meshY", my)]


def _attr_text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _fmt(value)
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).strip().removesuffix("\n...")


def _element_lines(name: str, instances: int, cls: str, attrs: list[tuple[str, Any]]) -> list[str]:
    return ([f"        - name: {name}[1..{instances}]", f"          class: {cls}", "          attributes:"]
            + [f"            {k}: {_attr_text(v)}" for k, v in attrs])


def _level_class(acc: Accelerator, lv: StorageLevel) -> str:
    cls = acc.meta.get("timeloop", {}).get("classes", {}).get(lv.name)
    return cls if cls is not None and (cls if cls in _KINDS else "SRAM") == lv.kind else lv.kind


def arch_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """`Accelerator` -> a Timeloop v0.4 architecture (one flat subtree; keeps go to the constraints file).

    Per-tensor capacities have no v0.4 equivalent: the level's shared capacity is written, with a warning.
    """
    acc = accelerator
    lines = ["architecture:", "  version: 0.4", "  subtree:", "    - name: system", "      attributes:",
             f'        technology: "{acc.technology_nm:g}nm"',
             f"        global_cycle_seconds: {_seconds_text(acc.clock_ghz)}", "      local:"]
    for l, lv in enumerate(acc.levels):
        if lv.tensor_capacity_words is not None:
            warnings.warn(f"arch_to_timeloop_yaml: {lv.name}'s per-tensor capacities {lv.tensor_capacity_words} "
                          "cannot be expressed in Timeloop v0.4; writing the shared capacity only", stacklevel=2)
        lines += _element_lines(lv.name, acc.instances(l), _level_class(acc, lv), _level_attributes(acc, l))
    name, cls, attrs = _mac_entry(acc)
    lines += _element_lines(name, acc.num_macs, cls, attrs)
    return "\n".join(lines) + "\n"


def ert_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """`Accelerator` energies -> a Timeloop v0.4 ERT (pJ per vector access; leak 0)."""
    acc = accelerator
    lines = ["ERT:", "  version: 0.4", "  tables:"]

    def table(name: str, instances: int, actions: list[tuple[str, float]]) -> None:
        lines.extend([f"    - name: system.{name}[1..{instances}]", "      actions:"])
        for action, energy in actions + [("leak", 0.0)]:
            lines.extend([f"        - name: {action}", f"          energy: {repr(float(energy))}"])

    for l, lv in enumerate(acc.levels):
        table(lv.name, acc.instances(l), [("read", lv.read_energy_pj), ("write", lv.write_energy_pj),
                                          ("update", lv.update_energy_pj)])
    table(_mac_entry(acc)[0], acc.num_macs, [("compute", acc.mac_energy_pj)])
    return "\n".join(lines) + "\n"


def constraints_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """The levels' `keeps` as Timeloop mapspace constraints, for timeloop-mapper.

    The outermost level and every level that cannot keep all tensors get a bypass target; the
    others are left free, as in the corpus's mapper benchmark.
    """
    lines = ["mapspace_constraints:", "  targets:"]
    for l, lv in enumerate(accelerator.levels):
        if l > 0 and lv.keeps == TENSORS:
            continue
        lines += [f"    - target: {lv.name}", "      type: bypass", f"      keep: {_flow_list(lv.keeps)}",
                  f"      bypass: {_flow_list([t for t in TENSORS if t not in lv.keeps])}"]
    return "\n".join(lines) + "\n"
