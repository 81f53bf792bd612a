"""Timing models (`accel_models.timing`): SCALE-Sim's fold rule, DOSA's Gemmini rows, the hardware timing model."""
from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from accel_models import evaluate_batch, get_preset
from accel_models.timeloop.gemmini import (GemminiConfig, compact_mapping_entries, gemmini_timeloop_files,
                                           load_dosa_row)
from accel_models.timeloop.dosa_harness import dosa_run, smallest_array
from accel_models.timing.cache import read_beats, step_tallies
from accel_models.timing.hardware import DOSA_CONV_BASE_OFFSET_BYTES
from accel_models.timing import (DMA_REQUESTS_IN_FLIGHT, FASED_LLC, GEMMINI_L2, MESH_MATMULS_IN_FLIGHT,
                                 MIN_COMMAND_ROWS, TIMINGS, command_slots, dram_bytes_per_cycle, move_in_commands,
                                 CacheGeometry, HardwareTiming, array_pass_cycles, cache_misses, class_misses,
                                 dram_rows_and_bytes, gemmini_soc, get_timing, holds_one_weight_per_pe,
                                 is_matrix_product, layer_bytes, memory_misses, outer_steps, output_blocks,
                                 scalesim_cycles, step_classes)
from mappings import random_valid_mappings
from nets import Layer

DATA = Path(__file__).parent / "data" / "dosa_firesim" / "sample.csv"

# SCALE-Sim 3.0.0's "Total Cycles" with CALC (stall-free) bandwidth on its two-layer file (ResNet-50 res2a 3x3
# 64 -> 64 on a 58 x 58 input; MobileNet 1x1 128 -> 128 on 56 x 56), as ../shared/reference/scalesim/summary.json
# holds them: (array side, dataflow) -> (3x3 layer, 1x1 layer).
SCALESIM_CALC_CYCLES = {
    (32, "os"): (125047, 74479), (32, "ws"): (116279, 51679), (32, "is"): (278711, 87023),
    (128, "os"): (20749, 9549), (128, "ws"): (17589, 3517), (128, "is"): (55749, 12749),
}
SCALESIM_LAYERS = (Layer.conv(64, 64, 3, 56), Layer.conv(128, 128, 1, 56))


@pytest.mark.parametrize("side, dataflow", sorted(SCALESIM_CALC_CYCLES))
def test_scalesim_fold_rule_equals_scalesim(side, dataflow):
    got = tuple(scalesim_cycles(layer, side, side, dataflow) for layer in SCALESIM_LAYERS)
    assert got == SCALESIM_CALC_CYCLES[(side, dataflow)]


def test_scalesim_rule_refuses_what_it_does_not_take():
    with pytest.raises(ValueError, match="dataflow"):
        scalesim_cycles(SCALESIM_LAYERS[0], 32, 32, "rs")
    with pytest.raises(ValueError, match="rows"):
        scalesim_cycles(SCALESIM_LAYERS[0], 0, 32, "ws")


def _rows() -> list[dict]:
    with open(DATA, newline="") as f:
        return list(csv.DictReader(f))


def test_the_compact_form_reads_as_timeloops_mapping_entries():
    entries = compact_mapping_entries("L3[WIO] P2 C2 Q56 K32 - L2[WI] N1 K4X - L1[O] K2 C2 P4 C64X - L0[W] P7")
    dram = entries[0]
    assert dram["target"] == "DRAM" and dram["factors"] == "R=1 S=1 P=2 Q=56 C=2 K=32 N=1"
    assert dram["permutation"].startswith("KQCP")          # innermost first: K was written last
    spatial = [e for e in entries if e["type"] == "spatial"]
    assert [(e["target"], e["factors"]) for e in spatial] == [
        ("Scratchpad", "R=1 S=1 P=1 Q=1 C=1 K=4 N=1"), ("Accumulator", "R=1 S=1 P=1 Q=1 C=64 K=1 N=1")]
    keeps = {e["target"]: e["keep"] for e in entries if e["type"] == "datatype"}
    assert keeps == {"DRAM": ["Weights", "Inputs", "Outputs"], "Scratchpad": ["Weights", "Inputs"],
                     "Accumulator": ["Outputs"], "Registers": ["Weights"]}


@pytest.mark.parametrize("text, field", [("L3[WIO] K8 - L2[WI] N1", "2 levels"),
                                         ("L3[WIO] K8 - L2[WI] Z4 - L1[O] N1 - L0[W] N1", "'Z4'"),
                                         ("L2[WIO] K8 - L3[WI] N1 - L1[O] N1 - L0[W] N1", "L3")])
def test_a_bad_compact_mapping_is_named(text, field):
    with pytest.raises(ValueError, match=field):
        compact_mapping_entries(text)


def test_a_dosa_row_is_timeloops_case():
    """DOSA's case0009 of ../shared/reference/dosa_gemmini (pe_dim 128, its own scratchpad and accumulator sizes),
    rebuilt from the row's fields alone, gives timeloop-model's cycles and energy on that case's files."""
    row = {"arch.meshX": "128", "arch.mem2_entries": "131072", "arch.mem1_entries": "256",
           "mapping.mapping": "L3[WIO] P2 C2 Q56 K32 - L2[WI] N1 K4X - L1[O] K2 C2 P4 C64X - L0[W] P7",
           **{f"prob.{k}": v for k, v in dict(C=256, K=256, N=1, P=56, Q=56, R=1, S=1, Wstride=1, Hstride=1,
                                               Wdilation=1, Hdilation=1).items()}}
    dosa = load_dosa_row(row)
    result = evaluate_batch(dosa.layer, dosa.accelerator, dosa.mapping)
    assert result.valid[0] and dosa.measured_cycles is None
    assert int(result.cycles[0]) == 1318912                           # timeloop-model: "Cycles: 1318912"
    # its energy with the case's table (the same values as `gemmini_timeloop_files`'), within 1e-5 (Timeloop sums
    # per-component energies it has rounded; the Timeloop checks allow 1%)
    assert result.energy_pj[0] == pytest.approx(186526654.79, rel=1e-5)


def test_gemmini_config_refuses_bad_knobs():
    with pytest.raises(ValueError, match="pe_dim"):
        GemminiConfig(pe_dim=0)
    with pytest.raises(ValueError, match="multiple of pe_dim"):
        GemminiConfig(pe_dim=16, scratchpad_entries=1000)
    arch, ert = gemmini_timeloop_files(GemminiConfig(pe_dim=4))
    assert json.dumps(arch).count("PERows[0..3]") == 1 and len(ert["ERT"]["tables"]) == 5


def test_a_dosa_row_with_a_bad_field_is_named():
    row = _rows()[0]
    with pytest.raises(ValueError, match="prob.C"):
        load_dosa_row({**row, "prob.C": "three"})


