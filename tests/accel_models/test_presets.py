"""Presets: sizes as published (docs/sources.md), dataflows, the printed table."""
import subprocess
import sys
from pathlib import Path

import pytest

from accel_models import TENSORS, area_mm2, presets
from accel_models.roofline import dram_bytes_per_s, peak_macs_per_s

ROOT = Path(__file__).resolve().parents[2]


def test_registry():
    assert set(presets.PRESETS) == {"eyeriss", "nvdla_256", "nvdla_1024", "shidiannao", "edge_tpu_like", "tpu_v1_like"}
    with pytest.raises(ValueError, match="accepted: eyeriss"):
        presets.get_preset("eyeriss_v2")


def test_eyeriss_sizes():
    acc = presets.get_preset("eyeriss")
    assert acc.num_macs == 168 and acc.mesh == (14, 12) and acc.technology_nm == 65
    glb = acc.levels[acc.level_index("GLB")]
    assert glb.capacity_words * glb.word_bits / 8 == 108 * 1024
    assert glb.keeps == ("Inputs", "Outputs")
    spads = {acc.levels[i].keeps[0]: acc.levels[i].capacity_words for i in range(2, 5)}
    assert spads == {"Inputs": 12, "Weights": 224, "Outputs": 24}
    assert acc.dataflow.stationary == "row" and acc.dataflow.spatial_x == ("Q",)
    assert 0.1 <= acc.clock_ghz <= 0.25


def test_shidiannao_sizes():
    acc = presets.get_preset("shidiannao")
    assert acc.num_macs == 64 and acc.mesh == (8, 8) and acc.clock_ghz == 1.0
    glb = acc.levels[1]
    kib = [c * glb.word_bits / 8 / 1024 for c in glb.tensor_capacity_words]
    assert kib == [128, 64, 64]  # synapse, input, output buffers
    assert acc.dataflow.stationary == "Outputs"
    assert acc.levels[2].keeps == ("Outputs",)  # the stationary tensor's register is the outermost


@pytest.mark.parametrize("name,macs", [("nvdla_256", 256), ("nvdla_1024", 1024), ("edge_tpu_like", 4096),
                                       ("tpu_v1_like", 65536)])
def test_mac_counts_and_weight_stationary(name, macs):
    acc = presets.get_preset(name)
    assert acc.num_macs == macs and acc.mac_bits == 8
    assert acc.dataflow.stationary == "Weights"
    assert set(acc.dataflow.spatial_x + acc.dataflow.spatial_y) == {"C", "K"}


def test_edge_tpu_tiles():
    """libedgetpu's Beagle figures (docs/sources.md): 4 x 4 tiles of 64 cells, 192 KiB a tile, 500 MHz."""
    acc = presets.edge_tpu_like()
    assert acc.clock_ghz == 0.5
    glb, tile = acc.levels[acc.level_index("GLB")], acc.levels[acc.level_index("TILE")]
    assert (glb.fanout_x, glb.fanout_y) == (4, 4) and glb.capacity_words == 8 * 1024 * 1024
    assert tile.fanout_x == 64 and tile.capacity_words == 196608 and tile.keeps == ("Inputs", "Outputs")
    df = acc.dataflow
    assert (df.axis_dims("X", "GLB"), df.axis_dims("Y", "GLB")) == (("Q",), ("P",))
    assert (df.axis_dims("X", "TILE"), df.axis_dims("Y", "TILE")) == (("K",), ("C",))  # no G: groups_on_channels off


def test_peak_throughputs():
    # Edge TPU: about 4 TOPS (docs/sources.md), 1 MAC = 2 ops
    assert 2 * peak_macs_per_s(presets.edge_tpu_like()) == pytest.approx(4e12, rel=0.05)
    assert dram_bytes_per_s(presets.edge_tpu_like()) == pytest.approx(2 * 500e6)   # PCIe Gen2 x1, each way
    # TPU v1: 92 TOPS peak (256 x 256 x 700 MHz x 2)
    assert 2 * peak_macs_per_s(presets.tpu_v1_like()) == pytest.approx(92e12, rel=0.01)
    assert dram_bytes_per_s(presets.tpu_v1_like()) == pytest.approx(34e9)


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_every_preset_is_consistent(name):
    acc = presets.get_preset(name)
    df = acc.dataflow
    assert df is not None
    assert all(d in "RSPQCKNG" for d in df.spatial_x + df.spatial_y)
    if df.stationary in TENSORS:  # kept by the PE's own storage, below the innermost fan-out
        assert any(df.stationary in lv.keeps for lv in acc.levels[acc.fanout_levels[-1] + 1:])
    assert area_mm2(acc) > 0
    assert acc.levels[0].kind == "DRAM" and dram_bytes_per_s(acc) > 0


def test_rebuild_at_another_node():
    assert area_mm2(presets.eyeriss(technology_nm=45)) < area_mm2(presets.eyeriss())
    assert presets.get_preset("shidiannao", technology_nm=45).meta["published_area_mm2"] is None


def test_table_prints():
    out = subprocess.run([sys.executable, "-m", "accel_models.presets"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    for name in presets.PRESETS:
        assert name in out
    assert "12.25" in out and "4.86" in out
    assert "GMAC/s" in out and "GB/s" in out
