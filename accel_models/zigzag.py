"""ZigZag 3.x files in and out: its accelerator YAML (operational array, memories with served dimensions, ports,
read/write costs, areas) as an `Accelerator`, its spatial-mapping file as a `Dataflow` and per-layer
`MapspaceConstraints`, and both written back. ZigZag itself is not needed. What maps one to one and what is
approximated: docs/interop.md.

ZigZag lists memories innermost first; each serves some memory operands (I1, I2, O: the mapping file's
`memory_operand_links` say which layer operand each is, by default W -> I2, I -> I1, O -> O) and is shared over
its `served_dimensions` of the operational array: one instance per position of the other dimensions. Here the
memories become storage levels outermost first, each keeping the tensors of its operands; the array's D1 (times
D3) is cosearch's X axis and D2 (times D4) its Y axis; a level's fan-out is the axes its next inner level is no
longer shared over. ZigZag prices an access of a port's `bandwidth_max` bits at r_cost / w_cost with the
port's `bandwidth_min` bits as the granule, so a level's block is bandwidth_min bits and its energy per block
r_cost x bandwidth_min / bandwidth_max: both tools charge the same energy per word moved.

Both files are checked against the rules of ZigZag's own validators (zigzag-dse 3.9's accelerator and mapping
schemas and their extra checks) before anything is built, so that a file ZigZag refuses is refused here too: array
dimensions named D<n>, each once, one size each, systolic dimensions among them; memories with an integer size,
latency, r_cost, w_cost and area, operands among I1, I2, O, served dimensions among the array's, ports named
[r][w]_port_<n> whose allocations ('I1, tl', ...) agree with their direction and whose bandwidth_min <= bandwidth_max;
a mapping file with a `default` entry and complete memory_operand_links. Beyond ZigZag's rules, what cosearch cannot
model faithfully is refused too: a memory size that is not a whole number of words, and an array or memory larger
than an `Accelerator` holds (named by the file's field, not the accelerator's).
"""
from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from nets import Layer

from .accelerator import MAX_FANOUT, MAX_INT, TENSORS, Accelerator, StorageLevel
from .area import level_area_mm2
from .dataflow import Dataflow
from .mapspace import LevelConstraints, MapspaceConstraints
from .timeloop._yaml import dump, parse, read_text

LAYER_DIMS: dict[str, str] = {"FX": "R", "FY": "S", "OX": "P", "OY": "Q", "C": "C", "K": "K", "B": "N", "G": "G"}
"""ZigZag's loop dimensions -> cosearch's (`nets.DIMS`)."""
COSEARCH_DIMS = {v: k for k, v in LAYER_DIMS.items()}
OPERAND_TENSORS = {"W": "Weights", "I": "Inputs", "O": "Outputs"}
DEFAULT_LINKS = {"O": "O", "W": "I2", "I": "I1"}
"""ZigZag's default memory operand of each layer operand (its shipped mapping files' `memory_operand_links`)."""
AXIS_OF = {"D1": "X", "D2": "Y", "D3": "X", "D4": "Y"}
"""Which cosearch array axis each ZigZag array dimension folds into."""
WORD_BITS = 8
"""Precision of weights and inputs (ZigZag's ONNX workloads: 8-bit operands)."""
PSUM_BITS = 16
"""Precision of a level that keeps only outputs (ZigZag's partial sums: 16 bits in its ONNX workloads)."""
DRAM_BITS = 10_000_000_000
"""Size written for an unbounded outermost level (ZigZag's examples give their DRAM 10^10 bits)."""


@dataclass(frozen=True)
class ZigZagMapping:
    """One entry of a ZigZag mapping file: the layers it applies to (`name`: a layer name, an operator type or
    'default'), its spatial mapping {array dim: [(zigzag dim, factor)]}, operand links, and its temporal ordering
    (kept, not enforced: see docs/interop.md)."""

    name: str
    spatial: dict[str, tuple[tuple[str, int], ...]]
    links: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LINKS))
    temporal: tuple[tuple[str, int], ...] = ()

    def axis_dims(self) -> dict[str, tuple[str, ...]]:
        """{'X': cosearch dims unrolled on X, 'Y': ...} (D3 with D1, D4 with D2)."""
        out: dict[str, list[str]] = {"X": [], "Y": []}
        for oa_dim in sorted(self.spatial):
            for zz, _ in self.spatial[oa_dim]:
                dim = LAYER_DIMS[zz]
                if dim not in out[AXIS_OF[oa_dim]]:
                    out[AXIS_OF[oa_dim]].append(dim)
        return {axis: tuple(dims) for axis, dims in out.items()}


