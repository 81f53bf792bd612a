"""Timing models (`accel_models.timing`): SCALE-Sim's fold rule, DOSA's Gemmini rows, the hardware timing model."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from accel_models import evaluate_batch, get_preset
from accel_models.timeloop.gemmini import (GemminiConfig, compact_mapping_entries, gemmini_timeloop_files,
                                           load_dosa_row)
from accel_models.timing import (TIMINGS, HardwareTiming, get_timing, outer_steps, scalesim_cycles,
                                 step_transfer_bytes)
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


def test_hardware_timing_is_closer_to_the_rtl_than_timeloops_semantics():
    """On the shipped FireSim rows: the hardware model's median |log(model / RTL)| is below Timeloop's, and its
    median ratio is within x1.25 of 1 (Timeloop's cycles are a lower bound: its median ratio is below 0.8)."""
    hardware, timeloop, measured = [], [], []
    for row in _rows():
        dosa = load_dosa_row(row)
        timed = evaluate_batch(dosa.layer, dosa.accelerator, dosa.mapping, timing="hardware")
        counts = evaluate_batch(dosa.layer, dosa.accelerator, dosa.mapping)
        hardware.append(timed.cycles[0])
        timeloop.append(counts.cycles[0])
        measured.append(dosa.measured_cycles)
    hardware, timeloop, measured = (np.array(a, dtype=float) for a in (hardware, timeloop, measured))
    assert len(measured) == 40
    spread_hw, spread_tl = (np.median(np.abs(np.log(a / measured))) for a in (hardware, timeloop))
    assert spread_hw < spread_tl
    assert 0.8 <= np.median(hardware / measured) <= 1.25
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
    terms = model.terms(layer, acc, maps.with_residuals(), counts.compute_cycles)
    expected = np.ceil(terms["startup"] + terms["steps"] + np.maximum(terms["compute"], terms["transfer"]))
    assert np.array_equal(timed.cycles, expected.astype(np.int64))
    assert np.array_equal(terms["steps"], outer_steps(maps) * model.step_overhead_cycles)
    # the energy and counts do not depend on the timing; the utilization is over the timed cycles
    assert np.array_equal(timed.energy_pj, counts.energy_pj) and np.array_equal(timed.reads, counts.reads)
    assert np.allclose(timed.utilization * timed.cycles, counts.utilization * counts.cycles)


def test_each_overhead_adds_its_own_cycles(batch):
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    lean = HardwareTiming(0, 0, 1.0).cycles(layer, acc, maps, counts)
    assert np.array_equal(HardwareTiming(500, 0, 1.0).cycles(layer, acc, maps, counts), lean + 500)
    slow_dram = HardwareTiming(0, 0, 0.25).cycles(layer, acc, maps, counts)
    assert (slow_dram >= lean).all() and (slow_dram > lean).any()
    steps = outer_steps(maps)
    assert np.array_equal(HardwareTiming(0, 10, 1.0).cycles(layer, acc, maps, counts), lean + 10 * steps)


def test_a_step_moves_its_tiles_whole_in_dram_blocks():
    """A 1x1 conv (C 8, K 4, 4 x 4 outputs) on a two-level chip, split in two steps over K at DRAM: each step moves
    all 8 x 16 inputs, 8 x 2 weights and 2 x 16 outputs, each rounded up to 64-word blocks of 8-bit words."""
    from accel_models import Accelerator, StorageLevel
    from accel_models.mapping_arrays import MappingArrays
    acc = Accelerator("two", (StorageLevel("DRAM", block_size_words=64, word_bits=8, shared_bandwidth=8),
                              StorageLevel("GLB", capacity_words=4096, word_bits=8)), mac_energy_pj=1.0)
    layer = Layer.conv(8, 4, 1, 4)
    arrays = MappingArrays.empty(1, 2)
    bounds = dict(zip("RSPQCKNG", layer.bounds))
    arrays.temporal[0, 0] = [1, 1, 1, 1, 1, 2, 1, 1]
    arrays.temporal[0, 1] = [bounds[d] // (2 if d == "K" else 1) for d in "RSPQCKNG"]
    arrays.keep[0] = 1
    per_step = step_transfer_bytes(layer, acc, arrays)
    assert per_step[0] == (math.ceil(128 / 64) + math.ceil(16 / 64) + math.ceil(32 / 64)) * 64
    assert step_transfer_bytes(layer, acc, arrays, on_chip=(1,))[0] == per_step[0] - 128   # inputs stay on chip
    counts = evaluate_batch(layer, acc, arrays)
    terms = HardwareTiming(0, 0, 0.5).terms(layer, acc, arrays.with_residuals(), counts.compute_cycles)
    assert terms["transfer"][0] == 2 * per_step[0] / (8 * 0.5)


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
    from accel_models.timing import dram_bytes_per_cycle, dram_words
    layer, acc, maps = batch
    counts = evaluate_batch(layer, acc, maps)
    model = HardwareTiming(0, 0, 0.5, reload_tiles=False)
    terms = model.terms(layer, acc, maps.with_residuals(), counts.compute_cycles, dram_words(counts))
    words = counts.reads[:, 0, :].sum(axis=1) + counts.updates[:, 0, :].sum(axis=1)
    expected = words * acc.levels[0].word_bits / 8 / (dram_bytes_per_cycle(acc) * 0.5)
    assert np.allclose(terms["transfer"], expected) and (terms["transfer"] > 0).all()
    reloading = HardwareTiming(0, 0, 0.5).terms(layer, acc, maps.with_residuals(), counts.compute_cycles)
    assert not np.allclose(terms["transfer"], reloading["transfer"])
    with pytest.raises(ValueError, match="exact_dram_words"):
        model.terms(layer, acc, maps.with_residuals(), counts.compute_cycles)
