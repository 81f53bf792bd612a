"""Chip area of an `Accelerator` (mm2): MACs, per-PE storage, global buffers and a layout overhead.

How the model gets to a chip area:
1. MACs: Horowitz's 45 nm multiplier + adder areas (accumulator 2x the operand width unless
   `meta["accumulator_bits"]` says otherwise), scaled to the node (Stillmaker and Baas 2017).
2. Buffers: per instance, an SRAM macro per buffer (the CACTI table of docs/sources.md, log-log in size,
   plus a fixed periphery) or a flip-flop register file (NanGate 45 nm DFF + mux per bit) when
   the level's kind is 'regfile'; a level whose capacity is split per tensor is one macro per
   tensor. DRAM has no on-chip area.
3. Overhead: everything above is multiplied by LAYOUT_FACTOR = 2.35, which stands for what the
   components leave out (control, the on-chip network and FIFOs, clock tree, power grid,
   placement density). It is **calibrated**, not sourced: the geometric mean of published /
   raw-modelled area of the two baseline chips with a published core area, both at 65 nm: Eyeriss (JSSC
   2017, 12.25 mm2; raw model 5.57 mm2, of which 3.58 mm2 are the 168 filter-spad SRAM macros,
   -> 2.20) and ShiDianNao (ISCA 2015, 4.86 mm2; raw 1.93 mm2, mostly its 256 KB of buffers,
   -> 2.52). The model then gives Eyeriss 13.1 mm2 (+7%) and ShiDianNao 4.54 mm2 (-7%). The
   factor was fitted on these two chips, so that agreement is a fit with one degree of freedom
   to spare, not an independent validation; `tests/accel_models/test_area.py` recomputes it.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import tech
from .accelerator import TENSORS, Accelerator, StorageLevel, check_accelerator

LAYOUT_FACTOR: float = 2.35
"""Calibrated layout/overhead multiplier (module docstring): sqrt(12.25 / 5.57 * 4.86 / 1.93)."""
OVERHEAD_NOTE = (f"the layout overhead is {LAYOUT_FACTOR - 1:.2f}x the modelled components (MACs and buffers): it "
                 "stands for what they leave out (control, the on-chip network and FIFOs, clock tree, power grid, "
                 "placement density); calibrated, not sourced, on the published core areas of Eyeriss and "
                 "ShiDianNao (accel_models/area.py), so it is an estimate")
"""What a report says the area overhead is (one owner: the factor above)."""


@dataclass(frozen=True)
class AreaBreakdown:
    """Area in mm2 by component; `per_level_mm2` is over all instances of each storage level."""

    macs_mm2: float
    pe_storage_mm2: float
    global_buffers_mm2: float
    overhead_mm2: float
    per_level_mm2: dict[str, float]

    @property
    def raw_mm2(self) -> float:
        """Sum of the modelled components before the layout overhead."""
        return self.macs_mm2 + self.pe_storage_mm2 + self.global_buffers_mm2

    @property
    def total_mm2(self) -> float:
        return self.raw_mm2 + self.overhead_mm2

    def describe(self) -> str:
        parts = [("MACs", self.macs_mm2), ("per-PE storage", self.pe_storage_mm2),
                 ("global buffers", self.global_buffers_mm2), ("overhead (calibrated)", self.overhead_mm2)]
        lines = [f"  {name:<22s} {mm2:9.3f} mm2 ({mm2 / self.total_mm2:5.1%})" for name, mm2 in parts]
        return "\n".join(lines + [f"  {'total':<22s} {self.total_mm2:9.3f} mm2"])


def _macro_bytes(level: StorageLevel) -> list[float]:
    """Capacities (bytes) of the SRAM/regfile macros one instance of `level` is built from."""
    bytes_per_word = level.word_bits / 8
    caps = level.tensor_capacity_words
    if caps is not None:
        kept = [caps[i] for i, t in enumerate(TENSORS) if t in level.keeps]
        if kept and all(c is not None for c in kept):
            return [c * bytes_per_word for c in kept]
    if level.capacity_words is None:
        raise ValueError(f"StorageLevel[{level.name}].capacity_words: an on-chip level ({level.kind}) needs a "
                         "finite capacity for the area model")
    return [level.capacity_words * bytes_per_word]


def level_area_mm2(level: StorageLevel, technology_nm: float) -> float:
    """Area (mm2) of one instance of a storage level (0 for DRAM), before the layout overhead."""
    if level.kind == "DRAM":
        return 0.0
    return sum(tech.storage_area_mm2(level.kind, b, technology_nm) for b in _macro_bytes(level))


def _per_pe_levels(acc: Accelerator) -> set[int]:
    """Indices of the levels inside a PE: below the outermost fan-out, or below the outermost on-chip level."""
    on_chip = [i for i, lv in enumerate(acc.levels) if lv.kind != "DRAM"]
    fanouts = acc.fanout_levels
    top = fanouts[0] if fanouts else (on_chip[0] if on_chip else len(acc.levels))
    return {i for i in on_chip if i > top}


def area_breakdown(accelerator: Accelerator) -> AreaBreakdown:
    """Area by component (mm2): MACs, per-PE storage, global buffers, layout overhead."""
    acc = check_accelerator("area_breakdown", accelerator)
    node = acc.technology_nm
    acc_bits = acc.meta.get("accumulator_bits") if acc.meta else None
    macs = acc.num_macs * tech.mac_area_um2(acc.mac_bits, acc_bits, node) * 1e-6
    per_pe = _per_pe_levels(acc)
    per_level: dict[str, float] = {}
    pe_storage = glb = 0.0
    for i, lv in enumerate(acc.levels):
        a = level_area_mm2(lv, node) * acc.instances(i)
        per_level[lv.name] = a
        if i in per_pe:
            pe_storage += a
        else:
            glb += a
    raw = macs + pe_storage + glb
    return AreaBreakdown(macs, pe_storage, glb, raw * (LAYOUT_FACTOR - 1.0), per_level)


def area_mm2(accelerator: Accelerator) -> float:
    """Modelled chip (core) area in mm2."""
    return area_breakdown(check_accelerator("area_mm2", accelerator)).total_mm2
