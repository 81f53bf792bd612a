"""An AccelForge architecture (`arch: nodes:`) as an `Accelerator`.

AccelForge lists its nodes outermost first: `!Memory` nodes hold tensors, `!Container` nodes (and a node's own
`spatial:`) fan out what follows them, and `!Compute` is the MAC. Here each enabled memory becomes a storage level,
in order; a fan-out (its first `spatial` entry on X, its second on Y) goes to the storage level just above the node
that states it (the memories below it are instanced that many times), and each entry's `reuse` / `may_reuse` become
the dims that axis may unroll (`Accelerator.dataflow`, `_spatial_dims`); the one enabled compute node is the MAC.

Units: AccelForge states sizes in bits, energies in joules per action of `bits_per_action` bits (1 by default),
throughputs in actions per second, leakage in watts and areas in square metres. A level's word is the workload's
`bits_per_value` (or the memory's own `bits_per_value` for the tensors it keeps); its block is
`bits_per_action // word` words (at least one) and its energy per block scales the stated energy per action to
that block. The clock is the compute node's throughput (one MAC per cycle per unit). Energies a node does not state
are estimated from cosearch's technology tables (`accel_models.tech`) by its `component_class` and size, and
listed in `meta["accelforge"]["estimated"]`; stated areas are kept in `meta["accelforge"]["area_mm2"]` (the area
model prices levels by kind and size). A memory's `keep` (what AccelForge requires it to hold) and `may_keep` both
become `keeps` (what it may hold: cosearch's mapper chooses what to bypass); the required ones are listed in
`meta["accelforge"]["must_keep"]` (`fixed_keep` for the mapper, and the check of a mapping written back). What
cosearch does not read: `total_latency` formulas (but the clock of a
compute node's `sum(a.n_calls for a in actions) / RATE`), a spatial entry's `min_usage`, `!Toll` and
`!Fork` nodes (refused).
"""
from __future__ import annotations

import math
import re
from typing import Any

from .. import tech
from nets import DIMS

from ..accelerator import TENSORS, Accelerator, StorageLevel
from ..dataflow import Dataflow
from ..timeloop._expressions import DocumentView, ExpressionError, Scope, evaluate
from ..timeloop._yaml import Quoted, Tagged
from ._sets import TENSOR_ROLES, tensor_set

J_TO_PJ = 1e12
M2_TO_MM2 = 1e6
DEFAULT_BITS_PER_VALUE = 8
"""Bits of a value when neither the workload nor the memory states them (AccelForge's examples use 8)."""
DEFAULT_CLOCK_HZ = 1e9
"""Clock taken when the compute node states no throughput (an assumption, listed in meta)."""
_UNBOUNDED = ("inf", ".inf", "float('inf')", 'float("inf")', "math.inf")
_DRAM_CLASSES = {"LPDDR4": "LPDDR4", "DRAM": "DDR4", "DDR4": "DDR4", "HBM2": "HBM2", "LPDDR5": "LPDDR4"}
_CLOCK_FORMULA = re.compile(r"^\s*sum\(\s*a\.n_calls\s+for\s+a\s+in\s+actions\s*\)\s*/\s*([0-9.eE+-]+)\s*$")
_NODE_KINDS = ("!Memory", "!Container", "!Compute")


def _fail(where: str, text: str) -> ValueError:
    return ValueError(f"{where}: {text}")


