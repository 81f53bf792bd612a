"""Roofline: the pure math, EvalResult bookkeeping, plot/table, and (with the cost model) bound classification."""
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel_models import presets, roofline
from accel_models.cost_model import explain
from mappings import best_mapping
from nets import Layer



def _point(**kw):
    base = dict(macs=1e9, dram_bytes=1e7, cycles=1e7, peak_macs_per_s=1e11, dram_bytes_per_s=1e10, clock_ghz=1.0)
    base.update(kw)
    return roofline.roofline_point(**base)


@settings(max_examples=300, deadline=None)
@given(macs=st.floats(1, 1e13), dram=st.floats(0, 1e12), cycles=st.floats(1, 1e12), peak=st.floats(1e6, 1e15),
       bw=st.one_of(st.none(), st.floats(1e3, 1e13)))
def test_attainable_never_exceeds_peak(macs, dram, cycles, peak, bw):
    p = roofline.roofline_point(macs, dram, cycles, peak, bw)
    assert p.attainable_macs_per_s <= peak
    if bw is not None and dram > 0:
        assert p.attainable_macs_per_s <= p.intensity_mac_per_byte * bw * (1 + 1e-12)
    assert (p.bound == "memory") == (p.attainable_macs_per_s < peak)


def test_memory_and_compute_regions():
    # ridge = 1e11 / 1e10 = 10 MAC/B
    mem = _point(macs=1e8, dram_bytes=1e8)          # 1 MAC/B
    assert mem.ridge_mac_per_byte == pytest.approx(10)
    assert mem.bound == "memory"
    assert mem.attainable_macs_per_s == pytest.approx(1e10)   # 1 MAC/B x 10 GB/s
    comp = _point(macs=1e10, dram_bytes=1e8)        # 100 MAC/B
    assert comp.bound == "compute" and comp.attainable_macs_per_s == pytest.approx(1e11)
    assert comp.intensity_op_per_byte == pytest.approx(200)
    ridge = _point(macs=1e9, dram_bytes=1e8)
    assert ridge.bound == "compute"


def test_achieved_throughput():
    p = _point(macs=2e9, cycles=4e9, clock_ghz=2.0)  # 2 s
    assert p.seconds == pytest.approx(2.0)
    assert p.achieved_macs_per_s == pytest.approx(1e9)
    assert p.fraction_of_attainable == pytest.approx(1e9 / p.attainable_macs_per_s)


def test_unlimited_bandwidth_and_no_dram_traffic_are_compute_bound():
    assert _point(dram_bytes_per_s=None).bound == "compute"
    p = _point(dram_bytes=0)
    assert p.intensity_mac_per_byte == float("inf") and p.bound == "compute"
    assert p.attainable_macs_per_s == p.peak_macs_per_s


def test_bad_numbers_are_rejected():
    with pytest.raises(ValueError, match="cycles"):
        _point(cycles=0)
    with pytest.raises(ValueError, match="dram_bytes"):
        _point(dram_bytes=-1)


def _fake_result(levels=3, macs=1000, cycles=500):
    reads = np.zeros((levels, 3))
    fills = np.zeros((levels, 3))
    updates = np.zeros((levels, 3))
    reads[0] = [100, 200, 0]
    updates[0] = [0, 0, 50]
    reads[1] = [1000, 1000, 0]
    fills[1] = [100, 200, 0]
    return SimpleNamespace(valid=True, reason=0, reason_text="ok", macs=macs, cycles=cycles, compute_cycles=cycles,
                           reads=reads, fills=fills, updates=updates)


def test_layer_roofline_counts_dram_reads_and_updates():
    acc = presets.shidiannao()  # 16-bit words, 5 levels
    res = _fake_result(levels=acc.num_levels)
    p = roofline.layer_roofline(Layer.fc(10, 100, name="fc"), acc, res)
    assert p.dram_bytes == pytest.approx((100 + 200 + 50) * 2)
    assert p.level_bytes["GLB"] == pytest.approx((2000 + 300) * 2)
    assert p.level_bytes["DRAM"] == pytest.approx(p.dram_bytes)
    assert p.peak_macs_per_s == pytest.approx(64e9)
    assert p.dram_bytes_per_s == pytest.approx(4 * 2 * 1e9)
    assert p.name == "fc"
    with pytest.raises(ValueError, match="invalid"):
        roofline.layer_roofline(Layer.fc(10, 100), acc, SimpleNamespace(valid=False, reason=3, reason_text="cap"))


def test_network_sums_with_counts():
    a = _point(name="a", macs=1e9, dram_bytes=1e7, cycles=1e7, count=2, level_bytes={"DRAM": 1e7})
    b = _point(name="b", macs=3e9, dram_bytes=1e9, cycles=5e7, count=1, level_bytes={"DRAM": 1e9})
    n = roofline.network_roofline([a, b], "net")
    assert n.macs == pytest.approx(5e9) and n.dram_bytes == pytest.approx(1.02e9) and n.cycles == pytest.approx(7e7)
    assert n.level_bytes["DRAM"] == pytest.approx(1.02e9)
    assert n.intensity_mac_per_byte == pytest.approx(5e9 / 1.02e9)
    with pytest.raises(ValueError, match="different accelerator"):
        roofline.network_roofline([a, _point(peak_macs_per_s=2e11)])