@pytest.mark.slow
def test_hardware_timing_is_closer_to_the_rtl_than_timeloops_semantics():
    """On the shipped FireSim rows, each timed as DOSA's flow ran it (`dosa_run`, the smallest array holding the
    mapping) on Gemmini's SoC (`gemmini_soc`): the hardware model's median |log(model / RTL)| is under half of
    Timeloop's semantics' on the rows as written, its median ratio within x1.2 of 1, and more of its rows within
    x1.2 (Timeloop's cycles are a lower bound: its median ratio is below 0.8)."""
    hardware, timeloop, measured = [], [], []
    for row in _rows():
        stated, run = load_dosa_row(row), dosa_run(row, "smallest")
        hardware.append(gemmini_soc().terms(run.layer, run.accelerator, run.mapping)["cycles"][0])
        timeloop.append(evaluate_batch(stated.layer, stated.accelerator, stated.mapping).cycles[0])
        measured.append(stated.measured_cycles)
    hardware, timeloop, measured = (np.array(a, dtype=float) for a in (hardware, timeloop, measured))
    assert len(measured) == 40
    spread_hw, spread_tl = (np.abs(np.log(a / measured)) for a in (hardware, timeloop))
    assert np.median(spread_hw) < 0.5 * np.median(spread_tl)
    assert 1 / 1.2 <= np.median(hardware / measured) <= 1.2
    assert (spread_hw <= np.log(1.2)).sum() > (spread_tl <= np.log(1.2)).sum()
    assert np.median(timeloop / measured) < 0.8


@pytest.fixture(scope="module")
def batch():
    acc = get_preset("nvdla_256")
    layer = Layer.conv(64, 128, 3, 28)
    return layer, acc, random_valid_mappings(layer, acc, 64, rng=0)


def test_timeloop_timing_is_the_cost_models_own(batch):
    layer, acc, maps = batch
    default, named = evaluate_batch(layer, acc, maps), evaluate_batch(layer, acc, maps, timing="timeloop")
    assert np.array_equal(default.cycles, named.cycles) and np.array_equal(default.utilization, named.utilization)


def test_hardware_cycles_are_the_sum_of_their_terms(batch):
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    timed = evaluate_batch(layer, acc, maps, timing="hardware")
    model = HardwareTiming()
    terms = model.terms(layer, acc, maps.with_residuals())
    expected = np.ceil(terms["startup"] + np.maximum(terms["steps"], terms["loops"] + np.maximum(terms["compute"],
                                                                                                  terms["transfer"])))
    assert np.array_equal(timed.cycles, expected.astype(np.int64))
    assert np.array_equal(terms["steps"], outer_steps(maps) * model.step_overhead_cycles)
    assert np.array_equal(terms["loops"], outer_steps(maps) * model.loop_overhead_cycles)
    # the energy and counts do not depend on the timing; the utilization is over the timed cycles
    assert np.array_equal(timed.energy_pj, counts.energy_pj) and np.array_equal(timed.reads, counts.reads)
    assert np.allclose(timed.utilization * timed.cycles, counts.utilization * counts.cycles)


def test_each_overhead_adds_its_own_cycles(batch):
    """The start-up adds once, the loop overhead once a step; a slower DRAM, a dearer DRAM request or a dearer
    read-back never speeds a mapping up; a host slower than every accelerator step sets the layer's cycles alone."""
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    lean = HardwareTiming(0, 0, 1.0, loop_overhead_cycles=0).cycles(layer, acc, maps, counts)
    assert np.array_equal(HardwareTiming(500, 0, 1.0, loop_overhead_cycles=0).cycles(layer, acc, maps, counts),
                          lean + 500)
    for slower in (HardwareTiming(0, 0, 0.25, loop_overhead_cycles=0),
                   HardwareTiming(0, 0, 1.0, loop_overhead_cycles=0, dram_request_cycles=20),
                   HardwareTiming(0, 0, 1.0, loop_overhead_cycles=0, store_block_cycles=500)):
        cycles = slower.cycles(layer, acc, maps, counts)
        assert (cycles >= lean).all() and (cycles > lean).any()
    steps = outer_steps(maps)
    assert np.array_equal(HardwareTiming(0, 0, 1.0, loop_overhead_cycles=10).cycles(layer, acc, maps, counts),
                          lean + 10 * steps)
    host_bound = HardwareTiming(0, 1e7, 1.0, loop_overhead_cycles=0).cycles(layer, acc, maps, counts)
    assert np.array_equal(host_bound, (1e7 * steps).astype(np.int64))


def test_a_matrix_product_is_issued_at_its_own_step_cost():
    """A layer with one output column and a 1 x 1 kernel runs as a matrix product (three host loops): its steps cost
    `matrix_step_overhead_cycles`, a convolution's `step_overhead_cycles`."""
    acc = _two_level()
    fc, conv = Layer.fc(64, 32), Layer.conv(8, 4, 3, 4)
    assert is_matrix_product(fc) and not is_matrix_product(conv)
    model = HardwareTiming(0, 1e6, 1.0, matrix_step_overhead_cycles=2e6, loop_overhead_cycles=0)
    for layer, per_step in ((fc, 2e6), (conv, 1e6)):
        arrays = _split(layer, {"K": 2})
        assert model.terms(layer, acc, arrays)["cycles"][0] == 2 * per_step


def _two_level(word_bits: int = 8, block_words: int = 64):
    from accel_models import Accelerator, StorageLevel
    return Accelerator("two", (StorageLevel("DRAM", block_size_words=block_words, word_bits=word_bits,
                                            shared_bandwidth=8),
                               StorageLevel("GLB", capacity_words=1 << 16, word_bits=word_bits)), mac_energy_pj=1.0)


