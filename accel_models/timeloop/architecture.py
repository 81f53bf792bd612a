"""Timeloop v0.4 architectures (the `subtree` / `local` form) <-> `Accelerator`.

The reader flattens the subtree into its leaf elements (storage levels outermost first, then the compute
element), multiplies instance ranges down the tree, and takes each level's fan-out from the meshes.
Issue 12's `nodes:` form (`!Container` / `!Component` tags) is a second flattener beside `_flatten_subtree`.
"""
from __future__ import annotations

import re
import warnings
from math import prod
from typing import Any

from ..accelerator import Accelerator, StorageLevel
from ._arch_meta import arch_meta, extra_attributes, level_class, mac_element
from ._fields import number, range_name, split_range, storage_kind
from ._yaml import Quoted, YamlSource, dump, inline, load
from .constraints import constraint_keeps
from .energy_table import EnergyTables, action_energy, ert_tables

_COMPUTE_CLASSES = ("intmac", "fpmac", "mac", "compute")


# ---- reader ------------------------------------------------------------------------------

def _flatten_subtree(arch: dict) -> tuple[list[dict], dict]:
    """Every leaf element of the (possibly nested) subtree, in order, with its total instance count.

    Returns (elements, system attributes); each element is {name, class, attributes, instances, where}.
    """
    root = arch.get("architecture", arch)
    if not isinstance(root, dict) or not isinstance(root.get("subtree"), list):
        raise ValueError("arch.architecture.subtree: missing (expected a Timeloop v0.4 architecture)")
    elements: list[dict] = []
    system_attrs: dict = {}

    def walk(node: dict, where: str, instances: int) -> None:
        if not isinstance(node, dict) or "name" not in node:
            raise ValueError(f"{where}: expected a node with a name, got {node!r}")
        _, count = split_range(node["name"])
        instances *= count
        system_attrs.update({k: v for k, v in (node.get("attributes") or {}).items() if k not in system_attrs})
        for j, el in enumerate(node.get("local") or []):
            if not isinstance(el, dict) or "name" not in el or "class" not in el:
                raise ValueError(f"{where}.local[{j}]: an element needs a name and a class, got {el!r}")
            base, n = split_range(el["name"])
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
    mx = number(mx, f"{where}.meshX", integer=True) if mx is not None else None
    my = number(my, f"{where}.meshY", integer=True) if my is not None else None
    if mx is None:
        mx = n // my if my else n
    if my is None:
        my = n // mx
    if mx * my != n:
        raise ValueError(f"{where}.meshX x meshY = {mx} x {my} does not match its {n} instances")
    return mx, my