def test_plot_and_table(tmp_path):
    pts = [_point(name="mem", macs=1e8, dram_bytes=1e8, cycles=2e7),
           _point(name="comp", macs=1e10, dram_bytes=1e8, cycles=2e8)]
    total = roofline.network_roofline(pts)
    path = roofline.plot_roofline(pts, str(tmp_path / "r.png"), title="t", total=total)
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    text = roofline.format_table(pts, total)
    assert "mem" in text and "comp" in text and "memory" in text and "compute" in text
    assert "ridge 10.0 MAC/B" in text


# ---- with the cost model --------------------------------------------------------------------
def _mapped(layer, acc):
    """The mapper's best mapping of `layer` on `acc` and its evaluation."""
    res = best_mapping(layer, acc, budget_evals=1500, seed=0)
    assert res.valid
    return res.arrays, explain(layer, acc, res.arrays)


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["eyeriss", "shidiannao", "nvdla_256", "nvdla_1024"])
def test_fc_at_batch_1_is_memory_bound_and_3x3_conv_compute_bound(preset):
    acc = presets.get_preset(preset)
    fc = Layer.fc(4096, 4096, batch=1, name="fc4096")
    conv = Layer.conv(256, 256, 3, 28, name="conv3x3_256")
    p_fc = roofline.layer_roofline(fc, acc, _mapped(fc, acc)[1])
    p_conv = roofline.layer_roofline(conv, acc, _mapped(conv, acc)[1])
    # memory-bound; on ShiDianNao (X:P, Y:Q) an FC layer (P = Q = 1) occupies 1 PE of 64: utilization-limited
    assert p_fc.bound == ("utilization" if preset == "shidiannao" else "memory"), p_fc
    if p_fc.bound == "utilization":
        assert p_fc.spatial_utilization == 1 / 64 and p_fc.ceiling_macs_per_s < p_fc.attainable_macs_per_s
    # compute-bound, unless the mapping cannot occupy every PE (28 is no multiple of ShiDianNao's 8x8 side)
    assert p_conv.bound == ("compute" if p_conv.spatial_utilization == 1 else "utilization"), p_conv
    # every weight crosses the DRAM boundary at least once
    assert p_fc.dram_bytes >= 4096 * 4096 * acc.levels[0].word_bits / 8
    for p in (p_fc, p_conv):
        assert p.achieved_macs_per_s <= p.attainable_macs_per_s * (1 + 1e-9)


def test_analyze_layer_matches_layer_roofline():
    acc = presets.shidiannao()
    layer = Layer.conv(16, 16, 3, 8, name="small")
    mapping, result = _mapped(layer, acc)
    a = roofline.analyze_layer(layer, acc, mapping)
    b = roofline.layer_roofline(layer, acc, result)
    assert a.dram_bytes == b.dram_bytes and a.cycles == b.cycles


def test_utilization_is_the_third_ceiling():
    # peak 1e11 MAC/s (100 MACs at 1 GHz), DRAM 1e10 B/s: ridge 10 MAC/B; this layer sits at 100 MAC/B
    full = _point(macs=1e10, dram_bytes=1e8, cycles=1e8, compute_cycles=1e8)
    assert full.spatial_utilization == 1 and full.bound == "compute"
    sixteenth = _point(macs=1e10, dram_bytes=1e8, cycles=1.6e9, compute_cycles=1.6e9)  # 100 MACs/cycle / 16
    assert sixteenth.spatial_utilization == pytest.approx(1 / 16) and sixteenth.bound == "utilization"
    assert sixteenth.ceiling_macs_per_s == pytest.approx(1e11 / 16) and sixteenth.fraction_of_ceiling == pytest.approx(1)
    # left of the ridge the memory roof is lower than a half-used array: memory-bound
    mem_half = _point(macs=1e8, dram_bytes=1e8, cycles=2e7, compute_cycles=2e6)
    assert mem_half.spatial_utilization == pytest.approx(0.5) and mem_half.bound == "memory"
    total = roofline.network_roofline([full, sixteenth])
    assert total.compute_cycles == pytest.approx(1.7e9)
    assert total.spatial_utilization == pytest.approx(2e10 / (100 * 1.7e9))


def test_plot_numbers_layers_as_given(tmp_path):
    pts = [_point(name=f"l{i}", macs=1e10, dram_bytes=1e8, cycles=1.6e9, compute_cycles=1.6e9) for i in range(10)]
    path = roofline.plot_roofline(pts, str(tmp_path / "r.png"), labels=[str(i + 5) for i in range(10)])
    assert Path(path).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="3 labels for 10 points"):
        roofline.plot_roofline(pts, str(tmp_path / "r.png"), labels=["0", "1", "2"])