def _split(layer: Layer, outer: dict):
    """A two-level mapping of `layer`: the DRAM loops `outer` (dim -> factor), the rest in the buffer."""
    from accel_models.mapping_arrays import MappingArrays
    arrays = MappingArrays.empty(1, 2)
    bounds = dict(zip("RSPQCKNG", layer.bounds))
    arrays.temporal[0, 0] = [outer.get(d, 1) for d in "RSPQCKNG"]
    arrays.temporal[0, 1] = [bounds[d] // outer.get(d, 1) for d in "RSPQCKNG"]
    arrays.keep[0] = 1
    return arrays.with_residuals()


def test_a_tile_moves_as_dma_rows_and_its_outputs_once_their_reduction_ends():
    """A 1x1 conv (C 8, K 4, 4 x 4 outputs), channels last: an input row is a pixel's 8 channels, a weight row an
    input channel's K run, an output row a pixel's K run. Split over K at DRAM (2 steps): each step brings 16 input
    rows and 8 weight rows and sends 16 output rows. Split over C instead: the outputs go out once, after the second
    step of their reduction."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    rows, moved = dram_rows_and_bytes(layer, acc, _split(layer, {"K": 2}))
    assert (rows[0], moved[0]) == (2 * (16 + 8 + 16), 2 * (128 + 16 + 32))
    rows, moved = dram_rows_and_bytes(layer, acc, _split(layer, {"C": 2}))
    assert (rows[0], moved[0]) == (2 * (16 + 4) + 16, 2 * (64 + 16) + 64)
    rows, moved = dram_rows_and_bytes(layer, acc, _split(layer, {"K": 2}), on_chip=(1,))   # inputs stay on chip
    assert (rows[0], moved[0]) == (2 * (8 + 16), 2 * (16 + 32))
    # a run longer than a request (64 bytes, or a larger DRAM block) is one row a request: 128 channels of 16
    # pixels are 32 input rows with 8-bit words (whatever the block under 64 words), 64 with 16-bit words, and
    # 16 with a 128-word block
    wide = Layer.conv(128, 4, 1, 4)
    for word_bits, block, input_rows in ((8, 64, 32), (8, 8, 32), (16, 8, 64), (8, 128, 16)):
        rows, _ = dram_rows_and_bytes(wide, _two_level(word_bits, block), _split(wide, {}))
        assert rows[0] == input_rows + 128 + 16
    # the transfer term: the longer of the requests at their issue cost and the bytes at the sustained bandwidth
    # (8 words of 8 bits a cycle at efficiency 0.5: 352 bytes in 88 cycles)
    arrays = _split(layer, {"K": 2})
    lean = dict(dram_request_cycles=0, store_block_cycles=0)
    assert HardwareTiming(0, 0, 0.5, dma_row_cycles=2, **lean).terms(layer, acc, arrays)["transfer"][0] == 2 * 80
    assert HardwareTiming(0, 0, 0.5, dma_row_cycles=0.5, **lean).terms(layer, acc, arrays)["transfer"][0] == 352 / 4
    # from the DRAM each request adds its command to the bytes' time: 88 + 80 x 1 cycles
    assert HardwareTiming(0, 0, 0.5, dma_row_cycles=0.5, dram_request_cycles=1, store_block_cycles=0).terms(
        layer, acc, arrays)["transfer"][0] == 352 / 4 + 80
    # the outputs' read-back: a step's 16 output pixels by 2 channels, a block each on an array 1 wide, 2 steps
    assert output_blocks(layer, acc, arrays)[0] == 2 * 16 * 2
    assert HardwareTiming(0, 0, 0.5, dma_row_cycles=0.5, dram_request_cycles=1, store_block_cycles=3).terms(
        layer, acc, arrays)["transfer"][0] == 352 / 4 + 80 + 3 * 64


def test_a_matrix_products_move_out_takes_a_dma_requests_worth_of_blocks():
    """A matrix product (Q = R = S = 1: Gemmini's `LoopMatmul`) of 32 rows by 128 columns in one step on a 16 x 16
    array: its outputs are 2 x 8 blocks of 16 x 16, and a move-out takes 4 of a row's blocks (64 bytes of 8-bit
    outputs, a DMA request), so 2 x 2 move-outs, each charged the read-back once. On a 64-wide array a block is a
    request's worth: 1 x 2. The same tile of a 1x1 conv with 2 output columns moves out block by block (`LoopConvSt`:
    at most DIM channels a move-out): 2 columns x 2 x 8 blocks."""
    mapping = "L2[WI] K8 K16X - L1[O] P32 C16X - L0[W] N1"
    matrix = load_dosa_row({**_gemmini_row("L3[WIO] N1 - " + mapping, P=32, Q=1, C=16, K=128), "arch.meshX": "16"})
    arrays = matrix.mapping.with_residuals()
    assert is_matrix_product(matrix.layer) and output_blocks(matrix.layer, matrix.accelerator, arrays)[0] == 2 * 2
    wide = load_dosa_row({**_gemmini_row("L3[WIO] N1 - " + mapping, P=32, Q=1, C=16, K=128), "arch.meshX": "64"})
    assert output_blocks(wide.layer, wide.accelerator, wide.mapping.with_residuals())[0] == 1 * 2
    conv = load_dosa_row({**_gemmini_row("L3[WIO] Q2 - " + mapping, P=32, Q=2, C=16, K=128), "arch.meshX": "16"})
    assert not is_matrix_product(conv.layer)
    assert output_blocks(conv.layer, conv.accelerator, conv.mapping.with_residuals())[0] == 2 * 2 * 8
    # the transfer charges the read-back per move-out, 4 x 10 cycles, beside the bytes at the DRAM's peak (a matrix
    # product's move-outs run beside its moves in: the longer of the two)
    lean = HardwareTiming(0, 0, 1.0, dma_row_cycles=0, dram_request_cycles=0, store_block_cycles=10)
    moved = dram_rows_and_bytes(matrix.layer, matrix.accelerator, arrays)[1][0]
    assert lean.terms(matrix.layer, matrix.accelerator, arrays)["transfer"][0] == pytest.approx(
        max(moved / dram_bytes_per_cycle(matrix.accelerator), 4 * 10))


def test_a_matrix_products_move_outs_run_beside_its_moves_in():
    """The 32 x 16 by 16 x 128 product above in one step on a 16 x 16 array: 2,048 bytes of weights, 512 of inputs
    and 4,096 of outputs, 6,656 bytes at the DRAM's 8 bytes a cycle, 832 cycles; 4 move-outs of 300 cycles each.
    `LoopMatmul` issues each move-out once the array has passed its blocks, and its stores go through their own
    controller, so the transfer is the longer of the two, 1,200 cycles, not their sum, 2,032. The same tile as a 1x1
    conv of 2 output columns in 2 steps (`LoopConv`: its move-outs wait for the loop's last array command) moves each
    step's tiles, 2 x 6,656 bytes, 1,664 cycles, and its 32 move-outs follow them: 1,664 + 9,600."""
    mapping = "L2[WI] K8 K16X - L1[O] P32 C16X - L0[W] N1"
    matrix = load_dosa_row({**_gemmini_row("L3[WIO] N1 - " + mapping, P=32, Q=1, C=16, K=128), "arch.meshX": "16"})
    conv = load_dosa_row({**_gemmini_row("L3[WIO] Q2 - " + mapping, P=32, Q=2, C=16, K=128), "arch.meshX": "16"})
    lean = HardwareTiming(0, 0, 1.0, dma_row_cycles=0, dram_request_cycles=0, store_block_cycles=300,
                          loop_overhead_cycles=0)
    assert dram_bytes_per_cycle(matrix.accelerator) == 8
    terms = lean.terms(matrix.layer, matrix.accelerator, matrix.mapping.with_residuals())
    assert terms["transfer"][0] == 1200 and terms["cycles"][0] == 1200
    assert lean.terms(conv.layer, conv.accelerator, conv.mapping.with_residuals())["transfer"][0] == 1664 + 32 * 300
    # the formula itself, on its parts: 832 cycles of bytes and 4 move-outs, as a matrix product or not
    assert lean.transfer(0.0, 832.0, store_blocks=4.0, matrix=True) == 1200
    assert lean.transfer(0.0, 832.0, store_blocks=4.0) == 832 + 1200
    assert lean.transfer(0.0, 2000.0, store_blocks=4.0, matrix=True) == 2000


def test_a_cache_that_holds_the_layer_feeds_it_at_the_bus_rate():
    """With a cache in front of the DRAM, a layer whose tensors fit it (this one: 32 + 128 + 64 bytes of weights,
    inputs, outputs) moves its tiles at the bus's rate, without the DRAM's request cost; a smaller cache leaves it to
    the DRAM. Gemmini's SoC: half of its 512 KiB L2 on a 16-byte bus."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    arrays = _split(layer, {"K": 2})
    assert layer_bytes(layer, acc) == 32 + 128 + 64 and layer_bytes(layer, acc, on_chip=(1,)) == 32 + 64
    fits = HardwareTiming(0, 0, 0.5, dma_row_cycles=0.1, dram_request_cycles=1, store_block_cycles=0, cache_bytes=224,
                          bus_bytes_per_cycle=32)
    assert fits.terms(layer, acc, arrays)["transfer"][0] == 352 / 16
    small = HardwareTiming(0, 0, 0.5, dma_row_cycles=0.1, dram_request_cycles=1, store_block_cycles=0, cache_bytes=223,
                           bus_bytes_per_cycle=32)
    assert small.terms(layer, acc, arrays)["transfer"][0] == 352 / 4 + 80
    with pytest.raises(ValueError, match="bus_bytes_per_cycle"):
        HardwareTiming(cache_bytes=1024)


def test_a_simulated_cache_counts_the_lines_the_outer_steps_miss():
    """The 1x1 conv above, its tensors one after another from address 0 (inputs 128 bytes: lines 0 and 1 of 64
    bytes; weights 32: line 2; outputs 64: line 3), its second run counted. Split over K, each step touches lines 2
    (weights), 0 and 1 (inputs) and 3 (outputs): a cache of one line misses each of the four, twice; one of four sets
    holds them all and misses none. Split over C, the outputs go out after the second step only: seven misses. With
    the inputs on chip, two lines a step."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    by_k, by_c = _split(layer, {"K": 2}), _split(layer, {"C": 2})
    one_line, four_sets = CacheGeometry(1, 1, 64), CacheGeometry(4, 1, 64)
    assert cache_misses(layer, acc, by_k, one_line)[0] == 8
    assert cache_misses(layer, acc, by_k, four_sets)[0] == 0
    assert cache_misses(layer, acc, by_c, one_line)[0] == 7
    assert cache_misses(layer, acc, by_k, one_line, on_chip=(1,))[0] == 4
    assert cache_misses(layer, acc, by_k, CacheGeometry(2, 1, 64))[0] == 8    # lines 0, 2 and 1, 3 share a set
    assert cache_misses(layer, acc, by_k, CacheGeometry(2, 2, 64))[0] == 0


def test_a_cache_behind_the_cache_counts_the_blocks_its_misses_miss():
    """The K split above misses its four lines a step in a one-line cache (weights' line 2, the inputs' 0 and 1, the
    outputs' 3: blocks 1, 0, 0, 1 of 128 bytes behind it). A one-block cache behind it keeps the last block: each
    step finds block 1 once (its weights, after the last step's outputs) and block 0 once (the inputs' second
    line), and misses the other two: 4 over the second run; two sets hold both blocks: none. Its L2 misses are
    `cache_misses`'."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    by_k, one_line = _split(layer, {"K": 2}), CacheGeometry(1, 1, 64)
    assert [m[0] for m in memory_misses(layer, acc, by_k, one_line, CacheGeometry(1, 1, 128))] == [8, 4]
    assert [m[0] for m in memory_misses(layer, acc, by_k, one_line, CacheGeometry(2, 1, 128))] == [8, 0]
    assert memory_misses(layer, acc, by_k, one_line, CacheGeometry(1, 1, 128), on_chip=(1,))[0][0] == \
        cache_misses(layer, acc, by_k, one_line, on_chip=(1,))[0] == 4
    lean = dict(dma_row_cycles=0.1, dram_request_cycles=1, store_block_cycles=0, bus_bytes_per_cycle=32,
                bus_efficiency=0.5, cache_miss_cycles=10, memory_miss_cycles=100)
    behind = HardwareTiming(0, 0, 1.0, cache=one_line, memory_cache=CacheGeometry(1, 1, 128), **lean)
    assert behind.terms(layer, acc, by_k)["transfer"][0] == 352 / 16 + 8 * 10 + 4 * 100 + 80
    assert HardwareTiming(0, 0, 1.0, cache=one_line, **lean).terms(layer, acc, by_k)["transfer"][0] == \
        352 / 16 + 8 * 10 + 80
    assert gemmini_soc().memory_cache == FASED_LLC and FASED_LLC.capacity_bytes == 4 * 1024 * 1024


def test_each_step_takes_the_longer_of_its_compute_and_its_own_transfer():
    """The 1x1 conv split over C in a one-line cache (seven misses over its second run): its first step misses the
    inputs' lines 0 and 1 and the weights' line 2 (3), its second the same three and the outputs' line 3 (4), where
    its reduction ends. The array takes 256 cycles a step; each step's bytes are the class's mean, 224 / 2 bytes at
    16 a cycle (7 cycles). With 70 cycles a missed line, the class's transfer (14 + 7 x 70 = 504) hides under its
    compute (512), but the second step's alone (7 + 4 x 70 = 287) outlasts its 256: stepwise, 256 + 287 = 543."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    by_c, one_line = _split(layer, {"C": 2}), CacheGeometry(1, 1, 64)
    misses, ((keys, counts),) = step_tallies(layer, acc, by_c, one_line)
    order = np.lexsort(keys.T[::-1])
    assert keys[order].tolist() == [[0, 3, 0, 0, 0], [0, 4, 0, 0, 1]] and counts[order].tolist() == [1, 1]
    assert misses[0, 0, 0] == cache_misses(layer, acc, by_c, one_line)[0] == 7
    lean = dict(cache=one_line, bus_bytes_per_cycle=16, bus_efficiency=1.0, cache_miss_cycles=70, dma_row_cycles=0,
                dram_request_cycles=0, store_block_cycles=0, loop_overhead_cycles=0)
    whole = HardwareTiming(0, 0, 1.0, **lean).terms(layer, acc, by_c)
    stepwise = HardwareTiming(0, 0, 1.0, step_transfers=True, **lean).terms(layer, acc, by_c)
    assert whole["compute"][0] == stepwise["compute"][0] == 512 and whole["transfer"][0] == 14 + 7 * 70
    assert whole["cycles"][0] == 512 and stepwise["cycles"][0] == 256 + 7 + 4 * 70
    # a step's move-outs fall on the steps that end a reduction: 2 blocks over 1 such step at 5 cycles each
    busy = HardwareTiming(0, 0, 1.0, step_transfers=True, **{**lean, "store_block_cycles": 5.0}).step_cycles(
        512, 2, 1, 0, None, 1.0, 2, False, np.array([1, 1]), np.array([3, 4]), None, np.array([7, 7]),
        np.array([0, 1]))
    assert busy.tolist() == [256, 7 + 4 * 70 + 2 * 5]
    assert gemmini_soc().step_transfers and not HardwareTiming().step_transfers
    with pytest.raises(ValueError, match="step_transfers"):
        HardwareTiming(step_transfers=True)


def test_stepwise_transfers_never_take_fewer_cycles_than_the_class_means(batch):
    """Per class, the sum over steps of the longer of compute and transfer is at least the longer of the sums."""
    layer, acc, maps = batch
    soc = gemmini_soc()
    stepwise = soc.terms(layer, acc, maps)["cycles"]
    whole = replace(soc, step_transfers=False).terms(layer, acc, maps)["cycles"]
    assert np.all(stepwise >= whole) and np.any(stepwise > whole)


def test_a_simulated_cache_adds_its_misses_to_the_bus_transfer(batch):
    """With a simulated cache every byte crosses the bus at `bus_efficiency` of its rate, each missed line adds
    `cache_miss_cycles` and each request `dram_request_cycles`: 352 bytes at 32 x 0.5 bytes a cycle, 8 misses and 80
    requests. A cache that holds the layer makes the miss cost irrelevant; without a simulated cache neither new
    constant changes a cycle, and Timeloop's cycles are untouched."""
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 4)
    arrays = _split(layer, {"K": 2})
    lean = dict(dma_row_cycles=0.1, dram_request_cycles=1, store_block_cycles=0, bus_bytes_per_cycle=32,
                bus_efficiency=0.5)
    one_line = HardwareTiming(0, 0, 1.0, cache=CacheGeometry(1, 1, 64), cache_miss_cycles=10, **lean)
    assert one_line.terms(layer, acc, arrays)["transfer"][0] == 352 / 16 + 8 * 10 + 80
    holds = [HardwareTiming(0, 0, 1.0, cache=CacheGeometry(4, 1, 64), cache_miss_cycles=c, **lean) for c in (1, 50)]
    assert holds[0].terms(layer, acc, arrays)["transfer"][0] == holds[1].terms(layer, acc, arrays)["transfer"][0] \
        == 352 / 16 + 80
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    plain = HardwareTiming().cycles(layer, acc, maps, counts)
    assert np.array_equal(HardwareTiming(bus_efficiency=0.1, cache_miss_cycles=1000).cycles(layer, acc, maps, counts),
                          plain)
    assert np.array_equal(evaluate_batch(layer, acc, maps, timing="timeloop").cycles, counts.cycles)
    soc = gemmini_soc()
    assert (soc.cache, soc.cache_bytes, soc.bus_bytes_per_cycle, soc.min_command_rows, soc.mesh_matmuls_in_flight) \
        == (GEMMINI_L2, 0, 16, 4, 5)
    assert GEMMINI_L2.capacity_bytes == 512 * 1024


