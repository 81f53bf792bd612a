"""NAAS's accelerator design space, encoded as reals in [0, 1] for CMA-ES.

A point x (one real per gene, see `AcceleratorSpace.genes`) decodes to a `Design`:
- number of PEs (log scale between the space's bounds, which the area budget sets), array
  dimensionality (1-D or 2-D) and shape (the X side on a log scale; NAAS's steps: #PEs by 8 for
  1-D arrays, sides by 2 for 2-D ones);
- the parallel dimensions by importance: every loop dimension gets a real, the top one is unrolled
  on X, the second on Y (2-D arrays): the array's connectivity, as a `Dataflow` the mapper honours;
- per-PE register-file words per tensor (Weights, Inputs, Outputs), log scale;
- global buffer size (log scale, in steps of 16 bytes), shared or split per tensor by shares;
- DRAM bandwidth (bytes/cycle, log scale) and word width.
Decoding never fails; a design over the area budget is rejected by `AcceleratorSpace.check`,
which only builds the accelerator and runs the area model (well under a millisecond), before
any mapping search.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from accel_models import Accelerator, area_mm2, build_accelerator
from accel_models.builder import MAX_ARRAY_SIDE
from accel_models.dataflow import Dataflow
from nets import DIMS

from .errors import UsageError

KIB = 1024
TENSOR_KEYS = ("weights", "inputs", "outputs")
_BUFFER_STEP_BYTES = 16  # NAAS sizes buffers in steps of 16 B


@dataclass(frozen=True)
class Design:
    """A decoded accelerator: PE array, parallel dims (X first), per-PE RF words and GLB words per tensor.

    glb_words: an int (one buffer shared by all tensors) or a (Weights, Inputs, Outputs) split.
    """

    pe_array: tuple[int, int]
    parallel_dims: tuple[str, ...]
    rf_words: tuple[int, int, int]
    glb_words: int | tuple[int, int, int]
    dram_bytes_per_cycle: float
    word_bits: int = 8
    technology_nm: float = 45
    clock_ghz: float = 1.0
    name: str = field(default="cosearch", compare=False)

    @property
    def num_pes(self) -> int:
        return self.pe_array[0] * self.pe_array[1]

    @property
    def dimensionality(self) -> int:
        """1 for a row of PEs, 2 for a mesh."""
        return 1 if self.pe_array[1] == 1 else 2

    @property
    def glb_bytes(self) -> int:
        words = sum(self.glb_words) if isinstance(self.glb_words, tuple) else self.glb_words
        return words * self.word_bits // 8

    @property
    def dataflow(self) -> Dataflow:
        """The array's connectivity: which dim runs along X (and Y)."""
        x = self.parallel_dims[:1]
        y = self.parallel_dims[1:2] if self.dimensionality == 2 else ()
        label = "X:" + "".join(x) + ("" if not y else " Y:" + "".join(y))
        return Dataflow(label, spatial_x=x, spatial_y=y)

    @cached_property
    def accelerator(self) -> Accelerator:
        """The design built by `accel_models.build_accelerator` (energies and area from `tech`)."""
        return build_accelerator(pe_array=self.pe_array, rf_words=self.rf_words, glb_words=self.glb_words,
                                 dram_bandwidth_words_per_cycle=self.dram_bytes_per_cycle * 8 / self.word_bits,
                                 word_bits=self.word_bits, technology_nm=self.technology_nm,
                                 clock_ghz=self.clock_ghz, name=self.name, dataflow=self.dataflow)

    @cached_property
    def area_mm2(self) -> float:
        return area_mm2(self.accelerator)

    def buffers_text(self) -> str:
        """E.g. 'RF W16/I8/O4 words; GLB 96 KiB shared'."""
        rf = "/".join(f"{t[0].upper()}{w}" for t, w in zip(TENSOR_KEYS, self.rf_words))
        bpw = self.word_bits / 8
        if isinstance(self.glb_words, tuple):
            glb = " + ".join(f"{t[0].upper()} {_kib(w * bpw)}" for t, w in zip(TENSOR_KEYS, self.glb_words))
            glb = f"GLB {glb}"
        else:
            glb = f"GLB {_kib(self.glb_words * bpw)} shared"
        return f"RF {rf} words; {glb}"

    def describe(self) -> str:
        """One line: array, parallel dims, buffers, DRAM, word width."""
        x, y = self.pe_array
        dims = " x ".join(self.parallel_dims[:self.dimensionality])
        return (f"{x}x{y} PEs ({dims} parallel); {self.buffers_text()}; DRAM {self.dram_bytes_per_cycle:g} B/cycle; "
                f"{self.word_bits}-bit")

    def to_dict(self) -> dict:
        return {"pe_array": list(self.pe_array), "num_pes": self.num_pes, "parallel_dims": list(self.parallel_dims),
                "rf_words": dict(zip(TENSOR_KEYS, self.rf_words)),
                "glb_words": (dict(zip(TENSOR_KEYS, self.glb_words)) if isinstance(self.glb_words, tuple)
                              else self.glb_words),
                "glb_shared": not isinstance(self.glb_words, tuple), "glb_bytes": self.glb_bytes,
                "dram_bytes_per_cycle": self.dram_bytes_per_cycle, "word_bits": self.word_bits,
                "technology_nm": self.technology_nm, "clock_ghz": self.clock_ghz}

    @classmethod
    def from_dict(cls, data: Mapping, name: str = "cosearch") -> "Design":
        glb = data["glb_words"]
        glb_words = tuple(int(glb[t]) for t in TENSOR_KEYS) if isinstance(glb, Mapping) else int(glb)
        return cls(pe_array=tuple(data["pe_array"]), parallel_dims=tuple(data["parallel_dims"]),
                   rf_words=tuple(int(data["rf_words"][t]) for t in TENSOR_KEYS), glb_words=glb_words,
                   dram_bytes_per_cycle=float(data["dram_bytes_per_cycle"]), word_bits=int(data["word_bits"]),
                   technology_nm=data["technology_nm"], clock_ghz=float(data["clock_ghz"]), name=name)


