"""Technology tables: energy per action and area of SRAMs, register files, MACs and DRAM by node.

45 nm is the default node; 65, 32 and 22 nm are tabulated, and nodes in between (e.g. 28 nm for
TPU v1) are interpolated log-log between the tabulated ones. Every literature constant carries
its source (docs/sources.md lists them all); `corpus` = the Accelergy 0.4 energy tables frozen in the
project's Timeloop corpus (accel_models/timeloop/data/).
"""
from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from math import exp, log

DEFAULT_NODE_NM: int = 45
TABULATED_NODES_NM: tuple[int, ...] = (22, 32, 45, 65)
NODE_RANGE_NM: tuple[int, int] = (22, 65)

# --------------------------------------------------------------------------------------------
# SRAM: CACTI, low-standby-power cells, one 64-bit read/write port, one bank (docs/sources.md, "CACTI").
# Area (mm2) and energy per 64-bit read (pJ) at 8 KB, 32 KB, 128 KB and 1 MB.
# --------------------------------------------------------------------------------------------
_CACTI_SIZES_BYTES: tuple[float, ...] = (8 * 1024, 32 * 1024, 128 * 1024, 1024 * 1024)
_CACTI_AREA_MM2: dict[int, tuple[float, ...]] = {   # CACTI table, area column
    65: (0.055, 0.198, 0.896, 6.81),
    45: (0.026, 0.095, 0.430, 3.26),
    32: (0.013, 0.057, 0.217, 1.65),
    22: (0.006, 0.027, 0.119, 0.78),
}
_CACTI_READ_PJ_64B: dict[int, tuple[float, ...]] = {   # CACTI table, pJ per 64-bit read
    65: (11.1, 30.1, 59.3, 175.0),
    45: (6.1, 17.0, 32.3, 93.5),
    32: (3.4, 8.3, 18.2, 52.0),
    22: (1.6, 3.8, 7.4, 23.5),
}
_CACTI_WIDTH_BITS = 64
SRAM_WIDTH_EXPONENT: float = 0.30
"""Energy per access ~ width**0.30: fitted to the corpus's CACTI 45 nm SRAMs of equal size and
different port widths (16 KB: 7.66 pJ at 16 b vs 11.61 pJ at 64 b -> 0.300; 2 KB: 2.23 pJ at
32 b vs 2.76 pJ at 64 b -> 0.304)."""
SRAM_WRITE_TO_READ: float = 1.0
"""The CACTI table gives read energy only; the corpus's CACTI write/read ratios straddle 1 (0.69-2.4), so
writes and updates cost the same as reads."""

# --------------------------------------------------------------------------------------------
# Register files (flip-flop arrays).
# --------------------------------------------------------------------------------------------
_REGFILE_DEPTHS: tuple[float, ...] = (1, 12, 16, 24, 32, 64, 128, 192, 224, 256)
_REGFILE_PJ_45NM: tuple[float, ...] = (   # corpus: Accelergy Aladdin plug-in, 45 nm, pJ per row access
    0.009, 0.053205, 0.06794, 0.119513, 0.15635, 0.36264, 0.83416, 1.42356, 1.65932, 1.89508)
_REGFILE_TABLE_WIDTH_BITS = 16
"""Aladdin's regfile energy depends on depth only (rows of 8 and 16 bits cost the same in the
corpus); wider rows are scaled linearly from 16 bits."""
REGFILE_MAX_BYTES: int = 256
"""Largest storage modelled as a register file: the Aladdin plug-in approximates SRAMs of depth
<= 128 and width <= 16 b (256 B) as register files (accelergy-aladdin-plug-in, aladdin_table.py)."""
_DFF_UM2_45NM = 4.522    # NanGate 45 nm Open Cell Library, DFF_X1 (3.23 um x 1.4 um)
_MUX2_UM2_45NM = 1.862   # NanGate 45 nm Open Cell Library, MUX2_X1 (1.33 um x 1.4 um)
REGFILE_UM2_PER_BIT_45NM: float = _DFF_UM2_45NM + _MUX2_UM2_45NM
"""One flip-flop plus a 2:1 mux share of the read tree per bit (6.384 um2 at 45 nm)."""