def test_the_dma_reads_aligned_powers_of_two_and_a_misaligned_tensor_costs_beats():
    """Gemmini's StreamReader reads a run in aligned 16-, 32- or 64-byte reads, each the one covering the most of what
    is left: an aligned 32-byte run is one read of 2 beats; 8 bytes past a line, one 64-byte read of 4 beats; 40
    bytes past, a 32-byte read of its first 24 bytes and a 16-byte read of the last 8 (3 beats); 64 bytes 56 past a
    line, a 16-byte read of 8 bytes and a 64-byte read of 56 (5 beats).

    A 1x1 conv of 32 input channels, 4 output channels, 2 x 2 outputs, one step: 4 input runs of 32 bytes and 32
    weight runs of 4 bytes (weights from byte 128). Aligned: 4 x 2 + 32 x 1 = 40 beats. Its tensors 8 bytes past a
    line: inputs at 8, 40, 72, 104 take 4, 3, 4, 3 beats, each weight run still 1: 46. With a bus that moves a beat a
    cycle, nothing else costing, the transfer is those beats (the bytes' model: (128 + 128 + 16) / 16 = 17); a matrix
    product's tensors start a line whatever the offset."""
    assert read_beats(0, 32, 16, 64) == (1, 2)
    assert read_beats(8, 32, 16, 64) == (1, 4)
    assert read_beats(40, 32, 16, 64) == (2, 3)
    assert read_beats(56, 64, 16, 64) == (2, 5)
    acc, layer = _two_level(), Layer.conv(32, 4, 1, 2)
    arrays = _split(layer, {})
    lean = dict(dma_row_cycles=0.01, dram_request_cycles=0, store_block_cycles=0, bus_bytes_per_cycle=16,
                bus_efficiency=1.0, cache=CacheGeometry(64, 1, 64), cache_miss_cycles=0)
    assert HardwareTiming(0, 0, 1.0, **lean).terms(layer, acc, arrays)["transfer"][0] == 17
    beats = [HardwareTiming(0, 0, 1.0, read_beats=True, conv_base_offset_bytes=offset, **lean)
             .terms(layer, acc, arrays)["transfer"][0] for offset in (0, 8)]
    assert beats == [40, 46]
    assert class_misses(layer, acc, arrays, CacheGeometry(64, 1, 64), None, (), 8, 16, 64)[0, 0, 2] == 46
    matrix = Layer.conv(32, 4, 1, 1)
    assert is_matrix_product(matrix)
    per_offset = [HardwareTiming(0, 0, 1.0, read_beats=True, conv_base_offset_bytes=offset, **lean)
                  .terms(matrix, acc, _split(matrix, {}))["transfer"][0] for offset in (0, 8)]
    assert per_offset[0] == per_offset[1]
    soc = gemmini_soc()
    assert soc.read_beats and soc.conv_base_offset_bytes == DOSA_CONV_BASE_OFFSET_BYTES == 56
    with pytest.raises(ValueError, match="read_beats"):
        HardwareTiming(read_beats=True)
    with pytest.raises(ValueError, match="conv_base_offset_bytes"):
        HardwareTiming(conv_base_offset_bytes=64)