@dataclass(frozen=True)
class DesignCheck:
    """The area verdict on a design: its area and whether it fits the budget."""

    area_mm2: float
    budget_mm2: float

    @property
    def fits(self) -> bool:
        return self.area_mm2 <= self.budget_mm2

    @property
    def overshoot(self) -> float:
        """Relative excess over the budget (0 when it fits)."""
        return max(0.0, self.area_mm2 / self.budget_mm2 - 1.0)

    def reason(self) -> str:
        return f"area {self.area_mm2:.3f} mm2 > budget {self.budget_mm2:g} mm2"


def _kib(n_bytes: float) -> str:
    """Bytes as 'B' / 'KiB' with at most one decimal."""
    if n_bytes < KIB:
        return f"{n_bytes:g} B"
    return f"{n_bytes / KIB:.1f}".rstrip("0").rstrip(".") + " KiB"


def _lerp_log(lo: float, hi: float, g: float) -> float:
    return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * g)


def _even(v: float) -> int:
    return max(2, 2 * round(v / 2))


@dataclass(frozen=True)
class AcceleratorSpace:
    """The accelerator space for an area budget; `genes` names the coordinates of x in [0, 1]^n.

    pe_range and glb_bytes_range are derived from the budget unless given: the most PEs a minimal
    design (1-word register files, the smallest GLB) fits in the area, and the biggest GLB that fits
    beside the fewest PEs. DRAM bandwidth has no area in the model, so its range is a design choice:
    the default caps it at 32 B/cycle, NVDLA-1024's 256-bit interface (the best-provisioned preset
    that fits 5 mm2), so that no comparison is won by bandwidth alone.
    """

    area_budget_mm2: float
    technology_nm: float = 45
    clock_ghz: float = 1.0
    word_bits_choices: tuple[int, ...] = (8, 16)
    rf_words_range: tuple[int, int] = (1, 256)
    glb_bytes_min: int = 8 * KIB
    glb_bytes_cap: int = 4 * KIB * KIB
    dram_bytes_per_cycle_range: tuple[float, float] = (2.0, 32.0)
    pe_min: int = 16

    def __post_init__(self) -> None:
        if not self.area_budget_mm2 > 0:
            raise UsageError(f"AcceleratorSpace.area_budget_mm2 must be > 0 mm2, got {self.area_budget_mm2!r}")
        smallest = self._minimal(1, self.glb_bytes_min).area_mm2
        if smallest > self.area_budget_mm2:
            raise UsageError(f"budget area: {self.area_budget_mm2:g} mm2 is below the smallest design of the space "
                             f"(1 PE, {_kib(self.glb_bytes_min)} GLB: {smallest:.3g} mm2)")

    # ---- bounds --------------------------------------------------------------------------
    def _minimal(self, num_pes: int, glb_bytes: int) -> Design:
        side = max(1, math.isqrt(num_pes))
        return Design((side, -(-num_pes // side)), ("K", "C"), (1, 1, 1), max(1, glb_bytes * 8 // self.word_bits_choices[0]),
                      self.dram_bytes_per_cycle_range[0], self.word_bits_choices[0], self.technology_nm,
                      self.clock_ghz)

    @cached_property
    def pe_range(self) -> tuple[int, int]:
        """(fewest, most) PEs the decoder produces."""
        lo, hi = 1, 1 << 16
        while lo < hi:  # largest n whose minimal design fits
            mid = (lo + hi + 1) // 2
            if self._minimal(mid, self.glb_bytes_min).area_mm2 <= self.area_budget_mm2:
                lo = mid
            else:
                hi = mid - 1
        return (min(self.pe_min, lo), lo)

    @cached_property
    def glb_bytes_range(self) -> tuple[int, int]:
        """(smallest, largest) global buffer in bytes."""
        pes = self.pe_range[0]
        lo, hi = self.glb_bytes_min // _BUFFER_STEP_BYTES, self.glb_bytes_cap // _BUFFER_STEP_BYTES
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._minimal(pes, mid * _BUFFER_STEP_BYTES).area_mm2 <= self.area_budget_mm2:
                lo = mid
            else:
                hi = mid - 1
        return (self.glb_bytes_min, max(self.glb_bytes_min, lo * _BUFFER_STEP_BYTES))

    @property
    def genes(self) -> tuple[str, ...]:
        """Names of the coordinates of x, in order (all in [0, 1])."""
        names = ["pes", "array_2d", "aspect", *(f"dim_{d}" for d in DIMS),
                 *(f"rf_{t}" for t in TENSOR_KEYS), "glb_size", "glb_split", *(f"glb_{t}" for t in TENSOR_KEYS),
                 "dram_bw"]
        if len(self.word_bits_choices) > 1:
            names.append("word_bits")
        return tuple(names)

    # ---- decoding ------------------------------------------------------------------------
    def decode(self, x: Mapping[str, float] | Sequence[float] | np.ndarray, name: str = "cosearch") -> Design:
        """The design of x (a {gene: value} mapping or a vector in `genes` order); values are clipped to [0, 1]."""
        g = self._genes(x)
        pe_lo, pe_hi = self.pe_range
        target = _lerp_log(pe_lo, pe_hi, g["pes"]) if pe_hi > pe_lo else float(pe_lo)
        if g["array_2d"] >= 0.5 and target >= 4:
            side = 2.0 ** (1.0 + (max(1.0, math.log2(target) - 1.0) - 1.0) * g["aspect"])
            px = min(_even(side), MAX_ARRAY_SIDE)
            array = (px, min(_even(target / px), MAX_ARRAY_SIDE))
        else:
            x = 8 * round(target / 8) if target >= 8 else round(target)
            array = (max(1, min(x, MAX_ARRAY_SIDE // 8 * 8)), 1)
        while array[0] * array[1] > pe_hi:  # rounding went past the bound: step back
            array = (array[0], array[1] - 2) if array[1] > 2 else (array[0] - (8 if array[0] > 8 else 1), array[1])
        importance = [g[f"dim_{d}"] for d in DIMS]
        ranked = tuple(DIMS[i] for i in sorted(range(len(DIMS)), key=lambda i: (-importance[i], i)))
        parallel = ranked[:2] if array[1] > 1 else ranked[:1]

        word_bits = self.word_bits_choices[min(int(g.get("word_bits", 0.0) * len(self.word_bits_choices)),
                                               len(self.word_bits_choices) - 1)]
        rf = tuple(int(round(_lerp_log(*self.rf_words_range, g[f"rf_{t}"]))) for t in TENSOR_KEYS)
        step_words = max(1, _BUFFER_STEP_BYTES * 8 // word_bits)
        glb_words = int(_lerp_log(*self.glb_bytes_range, g["glb_size"]) * 8 / word_bits) // step_words * step_words
        if g["glb_split"] >= 0.5:
            shares = np.maximum([g[f"glb_{t}"] for t in TENSOR_KEYS], 0.05)
            shares = shares / shares.sum()
            glb: int | tuple[int, int, int] = tuple(max(step_words, int(glb_words * s) // step_words * step_words)
                                                    for s in shares)
        else:
            glb = max(step_words, glb_words)
        bw = round(_lerp_log(*self.dram_bytes_per_cycle_range, g["dram_bw"]) * 2) / 2
        return Design(array, parallel, rf, glb, bw, word_bits, self.technology_nm, self.clock_ghz, name)

    def _genes(self, x) -> dict[str, float]:
        names = self.genes
        if isinstance(x, Mapping):
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError(f"AcceleratorSpace.decode: missing gene(s) {missing}")
            values = [float(x[n]) for n in names]
        else:
            values = [float(v) for v in np.asarray(x, dtype=float).ravel()]
            if len(values) != len(names):
                raise ValueError(f"AcceleratorSpace.decode: x must have {len(names)} values ({', '.join(names)}), "
                                 f"got {len(values)}")
        return {n: min(1.0, max(0.0, v)) if math.isfinite(v) else 0.5 for n, v in zip(names, values)}

    def check(self, design: Design) -> DesignCheck:
        """The design's modelled area against the budget (no mapping search)."""
        return DesignCheck(design.area_mm2, self.area_budget_mm2)

    def sample(self, rng: np.random.Generator | int | None = None) -> dict[str, float]:
        """Uniform random genes."""
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return {n: float(v) for n, v in zip(self.genes, gen.random(len(self.genes)))}

    def describe(self) -> str:
        pe_lo, pe_hi = self.pe_range
        g_lo, g_hi = self.glb_bytes_range
        return (f"{len(self.genes)} genes; PEs {pe_lo}..{pe_hi}, RF {self.rf_words_range[0]}..{self.rf_words_range[1]} "
                f"words per tensor, GLB {_kib(g_lo)}..{_kib(g_hi)}, DRAM {self.dram_bytes_per_cycle_range[0]:g}.."
                f"{self.dram_bytes_per_cycle_range[1]:g} B/cycle, words {'/'.join(map(str, self.word_bits_choices))} "
                f"bit, {self.technology_nm:g} nm, {self.clock_ghz:g} GHz")
