"""Timeloop v0.4 architectures (timeloopfe's `nodes:` form with tags, or `subtree` / `local`) <-> `Accelerator`.

The reader flattens the architecture into its leaf elements (`_nodes`: storage levels outermost first,
placeholder levels for spatial fan-outs of containers, then the compute element), reads each storage
element's attributes as Timeloop does (aliases, expressions over `variables:`, block and cluster size
from the width) and takes each level's fan-out from the meshes. Energies come from the energy table.
"""
from __future__ import annotations

import re
import warnings
from math import prod
from typing import Any

from ..accelerator import Accelerator, StorageLevel
from ..tech import DEFAULT_NODE_NM
from ._arch_meta import arch_meta, extra_attributes, level_class, mac_element
from ._expressions import DocumentView, Scope
from ._fields import number, range_name, show, storage_kind
from ._nodes import flatten_nodes, flatten_subtree, ignored_keys
from ._yaml import Quoted, YamlSource, dump, inline, load
from .constraints import constraint_keeps, constraint_targets
from .energy_table import EnergyTables, action_energy, ert_tables
from .problem import ProblemNames

_ARCH_KEYS = ("version", "nodes", "subtree", "local", "name", "attributes")
_DEFAULT_WORD_BITS = 16
"""Timeloop's word size when an element gives none (kDefaultWordBits)."""
_TIMELOOP_ONLY = {"multiple_buffering": 1, "multiple-buffering": 1, "min_utilization": 0, "min-utilization": 0,
                  "allow_overbooking": False, "network_fill_latency": 0, "network_drain_latency": 0}
"""Attributes Timeloop models and cosearch does not, with the values at which they change nothing."""


# ---- reader ------------------------------------------------------------------------------
def _root(arch: dict) -> dict:
    root = arch.get("architecture", arch)
    if not isinstance(root, dict):
        raise ValueError(f"arch.architecture: expected a mapping with nodes: or subtree:, got {show(root)}")
    if "nodes" not in root and "subtree" not in root:
        raise ValueError("arch.architecture: expected nodes: (timeloopfe v0.4) or subtree: (Timeloop v0.4)")
    return root


def flatten(arch: dict, variables: Scope) -> tuple[list[dict], dict, dict[str, str]]:
    """(elements, system attributes, {container: placeholder}) of either architecture form."""
    root = _root(arch)
    if "nodes" in root:
        unknown = [k for k in root if k not in _ARCH_KEYS]
        if unknown:
            raise ValueError(f"arch.architecture: unknown key(s) {unknown}; accepted: {', '.join(_ARCH_KEYS)}")
        return flatten_nodes(root, variables)
    ignored_keys(root, _ARCH_KEYS, "arch.architecture")
    return flatten_subtree(root, variables)