# --------------------------------------------------------------------------------------------
# DRAM: energy per bit, node-independent (off chip).
# --------------------------------------------------------------------------------------------
DRAM_PJ_PER_BIT: dict[str, float] = {
    "LPDDR4": 512.0 / 64,    # Accelergy's Eyeriss-like tables: 512 pJ per 64 bits
    "DDR3": 1300.0 / 64,     # Horowitz ISSCC 2014: DRAM 1.3-2.6 nJ per 64 bits (low end)
    "DDR3_high": 2600.0 / 64,  # Horowitz ISSCC 2014: high end
}
DRAM_BLOCK_BITS: int = 64
"""DRAM access granularity (a 64-bit burst beat, the unit of both figures above)."""

# --------------------------------------------------------------------------------------------
# Integer MAC, 45 nm (Horowitz ISSCC 2014): energy pJ and area um2 by width.
# --------------------------------------------------------------------------------------------
_MULT_BITS: tuple[float, ...] = (8, 32)
_MULT_PJ_45NM: tuple[float, ...] = (0.2, 3.1)       # Horowitz: int multiply 8b / 32b
_MULT_UM2_45NM: tuple[float, ...] = (282.0, 3495.0)  # Horowitz: mult 8b / 32b area
_ADD_BITS: tuple[float, ...] = (8, 16, 32)
_ADD_PJ_45NM: tuple[float, ...] = (0.03, 0.05, 0.1)  # Horowitz: int add 8b / 16b / 32b
_ADD_UM2_45NM: tuple[float, ...] = (36.0, 67.0, 137.0)  # Horowitz: add 8b / 16b / 32b area

# --------------------------------------------------------------------------------------------
# Node scaling.
# --------------------------------------------------------------------------------------------
_AREA_SCALE_NODES_NM: tuple[float, ...] = (20, 32, 45, 65)
_AREA_SCALE_VS_45NM: tuple[float, ...] = (   # Stillmaker and Baas 2017 (area of logic)
    0.21,        # 45 -> 20 nm x0.21
    0.46,        # 45 -> 32 nm x0.46
    1.0,
    1.0 / 0.66,  # 65 -> 45 nm x0.66
)


def _check_node(technology_nm: float) -> float:
    lo, hi = NODE_RANGE_NM
    if isinstance(technology_nm, bool) or not isinstance(technology_nm, (int, float)) or not lo <= technology_nm <= hi:
        raise ValueError(f"technology_nm must be a number in [{lo}, {hi}] nm (tabulated: "
                         f"{', '.join(map(str, TABULATED_NODES_NM))}), got {technology_nm!r}")
    return float(technology_nm)