class _Fields:
    """Evaluates a node's fields: numbers or expressions over the tensors (`weight.bits_per_value`, `len(All)`)
    and the spec's variables; `inf` is unbounded (None)."""

    def __init__(self, bits: int, variables: dict) -> None:
        self.scope = Scope(dict(variables))
        for role in TENSOR_ROLES:
            self.scope.raw[role] = DocumentView({"bits_per_value": bits}, self.scope, role)
        self.scope.raw["All"] = DocumentView(list(TENSOR_ROLES), self.scope, "All")

    def number(self, value: Any, where: str, unbounded: bool = False) -> float | None:
        if isinstance(value, float) and math.isinf(value) and unbounded:
            return None
        if isinstance(value, str) and not isinstance(value, Quoted) and value.strip() in _UNBOUNDED and unbounded:
            return None
        if isinstance(value, str):
            try:
                value = evaluate(value, self.scope)
            except ExpressionError as exc:
                raise _fail(where, f"{value!r} has no value ({exc})") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            accepted = "a number >= 0" + (" or inf" if unbounded else "")
            raise _fail(where, f"expected {accepted}, got {value!r}")
        return value

    def truth(self, value: Any, where: str) -> bool:
        if isinstance(value, bool) or value is None:
            return value is not False
        if isinstance(value, str):
            try:
                return bool(evaluate(value, self.scope))
            except ExpressionError as exc:
                raise _fail(where, f"{value!r} has no value ({exc})") from None
        return bool(value)


def _actions(node: dict, where: str) -> dict[str, dict]:
    actions = node.get("actions") or []
    if not isinstance(actions, list) or not all(isinstance(a, dict) and "name" in a for a in actions):
        raise _fail(f"{where}.actions", "expected a list of {name, energy, throughput, ...} entries")
    return {str(a["name"]): a for a in actions}


def _spatial(node: dict, fields: _Fields, where: str) -> tuple[int, int]:
    spatial = node.get("spatial") or []
    if not isinstance(spatial, list) or not all(isinstance(s, dict) for s in spatial):
        raise _fail(f"{where}.spatial", "expected a list of {name, fanout} entries")
    if len(spatial) > 2:
        raise _fail(f"{where}.spatial", f"{len(spatial)} fan-out dimensions; cosearch models at most 2 (X and Y)")
    out = []
    for i, s in enumerate(spatial):
        fanout = fields.number(s.get("fanout", 1), f"{where}.spatial[{i}].fanout")
        if not float(fanout).is_integer() or fanout < 1:
            raise _fail(f"{where}.spatial[{i}].fanout", f"expected an integer >= 1, got {fanout!r}")
        out.append(int(fanout))
    return (out + [1, 1])[0], (out + [1, 1])[1]


INDEXED_BY = {"Weights": set("GKCRS"), "Inputs": set("NGCRSPQ"), "Outputs": set("NGKPQ")}
"""The dims that index each tensor (R and S index the inputs through the window)."""


def _spatial_dims(entry: dict, memories: dict[str, tuple[str, ...]], where: str) -> tuple[str, ...]:
    """The dims a spatial entry may unroll, as AccelForge counts them: a loop over the entry must index no tensor of
    its `reuse`, and every tensor it does not index must be in its `may_reuse` (else AccelForge sends each
    instance its own copy, where cosearch multicasts or reduces)."""
    reuse = set(tensor_set(str(entry.get("reuse", "Nothing")), memories, f"{where}.reuse"))
    may = set(tensor_set(str(entry.get("may_reuse", entry.get("reuse", "All"))), memories, f"{where}.may_reuse"))
    dims = tuple(d for d in DIMS if not any(d in INDEXED_BY[t] for t in reuse)
                 and all(d in INDEXED_BY[t] for t in TENSORS if t not in may))
    if not dims:
        raise _fail(where, "no loop dimension satisfies its reuse and may_reuse (cosearch could place no loop there)")
    return dims


def _word_bits(node: dict, keeps: tuple[str, ...], bits: int, fields: _Fields, where: str) -> int:
    """The memory's word: its own `bits_per_value` for the tensors it keeps (the widest), else the workload's."""
    own = node.get("bits_per_value")
    if own is None:
        return bits
    if not isinstance(own, dict):
        own = {"All": own}
    widths = []
    for key, value in own.items():
        if set(tensor_set(str(key), {}, f"{where}.bits_per_value")) & set(keeps):
            widths.append(fields.number(value, f"{where}.bits_per_value.{key}"))
    width = max(widths, default=bits)
    if not float(width).is_integer() or not 1 <= width <= 64:
        raise _fail(f"{where}.bits_per_value", f"expected an integer in [1, 64] bits, got {width!r}")
    return int(width)


