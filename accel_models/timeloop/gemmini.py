"""Gemmini as DOSA's architecture template writes it for Timeloop, and the one-line mapping form of DOSA's rows.

DOSA (Hong et al., "DOSA: Differentiable Model-Based One-Loop Search for DNN Accelerators", MICRO 2023) describes a
Gemmini configuration by a few knobs (the systolic array's side, the scratchpad's and the accumulator's sizes) and
writes it as a Timeloop v0.3 `subtree` architecture of four storage levels: DRAM (8-bit words, 64-word blocks, 8
words/cycle); a Scratchpad keeping weights and inputs (one row of `pe_dim` 8-bit words, 2 x `pe_dim` words/cycle);
one Accumulator per array column keeping outputs (32-bit words, 16-bit network words, 2 words/cycle); one
weight Register per processing element. Its rows (the published Timeloop dataset and the FireSim measurements) give
each mapping in the one-line form Timeloop's mapper prints, outermost level first::

    L3[WIO] K8 Q28 - L2[WI] N1 K4X - L1[O] K2 S7 R7 Q4 P7 C3X - L0[W] P16

(`L3` DRAM ... `L0` Registers; the letters in brackets are the tensors the level keeps; loops outer to inner; `X`
marks a spatial loop, on the fan-out below that level). `gemmini_timeloop_files` writes the architecture and an
energy table; `compact_mapping_entries` turns the one-line form into Timeloop mapping entries; `load_dosa_row` reads
one row of DOSA's CSV (`arch.*`, `prob.*`, `mapping.mapping` columns) into cosearch's types.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nets import Layer

from ..accelerator import Accelerator
from ..mapping_arrays import MappingArrays
from .inputs import load_timeloop

GEMMINI_LEVELS = ("DRAM", "Scratchpad", "Accumulator", "Registers")
"""The template's storage levels, outermost first: the compact form's L3, L2, L1, L0."""

_TENSOR_LETTERS = {"W": "Weights", "I": "Inputs", "O": "Outputs"}
_CNN_DIMS = ("R", "S", "P", "Q", "C", "K", "N")
_LOOP = re.compile(r"^([A-Z])(\d+)(X?)$")
_LEVEL = re.compile(r"^L(\d+)\[([WIO]*)\]$")


@dataclass(frozen=True)
class GemminiConfig:
    """The knobs of DOSA's Gemmini template (the `arch.*` columns of its rows).

    pe_dim: the systolic array's side (pe_dim x pe_dim MACs); scratchpad_entries: 8-bit words in all;
    accumulator_entries: 32-bit words per array column. Bandwidths in words per cycle, as the template sets them.
    """

    pe_dim: int = 16
    scratchpad_entries: int = 256 * 1024
    accumulator_entries: int = 1024
    dram_bandwidth_words: int = 8
    dram_block_words: int = 64
    accumulator_bandwidth_words: int = 2

    def __post_init__(self) -> None:
        for name in ("pe_dim", "scratchpad_entries", "accumulator_entries", "dram_bandwidth_words",
                     "dram_block_words", "accumulator_bandwidth_words"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GemminiConfig.{name} must be an integer >= 1, got {value!r}")
        if self.scratchpad_entries % self.pe_dim:
            raise ValueError(f"GemminiConfig.scratchpad_entries ({self.scratchpad_entries}) must be a multiple of "
                             f"pe_dim ({self.pe_dim}): the scratchpad is rows of pe_dim words")

    @property
    def scratchpad_bandwidth_words(self) -> int:
        """Words per cycle of the scratchpad: two rows of the array's width (the template's `shared_bandwidth`)."""
        return 2 * self.pe_dim


def gemmini_timeloop_files(config: GemminiConfig) -> tuple[dict, dict]:
    """(architecture, energy table) as Timeloop documents for `config`. The energies are placeholders of distinct
    values per level and action (the template leaves them to Accelergy): fit for counting, not for Gemmini's
    energy."""
    d = config.pe_dim
    arch = {"architecture": {"version": 0.3, "subtree": [{
        "name": "System",
        "local": [{"name": "DRAM", "class": "DRAM", "attributes": {
            "instances": 1, "word-bits": 8, "block_size": config.dram_block_words,
            "shared_bandwidth": config.dram_bandwidth_words}}],
        "subtree": [{
            "name": "Chip", "attributes": {"technology": "40nm"},
            "local": [{"name": "Scratchpad", "class": "SRAM", "attributes": {
                "entries": config.scratchpad_entries, "depth": config.scratchpad_entries // d, "width": 8 * d,
                "instances": 1, "meshX": 1, "word-bits": 8, "n_rdwr_ports": 1, "n_banks": 1,
                "shared_bandwidth": config.scratchpad_bandwidth_words}}],
            "subtree": [{
                "name": f"PECols[0..{d - 1}]",
                "local": [{"name": "Accumulator", "class": "SRAM", "attributes": {
                    "entries": config.accumulator_entries, "depth": config.accumulator_entries, "width": 32,
                    "instances": d, "word-bits": 32, "network-word-bits": 16, "n_rdwr_ports": 2, "n_banks": 2,
                    "shared_bandwidth": config.accumulator_bandwidth_words}}],
                "subtree": [{
                    "name": f"PERows[0..{d - 1}]",
                    "local": [
                        {"name": "Registers", "class": "SRAM", "attributes": {
                            "depth": 1, "width": 8, "entries": 1, "instances": d * d, "word-bits": 8,
                            "n_rdwr_ports": 2, "n_banks": 1}},
                        {"name": "MACC", "class": "intmac", "attributes": {"datawidth": 8, "word-bits": 8}}]}]}]}]}]}}
    prefix = {"DRAM": "System.DRAM[1..1]", "Scratchpad": "System.Chip.Scratchpad[1..1]",
              "Accumulator": f"System.Chip.PECols[0..{d - 1}].Accumulator[1..{d}]",
              "Registers": f"System.Chip.PECols[0..{d - 1}].PERows[0..{d - 1}].Registers[1..{d * d}]"}
    energies = {"DRAM": (200.0, 200.0, 200.0), "Scratchpad": (2.5, 2.75, 2.5), "Accumulator": (1.25, 1.5, 1.75),
                "Registers": (0.125, 0.15, 0.125)}
    tables = [{"name": prefix[name], "actions": [{"name": a, "energy": e} for a, e in
                                                  zip(("read", "write", "update"), energies[name])]
               + [{"name": "leak", "energy": 0.0}]} for name in GEMMINI_LEVELS]
    tables.append({"name": f"System.Chip.PECols[0..{d - 1}].PERows[0..{d - 1}].MACC[1..{d * d}]",
                   "actions": [{"name": "compute", "energy": 0.5625}, {"name": "leak", "energy": 0.0}]})
    return arch, {"ERT": {"version": 0.4, "tables": tables}}


def compact_mapping_entries(text: str, levels: tuple[str, ...] = GEMMINI_LEVELS) -> list[dict]:
    """Timeloop mapping entries for a mapping in the compact one-line form (`levels` outermost first: `L{n-1}` is
    `levels[0]`). A spatial loop goes on X of the fan-out below its level."""
    parts = [p.strip() for p in str(text).split(" - ")]
    if len(parts) != len(levels):
        raise ValueError(f"compact mapping {text!r}: {len(parts)} levels, expected {len(levels)} "
                         f"({', '.join(f'L{len(levels) - 1 - i}' for i in range(len(levels)))})")
    entries: list[dict] = []
    for i, part in enumerate(parts):
        tokens = part.split()
        head = _LEVEL.match(tokens[0]) if tokens else None
        if head is None or int(head.group(1)) != len(levels) - 1 - i:
            raise ValueError(f"compact mapping {text!r}: level {i} must start L{len(levels) - 1 - i}[...] with the "
                             "tensors it keeps (W, I, O)")
        temporal: list[tuple[str, int]] = []
        spatial: list[tuple[str, int]] = []
        for token in tokens[1:]:
            loop = _LOOP.match(token)
            if loop is None or loop.group(1) not in _CNN_DIMS:
                raise ValueError(f"compact mapping {text!r}: loop {token!r} is not a dim ({' '.join(_CNN_DIMS)}) "
                                 "and a factor, with X if spatial")
            (spatial if loop.group(3) else temporal).append((loop.group(1), int(loop.group(2))))
        name = levels[i]
        entries.append({"target": name, "type": "temporal", "factors": _factors_text(temporal),
                        "permutation": _inner_first(temporal)})
        if spatial:
            entries.append({"target": name, "type": "spatial", "factors": _factors_text(spatial),
                            "permutation": _inner_first(spatial), "split": len(_CNN_DIMS)})
        keep = [_TENSOR_LETTERS[c] for c in head.group(2)]
        entries.append({"target": name, "type": "datatype", "keep": keep,
                        "bypass": [t for t in _TENSOR_LETTERS.values() if t not in keep]})
    return entries


def _factors_text(loops: list[tuple[str, int]]) -> str:
    product = {d: 1 for d in _CNN_DIMS}
    for dim, factor in loops:
        product[dim] *= factor
    return " ".join(f"{d}={product[d]}" for d in _CNN_DIMS)


def _inner_first(loops: list[tuple[str, int]]) -> str:
    """Innermost-first permutation of loops given outer to inner (a dim repeated takes its innermost place), the
    dims without a loop outermost."""
    order: list[str] = []
    for dim, _ in reversed(loops):
        if dim not in order:
            order.append(dim)
    return "".join(order + [d for d in _CNN_DIMS if d not in order])


def _integer(row: dict, column: str) -> int:
    """A DOSA row's column as an integer (the CSV writes some as floats); a ValueError naming the column."""
    try:
        return int(float(row[column]))
    except (KeyError, TypeError, ValueError, OverflowError):
        raise ValueError(f"DOSA row: {column} must be a positive integer, got {row.get(column)!r}") from None