def _loglog(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear interpolation in log-log space, extrapolating the end segments."""
    lx = log(x)
    i = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
    x0, x1, y0, y1 = log(xs[i]), log(xs[i + 1]), log(ys[i]), log(ys[i + 1])
    return exp(y0 + (y1 - y0) * (lx - x0) / (x1 - x0))


def _linear(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """Piecewise-linear interpolation, extrapolating the end segments."""
    i = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
    return ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i])


def _across_nodes(table: dict[int, tuple[float, ...]], technology_nm: float, size: float) -> float:
    """Interpolate a per-node CACTI column at `size` bytes, then log-log across nodes."""
    nodes = TABULATED_NODES_NM
    at = {n: _loglog(size, _CACTI_SIZES_BYTES, table[n]) for n in nodes}
    if technology_nm in at:
        return at[technology_nm]
    return _loglog(technology_nm, tuple(float(n) for n in nodes), tuple(at[n] for n in nodes))


@lru_cache(maxsize=None)
def area_scale(technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Logic area at `technology_nm` relative to 45 nm (Stillmaker and Baas 2017)."""
    return _loglog(_check_node(technology_nm), _AREA_SCALE_NODES_NM, _AREA_SCALE_VS_45NM)


@lru_cache(maxsize=None)
def energy_scale(technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Dynamic energy at `technology_nm` relative to 45 nm.

    Geometric mean over the four sizes of the CACTI table of E(node)/E(45 nm): 65 nm 1.82, 32 nm 0.54,
    22 nm 0.24. Used for logic and register files, whose energy the sources give at 45 nm only.
    """
    node = _check_node(technology_nm)
    ratios = [_across_nodes(_CACTI_READ_PJ_64B, node, s) / _across_nodes(_CACTI_READ_PJ_64B, 45.0, s)
              for s in _CACTI_SIZES_BYTES]
    return exp(sum(log(r) for r in ratios) / len(ratios))


# ---- SRAM -----------------------------------------------------------------------------------
def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@lru_cache(maxsize=4096)
def sram_read_energy_pj(capacity_bytes: float, width_bits: int = 64,
                        technology_nm: float = DEFAULT_NODE_NM) -> float:
    """pJ per read of one `width_bits` row of an SRAM of `capacity_bytes` (CACTI, log-log in size)."""
    size = _check_positive("sram capacity_bytes", capacity_bytes)
    width = _check_positive("sram width_bits", width_bits)
    e64 = _across_nodes(_CACTI_READ_PJ_64B, _check_node(technology_nm), size)
    return e64 * (width / _CACTI_WIDTH_BITS) ** SRAM_WIDTH_EXPONENT


def _cacti_area_mm2(capacity_bytes: float, technology_nm: float) -> float:
    return _across_nodes(_CACTI_AREA_MM2, technology_nm, capacity_bytes)


@lru_cache(maxsize=4096)
def sram_area_mm2(capacity_bytes: float, technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Area of one SRAM macro: CACTI (log-log in size) plus a fixed periphery.

    The periphery makes a macro of REGFILE_MAX_BYTES cost the same as the register file it
    replaces: CACTI's table starts at 8 KB and its log-log extrapolation to a few hundred bytes
    (bit-cell density, no decoders or sense amplifiers) would make tiny SRAMs 10x cheaper than
    flip-flops. The term is a modelling choice (continuity), under 3% of a 128 KB macro.
    """
    size = _check_positive("sram capacity_bytes", capacity_bytes)
    node = _check_node(technology_nm)
    periphery = regfile_area_mm2(REGFILE_MAX_BYTES * 8, node) - _cacti_area_mm2(REGFILE_MAX_BYTES, node)
    return _cacti_area_mm2(size, node) + max(periphery, 0.0)


def sram_area_um2_per_kb(technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Marginal SRAM area per KB (um2) between 32 KB and 128 KB, from CACTI (the table's ~3.2k at 45 nm)."""
    node = _check_node(technology_nm)
    return (_cacti_area_mm2(128 * 1024, node) - _cacti_area_mm2(32 * 1024, node)) / 96 * 1e6


# ---- register files -------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def regfile_energy_pj(depth_words: float, width_bits: int = 16,
                      technology_nm: float = DEFAULT_NODE_NM) -> float:
    """pJ per access of one row of a `depth_words` x `width_bits` register file (Aladdin, 45 nm, scaled)."""
    depth = _check_positive("regfile depth_words", depth_words)
    width = _check_positive("regfile width_bits", width_bits)
    e = _linear(depth, _REGFILE_DEPTHS, _REGFILE_PJ_45NM)
    return e * max(1.0, width / _REGFILE_TABLE_WIDTH_BITS) * energy_scale(technology_nm)


def regfile_area_mm2(bits: float, technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Area of a flip-flop register file of `bits` bits (NanGate 45 nm cells, Stillmaker-scaled)."""
    return _check_positive("regfile bits", bits) * REGFILE_UM2_PER_BIT_45NM * area_scale(technology_nm) * 1e-6


# ---- choosing the implementation of a buffer --------------------------------------------------
def storage_kind(capacity_bytes: float) -> str:
    """'regfile' up to REGFILE_MAX_BYTES, else 'SRAM' (Accelergy class names)."""
    return "regfile" if capacity_bytes <= REGFILE_MAX_BYTES else "SRAM"


def storage_access_energy_pj(kind: str, capacity_words: int, word_bits: int, block_size_words: int = 1,
                             technology_nm: float = DEFAULT_NODE_NM) -> float:
    """pJ per access of one block of an on-chip buffer of the given kind ('regfile' or 'SRAM')."""
    width = word_bits * block_size_words
    if kind == "regfile":
        return regfile_energy_pj(max(1.0, capacity_words / block_size_words), width, technology_nm)
    if kind == "SRAM":
        return sram_read_energy_pj(capacity_words * word_bits / 8, width, technology_nm)
    raise ValueError(f"storage kind must be 'regfile' or 'SRAM', got {kind!r}")


def storage_area_mm2(kind: str, capacity_bytes: float, technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Area (mm2) of one on-chip buffer of the given kind; DRAM has none."""
    if kind == "DRAM":
        return 0.0
    if kind == "regfile":
        return regfile_area_mm2(capacity_bytes * 8, technology_nm)
    if kind == "SRAM":
        return sram_area_mm2(capacity_bytes, technology_nm)
    raise ValueError(f"storage kind must be 'DRAM', 'SRAM' or 'regfile', got {kind!r}")


# ---- DRAM -------------------------------------------------------------------------------------
def dram_energy_pj_per_bit(dram: str = "LPDDR4") -> float:
    """pJ per bit moved to or from DRAM."""
    try:
        return DRAM_PJ_PER_BIT[dram]
    except KeyError:
        raise ValueError(f"dram must be one of {', '.join(DRAM_PJ_PER_BIT)}, got {dram!r}") from None


# ---- MAC --------------------------------------------------------------------------------------
def _check_bits(name: str, bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 64:
        raise ValueError(f"{name} must be an integer in [1, 64] bits, got {bits!r}")
    return bits


@lru_cache(maxsize=None)
def mac_energy_pj(operand_bits: int = 8, accumulator_bits: int | None = None,
                  technology_nm: float = DEFAULT_NODE_NM) -> float:
    """pJ per integer MAC: multiply of `operand_bits` + add of `accumulator_bits` (default 2x) (Horowitz)."""
    w = _check_bits("operand_bits", operand_bits)
    acc = _check_bits("accumulator_bits", accumulator_bits if accumulator_bits is not None else 2 * w)
    e45 = _loglog(w, _MULT_BITS, _MULT_PJ_45NM) + _loglog(acc, _ADD_BITS, _ADD_PJ_45NM)
    return e45 * energy_scale(technology_nm)


@lru_cache(maxsize=None)
def mac_area_um2(operand_bits: int = 8, accumulator_bits: int | None = None,
                 technology_nm: float = DEFAULT_NODE_NM) -> float:
    """Area (um2) of one integer MAC unit: multiplier + accumulator adder (Horowitz, Stillmaker-scaled)."""
    w = _check_bits("operand_bits", operand_bits)
    acc = _check_bits("accumulator_bits", accumulator_bits if accumulator_bits is not None else 2 * w)
    a45 = _loglog(w, _MULT_BITS, _MULT_UM2_45NM) + _loglog(acc, _ADD_BITS, _ADD_UM2_45NM)
    return a45 * area_scale(technology_nm)


def summary(technology_nm: float = DEFAULT_NODE_NM, word_bits: int = 16) -> str:
    """A short text table of the main per-access energies at a node (for humans)."""
    mac = mac_energy_pj(word_bits, None, technology_nm)
    rows = [("MAC", mac)]
    for words in (16, 224):
        rows.append((f"regfile {words} x {word_bits} b", regfile_energy_pj(words, word_bits, technology_nm)))
    for kb in (8, 108, 1024):
        e = sram_read_energy_pj(kb * 1024, 64, technology_nm) / (64 / word_bits)
        rows.append((f"SRAM {kb} KB, per {word_bits}-b word (64-b rows)", e))
    rows.append((f"DRAM LPDDR4 per {word_bits}-b word", dram_energy_pj_per_bit() * word_bits))
    lines = [f"{technology_nm} nm, {word_bits}-bit words: pJ per access (x MAC)"]
    lines += [f"  {name:<40s} {e:9.3f}  ({e / mac:7.1f}x)" for name, e in rows]
    return "\n".join(lines)


__all__ = [
    "DEFAULT_NODE_NM", "TABULATED_NODES_NM", "NODE_RANGE_NM", "SRAM_WIDTH_EXPONENT", "SRAM_WRITE_TO_READ",
    "REGFILE_MAX_BYTES", "REGFILE_UM2_PER_BIT_45NM", "DRAM_PJ_PER_BIT", "DRAM_BLOCK_BITS",
    "area_scale", "energy_scale", "sram_read_energy_pj", "sram_area_mm2",
    "sram_area_um2_per_kb", "regfile_energy_pj", "regfile_area_mm2", "storage_kind",
    "storage_access_energy_pj", "storage_area_mm2", "dram_energy_pj_per_bit", "mac_energy_pj",
    "mac_area_um2", "summary",
]
