"""Technology tables: anchors reproduce their sources, monotonic where physics says so."""
import math

import pytest

from accel_models import tech

KB = 1024


@pytest.mark.parametrize("node", tech.TABULATED_NODES_NM)
def test_sram_energy_grows_with_size(node):
    sizes = [64, 256, 1 * KB, 4 * KB, 8 * KB, 20 * KB, 32 * KB, 100 * KB, 128 * KB, 512 * KB, 1024 * KB, 8192 * KB]
    energies = [tech.sram_read_energy_pj(s, 64, node) for s in sizes]
    assert all(a < b for a, b in zip(energies, energies[1:])), energies


def test_sram_energy_reproduces_cacti_anchors():
    # docs/sources.md, CACTI table: pJ per 64-bit read
    assert tech.sram_read_energy_pj(8 * KB, 64, 45) == pytest.approx(6.1)
    assert tech.sram_read_energy_pj(128 * KB, 64, 65) == pytest.approx(59.3)
    assert tech.sram_read_energy_pj(1024 * KB, 64, 22) == pytest.approx(23.5)
    # log-log interpolation lies between the anchors
    assert 6.1 < tech.sram_read_energy_pj(16 * KB, 64, 45) < 17.0


def test_sram_energy_grows_with_width_sublinearly():
    e16, e32, e64 = (tech.sram_read_energy_pj(16 * KB, w, 45) for w in (16, 32, 64))
    assert e16 < e32 < e64
    assert e64 / e16 == pytest.approx(4 ** tech.SRAM_WIDTH_EXPONENT)
    # the corpus's CACTI 16 KB SRAM: 7.66 pJ at 16 b vs 11.61 pJ at 64 b; the exponent reproduces the ratio
    assert e64 / e16 == pytest.approx(11.6097 / 7.66057, rel=0.01)


def test_smaller_node_costs_less_energy_and_area():
    nodes = sorted(tech.TABULATED_NODES_NM)
    for f in (lambda n: tech.sram_read_energy_pj(64 * KB, 64, n), lambda n: tech.sram_area_mm2(64 * KB, n),
              lambda n: tech.mac_energy_pj(8, None, n), lambda n: tech.mac_area_um2(8, None, n),
              lambda n: tech.regfile_energy_pj(32, 16, n)):
        values = [f(n) for n in nodes]
        assert all(a < b for a, b in zip(values, values[1:])), values


def test_interpolated_node_lies_between_neighbours():
    assert tech.area_scale(22) < tech.area_scale(28) < tech.area_scale(32)
    assert tech.sram_read_energy_pj(32 * KB, 64, 22) < tech.sram_read_energy_pj(32 * KB, 64, 28) \
        < tech.sram_read_energy_pj(32 * KB, 64, 32)


def test_stillmaker_area_scaling_anchors():
    assert tech.area_scale(45) == pytest.approx(1.0)
    assert tech.area_scale(45) / tech.area_scale(65) == pytest.approx(0.66)
    assert tech.area_scale(32) == pytest.approx(0.46)


def test_sram_area_grows_with_size_and_matches_cacti_for_large_macros():
    sizes = [16, 256, 257, 1 * KB, 8 * KB, 32 * KB, 128 * KB, 1024 * KB, 24 * 1024 * KB]
    areas = [tech.sram_area_mm2(s, 45) for s in sizes]
    assert all(a < b for a, b in zip(areas, areas[1:])), areas
    # the fixed periphery is small next to a 128 KB macro (CACTI 0.430 mm2 at 45 nm)
    assert tech.sram_area_mm2(128 * KB, 45) == pytest.approx(0.430, rel=0.05)
    # continuity with the register file it replaces at REGFILE_MAX_BYTES
    rf = tech.regfile_area_mm2(tech.REGFILE_MAX_BYTES * 8, 45)
    assert tech.sram_area_mm2(tech.REGFILE_MAX_BYTES, 45) == pytest.approx(rf)
    # docs/sources.md: ~3.2k um2 per KB at 45 nm, ~6.7k at 65 nm
    assert tech.sram_area_um2_per_kb(45) == pytest.approx(3.2e3, rel=0.15)
    assert tech.sram_area_um2_per_kb(65) == pytest.approx(6.7e3, rel=0.15)


def test_regfile_energy_reproduces_aladdin_and_grows_with_depth():
    # the corpus's Aladdin regfile energies at 45 nm (pJ per access)
    assert tech.regfile_energy_pj(16, 16, 45) == pytest.approx(0.06794)
    assert tech.regfile_energy_pj(128, 16, 45) == pytest.approx(0.83416)
    depths = [1, 4, 12, 16, 24, 32, 64, 128, 256, 512]
    e = [tech.regfile_energy_pj(d, 16, 45) for d in depths]
    assert all(a < b for a, b in zip(e, e[1:])), e
    assert tech.regfile_energy_pj(32, 32, 45) == pytest.approx(2 * tech.regfile_energy_pj(32, 16, 45))


def test_storage_kind_threshold():
    assert tech.storage_kind(tech.REGFILE_MAX_BYTES) == "regfile"
    assert tech.storage_kind(tech.REGFILE_MAX_BYTES + 1) == "SRAM"


def test_mac_energy_and_area_follow_horowitz():
    # 8b multiply 0.2 pJ + 16b add 0.05 pJ; areas 282 + 67 um2 (45 nm)
    assert tech.mac_energy_pj(8, 16, 45) == pytest.approx(0.25)
    assert tech.mac_area_um2(8, 16, 45) == pytest.approx(349.0)
    assert tech.mac_energy_pj(32, 32, 45) == pytest.approx(3.2)
    widths = [4, 8, 12, 16, 24, 32]
    assert all(tech.mac_energy_pj(a) < tech.mac_energy_pj(b) for a, b in zip(widths, widths[1:]))
    assert all(tech.mac_area_um2(a) < tech.mac_area_um2(b) for a, b in zip(widths, widths[1:]))


def test_dram_energy_per_bit():
    assert tech.dram_energy_pj_per_bit("LPDDR4") == pytest.approx(8.0)
    assert 1300 / 64 <= tech.dram_energy_pj_per_bit("DDR3") <= 2600 / 64
    with pytest.raises(ValueError, match="LPDDR4"):
        tech.dram_energy_pj_per_bit("HBM9")


def test_eyeriss_energy_ratios_within_2x_of_published():
    """Chen et al. ISCA 2016 (65 nm): RF 1x, global buffer 6x, DRAM 200x a MAC."""
    mac = tech.mac_energy_pj(16, None, 65)
    spad = tech.sram_read_energy_pj(448, 16, 65)                 # 224 x 16 b filter spad
    glb = tech.sram_read_energy_pj(108 * KB, 64, 65) / 4         # per 16-b word of a 64-b row
    dram = tech.dram_energy_pj_per_bit("DDR3") * 16
    for ours, published in ((spad / mac, 1.0), (glb / mac, 6.0), (dram / mac, 200.0)):
        assert published / 2 <= ours <= published * 2, (ours, published)
    assert spad < glb < dram


@pytest.mark.parametrize("bad", [14, 90, "45nm", None, True])
def test_bad_node_is_rejected_with_the_range(bad):
    with pytest.raises(ValueError, match=r"technology_nm must be a number in \[22, 65\]"):
        tech.sram_read_energy_pj(8 * KB, 64, bad)


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError, match="capacity_bytes"):
        tech.sram_read_energy_pj(0)
    with pytest.raises(ValueError, match="operand_bits"):
        tech.mac_energy_pj(0)
    assert math.isfinite(tech.energy_scale(28))
