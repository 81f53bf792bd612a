"""The clock network's energy (`Accelerator.clock_energy_pj`) and `with_clock_and_control`: charged per cycle of a
run by the kernel and the readable evaluation alike, on chip, and `eyeriss_chip` carries CNNergy's estimates."""
from dataclasses import replace

import numpy as np
import pytest

from accel_models import evaluate_batch, explain, get_preset
from accel_models.presets import (EYERISS_CLOCK_TREE_W, EYERISS_CONTROL_SHARE, eyeriss_chip,
                                  with_clock_and_control)
from mappings import accelerator_key, random_valid_mappings
from nets import Layer

LAYER = Layer.conv(48, 64, 3, 13, name="conv")


def test_each_cycle_costs_the_clock_energy_in_the_kernel_and_the_breakdown():
    acc = get_preset("eyeriss")
    clocked = replace(acc, clock_energy_pj=250.0)
    maps = random_valid_mappings(LAYER, acc, 8, rng=1)
    plain, charged = evaluate_batch(LAYER, acc, maps), evaluate_batch(LAYER, clocked, maps)
    assert np.array_equal(plain.cycles, charged.cycles)
    assert np.allclose(charged.energy_pj - plain.energy_pj, 250.0 * plain.cycles, rtol=1e-9)
    ev = explain(LAYER, clocked, maps.row(3))
    assert ev.clock_energy_pj == pytest.approx(250.0 * ev.cycles)
    assert ev.energy_pj == pytest.approx(charged.energy_pj[3], rel=1e-9)
    assert ev.energy_pj == pytest.approx(ev.level_energy_pj.sum() + ev.mac_energy_pj + ev.clock_energy_pj, rel=1e-12)
    assert "clock network" in ev.breakdown() and "clock network" not in explain(LAYER, acc, maps.row(3)).breakdown()


def test_clock_energy_is_checked_and_names_a_different_accelerator():
    acc = get_preset("eyeriss")
    with pytest.raises(ValueError, match="clock_energy_pj must be a finite number >= 0"):
        replace(acc, clock_energy_pj=-1.0)
    assert accelerator_key(replace(acc, clock_energy_pj=1.0)) != accelerator_key(acc)
    assert accelerator_key(replace(acc, clock_energy_pj=0.0)) == accelerator_key(acc)


def test_control_raises_every_on_chip_energy_and_leaves_dram_as_it_was():
    acc = get_preset("nvdla_256")
    out = with_clock_and_control(acc, 0.05, 0.2)
    assert out.levels[0] == acc.levels[0]
    for before, after in zip(acc.levels[1:], out.levels[1:]):
        assert after.read_energy_pj == pytest.approx(before.read_energy_pj / 0.8)
        assert after.update_energy_pj == pytest.approx(before.update_energy_pj / 0.8)
    assert out.mac_energy_pj == pytest.approx(acc.mac_energy_pj / 0.8)
    assert out.clock_energy_pj == pytest.approx(0.05 / (acc.clock_ghz * 1e9) * 1e12 / 0.8)
    for bad in ({"clock_w": -0.1, "control_share": 0.1}, {"clock_w": 0.1, "control_share": 1.0}):
        with pytest.raises(ValueError, match="with_clock_and_control"):
            with_clock_and_control(acc, **bad)


def test_eyeriss_chip_carries_cnnergy_s_clock_and_control_and_the_preset_does_not():
    chip, preset = eyeriss_chip(), get_preset("eyeriss")
    assert preset.clock_energy_pj == 0.0
    # 106.3 mW at 200 MHz is 531.5 pJ a cycle, over 1 - 15% for the control logic
    assert chip.clock_energy_pj == pytest.approx(EYERISS_CLOCK_TREE_W / 200e6 * 1e12 / (1 - EYERISS_CONTROL_SHARE))
    assert chip.clock_energy_pj == pytest.approx(625.3, abs=0.1)
    assert chip.levels[0] == preset.levels[0] and chip.dataflow == preset.dataflow
    assert eyeriss_chip(45).clock_energy_pj < chip.clock_energy_pj