class _Where:
    """Error messages naming the file and the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, field_: str, message: str) -> ValueError:
        return ValueError(f"{self.path}: {field_}: {' '.join(message.split())}")

    def get(self, data: dict, key: str, field_: str, kind, required: bool = True, default=None, minimum=None):
        if not isinstance(data, dict):
            raise self.error(field_.rsplit(".", 1)[0], f"expected a mapping, got {type(data).__name__}")
        if key not in data or data[key] is None:
            if required:
                raise self.error(f"{field_}", "missing (required by ZigZag's schema)")
            return default
        value = data[key]
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            want = "an integer"
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            want = "a number"
        elif kind is list:
            ok = isinstance(value, list)
            want = "a list"
        elif kind is dict:
            ok = isinstance(value, dict)
            want = "a mapping"
        else:
            ok = isinstance(value, str)
            want = "text"
        if ok and minimum is not None and value < minimum:
            ok = False
            want += f" >= {minimum}"
        if not ok:
            raise self.error(field_, f"expected {want}, got {value!r}")
        return value


def _document(source: str | Path | dict, what: str) -> tuple[object, str]:
    if isinstance(source, (dict, list)):
        return source, what
    path = Path(source)
    text = read_text(path, what, "YAML")
    # a mapping file is a YAML list: parsed inside a mapping so that the same guarded parser reads it
    data = parse("document:\n" + textwrap.indent(text, "  "), str(path))["document"]
    return data, str(path)


def read_zigzag_mapping(source: str | Path | list) -> tuple[ZigZagMapping, ...]:
    """The entries of a ZigZag mapping file (a list of {name, spatial_mapping, memory_operand_links,
    temporal_ordering}); a ValueError names the file and the field."""
    data, where_text = _document(source, "ZigZag mapping")
    where = _Where(where_text)
    if not isinstance(data, list) or not data:
        raise where.error("(top level)", f"expected a list of mapping entries, got {type(data).__name__}")
    entries = []
    for i, entry in enumerate(data):
        at = f"[{i}]"
        name = where.get(entry, "name", f"{at}.name", str)
        spatial_data = where.get(entry, "spatial_mapping", f"{at}.spatial_mapping", dict)
        spatial = {}
        for oa_dim, unrollings in spatial_data.items():
            if oa_dim not in AXIS_OF:
                raise where.error(f"{at}.spatial_mapping.{oa_dim}", f"accepted array dimensions: {', '.join(AXIS_OF)}")
            if not isinstance(unrollings, list):
                raise where.error(f"{at}.spatial_mapping.{oa_dim}", f"expected a list of 'DIM, factor', got {unrollings!r}")
            spatial[oa_dim] = tuple(_dim_factor(where, f"{at}.spatial_mapping.{oa_dim}", u) for u in unrollings)
        links = dict(DEFAULT_LINKS)
        given = where.get(entry, "memory_operand_links", f"{at}.memory_operand_links", dict, required=False,
                          default={})
        if given and set(given) != set(OPERAND_TENSORS):
            raise where.error(f"{at}.memory_operand_links", f"{given!r}: accepted: all of O, W and I, each linked "
                              "to I1, I2 or O (ZigZag's schema requires the three)")
        for op, mem_op in given.items():
            if op not in OPERAND_TENSORS or mem_op not in ("I1", "I2", "O"):
                raise where.error(f"{at}.memory_operand_links.{op}", "accepted: W, I, O linked to I1, I2 or O")
            links[op] = mem_op
        temporal = tuple(_dim_factor(where, f"{at}.temporal_ordering", t)
                         for t in where.get(entry, "temporal_ordering", f"{at}.temporal_ordering", list,
                                            required=False, default=[]))
        entries.append(ZigZagMapping(name, spatial, links, temporal))
    if "default" not in (e.name for e in entries):
        raise where.error("(top level)", f"no entry named 'default' (entries: {', '.join(e.name for e in entries)}); "
                          "accepted: a mapping file with a 'default' entry, which ZigZag applies to every layer no "
                          "other entry names")
    return tuple(entries)


def _dim_factor(where: _Where, field_: str, item) -> tuple[str, int]:
    parts = item.split(",") if isinstance(item, str) else item if isinstance(item, list) else None
    if not parts or len(parts) != 2:
        raise where.error(field_, f"expected 'DIM, factor' or [DIM, factor], got {item!r}")
    dim, factor = str(parts[0]).strip(), parts[1]
    try:
        factor = int(str(factor).strip())
    except ValueError:
        factor = 0
    if dim not in LAYER_DIMS or factor < 1:
        raise where.error(field_, f"{item!r}: accepted dims {', '.join(LAYER_DIMS)} with a factor >= 1")
    return dim, factor


def mapping_for(entries: tuple[ZigZagMapping, ...], layer_name: str = "", op_type: str = "") -> ZigZagMapping:
    """The entry ZigZag applies to a layer: by its name, else its operator type, else 'default' (which
    `read_zigzag_mapping` requires)."""
    by_name = {e.name: e for e in entries}
    for key in (layer_name, op_type, "default"):
        if key and key in by_name:
            return by_name[key]
    raise ValueError("mapping_for: the entries hold no 'default' entry (accepted: entries read by "
                     "read_zigzag_mapping, which requires one)")


def read_zigzag_accelerator(source: str | Path | dict, mapping: str | Path | list | None = None,
                            clock_ghz: float = 1.0, technology_nm: int = 45, word_bits: int = WORD_BITS,
                            psum_bits: int = PSUM_BITS) -> Accelerator:
    """A ZigZag 3.x accelerator file as an `Accelerator`; with its mapping file, the 'default' entry's spatial
    unrolling as the accelerator's `Dataflow` and its operand links for the tensors each memory keeps.

    ZigZag's file gives sizes and bandwidths in bits and no precision (the workload carries it): `word_bits` is the
    word of every level, `psum_bits` that of a level keeping only outputs (partial sums).

    A ValueError of one line names the file and the field. In-memory-computing arrays (`is_imc`) are refused:
    cosearch models a MAC array."""
    data, where_text = _document(source, "ZigZag accelerator")
    where = _Where(where_text)
    if not isinstance(data, dict):
        raise where.error("(top level)", "expected a mapping with name, memories and operational_array")
    name = where.get(data, "name", "name", str)
    array = where.get(data, "operational_array", "operational_array", dict)
    if array.get("is_imc"):
        raise where.error("operational_array.is_imc", "in-memory computing arrays are not modelled by cosearch "
                          "(accepted: a digital MAC array, is_imc: false)")
    oa_dims = where.get(array, "dimensions", "operational_array.dimensions", list)
    sizes = where.get(array, "sizes", "operational_array.sizes", list)
    if len(oa_dims) != len(sizes) or not oa_dims or any(d not in AXIS_OF for d in oa_dims):
        raise where.error("operational_array.dimensions", f"{oa_dims!r} with sizes {sizes!r}: accepted: up to four "
                          "of D1..D4, one integer size each")
    repeated = sorted({d for d in oa_dims if oa_dims.count(d) > 1})
    if repeated:
        raise where.error("operational_array.dimensions", f"{oa_dims!r} names {', '.join(repeated)} more than once; "
                          "accepted: each of D1..D4 at most once, one size each")
    for i, s in enumerate(sizes):
        where.get({"s": s}, "s", f"operational_array.sizes[{i}]", int, minimum=1)
    if math.prod(sizes) > MAX_FANOUT:
        raise where.error("operational_array.sizes", f"{sizes!r} make {math.prod(sizes):,} MACs; accepted: at most "
                          f"{MAX_FANOUT:,} (2**20) MACs in all")
    systolic = array.get("systolic_dimensions") or []
    if not isinstance(systolic, list) or not set(systolic) <= set(oa_dims):
        raise where.error("operational_array.systolic_dimensions", f"{systolic!r}: accepted: a list of the array's "
                          f"dimensions ({', '.join(oa_dims)})")
    size_of = dict(zip(oa_dims, sizes))
    mac_pj = where.get(array, "unit_energy", "operational_array.unit_energy", float, required=False, default=0.0,
                       minimum=0)
    unit_area = where.get(array, "unit_area", "operational_array.unit_area", float, required=False, default=0.0)
    entries = read_zigzag_mapping(mapping) if mapping is not None else ()
    default = mapping_for(entries) if entries else None
    links = default.links if default is not None else dict(DEFAULT_LINKS)
    tensor_of = {mem_op: OPERAND_TENSORS[op] for op, mem_op in links.items()}
    memories = where.get(data, "memories", "memories", dict)
    if not memories:
        raise where.error("memories", "no memory given")
    axis_size = {"X": math.prod(s for d, s in size_of.items() if AXIS_OF[d] == "X"),
                 "Y": math.prod(s for d, s in size_of.items() if AXIS_OF[d] == "Y")}
    levels, unshared, notes, areas = [], [], [], {}
    names = list(memories)[::-1]  # outermost first
    for position, mem_name in enumerate(names):
        mem = memories[mem_name]
        at = f"memories.{mem_name}"
        level, served, area = _memory(where, at, mem_name, mem, tensor_of, position == 0, word_bits, psum_bits,
                                      oa_dims)
        areas[mem_name] = area
        # the axes this memory is replicated along: those with a dimension it does not serve
        axes = {AXIS_OF[d] for d in oa_dims if d not in served and size_of[d] > 1}
        if position == 0 and axes:
            notes.append(f"{mem_name}: the outermost memory is taken as one instance (its served_dimensions "
                         f"{sorted(served)} leave some array dimensions out)")
            axes = set()
        previous = unshared[-1] if unshared else set()
        if not axes >= previous:
            notes.append(f"{mem_name}: served_dimensions {sorted(served)} are not nested in the outer memories'; "
                         f"taken as one instance per PE along {sorted(axes | previous)}")
            axes |= previous
        unshared.append(axes)
        levels.append(level)
    for i, level in enumerate(levels):  # fan-out below level i: the axes level i+1 (or the MACs) is replicated on
        below = unshared[i + 1] if i + 1 < len(levels) else {"X", "Y"}
        new = below - unshared[i]
        levels[i] = _with_fanout(level, axis_size["X"] if "X" in new else 1, axis_size["Y"] if "Y" in new else 1)
    missing = [t for t in TENSORS if not any(t in lv.keeps for lv in levels)]
    if missing or set(levels[0].keeps) != set(TENSORS):
        raise where.error(f"memories.{names[0]}.operands", f"the outermost memory must serve I1, I2 and O (keeps "
                          f"{list(levels[0].keeps)})")
    spatial_x, spatial_y = (default.axis_dims()["X"], default.axis_dims()["Y"]) if default is not None else ((), ())
    dataflow = Dataflow(f"zigzag-{name}", spatial_x, spatial_y) if default is not None else None
    meta = {"source": "zigzag", "path": where_text, "zigzag_areas": areas, "zigzag_unit_area": unit_area,
            "zigzag_array": dict(size_of), "zigzag_notes": notes,
            "zigzag_systolic": list(systolic)}
    try:
        return Accelerator(str(name), tuple(levels), mac_energy_pj=float(mac_pj), clock_ghz=clock_ghz,
                           technology_nm=technology_nm, mac_bits=word_bits, dataflow=dataflow, meta=meta)
    except ValueError as exc:
        raise where.error("memories", str(exc)) from None


def _memory(where: _Where, at: str, mem_name: str, mem: dict, tensor_of: dict, outermost: bool, word_bits: int,
            psum_bits: int, oa_dims: list[str]):
    """(StorageLevel without fan-out, served dims, area) of one ZigZag memory."""
    size_bits = where.get(mem, "size", f"{at}.size", int, minimum=1)
    where.get(mem, "latency", f"{at}.latency", int, minimum=0)
    operands = where.get(mem, "operands", f"{at}.operands", list)
    bad = [op for op in operands if op not in tensor_of]
    if bad or not operands or len(set(operands)) != len(operands):
        raise where.error(f"{at}.operands", f"{operands!r}: accepted: a list of I1, I2, O, each at most once")
    keeps = tuple(t for t in TENSORS if t in {tensor_of[op] for op in operands})
    word_bits = psum_bits if keeps == ("Outputs",) else word_bits
    if size_bits % word_bits or size_bits // word_bits > MAX_INT:
        raise where.error(f"{at}.size", f"{size_bits} bits is not a whole number of {word_bits}-bit words (of "
                          f"{', '.join(keeps)}) up to 2**62 words; accepted: a multiple of {word_bits} bits, at most "
                          f"{MAX_INT * word_bits:.3g}")
    served = where.get(mem, "served_dimensions", f"{at}.served_dimensions", list)
    if any(d not in oa_dims for d in served):
        raise where.error(f"{at}.served_dimensions", f"{served!r}: accepted: dimensions of the operational array "
                          f"({', '.join(oa_dims)})")
    if mem.get("auto_cost_extraction"):
        raise where.error(f"{at}.auto_cost_extraction", "CACTI cost extraction is not run here; accepted: false with "
                          "r_cost and w_cost given")
    r_cost = where.get(mem, "r_cost", f"{at}.r_cost", float, minimum=0)
    w_cost = where.get(mem, "w_cost", f"{at}.w_cost", float, minimum=0)
    area = where.get(mem, "area", f"{at}.area", float, minimum=0)
    ports = where.get(mem, "ports", f"{at}.ports", list)
    bandwidth = {"read": 0, "write": 0, "read_write": 0}
    granule = {}
    for i, port in enumerate(ports):
        kind = where.get(port, "type", f"{at}.ports[{i}].type", str)
        if kind not in bandwidth:
            raise where.error(f"{at}.ports[{i}].type", f"{kind!r}: accepted: read, write, read_write")
        _port_name_and_allocation(where, f"{at}.ports[{i}]", port, kind)
        low = where.get(port, "bandwidth_min", f"{at}.ports[{i}].bandwidth_min", int, minimum=1)
        high = where.get(port, "bandwidth_max", f"{at}.ports[{i}].bandwidth_max", int, minimum=low)
        bandwidth[kind] += high
        for direction in ("read", "write"):
            if kind in (direction, "read_write"):
                granule.setdefault(direction, (low, high))
    if "read" not in granule or "write" not in granule:
        raise where.error(f"{at}.ports", "need a read and a write port (or a read_write port)")
    (r_low, r_high), (w_low, w_high) = granule["read"], granule["write"]
    block = max(1, r_low // word_bits)
    read_pj = r_cost * r_low / r_high
    write_pj = w_cost * w_low / w_high
    scale = block * word_bits / r_low  # energy per block of `block` words
    mem_type = str(mem.get("mem_type") or "").lower()
    kind = "DRAM" if outermost or "dram" in mem_type or "dram" in mem_name.lower() else \
        "regfile" if mem_type in ("rf", "regfile", "reg") or mem_name.lower().startswith(("rf", "reg")) else "SRAM"
    rate = lambda bits: None if not bits else bits / word_bits  # noqa: E731
    try:
        level = StorageLevel(
            mem_name, keeps, capacity_words=size_bits // word_bits, word_bits=word_bits, block_size_words=block,
            read_bandwidth=rate(bandwidth["read"]), write_bandwidth=rate(bandwidth["write"]),
            shared_bandwidth=rate(bandwidth["read_write"]), read_energy_pj=read_pj * scale,
            write_energy_pj=write_pj * scale, update_energy_pj=write_pj * scale, kind=kind)
    except ValueError as exc:
        raise where.error(at, str(exc)) from None
    return level, set(served), area


_PORT_NAME = re.compile(r"r?w?_port_\d+")
_ALLOCATION = re.compile(r"(I1|I2|O), (fh|tl|fl|th)")
_WRITES = ("fh", "fl")
"""Allocation directions that write into the memory (fill from higher, flush from lower); tl / th read from it."""


def _port_name_and_allocation(where: _Where, at: str, port: dict, kind: str) -> None:
    """ZigZag's rules for a port: a name like r_port_1 / w_port_1 / rw_port_1, allocations 'OPERAND, DIRECTION'
    whose direction the port's type allows (a read port only reads: tl, th; a write port only writes: fh, fl)."""
    name = where.get(port, "name", f"{at}.name", str)
    if not _PORT_NAME.fullmatch(name):
        raise where.error(f"{at}.name", f"{name!r}: accepted: r_port_<n>, w_port_<n> or rw_port_<n>")
    for j, alloc in enumerate(where.get(port, "allocation", f"{at}.allocation", list)):
        found = _ALLOCATION.fullmatch(alloc) if isinstance(alloc, str) else None
        if found is None:
            raise where.error(f"{at}.allocation[{j}]", f"{alloc!r}: accepted: 'OPERAND, DIRECTION' with OPERAND one of "
                              "I1, I2, O and DIRECTION one of fh, tl, fl, th")
        writes = found.group(2) in _WRITES
        if (kind == "read" and writes) or (kind == "write" and not writes):
            raise where.error(f"{at}.allocation[{j}]", f"{alloc!r} on a {kind} port; accepted: fh and fl on write "
                              "ports, tl and th on read ports, any on read_write ports")


