"""`build_accelerator`: an `Accelerator` from sizes alone, energies from `tech`.

Levels, outermost first: DRAM -> GLB (fan-out = the PE array) -> per-PE register file(s) -> MAC.
A shared register file is one level "RF"; per-tensor register files are one level each ("RF_I",
"RF_W", "RF_O"): the dataflow's stationary tensor outermost (Timeloop's simple weight/output
stationary designs), otherwise Eyeriss's order ifmap -> weights -> psum (Timeloop's eyeriss_like).
The co-search calls this in its loop, so it does a few table look-ups and nothing else.
"""
from __future__ import annotations

from collections.abc import Sequence
from math import isqrt

from . import tech
from .accelerator import TENSORS, Accelerator, StorageLevel
from .dataflow import Dataflow

MAX_PES = 1 << 20
MAX_ARRAY_SIDE = 4096
MAX_RF_WORDS = 1 << 16
MAX_GLB_WORDS = 1 << 31
WORD_BITS_RANGE = (2, 64)
CLOCK_GHZ_RANGE = (0.001, 10.0)
GLB_BLOCK_BITS = 64
"""Global-buffer row width: one 64-bit port, as in the CACTI table of docs/sources.md."""

_RF_ORDER = ("Inputs", "Weights", "Outputs")  # outer -> inner, as Timeloop's eyeriss_like
_RF_NAMES = {"Inputs": "RF_I", "Weights": "RF_W", "Outputs": "RF_O"}


