"""Baseline accelerators (the designs NAAS compared against), sized from their publications (docs/sources.md).

Each factory returns an `Accelerator` from `build_accelerator` with the dataflow the design is
known for; `technology_nm=` rebuilds it at another node (e.g. the co-search's). Figures marked
"assumed" are not published (docs/sources.md lists which) and are stated where they are used.
`python -m accel_models.presets` prints the table of all presets (`summary.table`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .. import tech
from ..accelerator import Accelerator, StorageLevel
from ..builder import build_accelerator
from ..dataflow import Dataflow
from ..units import KIB, MIB

ROW_STATIONARY = Dataflow("row_stationary", spatial_x=("Q",), spatial_y=("S", "C", "K"), stationary="row",
                          whole_dims=("S",))
"""Eyeriss RS (Chen et al. ISCA 2016): a PE runs a 1-D row convolution (R, P temporal, filter row
stationary); filter rows S and channels C, K go down the columns (Y), output rows Q across (X),
as in Timeloop's eyeriss_like spatial constraint (X: Q; Y: S, C, M). A PE set holds a filter's rows whole, one a PE
row (`whole_dims`; Timeloop's eyeriss_like constraint fixes S spatially at its full size, `S=0`): the chip's active
PEs on AlexNet's conv layers, 154, 135 and 156 of 168 (Chen et al., JSSC 2017, Table V), are 11 filter rows x 14
output rows, 2 x 5 x 13.5 and 4 x 3 x 13."""
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
    Its energy is its accesses' and MACs', as every design's the co-search builds; `eyeriss_chip` adds what the
    silicon spends besides.
    """
    return build_accelerator(
        pe_array=(14, 12), rf_words=(224, 12, 24), glb_words=108 * KIB // 2, glb_keeps=("Inputs", "Outputs"),
        dram_bandwidth_words_per_cycle=4.0, word_bits=16, technology_nm=technology_nm, clock_ghz=0.2,
        glb_bandwidth=16.0, name="eyeriss", dataflow=ROW_STATIONARY,
        meta={"published_area_mm2": 12.25 if technology_nm == 65 else None,
              "source": "Chen et al., JSSC 2017: 65 nm, 12.25 mm2 core"})


EYERISS_CLOCK_TREE_W = 0.1063
"""Power of Eyeriss's clock network at 200 MHz, 65 nm, 1 V: 106.3 mW, an estimate from a physical model, not a
measurement. CNNergy (Manasi, Snigdha and Sapatnekar, "NeuPart", IEEE TVLSI 2020; manasiumn37/CNNergy,
src/Clock_Tree_Power.m, used as `Clock_Power = 0.1063` in src/AlexNet_Main.m) sums an H-tree over the 3.5 mm die
(its buffers and wires, NCSU 45 nm PDK capacitances) and the clock pins it drives: per PE the 576 flip-flops of the
ifmap and psum spads and a 32-bit pipeline register, the filter SRAM's registers, decoders, precharge and sense
amplifiers, and the GLB's 27 banks; scaled to 65 nm at 1 V."""
EYERISS_CONTROL_SHARE = 0.15
"""Share of Eyeriss's on-chip energy spent by control other than the clock network (the PEs' and the top level's
control logic, the network-on-chip's routing and configuration): CNNergy's estimate (`C_prcnt = 15%` in
src/AlexNet_Main.m; NeuPart, IEEE TVLSI 2020). Its authors checked their model against Eyeriss's measurements, so the
share is not independent of them."""


def eyeriss_chip(technology_nm: float = 65) -> Accelerator:
    """`eyeriss` with the energy its silicon spends beyond accesses and MACs, both CNNergy's estimates: its clock
    network (`EYERISS_CLOCK_TREE_W` at the 200 MHz clock) and its other control logic (`EYERISS_CONTROL_SHARE`),
    scaled with the node as the access energies are (`tech.energy_scale`; `with_clock_and_control`). Not a preset
    of the co-search: the designs it searches have no such terms, and a baseline charged with them would not compare
    like with like. `benchmarks/bench_real_devices.py` sets its on-chip energy beside the chip's measured power."""
    acc = eyeriss(technology_nm)
    clock_w = EYERISS_CLOCK_TREE_W * tech.energy_scale(technology_nm) / tech.energy_scale(65)
    return with_clock_and_control(replace(acc, name="eyeriss_chip"), clock_w, EYERISS_CONTROL_SHARE)


def with_clock_and_control(acc: Accelerator, clock_w: float, control_share: float) -> Accelerator:
    """`acc` with a clock network of `clock_w` watts at its clock (`Accelerator.clock_energy_pj`, per cycle) and
    control logic spending `control_share` (in [0, 1)) of the whole on-chip energy: every on-chip level's per-access
    and leakage energies, the MAC's and the clock's over (1 - control_share); DRAM's (the outermost level's) as they
    were."""
    if not (isinstance(clock_w, (int, float)) and clock_w >= 0):
        raise ValueError(f"with_clock_and_control: clock_w must be a number >= 0 W, got {clock_w!r}")
    if not (isinstance(control_share, (int, float)) and 0 <= control_share < 1):
        raise ValueError(f"with_clock_and_control: control_share must be in [0, 1), got {control_share!r}")
    raise_by = 1.0 / (1.0 - control_share)
    names = ("read_energy_pj", "write_energy_pj", "update_energy_pj", "leak_energy_pj")
    levels = acc.levels[:1] + tuple(replace(lv, **{n: getattr(lv, n) * raise_by for n in names})
                                    for lv in acc.levels[1:])
    return replace(acc, levels=levels, mac_energy_pj=acc.mac_energy_pj * raise_by,
                   clock_energy_pj=clock_w / (acc.clock_ghz * 1e9) * 1e12 * raise_by)


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

EDGE_TPU_CLOCK_GHZ = 0.5
"""The Edge TPU's compute clock at its 'Max' performance setting, the default for PCIe-attached chips: libedgetpu
(google-coral/libedgetpu, driver/beagle/beagle_top_level_handler.cc: GCB clock 500 MHz at Max, 250 / 125 / 63 MHz
at High / Medium / Low; tflite/edgetpu_context_direct.cc: Max unless a USB chip is throttled)."""
EDGE_TPU_TILES = (4, 4)
"""Tiles of the chip, X x Y (libedgetpu, driver/config/beagle/beagle_chip_structures.h: number_x_tiles = 4,
number_y_tiles = 4), the 2-D array of PEs of Yazdanbakhsh et al.'s template."""
EDGE_TPU_CELLS_PER_TILE = 64
"""Cells in a tile (beagle_chip_structures.h: num_cells = 64)."""
EDGE_TPU_TILE_MEMORY_BYTES = 196608
"""Narrow memory of one tile, 192 KiB (beagle_chip_structures.h: narrow_memory_capacity, 'per tile'). Coral's
compiled MobileNet v1 (google-coral/test_data, mobilenet_v1_1.0_224_quant_embedding_extractor_edgetpu.tflite) uses
78,912 B of it per tile: its largest input and output (0.4 + 0.8 MB) split over the 16 tiles."""

EDGE_TPU_TILED = Dataflow("edge_tpu_tiles", spatial_x=("K",), spatial_y=("C",), stationary="Weights",
                          groups_on_channels=False, level_axes=(("GLB", ("Q",), ("P",)),))
"""The 4 x 4 tiles share out the output's columns and rows (Q, P); in a tile the cells take output channels (K) and
each cell's MACs input channels (C). Output positions across PEs and channels within them is the spatial unrolling
ZigZag keeps for its Edge TPU (KULeuven-MICAS/zigzag, inputs/mapping/edge_tpu_like.yaml: K | C | OX | OY, after
Yazdanbakhsh et al. 2021, as in DeFiNES, Mei et al., HPCA 2023), which gives a depthwise layer's groups no axis (its
G is unrolled only for Add and Pooling layers): a depthwise layer runs on the 16 tiles' output positions."""


def edge_tpu_like(technology_nm: float = 28) -> Accelerator:
    """Edge TPU-like: 4 x 4 tiles of 64 cells of 4 INT8 MACs at 500 MHz (4.1 TOPS), 8 MB on chip, PCIe Gen2 x1.

    Google's public descriptions (docs/sources.md): 4 TOPS INT8, 8 MB of on-chip SRAM that caches the model's
    parameters, and no memory of its own beyond it: the chip reaches its host's memory over one PCIe Gen2 lane
    (Coral Accelerator Module datasheet: PCIe Gen2 x1 or USB 2.0; that the Dev Board uses the PCIe one is assumed),
    500 MB/s each way, so the DRAM level reads and writes at 500e6 / 500e6 = 1 byte a cycle each, in parallel.
    Google's runtime (libedgetpu) gives the clock, the 4 x 4 tiles, 64 cells a tile and a tile's 192 KiB memory;
    4 MACs a cell is assumed, the peak over the clock (4e12 / 2 / 500e6 = 4000, 16 x 64 x 4 = 4096). The tile
    memories keep activations (Inputs, Outputs), a one-word register per MAC the weight it holds (weight
    stationary); the 8 MB is the level above the tiles, whose tensors stay between layers and across inferences
    as the network evaluation decides (`evaluate_network(..., fusion=...)`). Node 28 nm (as TPU v1): assumed.
    """
    clock_ghz = EDGE_TPU_CLOCK_GHZ
    link_bytes_per_cycle = PCIE_GEN2_X1_BYTES_PER_S / (clock_ghz * 1e9)
    cells = EDGE_TPU_CELLS_PER_TILE
    acc = build_accelerator(
        pe_array=EDGE_TPU_TILES, rf_words=(1, 0, 0), glb_words=8 * MIB, dram_bandwidth_words_per_cycle=None,
        word_bits=8, technology_nm=technology_nm, clock_ghz=clock_ghz, name="edge_tpu_like",
        dataflow=EDGE_TPU_TILED,
        meta={"published_area_mm2": None, "source": "Google's public descriptions: 4 TOPS INT8, 8 MB on-chip memory, "
              "PCIe Gen2 x1 host interface (Coral Accelerator Module datasheet); libedgetpu: 500 MHz, 4 x 4 tiles "
              "of 64 cells, 192 KiB a tile"})
    tile_words = EDGE_TPU_TILE_MEMORY_BYTES  # 8-bit words
    e_tile = tech.storage_access_energy_pj("SRAM", tile_words, 8, acc.levels[1].block_size_words, technology_nm)
    tile = StorageLevel(name="TILE", keeps=("Inputs", "Outputs"), capacity_words=tile_words, word_bits=8,
                        block_size_words=acc.levels[1].block_size_words, read_energy_pj=e_tile,
                        write_energy_pj=e_tile * tech.SRAM_WRITE_TO_READ,
                        update_energy_pj=e_tile * tech.SRAM_WRITE_TO_READ, fanout_x=cells, fanout_y=4, kind="SRAM")
    levels = acc.levels[:2] + (tile,) + acc.levels[2:]
    acc = replace(acc, levels=levels, meta={**acc.meta, "pe_array": (EDGE_TPU_TILES[0] * cells,
                                                                     EDGE_TPU_TILES[1] * 4)})
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