def _tabulated(nm: float) -> float:
    """`nm` brought into the range cosearch's technology tables cover (`tech.TABULATED_NODES_NM`): a node outside
    it is priced at the nearest end (the stated node is kept in meta)."""
    return min(max(nm, min(tech.TABULATED_NODES_NM)), max(tech.TABULATED_NODES_NM))


class _Reader:
    def __init__(self, arch: dict, bits: int, variables: dict, where: str) -> None:
        self.where, self.bits = where, bits
        self.fields = _Fields(bits, variables)
        extra = arch.get("extra_attributes_for_all_component_models") or {}
        node_m = extra.get("tech_node") if isinstance(extra, dict) else None
        self.stated_nm = (self.fields.number(node_m, f"{where}.extra_attributes_for_all_component_models.tech_node")
                          * 1e9 if node_m is not None else None)
        self.table_nm = _tabulated(self.stated_nm or tech.DEFAULT_NODE_NM)
        self.levels: list[dict] = []
        self.keep_sets: dict[str, tuple[str, ...]] = {}
        self.compute: dict | None = None
        self.estimated: list[str] = []
        self.area_mm2: dict[str, float] = {}

    def fan_out(self, node: dict, where: str) -> None:
        """The node's spatial fan-out onto the storage level above it; the node's name and its spatial entries'
        names (X first) are kept for writing mappings back (`meta["accelforge"]["spatial"]`)."""
        fanout = _spatial(node, self.fields, where)
        if fanout == (1, 1):
            return
        if not self.levels:
            raise _fail(f"{where}.spatial", "a fan-out above every memory; cosearch needs a memory above each fan-out")
        above = self.levels[-1]
        above["fanout"] = (above["fanout"][0] * fanout[0], above["fanout"][1] * fanout[1])
        above["spatial"].append([str(node["name"]), [str(s.get("name", i)) for i, s in enumerate(node["spatial"])]])
        for axis, entry in enumerate(node["spatial"]):
            dims = _spatial_dims(entry, self.keep_sets, f"{where}.spatial[{axis}]")
            above["axes"][axis] = tuple(d for d in above["axes"][axis] if d in dims)

    def memory(self, node: dict, where: str) -> None:
        name = str(node["name"])
        tensors = node.get("tensors") or {}
        if not isinstance(tensors, dict) or "keep" not in tensors and "may_keep" not in tensors:
            raise _fail(f"{where}.tensors", "expected {keep: ..., may_keep: ...} (which tensors the memory holds)")
        keep = tensor_set(str(tensors.get("keep", "Nothing")), self.keep_sets, f"{where}.tensors.keep")
        may = tensor_set(str(tensors.get("may_keep", "Nothing")), self.keep_sets, f"{where}.tensors.may_keep")
        self.keep_sets[name] = keep
        keeps = tuple(t for t in TENSORS if t in keep or t in may)
        self.fan_out(node, where)
        word = _word_bits(node, keeps, self.bits, self.fields, where)
        size = self.fields.number(node.get("size"), f"{where}.size", unbounded=True)
        capacity = None if size is None else int(size // word)
        if capacity == 0:
            raise _fail(f"{where}.size", f"{size:g} bits hold no {word}-bit value")
        self.levels.append({"name": name, "node": node, "where": where, "keeps": keeps, "must_keep": keep, "word": word,
                            "capacity": capacity, "fanout": (1, 1), "spatial": [], "axes": [DIMS, DIMS]})
        self._area(node, name, where)

    def _area(self, node: dict, name: str, where: str) -> None:
        if node.get("area") is not None:
            self.area_mm2[name] = self.fields.number(node["area"], f"{where}.area") * M2_TO_MM2

    def compute_node(self, node: dict, where: str) -> None:
        if self.compute is not None:
            raise _fail(where, f"a second enabled compute node (after {self.compute['name']}); cosearch models one")
        self.fan_out(node, where)
        self.compute = {"name": str(node["name"]), "node": node, "where": where}
        self._area(node, str(node["name"]), where)

    def storage_level(self, lv: dict, clock_hz: float) -> StorageLevel:
        node, where, word = lv["node"], lv["where"], lv["word"]
        actions = _actions(node, where)
        cls = str(node.get("component_class") or "")
        outermost = lv is self.levels[0]
        kind = ("DRAM" if cls in _DRAM_CLASSES or (lv["capacity"] is None and outermost and not cls)
                else tech.storage_kind(lv["capacity"] * word / 8) if lv["capacity"] is not None else "SRAM")
        action_bits = [self.fields.number(a.get("bits_per_action", node.get("bits_per_action", 1)),
                                          f"{where}.actions.{n}.bits_per_action") or 1 for n, a in actions.items()]
        block = max(1, int(max(action_bits, default=word) // word))
        energy, bandwidth = {}, {}
        for op in ("read", "write"):
            a = actions.get(op, {})
            bpa = self.fields.number(a.get("bits_per_action", node.get("bits_per_action", 1)),
                                     f"{where}.actions.{op}.bits_per_action") or 1
            if a.get("energy") is not None:
                energy[op] = self.fields.number(a["energy"], f"{where}.actions.{op}.energy") * J_TO_PJ \
                    * block * word / bpa
            else:
                energy[op] = self._estimate_storage(cls, kind, lv, block, f"{where}.actions.{op}.energy")
            rate = self.fields.number(a.get("throughput", "inf"), f"{where}.actions.{op}.throughput",
                                      unbounded=True)
            bandwidth[op] = None if rate is None or rate == 0 else rate * bpa / word / clock_hz
        leak_w = self.fields.number(node.get("leak_power", 0), f"{where}.leak_power")
        shared = (bandwidth["read"] if bandwidth["read"] == bandwidth["write"]
                  and "max(" not in str(node.get("total_latency", "")) else None)
        return StorageLevel(
            name=lv["name"], keeps=lv["keeps"], capacity_words=lv["capacity"], word_bits=word, block_size_words=block,
            read_bandwidth=None if shared else bandwidth["read"], write_bandwidth=None if shared else bandwidth["write"],
            shared_bandwidth=shared, read_energy_pj=energy["read"], write_energy_pj=energy["write"],
            update_energy_pj=energy["write"], fanout_x=lv["fanout"][0], fanout_y=lv["fanout"][1], kind=kind,
            leak_energy_pj=leak_w / clock_hz * J_TO_PJ)

    def _estimate_storage(self, cls: str, kind: str, lv: dict, block: int, where: str) -> float:
        if cls == "Dummy":
            return 0.0
        if not cls:
            raise _fail(where, "no energy stated and no component_class to estimate one from")
        if lv["capacity"] is None and kind != "DRAM":
            raise _fail(where, "no energy stated, and an unbounded on-chip memory has none to estimate")
        if f"{lv['name']} ({cls})" not in self.estimated:
            self.estimated.append(f"{lv['name']} ({cls})")
        if kind == "DRAM":
            return tech.dram_energy_pj_per_bit(_DRAM_CLASSES.get(cls, "LPDDR4")) * lv["word"] * block
        return tech.storage_access_energy_pj(kind, lv["capacity"], lv["word"], block, self.table_nm)

    def clock_hz(self) -> tuple[float, str]:
        node, where = self.compute["node"], self.compute["where"]
        rate = _actions(node, where).get("compute", {}).get("throughput")
        if rate is not None:
            value = self.fields.number(rate, f"{where}.actions.compute.throughput")
            if value > 0:
                return value, "compute throughput"
        m = _CLOCK_FORMULA.match(str(node.get("total_latency", "")))
        if m:
            return float(m[1]), "compute total_latency"
        return DEFAULT_CLOCK_HZ, "assumed (the compute node states no throughput)"

    def mac(self) -> tuple[float, int]:
        node, where = self.compute["node"], self.compute["where"]
        extra = node.get("extra_attributes_for_component_model") or {}
        bits = int(self.fields.number(extra.get("multiplier_width", self.bits), f"{where}.multiplier_width"))
        stated = _actions(node, where).get("compute", {}).get("energy")
        if stated is not None:
            return self.fields.number(stated, f"{where}.actions.compute.energy") * J_TO_PJ, bits
        cls = str(node.get("component_class") or "")
        if not cls:
            raise _fail(f"{where}.actions.compute.energy", "no energy stated and no component_class to estimate one "
                                                           "from")
        self.estimated.append(f"{self.compute['name']} ({cls})")
        adder = extra.get("adder_width")
        return tech.mac_energy_pj(bits, None if adder is None else int(adder), self.table_nm), bits


def accelerator_from_accelforge(arch: dict, name: str = "accelforge", bits_per_value: int = DEFAULT_BITS_PER_VALUE,
                                variables: dict | None = None, where: str = "arch") -> Accelerator:
    """An AccelForge `arch:` mapping (its template rendered, its YAML read) as an `Accelerator` (see the module
    docstring); a ValueError of one line names `where`, the node and the field cosearch cannot read."""
    if not isinstance(arch, dict) or not isinstance(arch.get("nodes"), list):
        raise _fail(where, "expected a mapping with nodes: (a list of !Memory, !Container and !Compute nodes)")
    reader = _Reader(arch, bits_per_value, variables or {}, where)
    for i, node in enumerate(arch["nodes"]):
        at = f"{where}.nodes[{i}]"
        if not isinstance(node, Tagged) or node.tag not in _NODE_KINDS:
            tag = node.tag if isinstance(node, Tagged) else type(node).__name__
            raise _fail(at, f"{tag} is not modelled by cosearch (accepted: {', '.join(_NODE_KINDS)})")
        if "name" not in node:
            raise _fail(at, f"{node.tag} needs a name")
        at = f"{at} ({node['name']})"
        if not reader.fields.truth(node.get("enabled", True), f"{at}.enabled"):
            continue
        if reader.compute is not None:
            raise _fail(at, f"a node below the compute node {reader.compute['name']}; cosearch puts the MAC innermost")
        if node.tag == "!Memory":
            reader.memory(node, at)
        elif node.tag == "!Container":
            reader.fan_out(node, at)
        else:
            reader.compute_node(node, at)
    if reader.compute is None:
        raise _fail(where, "no enabled !Compute node")
    if not reader.levels:
        raise _fail(where, "no !Memory node above the compute node")
    clock_hz, clock_from = reader.clock_hz()
    mac_pj, mac_bits = reader.mac()
    levels = tuple(reader.storage_level(lv, clock_hz) for lv in reader.levels)
    meta = {"accelforge": {"estimated": reader.estimated, "area_mm2": reader.area_mm2, "clock": clock_from,
                           "compute": reader.compute["name"], "bits_per_value": bits_per_value,
                           "tech_node_nm": reader.stated_nm,
                           "spatial": {lv["name"]: lv["spatial"] for lv in reader.levels if lv["spatial"]},
                           "must_keep": {lv["name"]: lv["must_keep"] for lv in reader.levels if lv["must_keep"]}}}
    axes = tuple((lv["name"], lv["axes"][0], lv["axes"][1]) for lv in reader.levels if lv["spatial"])
    dataflow = Dataflow("accelforge", groups_on_channels=False, level_axes=axes) if axes else None
    try:
        return Accelerator(name=name, levels=levels, mac_energy_pj=mac_pj, clock_ghz=clock_hz / 1e9,
                           technology_nm=reader.table_nm, mac_bits=mac_bits, dataflow=dataflow, meta=meta)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None


__all__ = ["accelerator_from_accelforge", "DEFAULT_BITS_PER_VALUE"]
