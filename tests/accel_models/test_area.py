"""Area model: published chips, monotonicity, breakdown bookkeeping."""
import math
from dataclasses import replace

import pytest

from accel_models import area, presets
from accel_models.accelerator import StorageLevel
from accel_models.builder import build_accelerator

PUBLISHED_MM2 = {"eyeriss": 12.25, "shidiannao": 4.86}  # docs/sources.md: JSSC 2017 core; ISCA 2015


@pytest.mark.parametrize("name", sorted(PUBLISHED_MM2))
def test_published_chips_within_25_percent(name):
    acc = presets.get_preset(name)
    assert acc.technology_nm == 65
    modeled = area.area_mm2(acc)
    assert abs(modeled / PUBLISHED_MM2[name] - 1) <= 0.25, modeled


def test_layout_factor_is_the_stated_calibration():
    """LAYOUT_FACTOR = geometric mean of published / raw over Eyeriss and ShiDianNao (module docstring)."""
    ratios = [PUBLISHED_MM2[n] / area.area_breakdown(presets.get_preset(n)).raw_mm2 for n in PUBLISHED_MM2]
    assert area.LAYOUT_FACTOR == pytest.approx(math.sqrt(ratios[0] * ratios[1]), abs=0.01)


def _acc(**kw):
    base = dict(pe_array=(8, 8), rf_words=(64, 16, 16), glb_words=32768, word_bits=8, technology_nm=45)
    base.update(kw)
    return build_accelerator(**base)


def test_area_grows_with_pes():
    areas = [area.area_mm2(_acc(pe_array=None, num_pes=n)) for n in (1, 4, 16, 64, 168, 256, 1024)]
    assert all(a < b for a, b in zip(areas, areas[1:])), areas


@pytest.mark.parametrize("field,values", [
    ("glb_words", [1024, 4096, 16384, 65536, 262144, 1 << 22]),
    ("rf_words", [0, 4, 16, 64, 128, 256, 512, 2048]),
    ("rf_words", [(1, 1, 1), (16, 1, 1), (16, 12, 1), (16, 12, 24), (224, 12, 24), (448, 12, 24)]),
    ("glb_words", [(1024, 1024, 1024), (8192, 1024, 1024), (8192, 8192, 8192)]),
    ("word_bits", [4, 8, 16, 32]),
])
def test_area_grows_with_buffer_sizes(field, values):
    areas = [area.area_mm2(_acc(**{field: v})) for v in values]
    assert all(a < b for a, b in zip(areas, areas[1:])), areas


def test_area_shrinks_with_the_node():
    areas = [area.area_mm2(_acc(technology_nm=n)) for n in (65, 45, 32, 28, 22)]
    assert all(a > b for a, b in zip(areas, areas[1:])), areas


def test_breakdown_adds_up_and_dram_is_free():
    acc = presets.eyeriss()
    b = area.area_breakdown(acc)
    assert b.per_level_mm2["DRAM"] == 0.0
    assert b.total_mm2 == pytest.approx(b.macs_mm2 + b.pe_storage_mm2 + b.global_buffers_mm2 + b.overhead_mm2)
    assert b.overhead_mm2 == pytest.approx((area.LAYOUT_FACTOR - 1) * b.raw_mm2)
    assert b.global_buffers_mm2 == pytest.approx(b.per_level_mm2["GLB"])
    assert b.pe_storage_mm2 == pytest.approx(sum(b.per_level_mm2[n] for n in ("RF_I", "RF_W", "RF_O")))
    # per-PE levels count all 168 instances
    assert b.per_level_mm2["RF_W"] == pytest.approx(168 * area.level_area_mm2(acc.levels[3], 65))
    assert "total" in b.describe()
    # DRAM bandwidth and energy do not change the chip
    faster = acc.with_levels(DRAM={"shared_bandwidth": 64.0, "read_energy_pj": 1.0})
    assert area.area_mm2(faster) == pytest.approx(area.area_mm2(acc))


def test_split_buffer_is_one_macro_per_tensor():
    shared = _acc(glb_words=3 * 16384)
    split = _acc(glb_words=(16384, 16384, 16384))
    # three 16 KB macros cost more than one 48 KB macro (three peripheries, sub-linear CACTI at small sizes)
    assert area.area_mm2(split) > area.area_mm2(shared)


def test_on_chip_level_without_capacity_is_rejected():
    acc = _acc()
    unbounded = replace(acc.levels[1], capacity_words=None)
    with pytest.raises(ValueError, match="capacity_words"):
        area.area_mm2(replace(acc, levels=(acc.levels[0], unbounded) + acc.levels[2:]))


def test_hand_built_accelerator_without_builder_meta():
    from accel_models import Accelerator

    acc = Accelerator("two_level", (StorageLevel("DRAM", kind="DRAM"),
                                    StorageLevel("Buffer", capacity_words=2048, word_bits=8, kind="SRAM")),
                      mac_energy_pj=0.845, technology_nm=45, mac_bits=8)
    b = area.area_breakdown(acc)
    assert b.pe_storage_mm2 == 0.0 and b.global_buffers_mm2 > 0 and b.macs_mm2 > 0
