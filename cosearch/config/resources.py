"""NAAS-style resource bounds: a preset's #PEs, total on-chip memory (bytes) and DRAM bandwidth (`--match-resources`).

NAAS (DAC 2021; docs/sources.md) limited each accelerator search to a baseline's number of PEs, total on-chip
memory and bandwidth instead of an area. `ResourceBounds.from_preset` reads them off an
`accel_models.presets` accelerator; the searched designs also take the preset's word width, technology
node and clock, so that speedup and energy compare like with like (area is then only reported).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from accel_models.presets import PRESETS, get_preset

from .validate import UsageError, check_choice


@dataclass(frozen=True)
class ResourceBounds:
    """Upper bounds of a design: PEs, on-chip bytes (global buffers + all PE register files), DRAM bytes/cycle."""

    preset: str
    num_pes: int
    onchip_bytes: int
    dram_bytes_per_cycle: float
    word_bits: int
    technology_nm: float
    clock_ghz: float

    @classmethod
    def from_preset(cls, name: str, field: str = "--match-resources") -> "ResourceBounds":
        """The bounds of preset `name` (`accel_models.presets.PRESETS`)."""
        acc = get_preset(check_choice(field, name, list(PRESETS), "preset"))
        onchip = 0.0
        dram_bpc = None
        word_bits = None
        for i, lv in enumerate(acc.levels):
            if lv.kind == "DRAM":
                bw = lv.shared_bandwidth if lv.shared_bandwidth is not None else lv.read_bandwidth
                dram_bpc = None if bw is None else bw * lv.word_bits / 8
                continue
            words = lv.capacity_words
            if lv.tensor_capacity_words is not None and all(c is not None for c in lv.tensor_capacity_words):
                words = sum(lv.tensor_capacity_words)
            onchip += (words or 0) * lv.word_bits / 8 * acc.instances(i)
            word_bits = lv.word_bits if word_bits is None else word_bits
        if dram_bpc is None:
            raise UsageError(f"{field}: preset {name!r} has no DRAM bandwidth to match")
        return cls(name, acc.num_macs, int(onchip), float(dram_bpc), int(word_bits or 8), float(acc.technology_nm),
                   float(acc.clock_ghz))

    def describe(self) -> str:
        return (f"{self.preset} resources: <= {self.num_pes} PEs, <= {self.onchip_bytes / 1024:.1f} KiB on chip, "
                f"<= {self.dram_bytes_per_cycle:g} B/cycle DRAM; {self.word_bits}-bit, {self.technology_nm:g} nm, "
                f"{self.clock_ghz:g} GHz")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ResourceBounds":
        return cls(**data)