@pytest.mark.parametrize("kwargs, field", [(dict(cache=CacheGeometry(4, 1, 64)), "bus_bytes_per_cycle"),
                                           (dict(cache=CacheGeometry(4, 1, 64), cache_bytes=64,
                                                 bus_bytes_per_cycle=16), "not both"),
                                           (dict(cache=(4, 1, 64), bus_bytes_per_cycle=16), "CacheGeometry"),
                                           (dict(bus_efficiency=0.0), "bus_efficiency"),
                                           (dict(cache_miss_cycles=-1.0), "cache_miss_cycles"),
                                           (dict(mesh_matmuls_in_flight=-1), "mesh_matmuls_in_flight"),
                                           (dict(mesh_matmuls_in_flight=2.5), "mesh_matmuls_in_flight"),
                                           (dict(mesh_latency_cycles=float("nan")), "mesh_latency_cycles"),
                                           (dict(memory_cache=CacheGeometry(4, 1, 128)), "needs a simulated cache"),
                                           (dict(cache=CacheGeometry(4, 1, 64), bus_bytes_per_cycle=16,
                                                 memory_cache=(4, 1, 128)), "memory_cache"),
                                           (dict(memory_miss_cycles=-1.0), "memory_miss_cycles"),
                                           (dict(dma_requests_in_flight=-1), "dma_requests_in_flight"),
                                           (dict(dma_requests_in_flight=1.5), "dma_requests_in_flight"),
                                           (dict(command_latency_cycles=-1.0), "command_latency_cycles"),
                                           (dict(store_command_cycles=float("inf")), "store_command_cycles")])
def test_a_bad_simulated_cache_is_named(kwargs, field):
    with pytest.raises(ValueError, match=field):
        HardwareTiming(**kwargs)


@pytest.mark.parametrize("sets, ways, line_bytes", [(0, 8, 64), (1024, 0, 64), (1024, 8, 0), (1024, 8, 64.0)])
def test_a_bad_cache_geometry_is_named(sets, ways, line_bytes):
    with pytest.raises(ValueError, match="CacheGeometry"):
        CacheGeometry(sets, ways, line_bytes)