def _int_in(field: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"build_accelerator.{field} must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _optional_rate(field: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1e6:
        raise ValueError(f"build_accelerator.{field} must be a number in (0, 1e6] words/cycle or None "
                         f"(unlimited), got {value!r}")
    return float(value)


def array_shape(num_pes: int) -> tuple[int, int]:
    """The most square (x, y) with x * y = num_pes and x >= y."""
    n = _int_in("num_pes", num_pes, 1, MAX_PES)
    y = next(d for d in range(isqrt(n), 0, -1) if n % d == 0)
    return (n // y, y)


def _pe_array(pe_array, num_pes) -> tuple[int, int]:
    if pe_array is None:
        if num_pes is None:
            raise ValueError("build_accelerator: give pe_array=(x, y) or num_pes")
        return array_shape(num_pes)
    if not isinstance(pe_array, Sequence) or len(pe_array) != 2:
        raise ValueError(f"build_accelerator.pe_array must be (x, y), got {pe_array!r}")
    x = _int_in("pe_array[0] (x)", pe_array[0], 1, MAX_ARRAY_SIDE)
    y = _int_in("pe_array[1] (y)", pe_array[1], 1, MAX_ARRAY_SIDE)
    _int_in("pe_array x*y (PEs)", x * y, 1, MAX_PES)
    if num_pes is not None and num_pes != x * y:
        raise ValueError(f"build_accelerator.num_pes={num_pes!r} disagrees with pe_array={pe_array!r} ({x * y} PEs)")
    return (x, y)


def _per_tensor(field: str, value, lo: int, hi: int) -> int | tuple[int, int, int]:
    """An int (shared) or a (Weights, Inputs, Outputs) triple of ints, each in [lo, hi]."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 3:
            raise ValueError(f"build_accelerator.{field} must be an int (shared) or 3 ints "
                             f"(Weights, Inputs, Outputs), got {value!r}")
        return tuple(_int_in(f"{field}[{t}]", v, lo, hi) for t, v in zip(TENSORS, value))  # type: ignore[return-value]
    return _int_in(field, value, lo, hi)


def _rf_order(rf_order: Sequence[str] | None, dataflow: Dataflow | None) -> tuple[str, ...]:
    if rf_order is None:
        first = dataflow.stationary if dataflow is not None and dataflow.stationary in TENSORS else None
        return tuple(([first] if first else []) + [t for t in _RF_ORDER if t != first])
    order = tuple(rf_order)
    if sorted(order) != sorted(TENSORS):
        raise ValueError(f"build_accelerator.rf_order must be a permutation of {', '.join(TENSORS)}, got {rf_order!r}")
    return order


def _onchip_level(name: str, keeps: tuple[str, ...], capacity_words: int,
                  tensor_caps: tuple[int | None, int | None, int | None] | None, macro_words: int,
                  word_bits: int, block_words: int, node: float, bandwidth: float | None,
                  fanout: tuple[int, int] = (1, 1)) -> StorageLevel:
    kind = tech.storage_kind(macro_words * word_bits / 8)
    e = tech.storage_access_energy_pj(kind, macro_words, word_bits, block_words, node)
    return StorageLevel(name=name, keeps=keeps, capacity_words=capacity_words, tensor_capacity_words=tensor_caps,
                        word_bits=word_bits, block_size_words=block_words, read_bandwidth=bandwidth,
                        write_bandwidth=bandwidth, read_energy_pj=e, write_energy_pj=e * tech.SRAM_WRITE_TO_READ,
                        update_energy_pj=e * tech.SRAM_WRITE_TO_READ, fanout_x=fanout[0], fanout_y=fanout[1],
                        kind=kind)


def build_accelerator(pe_array: tuple[int, int] | None = None, num_pes: int | None = None,
                      rf_words: int | Sequence[int] = 16, glb_words: int | Sequence[int] = 65536,
                      dram_bandwidth_words_per_cycle: float | None = 8.0, word_bits: int = 8,
                      technology_nm: float = tech.DEFAULT_NODE_NM, clock_ghz: float = 1.0,
                      glb_bandwidth: float | None = None, name: str = "custom",
                      dataflow: Dataflow | None = None, glb_keeps: Sequence[str] = TENSORS,
                      dram: str = "LPDDR4", rf_order: Sequence[str] | None = None,
                      meta: dict | None = None) -> Accelerator:
    """An Accelerator DRAM -> GLB (fan-out = pe_array) -> per-PE RF(s) -> MAC.

    rf_words: int = one register file per PE shared by all tensors (0 = none); a (Weights,
    Inputs, Outputs) triple = one per tensor (0 = that tensor has none). glb_words: int = shared,
    triple = split per tensor (0 = bypassed), one macro each, accessed at the energy of the
    largest. Sizes in words of `word_bits`; bandwidths in words/cycle (None = unlimited); the GLB
    bandwidth is per direction. Buffers up to tech.REGFILE_MAX_BYTES are register files.
    rf_order: outer -> inner order of per-tensor register files (default: see the module doc).
    """
    x, y = _pe_array(pe_array, num_pes)
    wb = _int_in("word_bits", word_bits, *WORD_BITS_RANGE)
    node = float(technology_nm)
    tech.area_scale(node)  # validates the node with a clear message
    lo, hi = CLOCK_GHZ_RANGE
    if isinstance(clock_ghz, bool) or not isinstance(clock_ghz, (int, float)) or not lo <= clock_ghz <= hi:
        raise ValueError(f"build_accelerator.clock_ghz must be a number in [{lo}, {hi}] GHz, got {clock_ghz!r}")
    dram_bw = _optional_rate("dram_bandwidth_words_per_cycle", dram_bandwidth_words_per_cycle)
    glb_bw = _optional_rate("glb_bandwidth", glb_bandwidth)
    rf = _per_tensor("rf_words", rf_words, 0, MAX_RF_WORDS)
    glb = _per_tensor("glb_words", glb_words, 0, MAX_GLB_WORDS)
    bad = [t for t in glb_keeps if t not in TENSORS]
    if bad:
        raise ValueError(f"build_accelerator.glb_keeps: unknown tensor(s) {bad}; accepted: {', '.join(TENSORS)}")

    dram_block = max(1, tech.DRAM_BLOCK_BITS // wb)
    e_dram = tech.dram_energy_pj_per_bit(dram) * dram_block * wb
    levels = [StorageLevel(name="DRAM", keeps=TENSORS, capacity_words=None, word_bits=wb,
                           block_size_words=dram_block, shared_bandwidth=dram_bw, read_energy_pj=e_dram,
                           write_energy_pj=e_dram, update_energy_pj=e_dram, kind="DRAM")]

    glb_block = max(1, GLB_BLOCK_BITS // wb)
    if isinstance(glb, tuple):
        keeps = tuple(t for t, w in zip(TENSORS, glb) if w > 0 and t in glb_keeps)
        if not keeps:
            raise ValueError(f"build_accelerator.glb_words: all entries are 0 or not kept; give at least one "
                             f"tensor a size in [1, {MAX_GLB_WORDS}]")
        caps = tuple(w if t in keeps else None for t, w in zip(TENSORS, glb))
        levels.append(_onchip_level("GLB", keeps, sum(c for c in caps if c), caps, max(c for c in caps if c),  # type: ignore[arg-type]
                                    wb, glb_block, node, glb_bw, (x, y)))
    else:
        _int_in("glb_words", glb, 1, MAX_GLB_WORDS)
        keeps = tuple(t for t in TENSORS if t in glb_keeps)
        if not keeps:
            raise ValueError("build_accelerator.glb_keeps must name at least one of " + ", ".join(TENSORS))
        levels.append(_onchip_level("GLB", keeps, glb, None, glb, wb, glb_block, node, glb_bw, (x, y)))

    if isinstance(rf, tuple):
        words = dict(zip(TENSORS, rf))
        for t in _rf_order(rf_order, dataflow):
            if words[t] > 0:
                levels.append(_onchip_level(_RF_NAMES[t], (t,), words[t], None, words[t], wb, 1, node, None))
    elif rf > 0:
        levels.append(_onchip_level("RF", TENSORS, rf, None, rf, wb, 1, node, None))

    info = {"accumulator_bits": min(2 * wb, 64), "dram": dram, "pe_array": (x, y)}
    if meta:
        info.update(meta)
    return Accelerator(name=name, levels=tuple(levels), mac_energy_pj=tech.mac_energy_pj(wb, info["accumulator_bits"], node),
                       clock_ghz=float(clock_ghz), technology_nm=technology_nm, mac_bits=wb, dataflow=dataflow,
                       meta=info)