def layer_from_dosa_row(row: dict) -> Layer:
    """The conv layer of a DOSA row's `prob.*` columns (C K N P Q R S, strides, dilations)."""
    def field(name: str) -> int:
        return _integer(row, f"prob.{name}")
    return Layer(R=field("R"), S=field("S"), P=field("P"), Q=field("Q"), C=field("C"), K=field("K"), N=field("N"),
                 stride_w=field("Wstride"), stride_h=field("Hstride"), dilation_w=field("Wdilation"),
                 dilation_h=field("Hdilation"))


def config_from_dosa_row(row: dict) -> GemminiConfig:
    """The Gemmini knobs of a DOSA row's `arch.*` columns."""
    return GemminiConfig(pe_dim=_integer(row, "arch.meshX"), scratchpad_entries=_integer(row, "arch.mem2_entries"),
                         accumulator_entries=_integer(row, "arch.mem1_entries"))


@dataclass(frozen=True)
class DosaRow:
    """One DOSA row in cosearch's types, with the cycles the row measured (None where it has none)."""

    layer: Layer
    accelerator: Accelerator
    mapping: MappingArrays
    measured_cycles: float | None


def load_dosa_row(row: dict) -> DosaRow:
    """A row of DOSA's CSV (a dict of its columns, as `csv.DictReader` gives) -> a `DosaRow`. The measured cycles
    are `target.gemmini_cycle` (FireSim's RTL run) where the row has it."""
    config = config_from_dosa_row(row)
    layer = layer_from_dosa_row(row)
    arch, ert = gemmini_timeloop_files(config)
    problem = {"problem": {"shape": "cnn-layer", "instance": {
        "C": layer.C, "K": layer.K, "R": layer.R, "S": layer.S, "N": layer.N, "P": layer.P, "Q": layer.Q,
        "Wstride": layer.stride_w, "Hstride": layer.stride_h, "Wdilation": layer.dilation_w,
        "Hdilation": layer.dilation_h}}}
    mapping = {"mapping": compact_mapping_entries(row.get("mapping.mapping", ""))}
    layer, accelerator, arrays = load_timeloop(arch, problem, mapping, ert)
    measured = row.get("target.gemmini_cycle")
    return DosaRow(layer, accelerator, arrays, float(measured) if measured not in (None, "") else None)