def _gemmini_row(mapping: str, **prob) -> dict:
    dims = dict(C=4, K=4, N=1, P=8, Q=8, R=1, S=1, Wstride=1, Hstride=1, Wdilation=1, Hdilation=1) | prob
    return {"arch.meshX": "4", "arch.mem2_entries": "4096", "arch.mem1_entries": "256", "mapping.mapping": mapping,
            **{f"prob.{k}": str(v) for k, v in dims.items()}}


def test_the_array_runs_a_tile_in_passes_of_its_side():
    """On a 4 x 4 Gemmini, a 1x1 conv with 4 input channels mapped 2 in time by 2 across the array runs them as one
    pass of 4: half of Timeloop's compute cycles (2 x 8 x 8). Mapped 4 across, the passes are Timeloop's cycles
    (its 8-pixel output rows run as two commands of 4 rows, each weight block preloaded within the first)."""
    split = load_dosa_row(_gemmini_row("L3[WIO] N1 - L2[WI] N1 K4X - L1[O] C2 Q8 P8 C2X - L0[W] N1"))
    counts = evaluate_batch(split.layer, split.accelerator, split.mapping)
    assert counts.compute_cycles[0] == 128
    assert array_pass_cycles(split.layer, split.accelerator, split.mapping.with_residuals())[0] == 64
    full = load_dosa_row(_gemmini_row("L3[WIO] N1 - L2[WI] N1 K4X - L1[O] Q8 P8 C4X - L0[W] N1"))
    counts = evaluate_batch(full.layer, full.accelerator, full.mapping)
    assert array_pass_cycles(full.layer, full.accelerator, full.mapping.with_residuals())[0] == \
        counts.compute_cycles[0] == 64


def test_a_weight_stationary_array_preloads_each_block_and_floors_each_command():
    """On a 4 x 4 Gemmini (one weight register a processing element), a 1x1 conv of 4 x 4 channels with output rows
    of 2 pixels: each row is one command of at least 4 cycles (Gemmini's floor), and the block's 4 weight rows are
    shifted in beyond the first command's 2: 4 + 2 cycles, where Timeloop counts 2 (without the floor, 2 + 2). Rows
    of 8 pixels: two commands of 4, the preload hidden, Timeloop's 8."""
    short = load_dosa_row(_gemmini_row("L3[WIO] N1 - L2[WI] N1 K4X - L1[O] P2 C4X - L0[W] N1", P=2, Q=1))
    assert holds_one_weight_per_pe(short.accelerator) and MIN_COMMAND_ROWS == 4
    assert evaluate_batch(short.layer, short.accelerator, short.mapping).compute_cycles[0] == 2
    arrays = short.mapping.with_residuals()
    assert array_pass_cycles(short.layer, short.accelerator, arrays, MIN_COMMAND_ROWS)[0] == 4 + 2
    assert array_pass_cycles(short.layer, short.accelerator, arrays)[0] == 2 + 2          # no floor: Gemmini's only
    assert gemmini_soc().terms(short.layer, short.accelerator, arrays)["compute"][0] == 4 + 2
    long = load_dosa_row(_gemmini_row("L3[WIO] N1 - L2[WI] N1 K4X - L1[O] P8 C4X - L0[W] N1", P=8, Q=1))
    assert array_pass_cycles(long.layer, long.accelerator, long.mapping.with_residuals(), MIN_COMMAND_ROWS)[0] == 8


def _on_eyeriss(layer: Layer, glb: dict, x: dict, y: dict, pe: dict):
    """A mapping of `layer` on the eyeriss preset: the GLB's temporal loops `glb`, its fan-out's X and Y dims `x`,
    `y`, and the rest of each dim (`pe`) in the PE's register files (dim -> factor each)."""
    from accel_models.mapping_arrays import MappingArrays
    arrays = MappingArrays.empty(1, 5)
    arrays.temporal[0, 1] = [glb.get(d, 1) for d in "RSPQCKNG"]
    arrays.spatial_x[0, 1] = [x.get(d, 1) for d in "RSPQCKNG"]
    arrays.spatial_y[0, 1] = [y.get(d, 1) for d in "RSPQCKNG"]
    arrays.temporal[0, 4] = [pe.get(d, 1) for d in "RSPQCKNG"]
    arrays.keep[0] = 1
    return arrays.with_residuals()


def test_an_axis_runs_its_own_dims_and_a_whole_filter_sets_its_rows():
    """Eyeriss's 14 x 12 PEs: X and Y are wired apart, so 24 input channels on the 12 rows (two in time) beside 7
    output rows on the 14 columns run as 2 passes, not one pass of 24 x 7 over the 168 PEs; a 5-row filter held
    whole (row stationary) takes two sets of 5 of the 12 rows, so 12 input channels on the sets (2 across, 6 in
    time) run as 6 passes (5 x 14 outputs each), not 60 / 12 = 5."""
    acc = get_preset("eyeriss")
    pointwise = Layer.conv(24, 1, 1, 7)
    arrays = _on_eyeriss(pointwise, {"C": 2}, {"Q": 7}, {"C": 12}, {"P": 7})
    assert array_pass_cycles(pointwise, acc, arrays)[0] == 2 * 7
    assert evaluate_batch(pointwise, acc, arrays).compute_cycles[0] == 2 * 7
    filt = Layer.conv(12, 1, 5, 14)
    arrays = _on_eyeriss(filt, {"C": 6, "P": 14}, {"Q": 14}, {"S": 5, "C": 2}, {"R": 5})
    assert array_pass_cycles(filt, acc, arrays)[0] == 6 * 5 * 14
    assert evaluate_batch(filt, acc, arrays).compute_cycles[0] == 6 * 5 * 14


def test_a_wide_mesh_holds_a_few_commands_at_once():
    """On a 16 x 16 Gemmini, a command of 2 output pixels stays in the mesh 2 + 2 x 16 cycles (its inputs skewed in,
    its outputs de-skewed out) plus the mesh's latency, and the mesh holds 5 at once (`MESH_MATMULS_IN_FLIGHT`): it
    takes (2 + 32 + latency) / 5 cycles, more than the floor of 4, beside its block's 16 - 2 weight rows preloaded.
    A command of 16 pixels takes its 16 rows: (16 + 32) / 5 is less. On a 4 x 4 array the floor is the longer."""
    row = _gemmini_row("L3[WIO] N1 - L2[WI] N1 K16X - L1[O] P2 C16X - L0[W] N1", C=16, K=16, P=2, Q=1)
    short = load_dosa_row({**row, "arch.meshX": "16"})
    arrays = short.mapping.with_residuals()
    assert array_pass_cycles(short.layer, short.accelerator, arrays, MIN_COMMAND_ROWS)[0] == 4 + 14
    assert MESH_MATMULS_IN_FLIGHT == 5
    assert array_pass_cycles(short.layer, short.accelerator, arrays, MIN_COMMAND_ROWS, MESH_MATMULS_IN_FLIGHT)[0] \
        == pytest.approx((2 + 32) / 5 + 14)
    assert array_pass_cycles(short.layer, short.accelerator, arrays, MIN_COMMAND_ROWS, MESH_MATMULS_IN_FLIGHT,
                             3.0)[0] == pytest.approx((2 + 32 + 3) / 5 + 14)
    soc = gemmini_soc()
    assert soc.terms(short.layer, short.accelerator, arrays)["compute"][0] == \
        pytest.approx((2 + 32 + soc.mesh_latency_cycles) / 5 + 14)
    row = _gemmini_row("L3[WIO] N1 - L2[WI] N1 K16X - L1[O] P16 C16X - L0[W] N1", C=16, K=16, P=16, Q=1)
    long = load_dosa_row({**row, "arch.meshX": "16"})
    assert array_pass_cycles(long.layer, long.accelerator, long.mapping.with_residuals(), MIN_COMMAND_ROWS,
                             MESH_MATMULS_IN_FLIGHT, 3.0)[0] == 16
    small = load_dosa_row(_gemmini_row("L3[WIO] N1 - L2[WI] N1 K4X - L1[O] P2 C4X - L0[W] N1", P=2, Q=1))
    assert array_pass_cycles(small.layer, small.accelerator, small.mapping.with_residuals(), MIN_COMMAND_ROWS,
                             MESH_MATMULS_IN_FLIGHT, 3.0)[0] == 4 + 2


