"""Baseline accelerators (the designs NAAS compared against), sized from their publications (docs/sources.md).

Each factory returns an `Accelerator` from `build_accelerator` with the dataflow the design is
known for; `technology_nm=` rebuilds it at another node (e.g. the co-search's). Figures marked
"assumed" are not published (docs/sources.md lists which) and are stated where they are used.
`python -m accel_models.presets` prints the table of all presets (`summary.table`).
"""
from __future__ import annotations

from collections.abc import Callable

from ..accelerator import Accelerator
from ..builder import build_accelerator
from ..dataflow import Dataflow
from ..units import KIB, MIB

ROW_STATIONARY = Dataflow("row_stationary", spatial_x=("Q",), spatial_y=("S", "C", "K"), stationary="row")
"""Eyeriss RS (Chen et al. ISCA 2016): a PE runs a 1-D row convolution (R, P temporal, filter row
stationary); filter rows S and channels C, K go down the columns (Y), output rows Q across (X),
as in Timeloop's eyeriss_like spatial constraint (X: Q; Y: S, C, M)."""
OUTPUT_STATIONARY_2D = Dataflow("output_stationary", spatial_x=("P",), spatial_y=("Q",), stationary="Outputs")
"""ShiDianNao (Du et al. ISCA 2015): each PE owns one output neuron of a P x Q output block."""
WEIGHT_STATIONARY_CK = Dataflow("weight_stationary", spatial_x=("K",), spatial_y=("C",), stationary="Weights")
"""NVDLA (Atomic-C x Atomic-K) and TPU-style systolic arrays: input channels down the rows,
output channels across the columns, one weight held per MAC."""


def eyeriss(technology_nm: float = 65) -> Accelerator:
    """Eyeriss v1 (Chen et al., JSSC 2017): 12 x 14 PEs, 108 KB GLB, spads 12/224/24 x 16 b, 65 nm.

    X = 14 columns, Y = 12 rows (Timeloop's eyeriss_like mesh). The GLB keeps ifmaps and psums;
    filters go from DRAM to the weight spads (Timeloop's eyeriss_like; the corpus's family C).
    Clock 200 MHz (published: 100-250 MHz). GLB 16 words/cycle each way (the corpus's family C).
    DRAM 4 words/cycle: assumed, a 64-bit off-chip data bus per cycle.
    """
    return build_accelerator(
        pe_array=(14, 12), rf_words=(224, 12, 24), glb_words=108 * KIB // 2, glb_keeps=("Inputs", "Outputs"),
        dram_bandwidth_words_per_cycle=4.0, word_bits=16, technology_nm=technology_nm, clock_ghz=0.2,
        glb_bandwidth=16.0, name="eyeriss", dataflow=ROW_STATIONARY,
        meta={"published_area_mm2": 12.25 if technology_nm == 65 else None,
              "source": "Chen et al., JSSC 2017: 65 nm, 12.25 mm2 core"})


