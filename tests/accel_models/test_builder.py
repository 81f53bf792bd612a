"""build_accelerator: structure, energies from tech, errors (its cost: benchmarks/bench_design_build.py)."""
import pytest

from accel_models import Dataflow, tech
from accel_models.builder import array_shape, build_accelerator


def test_levels_and_fanout():
    acc = build_accelerator(pe_array=(16, 4), rf_words=32, glb_words=8192, word_bits=8, technology_nm=45)
    assert acc.level_names == ("DRAM", "GLB", "RF")
    assert acc.levels[1].fanout_x == 16 and acc.levels[1].fanout_y == 4
    assert acc.num_macs == 64 and acc.mesh == (16, 4)
    assert acc.instances(2) == 64
    assert acc.levels[2].keeps == ("Weights", "Inputs", "Outputs")
    assert [lv.kind for lv in acc.levels] == ["DRAM", "SRAM", "regfile"]


def test_per_tensor_register_files_and_order():
    acc = build_accelerator(pe_array=(4, 4), rf_words=(224, 12, 0), glb_words=4096, word_bits=16)
    assert acc.level_names == ("DRAM", "GLB", "RF_I", "RF_W")
    assert acc.levels[2].keeps == ("Inputs",) and acc.levels[3].keeps == ("Weights",)
    assert acc.levels[3].kind == "SRAM"  # 448 B > REGFILE_MAX_BYTES
    os_acc = build_accelerator(pe_array=(4, 4), rf_words=(1, 1, 1), glb_words=4096,
                               dataflow=Dataflow("os", ("P",), ("Q",), "Outputs"))
    assert os_acc.level_names[2:] == ("RF_O", "RF_I", "RF_W")
    custom = build_accelerator(pe_array=(4, 4), rf_words=(1, 1, 1), rf_order=("Weights", "Outputs", "Inputs"))
    assert custom.level_names[2:] == ("RF_W", "RF_O", "RF_I")
    none = build_accelerator(pe_array=(4, 4), rf_words=0)
    assert none.level_names == ("DRAM", "GLB") and none.num_macs == 16


def test_split_global_buffer():
    acc = build_accelerator(pe_array=(8, 8), glb_words=(65536, 32768, 0), word_bits=16)
    glb = acc.levels[1]
    assert glb.keeps == ("Weights", "Inputs")
    assert glb.tensor_capacity_words == (65536, 32768, None)
    assert glb.capacity_words == 65536 + 32768


def test_energies_and_bandwidths_come_from_tech():
    acc = build_accelerator(pe_array=(8, 8), rf_words=16, glb_words=65536, word_bits=16, technology_nm=32,
                            dram_bandwidth_words_per_cycle=6.0, glb_bandwidth=12.0)
    dram, glb, rf = acc.levels
    assert dram.block_size_words == 4 and dram.read_energy_pj == pytest.approx(8.0 * 64)  # LPDDR4, 64-bit block
    assert dram.shared_bandwidth == 6.0 and dram.capacity_words is None
    assert glb.block_size_words == 4
    assert glb.read_energy_pj == pytest.approx(tech.sram_read_energy_pj(128 * 1024, 64, 32))
    assert glb.read_bandwidth == 12.0 and glb.write_bandwidth == 12.0
    assert rf.read_energy_pj == pytest.approx(tech.regfile_energy_pj(16, 16, 32))
    assert acc.mac_energy_pj == pytest.approx(tech.mac_energy_pj(16, 32, 32))
    assert acc.levels[0].read_energy_pj > glb.read_energy_pj > rf.read_energy_pj


def test_array_shape_from_num_pes():
    assert array_shape(168) == (14, 12)
    assert array_shape(64) == (8, 8)
    assert array_shape(7) == (7, 1)
    assert build_accelerator(num_pes=12).mesh == (4, 3)


@pytest.mark.parametrize("kwargs,field", [
    (dict(pe_array=(0, 4)), r"pe_array\[0\] \(x\) must be an integer in \[1, 4096\]"),
    (dict(pe_array=(4,)), "pe_array must be"),
    (dict(num_pes=0), r"num_pes must be an integer in \[1, 1048576\]"),
    (dict(pe_array=(4, 4), num_pes=15), "disagrees"),
    (dict(pe_array=(4, 4), rf_words=-1), r"rf_words must be an integer in \[0, 65536\]"),
    (dict(pe_array=(4, 4), rf_words=(1, 2)), "3 ints"),
    (dict(pe_array=(4, 4), glb_words=0), r"glb_words must be an integer in \[1, "),
    (dict(pe_array=(4, 4), glb_words=(0, 0, 0)), "glb_words"),
    (dict(pe_array=(4, 4), word_bits=1), r"word_bits must be an integer in \[2, 64\]"),
    (dict(pe_array=(4, 4), technology_nm=7), r"technology_nm must be a number in \[22, 65\]"),
    (dict(pe_array=(4, 4), clock_ghz=0), "clock_ghz"),
    (dict(pe_array=(4, 4), dram_bandwidth_words_per_cycle=-2), "dram_bandwidth_words_per_cycle"),
    (dict(pe_array=(4, 4), glb_bandwidth=0), "glb_bandwidth"),
    (dict(pe_array=(4, 4), glb_keeps=("Psums",)), "glb_keeps"),
    (dict(pe_array=(4, 4), rf_words=(1, 1, 1), rf_order=("Inputs", "Weights")), "rf_order"),
    (dict(), "pe_array"),
])
def test_bad_sizes_name_the_field_and_range(kwargs, field):
    with pytest.raises(ValueError, match=field):
        build_accelerator(**kwargs)


def test_unlimited_bandwidth():
    acc = build_accelerator(pe_array=(2, 2), dram_bandwidth_words_per_cycle=None)
    assert acc.levels[0].shared_bandwidth is None