def test_the_dma_holds_a_few_commands_at_once():
    """A 1x1 conv on a 16 x 16 Gemmini split over its 8 output rows: each step moves its input row (8 pixels of 16
    channels: one command of at most 16 pixels by 64 bytes) and its weights (16 input channels of 16: one command), 16
    commands in all; a 3x3 kernel on a 4 x 4 array moves, a step, 3 input rows of 10 pixels (3 commands of at most 4
    pixels each) and 9 kernel positions' weights (one command each). The DMA's 16 requests in flight give 2 command
    slots on a 16-wide array, 5 on a 4-wide one, 1 from 32 wide. With them the transfer is at least the requests' issue
    and each command's latency over the slots, and a move-out holds a store slot for `store_command_cycles`."""
    row = _gemmini_row("L3[WIO] Q8 - L2[WI] N1 K16X - L1[O] P8 C16X - L0[W] N1", C=16, K=16)
    dense = load_dosa_row({**row, "arch.meshX": "16"})
    arrays = dense.mapping.with_residuals()
    assert move_in_commands(dense.layer, dense.accelerator, arrays)[0] == 8 * (1 + 1)
    assert move_in_commands(dense.layer, dense.accelerator, arrays, on_chip=(0,))[0] == 8    # weights stay
    kernel = load_dosa_row(_gemmini_row("L3[WIO] Q8 - L2[WI] N1 K4X - L1[O] R3 S3 P8 C4X - L0[W] N1", R=3, S=3))
    assert move_in_commands(kernel.layer, kernel.accelerator, kernel.mapping.with_residuals())[0] == 8 * (3 * 3 + 9)
    assert DMA_REQUESTS_IN_FLIGHT == 16
    assert [command_slots(load_dosa_row({**row, "arch.meshX": str(side)}).accelerator, 16)
            for side in (4, 8, 16, 32, 64)] == [5, 3, 2, 1, 1]
    lean = dict(dma_row_cycles=1, dram_request_cycles=0, store_block_cycles=5, command_latency_cycles=100,
                store_command_cycles=30)
    requests = dram_rows_and_bytes(dense.layer, dense.accelerator, arrays)[0][0]
    blocks = output_blocks(dense.layer, dense.accelerator, arrays)[0]
    held = HardwareTiming(0, 0, 1.0, dma_requests_in_flight=16, **lean)
    assert held.terms(dense.layer, dense.accelerator, arrays)["transfer"][0] == \
        pytest.approx((requests + 16 * 100) / 2 + blocks * 30 / 2)
    free = HardwareTiming(0, 0, 1.0, **lean).terms(dense.layer, dense.accelerator, arrays)["transfer"][0]
    assert free < (requests + 16 * 100) / 2 and free == pytest.approx(max(
        requests, dram_rows_and_bytes(dense.layer, dense.accelerator, arrays)[1][0]
        / dram_bytes_per_cycle(dense.accelerator)) + blocks * 5)
    assert gemmini_soc().dma_requests_in_flight == 16 and HardwareTiming().dma_requests_in_flight == 0


@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like", "nvdla_1024"])
def test_the_passes_never_exceed_timeloops_compute_without_a_preload(preset):
    """On arrays with one or several fan-out levels (Edge TPU: a 4 x 4 grid of 64 x 4 tiles), whatever the mapping,
    an array that keeps several weights a processing element (Eyeriss's register files) takes at most the exact
    counts' compute cycles, fewer on some (the under-filled ones); one holding one weight a processing element adds
    its preloads and command floors, so some of its mappings take longer than Timeloop counts, never less than the
    plain passes."""
    acc, layer = get_preset(preset), Layer.conv(96, 256, 5, 27)
    maps = random_valid_mappings(layer, acc, 200, rng=1)
    counts = evaluate_batch(layer, acc, maps)
    array = array_pass_cycles(layer, acc, maps.with_residuals())[counts.valid]
    compute = counts.compute_cycles[counts.valid]
    assert (array < compute).any()
    if holds_one_weight_per_pe(acc):
        assert (array > compute).any()
    else:
        assert preset == "eyeriss" and (array <= compute).all()


def test_dosa_runs_are_the_harness_runs():
    """`dosa_run`: the smallest array holding the mapping, the conv harness's square output (one row and column more
    for an even kernel), the matrix harness's whole-array tiles."""
    assert [smallest_array(m) for m in ("L3[WIO] K8 - L2[WI] N1 K3X - L1[O] C1X - L0[W] N1",
                                        "L3[WIO] K8 - L2[WI] N1 - L1[O] C16X - L0[W] N1",
                                        "L3[WIO] K8 - L2[WI] N1 - L1[O] C1 - L0[W] N1")] == [4, 16, 2]
    conv = _gemmini_row("L3[WIO] Q2 - L2[WI] N1 K4X - L1[O] R3 S3 P24 Q3 C4X - L0[W] N1", P=24, Q=6, R=3, S=3)
    run = dosa_run(conv, "smallest")
    assert (run.layer.P, run.layer.Q, run.accelerator.mesh[0]) == (24, 24, 16)
    assert outer_steps(run.mapping)[0] == 8                                # Q2 stretched by 24 / 6
    assert dosa_run({**conv, "arch.meshX": "8"}, "stated").accelerator.mesh[0] == 64    # 8 x 8 as stated
    # an even kernel: the harness pads by R // 2 = 1, so a 2 x 2 kernel on P = Q = 14 gives 15 x 15 outputs, in
    # ceil(15 / 7) = 3 steps of the 7-row P tile and 15 of the 1-row Q tile, the last P step clipped to 1 row
    even = _gemmini_row("L3[WIO] P2 Q14 - L2[WI] N1 K4X - L1[O] R2 S2 P7 C4X - L0[W] N1", P=14, Q=14, R=2, S=2)
    run = dosa_run(even, "smallest")
    assert (run.layer.P, run.layer.Q, outer_steps(run.mapping)[0]) == (15, 15, 3 * 15)
    assert [(c.steps[0], c.extents[0, 2]) for c in step_classes(run.layer, run.mapping)] == [(2 * 15, 7), (15, 1)]
    assert load_dosa_row(even).layer.P == 14                                # the row as written is unchanged
    # a fully connected row (C 40, K 64) with tiles C 8, K 32, on a 4 x 4 array: tiles of max(1, t // 16) sides,
    # C 1 x 4 (40 in 10 steps), K 2 x 4 (64 in 8 steps)
    fc = _gemmini_row("L3[WIO] C5 K2 - L2[WI] N1 K4X - L1[O] K8 C2 C4X - L0[W] N1", C=40, K=64, P=1, Q=1)
    run = dosa_run(fc)
    assert outer_steps(run.mapping)[0] == 10 * 8
    # each step's 2 weight blocks (K 8 on the 4-wide array) stream the one output row as a command of the floor's
    # 4 cycles and shift the block's 4 rows in beyond its 1: 2 x (4 + 3) cycles a step
    assert array_pass_cycles(run.layer, run.accelerator, run.mapping, MIN_COMMAND_ROWS)[0] == 10 * 8 * 2 * (4 + 3)
    with pytest.raises(ValueError, match="array.*stated, smallest"):
        dosa_run(fc, "largest")