def shidiannao(technology_nm: float = 65) -> Accelerator:
    """ShiDianNao (Du et al., ISCA 2015): 8 x 8 PEs, output stationary, NBin 64 KB, NBout 64 KB, SB 128 KB, 65 nm, 1 GHz.

    16-bit words; each PE holds one weight, one input and one output register (its FIFOs are
    not modelled). DRAM 4 words/cycle: assumed (the chip sits next to the sensor, no DRAM).
    """
    return build_accelerator(
        pe_array=(8, 8), rf_words=(1, 1, 1), glb_words=(128 * KIB // 2, 64 * KIB // 2, 64 * KIB // 2),
        dram_bandwidth_words_per_cycle=4.0, word_bits=16, technology_nm=technology_nm, clock_ghz=1.0,
        name="shidiannao", dataflow=OUTPUT_STATIONARY_2D,
        meta={"published_area_mm2": 4.86 if technology_nm == 65 else None,
              "source": "Du et al., ISCA 2015: 65 nm, 4.86 mm2"})


def _nvdla(macs: int, x: int, y: int, cbuf_kib: int, dram_bits: int, technology_nm: float) -> Accelerator:
    return build_accelerator(
        pe_array=(x, y), rf_words=(1, 0, 0), glb_words=cbuf_kib * KIB, dram_bandwidth_words_per_cycle=dram_bits / 8,
        word_bits=8, technology_nm=technology_nm, clock_ghz=1.0, name=f"nvdla_{macs}",
        dataflow=WEIGHT_STATIONARY_CK,
        meta={"published_area_mm2": None,
              "source": "NVDLA nv_small / nv_large configurations, sizes interpolated; NAAS baseline"})


def nvdla_256(technology_nm: float = 45) -> Accelerator:
    """NVDLA-256 (NAAS baseline): 256 INT8 MACs as Atomic-K 16 x Atomic-C 16, weight stationary.

    CBUF 224 KiB: log-log between nv_small (64 MACs, 128 KiB) and nv_large (2048 MACs, 512 KiB)
    gives 223 KiB, rounded to 16 KiB. DRAM 128 bits/cycle: assumed, the AXI width interpolated the
    same way between nv_small (64 b) and nv_large (512 b) and rounded to a power of two.
    NVDLA is soft IP: the node is the project's default (45 nm), the clock an assumed 1 GHz.
    """
    return _nvdla(256, 16, 16, 224, 128, technology_nm)


def nvdla_1024(technology_nm: float = 45) -> Accelerator:
    """NVDLA-1024 (NAAS baseline): 1024 INT8 MACs as Atomic-K 32 x Atomic-C 32, weight stationary.

    CBUF 384 KiB (log-log interpolation as for nvdla_256: 388 KiB, rounded to 16 KiB); DRAM 256
    bits/cycle (assumed, interpolated AXI width); 45 nm and 1 GHz assumed.
    """
    return _nvdla(1024, 32, 32, 384, 256, technology_nm)


PCIE_GEN2_X1_BYTES_PER_S = 5e9 * 8 / 10 / 8
"""One PCIe Gen2 lane, each direction: 5 GT/s with 8b/10b line coding = 500 MB/s (PCI-SIG, PCI Express Base
Specification 2.0)."""


def edge_tpu_like(technology_nm: float = 28) -> Accelerator:
    """Edge TPU-like: 64 x 64 INT8 weight-stationary array at 480 MHz (~4 TOPS), 8 MB on chip, host link PCIe Gen2 x1.

    Google's public descriptions (docs/sources.md): 4 TOPS INT8 (2 ops a MAC: 4096 MACs at 480 MHz give 3.9),
    8 MB of on-chip SRAM that caches the model's parameters, and no memory of its own beyond it: the chip reaches
    its host's memory over one PCIe Gen2 lane (Coral Accelerator Module datasheet: PCIe Gen2 x1 or USB 2.0; that
    the Dev Board uses the PCIe one is assumed), 500 MB/s each way, so the DRAM level reads and writes at
    500e6 / 480e6 = 1.04 bytes a cycle each, in parallel. What stays on chip between layers and across
    inferences is the network evaluation's (`evaluate_network(..., fusion=...)`). The array's shape and the
    node (28 nm, as TPU v1) are assumed: Google publishes neither.
    """
    clock_ghz = 0.48
    link_bytes_per_cycle = PCIE_GEN2_X1_BYTES_PER_S / (clock_ghz * 1e9)
    acc = build_accelerator(
        pe_array=(64, 64), rf_words=(1, 0, 0), glb_words=8 * MIB, dram_bandwidth_words_per_cycle=None,
        word_bits=8, technology_nm=technology_nm, clock_ghz=clock_ghz, name="edge_tpu_like",
        dataflow=WEIGHT_STATIONARY_CK,
        meta={"published_area_mm2": None, "source": "Google's public descriptions: 4 TOPS INT8, 8 MB on-chip memory, "
              "PCIe Gen2 x1 host interface (Coral Accelerator Module datasheet)"})
    return acc.with_levels(DRAM={"read_bandwidth": link_bytes_per_cycle, "write_bandwidth": link_bytes_per_cycle})


def tpu_v1_like(technology_nm: float = 28) -> Accelerator:
    """TPU v1-like (Jouppi et al. ISCA 2017): 256 x 256 INT8 weight-stationary systolic array, 28 nm, 700 MHz.

    GLB split per tensor: Inputs 24 MiB (unified buffer), Outputs 4 MiB (accumulators),
    Weights 256 KiB (the weight FIFO, four 64 KiB tiles, Jouppi et al.). Outputs are modelled as
    8-bit words; the accumulators' 4 MiB is kept as bytes. DRAM 34 GB/s (two DDR3-2133 channels,
    Jouppi et al.) = 48.6 bytes/cycle at 700 MHz.
    """
    return build_accelerator(
        pe_array=(256, 256), rf_words=(1, 0, 0), glb_words=(256 * KIB, 24 * MIB, 4 * MIB),
        dram_bandwidth_words_per_cycle=34e9 / 0.7e9, word_bits=8, technology_nm=technology_nm, clock_ghz=0.7,
        name="tpu_v1_like", dataflow=WEIGHT_STATIONARY_CK,
        meta={"published_area_mm2": None, "source": "Jouppi et al., ISCA 2017"})


PRESETS: dict[str, Callable[..., Accelerator]] = {
    "eyeriss": eyeriss,
    "nvdla_256": nvdla_256,
    "nvdla_1024": nvdla_1024,
    "shidiannao": shidiannao,
    "edge_tpu_like": edge_tpu_like,
    "tpu_v1_like": tpu_v1_like,
}


def get_preset(name: str, technology_nm: float | None = None) -> Accelerator:
    """The preset called `name` (at its own node unless `technology_nm` is given)."""
    try:
        factory = PRESETS[name]
    except KeyError:
        raise ValueError(f"get_preset: unknown preset {name!r}; accepted: {', '.join(PRESETS)}") from None
    return factory() if technology_nm is None else factory(technology_nm=technology_nm)