def _with_fanout(level: StorageLevel, x: int, y: int) -> StorageLevel:
    return replace(level, fanout_x=x, fanout_y=y)


def zigzag_constraints(entries: tuple[ZigZagMapping, ...], accelerator: Accelerator, layer: Layer,
                       op_type: str = "") -> MapspaceConstraints:
    """The constraints ZigZag's mapping file puts on `layer` (its entry by name, operator type or 'default'):
    on each fan-out level, the dims each axis may unroll, and the unrolling factor where it divides the layer's
    bound (ZigZag pads a factor that does not divide; cosearch's mapper then chooses a divisor)."""
    entry = mapping_for(entries, layer.name, op_type)
    dims = entry.axis_dims()
    factors: dict[str, int] = {}
    for unrollings in entry.spatial.values():
        for zz, f in unrollings:
            d = LAYER_DIMS[zz]
            bound = getattr(layer, d)
            f = min(f, bound)
            if bound % f == 0:
                factors[d] = factors.get(d, 1) * f
    levels = {}
    for lv in accelerator.levels:
        if lv.fanout > 1:
            mine = {d: f for d, f in factors.items()
                    if (d in dims["X"] and f <= lv.fanout_x) or (d in dims["Y"] and f <= lv.fanout_y)}
            levels[lv.name] = LevelConstraints(spatial_factors=mine, spatial_x=dims["X"] if lv.fanout_x > 1 else None,
                                               spatial_y=dims["Y"] if lv.fanout_y > 1 else None)
    return MapspaceConstraints(levels)