def test_a_matrix_rows_last_tile_is_what_tiled_matmul_leaves():
    """`tiled_matmul` on a 4 x 4 array, C 40 and K 36 with tiles C 8 and K 36 (9 in time by 4 across): the tiles
    become max(1, t // 16) array sides, C 1 x 4 and K 2 x 4, so the loops take K0 = 40 / 4 = 10 reduction steps and
    J0 = ceil(36 / 8) = 5 column steps, the last one the 36 % 8 = 4 columns left (`last_J`, one block). The 40 steps
    of 8 columns run 2 weight blocks each, the 10 of 4 columns one, each block a command of the floor's 4 cycles and
    its 4 rows shifted in beyond the first: (40 x 2 + 10) x (4 + 3) cycles; the weights move 40 rows of 8 columns a
    step, then 40 of 4."""
    fc = _gemmini_row("L3[WIO] C5 - L2[WI] N1 K4X - L1[O] K9 C2 C4X - L0[W] N1", C=40, K=36, P=1, Q=1)
    run = dosa_run(fc)
    classes = step_classes(run.layer, run.mapping)
    assert [(c.steps[0], c.extents[0, 5]) for c in classes] == [(10 * 4, 8), (10, 4)]
    assert outer_steps(run.mapping)[0] == 10 * 5
    assert array_pass_cycles(run.layer, run.accelerator, run.mapping, MIN_COMMAND_ROWS)[0] == (40 * 2 + 10) * 7
    _, moved = dram_rows_and_bytes(run.layer, run.accelerator, run.mapping)
    weights = 40 * 4 * 8 + 10 * 4 * 4            # 4 input channels by the step's columns, bytes
    inputs = 50 * 4                                # the step's 4 input channels of the one row
    assert moved[0] == weights + inputs + 36       # the 36 outputs go out once, after the tenth reduction step


def test_a_clipped_last_step_moves_and_computes_its_own_tile():
    """A 1x1 conv (C 8, K 4, 5 x 5 outputs) whose P loop takes 3 steps of 2 rows: the last step covers the 1 row
    left. The steps split into 2 of 2 rows and 1 of 1 row; the moves are the layer's 25 input and output pixels (not
    the 30 of three whole tiles) and the array runs 2 x 320 + 160 cycles, not 3 x 320."""
    from accel_models.mapping_arrays import MappingArrays
    acc, layer = _two_level(), Layer.conv(8, 4, 1, 5)
    arrays = MappingArrays.empty(1, 2)
    bounds = dict(zip("RSPQCKNG", layer.bounds))
    arrays.temporal[0, 0] = [3 if d == "P" else 1 for d in "RSPQCKNG"]
    arrays.temporal[0, 1] = [2 if d == "P" else bounds[d] for d in "RSPQCKNG"]
    arrays.keep[0] = 1
    arrays = arrays.with_residuals()
    classes = step_classes(layer, arrays)
    assert [(c.steps[0], c.output_steps[0], c.extents[0, 2]) for c in classes] == [(2, 2, 2), (1, 1, 1)]
    rows, moved = dram_rows_and_bytes(layer, acc, arrays)
    assert (rows[0], moved[0]) == (25 + 3 * 8 + 25, 25 * 8 + 3 * 32 + 25 * 4)
    model = HardwareTiming(0, 0, 1.0, dma_row_cycles=0, loop_overhead_cycles=0, dram_request_cycles=0,
                           store_block_cycles=0)
    terms = model.terms(layer, acc, arrays)
    assert terms["compute"][0] == 2 * 2 * 5 * 8 * 4 + 1 * 5 * 8 * 4
    assert terms["cycles"][0] == terms["compute"][0]           # the array outlasts every step's moves
    # the host's issue counts steps, whatever their tiles
    assert HardwareTiming(0, 1e6, 1.0, loop_overhead_cycles=0).terms(layer, acc, arrays)["cycles"][0] == 3e6
    # through a cache of one 8-byte line (nothing kept from one run to the next), the last step misses the lines of
    # its own tile: its 5 input pixels of 8 channels, the 4 lines of weights, its 5 output pixels' 4 channels
    misses = class_misses(layer, acc, arrays, CacheGeometry(1, 1, 8))
    assert misses[0, 1, 0] == 5 + 4 + 5
    assert misses[0, :, 0].sum() == cache_misses(layer, acc, arrays, CacheGeometry(1, 1, 8))[0]


def test_a_timing_model_is_looked_up_by_name_and_refused_by_name(batch):
    layer, acc, maps = batch
    assert set(TIMINGS.names()) >= {"timeloop", "hardware"} and get_timing("hardware").name == "hardware"
    with pytest.raises(ValueError, match="timing.*'fast'.*timeloop, hardware"):
        evaluate_batch(layer, acc, maps, timing="fast")
    with pytest.raises(ValueError, match="dram_efficiency"):
        HardwareTiming(dram_efficiency=1.5)
    with pytest.raises(ValueError, match="step_overhead_cycles"):
        HardwareTiming(step_overhead_cycles=float("nan"))


def test_without_reloads_the_dram_moves_the_exact_counts_words(batch):
    """`reload_tiles=False`: the transfer is the exact counts' DRAM words (reads and updates of level 0) at the
    sustained bandwidth, not the tiles a step moves whole."""
    from accel_models.timing import dram_words
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    model = HardwareTiming(0, 0, 0.5, reload_tiles=False, store_block_cycles=0)
    terms = model.terms(layer, acc, maps.with_residuals(), dram_words(counts))
    words = counts.reads[:, 0, :].sum(axis=1) + counts.updates[:, 0, :].sum(axis=1)
    expected = words * acc.levels[0].word_bits / 8 / (dram_bytes_per_cycle(acc) * 0.5)
    assert np.allclose(terms["transfer"], expected) and (terms["transfer"] > 0).all()
    reloading = HardwareTiming(0, 0, 0.5, store_block_cycles=0).terms(layer, acc, maps.with_residuals())
    assert not np.allclose(terms["transfer"], reloading["transfer"])
    with pytest.raises(ValueError, match="exact_dram_words"):
        model.terms(layer, acc, maps.with_residuals())