def _fanouts(storage: list[dict], mac: dict) -> list[tuple[int, int]]:
    """Fan-out of each storage level = the next element's mesh / its own, per axis."""
    meshes = [el["mesh"] for el in storage] + [mac["mesh"]]
    out = []
    for el, (px, py), (cx, cy) in zip(storage, meshes, meshes[1:]):
        if cx % px or cy % py:
            raise ValueError(f"{el['where']}: mesh {px}x{py} does not divide the next level's mesh {cx}x{cy}")
        out.append((cx // px, cy // py))
    return out


class _Attrs:
    """An element's attributes read Timeloop's way: the first of several alias keys, expressions evaluated."""

    def __init__(self, el: dict) -> None:
        self.raw, self.scope, self.where = el["attributes"], el["scope"], el["where"]

    def key(self, *keys: str) -> str | None:
        return next((k for k in keys if self.raw.get(k) is not None), None)

    def number(self, *keys: str, integer: bool = True) -> int | float | None:
        k = self.key(*keys)
        return None if k is None else number(self.raw[k], f"{self.where}.{k}", integer=integer, scope=self.scope)


def _geometry(a: _Attrs) -> tuple[int, int, int, int | None]:
    """(word bits, block size, cluster size, capacity in words or None) of a storage element (Timeloop's rules:
    width = word bits x block size x cluster size; a depth counts blocks, entries count words)."""
    word_bits = a.number("datawidth", "word-bits", "word_bits", "word_width") or _DEFAULT_WORD_BITS
    block = a.number("block-size", "block_size", "n_words")
    cluster = a.number("cluster-size", "cluster_size")
    width_key = a.key("width", "memory_width", "data_storage_width")
    if width_key is not None:
        width = a.number(width_key)
        if block is not None and cluster is not None:
            if block * cluster * word_bits != width:
                raise ValueError(f"{a.where}: block_size x cluster_size x datawidth = {block} x {cluster} x "
                                 f"{word_bits} must equal {width_key} ({width})")
        elif cluster is not None:
            if width % (cluster * word_bits):
                raise ValueError(f"{a.where}.{width_key} ({width}) must be a multiple of cluster_size x datawidth "
                                 f"({cluster} x {word_bits})")
            block = width // (cluster * word_bits)
        elif block is not None:
            if width % (block * word_bits):
                raise ValueError(f"{a.where}.{width_key} ({width}) must be a multiple of block_size x datawidth "
                                 f"({block} x {word_bits})")
            cluster = width // (block * word_bits)
        else:
            if width % word_bits:
                raise ValueError(f"{a.where}.{width_key} ({width}) must be a multiple of datawidth ({word_bits})")
            block, cluster = width // word_bits, 1
    block, cluster = block or 1, cluster or 1
    capacity = None
    if a.key("entries") is not None:
        capacity = a.number("entries")
    elif a.key("depth", "memory_depth", "data_storage_depth") is not None:
        capacity = a.number("depth", "memory_depth", "data_storage_depth") * block
    elif a.key("sizeKB") is not None:
        capacity = a.number("sizeKB") * 1024 * 8 // word_bits
    return word_bits, block, cluster, capacity


def _bandwidths(a: _Attrs) -> dict[str, float | None]:
    out = {k: a.number(k, integer=False) for k in ("read_bandwidth", "write_bandwidth", "shared_bandwidth")}
    legacy = a.number("bandwidth", integer=False)
    if legacy is not None:   # Timeloop: deprecated, read = write = bandwidth / 2 unless given
        for k in ("read_bandwidth", "write_bandwidth"):
            out[k] = legacy / 2 if out[k] is None else out[k]
    return out


def _warn_unmodelled(a: _Attrs) -> None:
    for key, neutral in _TIMELOOP_ONLY.items():
        if key in a.raw:
            value = a.raw[key] if isinstance(a.raw[key], bool) else number(a.raw[key], f"{a.where}.{key}",
                                                                              positive=False, scope=a.scope)
            if value != neutral:
                warnings.warn(f"{a.where}.{key} = {value}: cosearch does not model it (Timeloop's result may differ)",
                              stacklevel=4)


def _storage_level(el: dict, fanout: tuple[int, int], tables: EnergyTables, keeps: tuple[str, ...]) -> StorageLevel:
    """One storage (or placeholder) element -> `StorageLevel`. A placeholder keeps nothing and costs nothing."""
    if el["kind"] == "placeholder":
        return StorageLevel(name=el["name"], keeps=(), capacity_words=None, word_bits=1, fanout_x=fanout[0],
                            fanout_y=fanout[1], kind="regfile")
    a = _Attrs(el)
    _warn_unmodelled(a)
    word_bits, block, cluster, capacity = _geometry(a)
    name = el["name"]
    write = action_energy(tables, name, "write")
    return StorageLevel(
        name=name, keeps=keeps, capacity_words=capacity, word_bits=word_bits, block_size_words=block,
        **_bandwidths(a), read_energy_pj=action_energy(tables, name, "read"), write_energy_pj=write,
        update_energy_pj=action_energy(tables, name, "update", default=write), fanout_x=fanout[0],
        fanout_y=fanout[1], kind=storage_kind(el["class"]), leak_energy_pj=action_energy(tables, name, "leak", 0.0),
        cluster_size=cluster)


def _clock_ghz(sys_attrs: dict) -> float:
    if sys_attrs.get("global_cycle_seconds") is None:
        return 1.0
    seconds = number(sys_attrs["global_cycle_seconds"], "arch.system.attributes.global_cycle_seconds")
    return float(f"{1e-9 / seconds:.12g}")


def _technology_nm(sys_attrs: dict) -> int | float:
    """The node of Accelergy's `technology` attribute ('45nm', or a number of nm) for cosearch's area model.
    Timeloop itself does not read it: a value naming no node (the -1 of Accelergy's dummy tables, say) warns
    and the default node is taken."""
    tech = sys_attrs.get("technology")
    if tech is None:
        return DEFAULT_NODE_NM
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:nm)?\s*$", str(tech))
    if not m or float(m[1]) <= 0:
        warnings.warn(f"arch.system.attributes.technology {show(tech)} names no node (such as '45nm'); cosearch's "
                      f"area model takes {DEFAULT_NODE_NM} nm", stacklevel=3)
        return DEFAULT_NODE_NM
    value = float(m[1])
    return int(value) if value.is_integer() else value


def _mac_bits(mac: dict) -> int:
    a = _Attrs(mac)
    return int(a.number("multiplier_width", "datawidth", "width") or 8)


def accelerator_from_timeloop(arch_yaml: YamlSource, ert_yaml: YamlSource, name: str | None = None,
                              constraints_yaml: YamlSource | None = None, names: ProblemNames | None = None,
                              variables: dict | None = None, spec_document: dict | None = None) -> Accelerator:
    """A Timeloop v0.4 architecture + ERT (+ optional mapspace constraints) -> `Accelerator`.

    Energies are the ERT's per (vector) access, storage leakage per cycle per instance (Timeloop charges
    none for the compute element); `keeps` = every tensor but
    those the constraints (in the architecture's components, in its document or in `constraints_yaml`)
    bypass; placeholder levels keep nothing. `names`: the problem's names of the tensors (default
    cosearch's); `variables`: timeloopfe's `variables:` for the expressions in attributes and constraints;
    `spec_document`: the whole specification those expressions read as `spec` (default: the architecture's own
    document, with the variables). The constraints
    and the container -> placeholder names ride along in `meta["timeloop"]` for the mapper.
    """
    arch = load(arch_yaml, "arch")
    tables = ert_tables(load(ert_yaml, "ert"))
    values = {k: v for k, v in (variables or arch.get("variables") or {}).items() if k != "version"}
    document = Scope({})  # `variables` and `spec` (this document) under the variables, as timeloopfe has them
    scope = Scope(values, document)
    document.raw.update(variables=DocumentView(values, scope, "variables"),
                        spec=DocumentView({**(spec_document or arch), "variables": values}, scope))
    elements, sys_attrs, aliases = flatten(arch, scope)
    sys_attrs = {**{k: scope.lookup(k) for k in scope.raw}, **sys_attrs}
    computes = [i for i, el in enumerate(elements) if el["kind"] == "compute"]
    if len(computes) != 1 or computes[0] != len(elements) - 1:
        raise ValueError("arch: expected exactly one compute element (class intmac/fpmac/mac/compute), "
                         f"after every storage level; got classes {[el['class'] for el in elements]}")
    storage, mac = elements[:-1], elements[-1]
    if not storage:
        raise ValueError("arch: no storage level above the compute element")
    targets = [t for el in storage for t in el["constraints"]]
    for doc in ([arch] if constraints_yaml is None else [arch, load(constraints_yaml, "constraints")]):
        targets += constraint_targets(doc)
    level_names = [el["name"] for el in storage]
    keeps = constraint_keeps(targets, level_names, names or ProblemNames.standard(), aliases)
    levels = tuple(_storage_level(el, fo, tables, () if el["kind"] == "placeholder" else keeps[el["name"]])
                   for el, fo in zip(storage, _fanouts(storage, mac)))
    meta = arch_meta([el for el in storage if el["kind"] != "placeholder"], mac)
    meta.update(placeholders=[el["name"] for el in storage if el["kind"] == "placeholder"], aliases=aliases,
                constraints=targets)
    return Accelerator(
        name=name or "timeloop", levels=levels, mac_energy_pj=action_energy(tables, mac["name"], "compute"),
        clock_ghz=_clock_ghz(sys_attrs), technology_nm=_technology_nm(sys_attrs), mac_bits=_mac_bits(mac),
        meta={"timeloop": meta})


# ---- writer ------------------------------------------------------------------------------
def _level_attributes(acc: Accelerator, l: int) -> dict[str, Any]:
    lv = acc.levels[l]
    attrs: dict[str, Any] = {}
    if lv.capacity_words is not None:
        if lv.capacity_words % lv.block_size_words:
            attrs["entries"] = lv.capacity_words
        else:
            attrs["depth"] = lv.capacity_words // lv.block_size_words
    attrs |= {"width": lv.width_bits * lv.cluster_size, "datawidth": lv.word_bits,
              **extra_attributes(acc, lv.name)}
    if lv.cluster_size > 1:
        attrs["cluster-size"] = lv.cluster_size
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