# ---- writing ------------------------------------------------------------------------------------------------
def _axis_level(accelerator: Accelerator, axis: str) -> int | None:
    """The level whose fan-out spans `axis` ('X' or 'Y'), None if the axis has size 1; a ValueError if the axis fans
    out at two levels (ZigZag's served dimensions cover whole array dimensions)."""
    attr = "fanout_x" if axis == "X" else "fanout_y"
    at = [i for i, lv in enumerate(accelerator.levels) if getattr(lv, attr) > 1]
    if len(at) > 1:
        raise ValueError(f"to_zigzag: {accelerator.name}: the array's {axis} axis fans out at "
                         f"{', '.join(accelerator.levels[i].name for i in at)}; accepted: each axis fanned out at one "
                         "level (a ZigZag memory is shared over whole array dimensions)")
    return at[0] if at else None


def accelerator_to_zigzag(accelerator: Accelerator) -> dict:
    """The ZigZag 3.x accelerator document of `accelerator` (memories innermost first). Energies per block become
    r_cost / w_cost per access of bandwidth_max bits with a bandwidth_min granule of one block, so that ZigZag
    charges the same energy per word; areas: the ZigZag areas it was read with, else cosearch's area model (mm2)."""
    x_at, y_at = _axis_level(accelerator, "X"), _axis_level(accelerator, "Y")
    mesh_x, mesh_y = accelerator.mesh
    operand = {"Weights": "I2", "Inputs": "I1", "Outputs": "O"}
    areas = accelerator.meta.get("zigzag_areas", {})
    memories = {}
    for i in range(accelerator.num_levels - 1, -1, -1):
        lv = accelerator.levels[i]
        served = [d for d, at in (("D1", x_at), ("D2", y_at)) if at is None or at >= i]
        granule = lv.block_size_words * lv.word_bits
        wide = granule * max(mesh_x, mesh_y)  # an unbounded port: as wide as a row of the array's blocks

        def port_bits(rate):
            return granule if rate is None and i else max(granule, round(rate * lv.word_bits)) if rate else wide

        ops = [operand[t] for t in lv.keeps]
        allocations = {"read": [], "write": []}
        for op in ops:
            allocations["read"].append(f"{op}, tl")
            allocations["write"].append(f"{op}, fh")
            if op == "O":
                allocations["read"].append("O, th")
                allocations["write"].append("O, fl")
        if lv.shared_bandwidth is not None or i == 0 and lv.read_bandwidth is None:
            high = port_bits(lv.shared_bandwidth) if lv.shared_bandwidth is not None else wide
            ports = [{"name": "rw_port_1", "type": "read_write", "bandwidth_min": granule, "bandwidth_max": high,
                      "allocation": allocations["read"] + allocations["write"]}]
            r_high = w_high = high
        else:
            r_high = port_bits(lv.read_bandwidth) if lv.read_bandwidth is not None else wide
            w_high = port_bits(lv.write_bandwidth) if lv.write_bandwidth is not None else wide
            ports = [{"name": "r_port_1", "type": "read", "bandwidth_min": granule, "bandwidth_max": r_high,
                      "allocation": allocations["read"]},
                     {"name": "w_port_1", "type": "write", "bandwidth_min": granule, "bandwidth_max": w_high,
                      "allocation": allocations["write"]}]
        size = DRAM_BITS if lv.capacity_words is None else lv.capacity_words * lv.word_bits
        memories[lv.name] = {
            "size": int(size), "r_cost": lv.read_energy_pj * r_high / granule,
            "w_cost": lv.write_energy_pj * w_high / granule,
            "area": float(areas.get(lv.name, level_area_mm2(lv, accelerator.technology_nm))),
            "latency": 1, "operands": ops, "ports": ports, "served_dimensions": served}
    array = {"unit_energy": accelerator.mac_energy_pj,
             "unit_area": float(accelerator.meta.get("zigzag_unit_area", 0.0)),
             "dimensions": ["D1", "D2"], "sizes": [mesh_x, mesh_y]}
    return {"name": accelerator.name, "memories": memories, "operational_array": array}


