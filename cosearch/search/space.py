"""NAAS's accelerator design space, encoded as reals in [0, 1] for CMA-ES.

A point x (one real per gene, see `AcceleratorSpace.genes`) decodes to a `Design`:
- number of PEs (log scale between the space's bounds, which the area budget sets), array
  dimensionality (1-D or 2-D) and shape (the X side on a log scale; NAAS's steps: #PEs by 8 for
  1-D arrays, sides by 2 for 2-D ones);
- the parallel dimensions by importance: every loop dimension gets a real, the top one is unrolled
  on X, the second on Y (2-D arrays): the array's connectivity, as a `Dataflow` the mapper honours;
- per-PE register-file words per tensor (Weights, Inputs, Outputs), log scale;
- global buffer size (in steps of 16 bytes), shared or split per tensor by shares: under an area budget, a share on
  a log scale of what the area leaves beside the rest of the design (its PEs and register files), so that the
  genes trade PEs against SRAM inside the budget rather than draw designs that overrun it;
- DRAM bandwidth (bytes/cycle, log scale) and word width.
Where PEs and register files overrun the budget with the smallest buffer, the register files shrink together (log
scale) toward their smallest until they fit. Decoding never fails; a design still over the area budget (too many
PEs) is rejected by `AcceleratorSpace.check`, which only builds the accelerator and runs the area model (well under
a millisecond), before any mapping search.

With `resources` (a `ResourceBounds`, NAAS's way: `--match-resources PRESET`) the space is bounded by
a preset's #PEs, total on-chip bytes and DRAM bandwidth instead of the area budget: the PE range
tops at the preset's PEs, the GLB at its on-chip bytes, DRAM at its bandwidth; the decoder clips the
global buffer (then the register files) so that GLB + all register files fit the on-chip bytes, and
`check` rejects whatever still exceeds a bound. Word width, node and clock are the preset's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from numbers import Integral

import numpy as np

from accel_models import TENSORS, Accelerator, Dataflow, area_mm2, build_accelerator, format_bytes
from accel_models.builder import MAX_ARRAY_SIDE
from accel_models.presets import get_preset
from accel_models.units import KIB
from nets import DIMS

from ..config import CoSearchSettings, ResourceBounds, UsageError
from ..config.validate import is_number

TENSOR_KEYS = tuple(t.lower() for t in TENSORS)
"""The tensors' names as keys of genes and of a design's JSON form: 'weights', 'inputs', 'outputs'."""
GLB_STEP_BYTES = 16  # NAAS sizes buffers in steps of 16 B
GENE_TOLERANCE = 1e-9
"""How far outside [0, 1] a gene may be and still be read (clipped to the range): float rounding, not a value."""
RF_BYPASS_GENE = 0.1
"""Under resource bounds, an rf_* gene below this means no register file for that tensor (0 words)."""
RESOURCE_SATURATION = 0.6
"""Under resource bounds, the pes and dram_bw genes reach the preset's PEs / bandwidth at this value and stay
there above it: the bounds are resources the baseline has, so using all of them is the prior (NAAS's
designs matched the baselines' PE counts); smaller designs remain below it."""


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
    axis_dims: tuple[int, int] = (1, 1)
    """How many of `parallel_dims` run along X and along Y (several = that axis may unroll any of them, as
    Eyeriss's Y:S,C,K); (1, 1) in the area-budget space."""

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
    def onchip_bytes(self) -> int:
        """Global buffer(s) + every PE's register files, bytes (NAAS's "on-chip memory")."""
        return self.glb_bytes + self.num_pes * sum(self.rf_words) * self.word_bits // 8

    @property
    def dataflow(self) -> Dataflow:
        """The array's connectivity: which dim runs along X (and Y)."""
        nx, ny = self.axis_dims
        x = self.parallel_dims[:nx]
        y = self.parallel_dims[nx:nx + ny] if self.dimensionality == 2 else ()
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
        df = self.dataflow
        dims = " x ".join(",".join(a) for a in (df.spatial_x, df.spatial_y) if a)
        return (f"{x}x{y} PEs ({dims} parallel); {self.buffers_text()}; DRAM {self.dram_bytes_per_cycle:g} B/cycle; "
                f"{self.word_bits}-bit")

    def user_attrs(self) -> dict[str, int | float | str]:
        """The design as flat values with their units in the keys, for a dashboard's trial table
        (optuna-dashboard shows each as a column; the genes themselves are reals in [0, 1])."""
        bpw = self.word_bits / 8
        attrs: dict[str, int | float | str] = {
            "design.pe_array": f"{self.pe_array[0]}x{self.pe_array[1]}", "design.num_pes": self.num_pes,
            "design.parallel_dims": self.dataflow.name,
            **{f"design.rf_{t}_words": w for t, w in zip(TENSOR_KEYS, self.rf_words)},
            "design.glb_kib": round(self.glb_bytes / 1024, 2),
            "design.glb_split": ("shared" if not isinstance(self.glb_words, tuple) else
                                 " ".join(f"{t[0].upper()}{w * bpw / 1024:.1f}K"
                                          for t, w in zip(TENSOR_KEYS, self.glb_words))),
            "design.onchip_kib": round(self.onchip_bytes / 1024, 2),
            "design.dram_bytes_per_cycle": self.dram_bytes_per_cycle, "design.word_bits": self.word_bits}
        return attrs

    def to_dict(self) -> dict:
        return {"pe_array": list(self.pe_array), "num_pes": self.num_pes, "parallel_dims": list(self.parallel_dims),
                "rf_words": dict(zip(TENSOR_KEYS, self.rf_words)),
                "glb_words": (dict(zip(TENSOR_KEYS, self.glb_words)) if isinstance(self.glb_words, tuple)
                              else self.glb_words),
                "glb_shared": not isinstance(self.glb_words, tuple), "glb_bytes": self.glb_bytes,
                "dram_bytes_per_cycle": self.dram_bytes_per_cycle, "word_bits": self.word_bits,
                "technology_nm": self.technology_nm, "clock_ghz": self.clock_ghz,
                **({} if self.axis_dims == (1, 1) else {"axis_dims": list(self.axis_dims)})}

    @classmethod
    def from_dict(cls, data: Mapping, name: str = "cosearch") -> "Design":
        """The design `to_dict` wrote (a result.json's "design"), checked before it is used: each field's form
        here, then every value through `build_accelerator`'s ranges (the one owner of what an accelerator may
        hold), so that a design read from a file is refused in one line naming the field (`design.FIELD`)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"design: expected a mapping of the design's fields, got {type(data).__name__}")
        missing = [k for k in ("pe_array", "parallel_dims", "rf_words", "glb_words", "dram_bytes_per_cycle",
                               "word_bits", "technology_nm", "clock_ghz") if k not in data]
        if missing:
            raise ValueError(f"design: missing field(s) {', '.join(missing)} (accepted: a design as a co-search's "
                             "result.json writes it)")
        glb = data["glb_words"]
        design = cls(pe_array=_ints("pe_array", data["pe_array"], 2),
                     parallel_dims=_dims(data["parallel_dims"]),
                     rf_words=_ints("rf_words", [_key(data["rf_words"], "rf_words", t) for t in TENSOR_KEYS], 3),
                     glb_words=(_ints("glb_words", [_key(glb, "glb_words", t) for t in TENSOR_KEYS], 3)
                                if isinstance(glb, Mapping) else _ints("glb_words", [glb], 1)[0]),
                     dram_bytes_per_cycle=float(_positive("dram_bytes_per_cycle", data["dram_bytes_per_cycle"])),
                     word_bits=_ints("word_bits", [data["word_bits"]], 1)[0],
                     technology_nm=_positive("technology_nm", data["technology_nm"]),
                     clock_ghz=float(_positive("clock_ghz", data["clock_ghz"])), name=name,
                     axis_dims=_ints("axis_dims", data.get("axis_dims", (1, 1)), 2))
        used = design.axis_dims[0] + (design.axis_dims[1] if design.dimensionality == 2 else 0)
        if used > len(design.parallel_dims) or min(design.axis_dims) < 1:
            raise ValueError(f"design.axis_dims: {list(design.axis_dims)}: accepted: two counts >= 1, the X count (plus "
                             f"the Y count on a 2-D array) at most the {len(design.parallel_dims)} parallel_dims")
        try:
            design.accelerator   # noqa: B018 -- built (and cached) here so that an out-of-range value is refused now
        except ValueError as exc:
            raise ValueError(f"design: {' '.join(str(exc).split())}") from None
        return design


def _key(data, field_: str, key: str):
    if not isinstance(data, Mapping) or key not in data:
        raise ValueError(f"design.{field_}: expected a mapping with {', '.join(TENSOR_KEYS)}, got {data!r}")
    return data[key]


def _ints(field_: str, values, n: int) -> tuple[int, ...]:
    """`values` as n integers (whole floats such as 16.0 accepted); a ValueError naming `design.field_`."""
    ok = isinstance(values, Sequence) and not isinstance(values, str) and len(values) == n and all(
        is_number(v) and math.isfinite(v) and v == int(v) for v in values)
    if not ok:
        want = "an integer" if n == 1 else f"a list of {n} integers"
        shown = values[0] if n == 1 and isinstance(values, list) and len(values) == 1 else values
        raise ValueError(f"design.{field_}: {shown!r}: accepted: {want}")
    return tuple(int(v) for v in values)


def _positive(field_: str, value):
    """`value` if it is a finite number > 0; a ValueError naming `design.field_` otherwise."""
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"design.{field_}: {value!r}: accepted: a finite number > 0")
    return value


def _dims(values) -> tuple[str, ...]:
    if (not isinstance(values, Sequence) or isinstance(values, str) or not values
            or any(v not in DIMS for v in values) or len(set(values)) != len(values)):
        raise ValueError(f"design.parallel_dims: {values!r}: accepted: a list of different loop dims, each one of "
                         f"{', '.join(DIMS)}")
    return tuple(values)


@dataclass(frozen=True)
class DesignCheck:
    """The area verdict on a design: its area and whether it fits the budget."""

    area_mm2: float
    budget_mm2: float
    resource_violations: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        return self.area_mm2 <= self.budget_mm2 and not self.resource_violations

    @property
    def overshoot(self) -> float:
        """Relative excess over the budget (0 when it fits)."""
        return max(0.0, self.area_mm2 / self.budget_mm2 - 1.0)

    def reason(self) -> str:
        reasons = list(self.resource_violations)
        if self.area_mm2 > self.budget_mm2:
            reasons.insert(0, f"area {self.area_mm2:.3f} mm2 > budget {self.budget_mm2:g} mm2")
        return "; ".join(reasons)


def preset_glb(acc: Accelerator) -> tuple[int, list[float] | None]:
    """A preset's global buffer as the space expresses it: the bytes of its unreplicated on-chip levels, and the
    shares of its tensors where those levels split their words per tensor (None: shared)."""
    glb_bytes = 0
    split = None
    for i, g in enumerate(acc.levels):
        if g.kind == "DRAM" or acc.instances(i) != 1:
            continue
        tc = g.tensor_capacity_words
        if tc is not None and all(c is not None for c in tc):
            glb_bytes += sum(tc) * g.word_bits // 8
            split = [c / sum(tc) for c in tc]
        else:
            glb_bytes += (g.capacity_words or 0) * g.word_bits // 8
    return glb_bytes, split


def _glb_words(glb_bytes: float, word_bits: int, step_words: int, shares: tuple[float, float, float] | None):
    """A global buffer of `glb_bytes` as a design's `glb_words`: words in whole steps, shared (`shares` None) or
    split per tensor by `shares`."""
    words = int(glb_bytes * 8 / word_bits) // step_words * step_words
    if shares is None:
        return max(step_words, words)
    return tuple(max(step_words, int(words * s) // step_words * step_words) for s in shares)


def _kib(n_bytes: float) -> str:
    """Bytes as 'B' / 'KiB' with at most one decimal (a design's buffers, the space's GLB range)."""
    return format_bytes(n_bytes, 1, "KiB")


def _lerp_log(lo: float, hi: float, g: float) -> float:
    return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * g)


def _log_position(v: float, lo: float, hi: float) -> float:
    """Where v sits between lo and hi on a log scale, clipped to [0, 1] (the inverse of `_lerp_log`; 1 if lo >= hi)."""
    if hi <= lo:
        return 1.0
    return min(1.0, max(0.0, math.log(v / lo) / math.log(hi / lo)))


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
    resources: ResourceBounds | None = None
    max_axis_dims: int | None = None
    """Most loop dims one array axis may unroll (genes x_dims, y_dims); default 1, or 3 under `resources`
    so that the space holds the baselines' own connectivity (Eyeriss Y: S, C, K)."""

    def __post_init__(self) -> None:
        self._check_fields()
        if self.max_axis_dims is None:
            object.__setattr__(self, "max_axis_dims", 1 if self.resources is None else 3)
        if self.resources is not None:
            r = self.resources
            object.__setattr__(self, "word_bits_choices", (r.word_bits,))
            object.__setattr__(self, "technology_nm", r.technology_nm)
            object.__setattr__(self, "clock_ghz", r.clock_ghz)
            object.__setattr__(self, "dram_bytes_per_cycle_range",
                               (min(self.dram_bytes_per_cycle_range[0], r.dram_bytes_per_cycle), r.dram_bytes_per_cycle))
            object.__setattr__(self, "glb_bytes_min", min(self.glb_bytes_min, r.onchip_bytes // 8 // 16 * 16 or 16))
        smallest = self._minimal(1, self.glb_bytes_min).area_mm2
        if smallest > self.area_budget_mm2:
            under = "" if self.resources is None else f" under {self.resources.preset}'s resources"
            raise UsageError(f"budget area: {self.area_budget_mm2:g} mm2 is below the smallest design of the space"
                             f"{under} (1 PE, {_kib(self.glb_bytes_min)} GLB: {smallest:.3g} mm2); accepted: an area "
                             f">= {smallest:.3g} mm2")

    def _check_fields(self) -> None:
        """Each field's type and range (a `UsageError` naming it): the space is public API, and a wrong type would
        otherwise fail deep inside the area model."""
        def number(name: str, lo: float, hi: float = math.inf, value=None) -> None:
            value = getattr(self, name) if value is None else value
            if not is_number(value) or math.isnan(value) or not lo < value <= hi:
                upper = "" if hi == math.inf else f" and <= {hi:g}"
                raise UsageError(f"AcceleratorSpace.{name} must be a number > {lo:g}{upper}, got {value!r}")

        def integers(name: str, lo: int, count: int | None) -> None:
            values = getattr(self, name)
            ok = isinstance(values, tuple) and (count is None or len(values) == count) and len(values) > 0
            if ok and not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= lo for v in values):
                ok = False
            if not ok:
                size = "a non-empty tuple" if count is None else f"a tuple of {count}"
                raise UsageError(f"AcceleratorSpace.{name} must be {size} of integers >= {lo}, got {values!r}")

        if not is_number(self.area_budget_mm2) or not self.area_budget_mm2 > 0:
            raise UsageError(f"AcceleratorSpace.area_budget_mm2 must be a number > 0 (mm2; inf: no area bound), "
                             f"got {self.area_budget_mm2!r}")
        number("technology_nm", 0, 1000)
        number("clock_ghz", 0, 100)
        integers("word_bits_choices", 1, None)
        integers("rf_words_range", 1, 2)
        for name in ("glb_bytes_min", "glb_bytes_cap", "pe_min"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise UsageError(f"AcceleratorSpace.{name} must be an integer >= 1, got {value!r}")
        bw = self.dram_bytes_per_cycle_range
        if not (isinstance(bw, tuple) and len(bw) == 2 and all(is_number(v) and 0 < v < math.inf for v in bw)
                and bw[0] <= bw[1]):
            raise UsageError(f"AcceleratorSpace.dram_bytes_per_cycle_range must be a (low, high) pair of numbers "
                             f"0 < low <= high, got {bw!r}")
        if self.rf_words_range[0] > self.rf_words_range[1] or self.glb_bytes_min > self.glb_bytes_cap:
            raise UsageError("AcceleratorSpace: rf_words_range and glb_bytes_min..glb_bytes_cap must be (low, high) "
                             f"with low <= high, got {self.rf_words_range} and "
                             f"{self.glb_bytes_min}..{self.glb_bytes_cap}")
        if self.resources is not None and not isinstance(self.resources, ResourceBounds):
            raise UsageError(f"AcceleratorSpace.resources must be a ResourceBounds or None, got "
                             f"{type(self.resources).__name__}")
        axes = self.max_axis_dims
        if axes is not None and (isinstance(axes, bool) or not isinstance(axes, Integral)
                                 or not 1 <= axes <= len(DIMS)):
            raise UsageError(f"AcceleratorSpace.max_axis_dims must be an integer in [1, {len(DIMS)}] or None, "
                             f"got {axes!r}")

    @classmethod
    def for_settings(cls, settings: CoSearchSettings) -> "AcceleratorSpace":
        """The space a co-search's settings define (a budget below its smallest design is a `UsageError`)."""
        return cls(settings.budget.area_mm2, settings.technology_nm, settings.clock_ghz, resources=settings.resources)

    # ---- bounds --------------------------------------------------------------------------
    def _minimal(self, num_pes: int, glb_bytes: int) -> Design:
        side = max(1, math.isqrt(num_pes))
        return Design((side, -(-num_pes // side)), ("K", "C"), (1, 1, 1), max(1, glb_bytes * 8 // self.word_bits_choices[0]),
                      self.dram_bytes_per_cycle_range[0], self.word_bits_choices[0], self.technology_nm,
                      self.clock_ghz)

    @cached_property
    def pe_range(self) -> tuple[int, int]:
        """(fewest, most) PEs the decoder produces: up to the most that a minimal design fits in the area budget,
        and, under `resources`, up to the preset's PEs."""
        hi = self.resources.num_pes if self.resources is not None else 1 << 16
        if math.isfinite(self.area_budget_mm2):
            lo = 1
            while lo < hi:  # largest n whose minimal design fits
                mid = (lo + hi + 1) // 2
                if self._minimal(mid, self.glb_bytes_min).area_mm2 <= self.area_budget_mm2:
                    lo = mid
                else:
                    hi = mid - 1
        return (min(self.pe_min, hi), hi)

    @cached_property
    def glb_bytes_range(self) -> tuple[int, int]:
        """(smallest, largest) global buffer in bytes: up to the biggest that fits the area budget beside the
        fewest PEs (capped at `glb_bytes_cap`), and, under `resources`, up to the preset's on-chip bytes."""
        cap = self.glb_bytes_cap if self.resources is None else self.resources.onchip_bytes
        lo, hi = self.glb_bytes_min // GLB_STEP_BYTES, max(self.glb_bytes_min, cap) // GLB_STEP_BYTES
        if math.isfinite(self.area_budget_mm2):
            pes = self.pe_range[0]
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self._minimal(pes, mid * GLB_STEP_BYTES).area_mm2 <= self.area_budget_mm2:
                    lo = mid
                else:
                    hi = mid - 1
        else:
            lo = hi
        return (self.glb_bytes_min, max(self.glb_bytes_min, lo * GLB_STEP_BYTES))

    @property
    def most_glb_words(self) -> int:
        """The most words any design of the space holds in one shared global buffer (its largest GLB in its
        narrowest words)."""
        return self.glb_bytes_range[1] * 8 // min(self.word_bits_choices)

    @property
    def genes(self) -> tuple[str, ...]:
        """Names of the coordinates of x, in order (all in [0, 1])."""
        names = ["pes", "array_2d", "aspect", *(f"dim_{d}" for d in DIMS),
                 *(f"rf_{t}" for t in TENSOR_KEYS), "glb_size", "glb_split", *(f"glb_{t}" for t in TENSOR_KEYS),
                 "dram_bw"]
        if len(self.word_bits_choices) > 1:
            names.append("word_bits")
        if self.max_axis_dims > 1:
            names += ["x_dims", "y_dims"]
        return tuple(names)

    # ---- decoding ------------------------------------------------------------------------
    def decode(self, x: Mapping[str, float] | Sequence[float] | np.ndarray, name: str = "cosearch") -> Design:
        """The design of x (a {gene: value} mapping or a vector in `genes` order), each value a number in [0, 1]."""
        g = self._genes(x)
        pe_lo, pe_hi = self.pe_range
        g_pes = g["pes"] if self.resources is None else min(1.0, g["pes"] / RESOURCE_SATURATION)
        target = _lerp_log(pe_lo, pe_hi, g_pes) if pe_hi > pe_lo else float(pe_lo)
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
        axis_dims = (1, 1)
        if self.max_axis_dims > 1:
            m = self.max_axis_dims
            nx = 1 + min(int(g["x_dims"] * m), m - 1)
            ny = 1 + min(int(g["y_dims"] * m), m - 1) if array[1] > 1 else 0
            axis_dims = (nx, max(1, ny))
            parallel = ranked[:nx + ny]

        word_bits = self.word_bits_choices[min(int(g.get("word_bits", 0.0) * len(self.word_bits_choices)),
                                               len(self.word_bits_choices) - 1)]
        if self.resources is None:
            rf = tuple(int(round(_lerp_log(*self.rf_words_range, g[f"rf_{t}"]))) for t in TENSOR_KEYS)
        else:  # below RF_BYPASS_GENE: no register file for that tensor (as NVDLA's inputs and outputs)
            rf = tuple(0 if g[f"rf_{t}"] < RF_BYPASS_GENE else int(round(_lerp_log(
                *self.rf_words_range, (g[f"rf_{t}"] - RF_BYPASS_GENE) / (1 - RF_BYPASS_GENE)))) for t in TENSOR_KEYS)
            if not any(rf):
                rf = (1, 0, 0)
        step_words = max(1, GLB_STEP_BYTES * 8 // word_bits)
        shares = None
        if g["glb_split"] >= 0.5:
            shares = np.maximum([g[f"glb_{t}"] for t in TENSOR_KEYS], 0.05)
            shares = tuple(shares / shares.sum())
        g_bw = g["dram_bw"] if self.resources is None else min(1.0, g["dram_bw"] / RESOURCE_SATURATION)
        bw = round(_lerp_log(*self.dram_bytes_per_cycle_range, g_bw) * 2) / 2

        def design(glb_bytes: float) -> Design:
            glb = _glb_words(glb_bytes, word_bits, step_words, shares)
            return Design(array, parallel, rf, glb, bw, word_bits, self.technology_nm, self.clock_ghz, name,
                          axis_dims)
        if self.resources is not None:
            bw = min(bw, self.resources.dram_bytes_per_cycle)
            rf, glb = self._clip_onchip(array[0] * array[1], rf,
                                        _glb_words(_lerp_log(*self.glb_bytes_range, g["glb_size"]), word_bits,
                                                   step_words, shares), word_bits, step_words)
            return Design(array, parallel, rf, glb, bw, word_bits, self.technology_nm, self.clock_ghz, name,
                          axis_dims)
        lo = self.glb_bytes_range[0]
        if design(lo).area_mm2 > self.area_budget_mm2:      # PEs and register files over the budget on their own
            rf = self._rf_within_budget(rf, lambda words: replace(design(lo), rf_words=words))
        return design(_lerp_log(lo, self._glb_room_bytes(design), g["glb_size"]))

    def _rf_within_budget(self, rf: tuple[int, int, int], design) -> tuple[int, int, int]:
        """The register files `rf` shrunk together on their log scale (each toward the smallest) to the largest
        that fits the area budget in `design(rf)` (its smallest global buffer); the smallest if none does (the
        design is then over the budget: too many PEs)."""
        lo_w = self.rf_words_range[0]

        def shrunk(k: int) -> tuple[int, int, int]:      # k of 32 steps of the way down to the smallest
            return tuple(max(lo_w, int(round(lo_w * (w / lo_w) ** (1 - k / 32)))) if w else 0 for w in rf)
        lo, hi = 1, 32
        while lo < hi:
            mid = (lo + hi) // 2
            if design(shrunk(mid)).area_mm2 <= self.area_budget_mm2:
                hi = mid
            else:
                lo = mid + 1
        return shrunk(lo)

    def _glb_room_bytes(self, design) -> int:
        """The largest global buffer (bytes, in whole steps, within `glb_bytes_range`) that the area budget leaves
        beside the rest of `design(glb_bytes)`'s design (its PEs, register files, words); the smallest when even
        that does not fit. The area grows with the buffer, so a binary search over the steps finds it (~15 area
        evaluations, ~0.2 ms each)."""
        lo, hi = (b // GLB_STEP_BYTES for b in self.glb_bytes_range)
        if not math.isfinite(self.area_budget_mm2) or design(hi * GLB_STEP_BYTES).area_mm2 <= \
                self.area_budget_mm2:
            return hi * GLB_STEP_BYTES
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if design(mid * GLB_STEP_BYTES).area_mm2 <= self.area_budget_mm2:
                lo = mid
            else:
                hi = mid - 1
        return lo * GLB_STEP_BYTES

    def encode_preset(self, name: str) -> dict[str, float]:
        """Genes that decode to (about) the preset `name`: its PE array, its first X dim and first non-filter Y
        dim as the parallel dims, its register-file words, global buffer, DRAM bandwidth and word width (under
        `resources`: the top bandwidth). Approximate where the space cannot express the preset (several dims per
        axis, a GLB that bypasses a tensor, an absent register file in the area-budget space, a clock or node
        other than the space's): under `--match-resources` the CMA-ES start and first trial, under an area budget
        one of the seed trials (`cosearch.search.seeds`)."""
        acc = get_preset(name)
        bounds = ResourceBounds.from_preset(name)
        genes = {g: 0.5 for g in self.genes}
        self._encode_array(genes, acc, bounds)
        self._encode_parallel_dims(genes, acc)
        self._encode_register_files(genes, acc)
        if self.resources is None:
            genes["dram_bw"] = _log_position(bounds.dram_bytes_per_cycle, *self.dram_bytes_per_cycle_range)
        else:
            genes["dram_bw"] = (1 + RESOURCE_SATURATION) / 2
        self._encode_glb(genes, acc)
        return genes

    def _encode_array(self, genes: dict[str, float], acc, bounds) -> None:
        """The PE array's genes of preset `acc` (count, 1-D or 2-D, aspect) and its word width's."""
        x, y = acc.mesh
        pe_lo, pe_hi = self.pe_range
        num = min(x * y, pe_hi)
        genes["pes"] = _log_position(num, pe_lo, pe_hi)
        if self.resources is not None:
            if genes["pes"] >= 1.0:
                genes["pes"] = (1 + RESOURCE_SATURATION) / 2  # inside the saturated range, away from its edge
            else:
                genes["pes"] *= RESOURCE_SATURATION
        if "word_bits" in genes:
            choices = self.word_bits_choices
            k = min(range(len(choices)), key=lambda i: (abs(choices[i] - bounds.word_bits), i))
            genes["word_bits"] = (k + 0.5) / len(choices)
        genes["array_2d"] = 0.75 if y > 1 else 0.25
        span = max(1.0, math.log2(num) - 1.0) - 1.0
        genes["aspect"] = 0.5 if span <= 0 else min(1.0, max(0.0, (math.log2(max(2, x)) - 1.0) / span))

    def _encode_parallel_dims(self, genes: dict[str, float], acc) -> None:
        """The parallel dims' genes: the preset's X dims, then its Y dims (with one dim an axis, its first X dim and
        first non-filter Y dim), ranked first."""
        df = acc.dataflow
        xs = [d for d in (df.spatial_x if df else ()) if d in DIMS]
        ys = [d for d in (df.spatial_y if df else ()) if d in DIMS and d not in xs]
        if self.max_axis_dims <= 1:
            ys = [d for d in ys if d not in ("R", "S")] or ys
        if self.max_axis_dims > 1:
            m = self.max_axis_dims
            xs, ys = xs[:m], ys[:m]
            order = xs + ys
            for d in DIMS:
                genes[f"dim_{d}"] = 0.95 - 0.05 * order.index(d) if d in order else 0.3
            genes["x_dims"] = (max(1, len(xs)) - 0.5) / m
            genes["y_dims"] = (max(1, len(ys)) - 0.5) / m
        else:
            for d in DIMS:
                genes[f"dim_{d}"] = 0.9 if xs and d == xs[0] else 0.8 if ys and d == ys[0] else 0.3

    def _encode_register_files(self, genes: dict[str, float], acc) -> None:
        """Each tensor's register-file genes: the words of the innermost replicated level keeping it (clipped to the
        space's range); a tensor no replicated level keeps bypasses (or, in a space without bypass, gets the
        smallest)."""
        rf = {t: 1 for t in TENSORS}
        for i, lv in enumerate(acc.levels):
            if lv.kind == "DRAM" or acc.instances(i) == 1:
                continue
            caps = lv.tensor_capacity_words or (lv.capacity_words,) * len(TENSORS)
            for j, t in enumerate(TENSORS):
                if t in lv.keeps and caps[j]:
                    rf[t] = caps[j]
        lo, hi = self.rf_words_range
        for t, key in zip(TENSORS, TENSOR_KEYS):
            kept = any(t in lv.keeps for i, lv in enumerate(acc.levels) if lv.kind != "DRAM" and acc.instances(i) > 1)
            w = max(lo, min(hi, rf[t]))
            pos = math.log(w / lo) / math.log(hi / lo) if hi > lo else 0.5
            if self.resources is None:  # no bypass in this space: an absent register file becomes the smallest
                genes[f"rf_{key}"] = pos if kept else 0.0
            else:
                genes[f"rf_{key}"] = (RF_BYPASS_GENE + (1 - RF_BYPASS_GENE) * pos if kept else RF_BYPASS_GENE / 2)

    def _encode_glb(self, genes: dict[str, float], acc) -> None:
        """The global buffer's genes: the bytes of the preset's unreplicated on-chip levels (`preset_glb`, clipped
        to the space's range and to what the area leaves beside the rest of the design) and its split."""
        glb_bytes, split = preset_glb(acc)
        genes["glb_split"] = 0.75 if split else 0.25
        if split:
            for key, share in zip(TENSOR_KEYS, split):
                genes[f"glb_{key}"] = min(1.0, max(0.05, share))
        g_lo, g_hi = self.glb_bytes_range
        if self.resources is None:      # the gene is a share of what the area leaves beside the rest of the design
            g_hi = self.decode({**genes, "glb_size": 1.0}).glb_bytes
        glb_bytes = max(g_lo, min(g_hi, glb_bytes or g_lo))
        # a hair above the size: the decoder rounds words down to whole steps, and exp(log(x)) may land just below x
        genes["glb_size"] = min(1.0, _log_position(glb_bytes * (1 + 1e-9), g_lo, g_hi)) if g_hi > g_lo else 0.5

    def _clip_onchip(self, num_pes: int, rf: tuple[int, int, int], glb, word_bits: int, step_words: int):
        """Shrink the GLB (then the register files) until GLB + all register files fit the on-chip bytes."""
        limit_words = self.resources.onchip_bytes * 8 // word_bits
        rf_total = num_pes * sum(rf)
        if rf_total > limit_words // 2:  # register files may take at most half: scale them down
            scale = (limit_words // 2) / rf_total
            rf = tuple(max(1, int(w * scale)) if w else 0 for w in rf)
            rf_total = num_pes * sum(rf)
        room = max(step_words, (limit_words - rf_total) // step_words * step_words)
        if isinstance(glb, tuple):
            if sum(glb) > room:
                scale = room / sum(glb)
                glb = tuple(max(step_words, int(w * scale) // step_words * step_words) for w in glb)
        else:
            glb = min(glb, room)
        return rf, glb

    def _genes(self, x) -> dict[str, float]:
        """x as {gene: value}, each a number in [0, 1] (a ValueError naming the first that is not)."""
        names = self.genes
        if isinstance(x, Mapping):
            missing = [n for n in names if n not in x]
            if missing:
                raise ValueError(f"AcceleratorSpace.decode: missing gene(s) {missing}")
            unknown = [k for k in x if k not in names]
            if unknown:
                raise ValueError(f"AcceleratorSpace.decode: unknown gene(s) {unknown}; accepted: {', '.join(names)}")
            values = [x[n] for n in names]
        elif isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, (str, bytes)):
            values = list(np.asarray(x, dtype=object).ravel()) if np.ndim(x) else [x]
            if len(values) != len(names):
                raise ValueError(f"AcceleratorSpace.decode: x must have {len(names)} values ({', '.join(names)}), "
                                 f"got {len(values)}")
        else:
            raise ValueError(f"AcceleratorSpace.decode: x must be a {{gene: value}} mapping or a sequence of "
                             f"{len(names)} numbers, got {type(x).__name__}")
        genes = {}
        for n, v in zip(names, values):
            if not is_number(v) or not -GENE_TOLERANCE <= v <= 1 + GENE_TOLERANCE:
                raise ValueError(f"AcceleratorSpace.decode: gene {n!r} must be a number in [0, 1], got {v!r}")
            genes[n] = min(1.0, max(0.0, float(v)))
        return genes

    def check(self, design: Design) -> DesignCheck:
        """The design's modelled area against the budget, and its resources against `resources` (no mapping search)."""
        violations = []
        r = self.resources
        if r is not None:
            if design.num_pes > r.num_pes:
                violations.append(f"{design.num_pes} PEs > {r.preset}'s {r.num_pes}")
            if design.onchip_bytes > r.onchip_bytes:
                violations.append(f"on-chip {design.onchip_bytes} B > {r.preset}'s {r.onchip_bytes} B")
            if design.dram_bytes_per_cycle > r.dram_bytes_per_cycle + 1e-9:
                violations.append(f"DRAM {design.dram_bytes_per_cycle:g} B/cycle > {r.preset}'s "
                                  f"{r.dram_bytes_per_cycle:g}")
        return DesignCheck(design.area_mm2, self.area_budget_mm2, tuple(violations))

    def sample(self, rng: np.random.Generator | int | None = None) -> dict[str, float]:
        """Uniform random genes."""
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        return {n: float(v) for n, v in zip(self.genes, gen.random(len(self.genes)))}

    def describe(self) -> str:
        pe_lo, pe_hi = self.pe_range
        g_lo, g_hi = self.glb_bytes_range
        bound = "" if self.resources is None else f" ({self.resources.describe()})"
        return (f"{len(self.genes)} genes{bound}; PEs {pe_lo}..{pe_hi}, RF {self.rf_words_range[0]}..{self.rf_words_range[1]} "
                f"words per tensor, GLB {_kib(g_lo)}..{_kib(g_hi)}, DRAM {self.dram_bytes_per_cycle_range[0]:g}.."
                f"{self.dram_bytes_per_cycle_range[1]:g} B/cycle, words {'/'.join(map(str, self.word_bits_choices))} "
                f"bit, {self.technology_nm:g} nm, {self.clock_ghz:g} GHz")