def _fanouts(storage: list[dict], mac: dict) -> list[tuple[int, int]]:
    """Fan-out of each storage level = the next element's mesh / its own, per axis."""
    meshes = [_mesh(el) for el in storage] + [_mesh(mac)]
    out = []
    for el, (px, py), (cx, cy) in zip(storage, meshes, meshes[1:]):
        if cx % px or cy % py:
            raise ValueError(f"{el['where']}: mesh {px}x{py} does not divide the next level's mesh {cx}x{cy}")
        out.append((cx // px, cy // py))
    return out


def _storage_level(el: dict, fanout: tuple[int, int], tables: EnergyTables, keeps: tuple[str, ...]) -> StorageLevel:
    """One storage element -> `StorageLevel` (capacity = depth x block words; None without a depth)."""
    attrs, where, name = el["attributes"], el["where"], el["name"]

    def get(*keys: str) -> Any:
        return next((attrs[k] for k in keys if attrs.get(k) is not None), None)

    word_bits = number(get("datawidth", "word-bits", "word_bits"), f"{where}.datawidth", integer=True)
    block = get("block-size", "block_size")
    width = get("width", "memory_width")
    if block is not None:
        block = number(block, f"{where}.block-size", integer=True)
    elif width is not None:
        width = number(width, f"{where}.width", integer=True)
        if width % word_bits:
            raise ValueError(f"{where}.width ({width}) must be a multiple of datawidth ({word_bits})")
        block = width // word_bits
    else:
        block = 1
    capacity = None
    if get("depth") is not None:
        capacity = number(get("depth"), f"{where}.depth", integer=True) * block
    elif get("entries") is not None:
        capacity = number(get("entries"), f"{where}.entries", integer=True)
    bandwidths = {k: (None if attrs.get(k) is None else number(attrs[k], f"{where}.{k}"))
                  for k in ("read_bandwidth", "write_bandwidth", "shared_bandwidth")}
    write = action_energy(tables, name, "write")
    return StorageLevel(
        name=name, keeps=keeps, capacity_words=capacity, word_bits=word_bits, block_size_words=block, **bandwidths,
        read_energy_pj=action_energy(tables, name, "read"), write_energy_pj=write,
        update_energy_pj=action_energy(tables, name, "update", default=write), fanout_x=fanout[0],
        fanout_y=fanout[1], kind=storage_kind(el["class"]))


def _clock_ghz(sys_attrs: dict) -> float:
    if sys_attrs.get("global_cycle_seconds") is None:
        return 1.0
    seconds = number(sys_attrs["global_cycle_seconds"], "arch.system.attributes.global_cycle_seconds")
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


def accelerator_from_timeloop(arch_yaml: YamlSource, ert_yaml: YamlSource, name: str | None = None,
                              constraints_yaml: YamlSource | None = None) -> Accelerator:
    """A Timeloop v0.4 architecture + ERT (+ optional mapspace constraints) -> `Accelerator`.

    Energies are the ERT's per (vector) access; `keeps` = all tensors except a constraint's bypass.
    """
    arch = load(arch_yaml, "arch")
    tables = ert_tables(load(ert_yaml, "ert"))
    elements, sys_attrs = _flatten_subtree(arch)
    computes = [i for i, el in enumerate(elements) if _is_compute(el)]
    if len(computes) != 1 or computes[0] != len(elements) - 1:
        raise ValueError("arch: expected exactly one compute element (class intmac/fpmac/mac/compute), "
                         f"after every storage level; got classes {[el['class'] for el in elements]}")
    storage, mac = elements[:-1], elements[-1]
    if not storage:
        raise ValueError("arch: no storage level above the compute element")
    if constraints_yaml is None and any(k in arch for k in ("mapspace_constraints", "architecture_constraints")):
        constraints_yaml = arch
    keeps = constraint_keeps(load(constraints_yaml, "constraints") if constraints_yaml is not None else None,
                             [el["name"] for el in storage])
    levels = tuple(_storage_level(el, fo, tables, keeps[el["name"]])
                   for el, fo in zip(storage, _fanouts(storage, mac)))
    return Accelerator(
        name=name or "timeloop", levels=levels, mac_energy_pj=action_energy(tables, mac["name"], "compute"),
        clock_ghz=_clock_ghz(sys_attrs), technology_nm=_technology_nm(sys_attrs),
        mac_bits=int(number(mac["attributes"].get("multiplier_width", mac["attributes"].get("datawidth", 8)),
                            f"{mac['where']}.multiplier_width", integer=True)),
        meta={"timeloop": arch_meta(storage, mac)})


# ---- writer ------------------------------------------------------------------------------

def _level_attributes(acc: Accelerator, l: int) -> dict[str, Any]:
    lv = acc.levels[l]
    attrs: dict[str, Any] = {}
    if lv.capacity_words is not None:
        if lv.capacity_words % lv.block_size_words:
            attrs["entries"] = lv.capacity_words
        else:
            attrs["depth"] = lv.capacity_words // lv.block_size_words
    attrs |= {"width": lv.width_bits, "datawidth": lv.word_bits, **extra_attributes(acc, lv.name)}
    attrs |= {k: getattr(lv, k) for k in ("read_bandwidth", "write_bandwidth", "shared_bandwidth")
              if getattr(lv, k) is not None}
    above = acc.levels[:l]
    return attrs | {"meshX": prod(x.fanout_x for x in above), "meshY": prod(x.fanout_y for x in above)}


def _element(name: str, instances: int, cls: str, attrs: dict[str, Any]) -> dict:
    return {"name": range_name(name, instances), "class": cls,
            "attributes": {k: inline(v) for k, v in attrs.items()}}


def arch_to_timeloop_yaml(accelerator: Accelerator) -> str:
    """`Accelerator` -> a Timeloop v0.4 architecture (one flat subtree; keeps go to the constraints file).

    Per-tensor capacities have no v0.4 equivalent: the level's shared capacity is written, with a warning.
    """
    acc = accelerator
    local = []
    for l, lv in enumerate(acc.levels):
        if lv.tensor_capacity_words is not None:
            warnings.warn(f"arch_to_timeloop_yaml: {lv.name}'s per-tensor capacities {lv.tensor_capacity_words} "
                          "cannot be expressed in Timeloop v0.4; writing the shared capacity only", stacklevel=2)
        local.append(_element(lv.name, acc.instances(l), level_class(acc, lv), _level_attributes(acc, l)))
    name, cls, attrs = mac_element(acc)
    local.append(_element(name, acc.num_macs, cls, attrs))
    system = {"name": "system", "attributes": {"technology": Quoted(f"{acc.technology_nm:g}nm"),
                                               "global_cycle_seconds": 1e-9 / acc.clock_ghz},
              "local": local}
    return dump({"architecture": {"version": 0.4, "subtree": [system]}})