def mapping_to_zigzag(accelerator: Accelerator) -> list[dict]:
    """ZigZag's mapping file for `accelerator`: a 'default' entry unrolling the dataflow's first X dim over D1 and
    its first Y dim over D2 (K over D1 and C over D2 without a dataflow), with the default operand links."""
    mesh_x, mesh_y = accelerator.mesh
    flow = accelerator.dataflow
    x = (flow.spatial_x[0] if flow is not None and flow.spatial_x else "K")
    y = (flow.spatial_y[0] if flow is not None and flow.spatial_y else "C")
    spatial = {"D1": [f"{COSEARCH_DIMS[x]}, {mesh_x}"], "D2": [f"{COSEARCH_DIMS[y]}, {mesh_y}"]}
    return [{"name": "default", "spatial_mapping": spatial, "memory_operand_links": dict(DEFAULT_LINKS)}]


def accelerator_to_zigzag_yaml(accelerator: Accelerator) -> str:
    return dump(accelerator_to_zigzag(accelerator))


def mapping_to_zigzag_yaml(accelerator: Accelerator) -> str:
    return yaml.safe_dump(mapping_to_zigzag(accelerator), sort_keys=False)


__all__ = ["ZigZagMapping", "read_zigzag_accelerator", "read_zigzag_mapping", "mapping_for", "zigzag_constraints",
           "accelerator_to_zigzag", "accelerator_to_zigzag_yaml", "mapping_to_zigzag", "mapping_to_zigzag_yaml",
           "LAYER_DIMS"]
