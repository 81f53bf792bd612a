"""AccelForge architectures read as `Accelerator`s: AccelForge's own examples (tests/data/accelforge, MIT) and
small files that break one rule each."""
from pathlib import Path

import pytest

from accel_models import tech
from accel_models.accelforge import read_accelforge_arch

ARCHES = Path(__file__).resolve().parents[1] / "data" / "accelforge" / "arches"


def _levels(acc):
    return {lv.name: lv for lv in acc.levels}


def test_simple_states_every_energy_in_joules_per_bit():
    acc = read_accelforge_arch(ARCHES / "simple.yaml", {"GlobalBufferSize": 2**20, "MainMemoryEnergy": 2})
    main, glb = acc.levels
    assert acc.level_names == ("MainMemory", "GlobalBuffer") and acc.num_macs == 1
    assert main.capacity_words is None and glb.capacity_words == 2**20 // 8     # 1 Mib of 8-bit values
    assert main.read_energy_pj == pytest.approx(2 * 8 * 1e12)                    # 2 J a bit-action, 8 bits a word
    assert glb.write_energy_pj == pytest.approx(8e12) and acc.mac_energy_pj == pytest.approx(1e12)
    assert acc.clock_ghz == pytest.approx(1e-9)                                  # one MAC a second
    assert read_accelforge_arch(ARCHES / "simple.yaml").levels[1].capacity_words is None   # the default: inf


def test_eyeriss_fans_out_14_by_12_and_estimates_what_it_does_not_state():
    acc = read_accelforge_arch(ARCHES / "eyeriss.yaml")
    lv = _levels(acc)
    assert acc.num_macs == 168 and (lv["GlobalBuffer"].fanout_x, lv["GlobalBuffer"].fanout_y) == (14, 12)
    assert acc.clock_ghz == pytest.approx(0.2)                                   # its MAC's total_latency: / 200e6
    assert lv["GlobalBuffer"].capacity_words == 2**20 // 8 and lv["GlobalBuffer"].block_size_words == 8
    assert [lv[n].keeps for n in ("InputScratchpad", "WeightScratchpad", "OutputScratchpad")] == [
        ("Inputs",), ("Weights",), ("Outputs",)]
    assert lv["MainMemory"].kind == "DRAM" and lv["InputScratchpad"].kind == "regfile"
    assert lv["MainMemory"].read_energy_pj == pytest.approx(tech.dram_energy_pj_per_bit("LPDDR4") * 8)
    assert "GlobalBuffer (SmartBufferSRAM)" in acc.meta["accelforge"]["estimated"]
    assert acc.technology_nm == 65


def test_nvdla_reads_throughputs_as_words_per_cycle():
    acc = read_accelforge_arch(ARCHES / "nvdla.yaml")
    lv = _levels(acc)
    assert acc.num_macs == 32 * 192 and acc.clock_ghz == pytest.approx(1.0)
    assert lv["MainMemory"].shared_bandwidth == pytest.approx(38.4)             # 38.4 GB/s at 1 GHz, 8-bit words
    assert (lv["GlobalBuffer"].read_bandwidth, lv["GlobalBuffer"].write_bandwidth) == pytest.approx((512, 128))
    assert lv["GlobalBuffer"].read_energy_pj == pytest.approx(0.249e-12 * 8 * 1e12)
    assert lv["Register"].capacity_words == 1 and lv["Register"].read_energy_pj == 0   # one weight, a Dummy
    assert acc.mac_energy_pj == pytest.approx(0.084)


def test_spatial_reuse_limits_the_dims_each_axis_unrolls():
    def axes(arch):
        return {level: (x, y) for level, x, y in read_accelforge_arch(ARCHES / f"{arch}.yaml").dataflow.level_axes}
    assert axes("nvdla") == {"GlobalBuffer": (("K",), ("R", "S", "C"))}                  # reuse: input / output
    assert axes("eyeriss")["GlobalBuffer"] == (("P", "Q", "N"), ("R", "S", "C"))          # reuse: weight / output
    assert axes("tpu_v4i")["GlobalBuffer"][0] == ("G",)                                   # may_reuse: Nothing
    assert read_accelforge_arch(ARCHES / "simple.yaml").dataflow is None                  # no fan-out


def test_simba_keeps_its_own_word_for_partial_sums_and_prices_16nm_at_the_tables_edge():
    acc = read_accelforge_arch(ARCHES / "simba.yaml")
    lv = _levels(acc)
    assert acc.num_macs == 16 * 8 * 8 and (lv["AccumulationBuffer"].fanout_x, lv["AccumulationBuffer"].fanout_y) \
        == (8, 8)
    assert lv["AccumulationBuffer"].word_bits == 24 and lv["AccumulationBuffer"].capacity_words == 24576 // 24
    assert lv["GlobalBuffer"].keeps == ("Inputs", "Outputs")
    assert acc.meta["accelforge"]["tech_node_nm"] == pytest.approx(16) and acc.technology_nm == 22


def test_tpu_v4i_takes_the_enabled_compute_and_a_memorys_own_fan_out():
    acc = read_accelforge_arch(ARCHES / "tpu_v4i.yaml")
    lv = _levels(acc)
    assert acc.meta["accelforge"]["compute"] == "MAC"                          # ScalarUnit: enabled for 2 tensors
    assert lv["GlobalBuffer"].fanout == 4 and lv["LocalBuffer"].fanout == 128 * 128 and acc.num_macs == 65536
    assert acc.meta["accelforge"]["area_mm2"]["GlobalBuffer"] == pytest.approx(112)
    assert acc.clock_ghz == pytest.approx(1.05)


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    return path


GOOD = """arch:
  nodes:
  - !Memory {name: DRAM, size: inf, tensors: {keep: All}, actions: [{name: read, energy: 1e-12}, {name: write, energy: 1e-12}]}
  - !Memory {name: Buf, size: 1024, tensors: {keep: ~DRAM | input}, actions: [{name: read, energy: 1e-13}, {name: write, energy: 2e-13}]}
  - !Container {name: PE, spatial: [{name: x, fanout: 4}]}
  - !Compute {name: MAC, actions: [{name: compute, energy: 1e-13, throughput: 1e9}]}
"""


def test_a_small_file_reads_and_its_set_expressions_name_earlier_memories(tmp_path):
    acc = read_accelforge_arch(_write(tmp_path, GOOD))
    assert acc.levels[1].keeps == ("Inputs",) and acc.levels[1].fanout == 4 and acc.levels[1].capacity_words == 128


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("  - !Container", "  - !Toll {name: T}\n  - !Container"), r"nodes\[2\]: !Toll is not modelled"),
    (lambda t: t.replace("keep: ~DRAM | input", "keep: ~DRAM | inputs"), r"Buf\).tensors.keep: 'inputs'"),
    (lambda t: t.replace("size: 1024", "size: lots"), r"Buf\).size: 'lots' has no value"),
    (lambda t: t.replace("fanout: 4}]", "fanout: 4}, {name: y, fanout: 2}, {name: z, fanout: 2}]"),
     r"PE\).spatial: 3 fan-out dimensions"),
    (lambda t: t + "  - !Memory {name: After, size: 8, tensors: {keep: All}}\n", r"After\): a node below the compute"),
    (lambda t: t.replace("actions: [{name: compute, energy: 1e-13, throughput: 1e9}]", "actions: []"),
     r"MAC\).actions.compute.energy: no energy stated and no component_class"),
    (lambda t: t.replace("!Memory {name: DRAM", "!Memory {name: DRAM, spatial: [{name: a, fanout: 2}]"),
     r"DRAM\).spatial: a fan-out above every memory"),
    (lambda t: t.replace("arch:\n  nodes:", "arch:\n  nodes: 3\n  x:"), r"arch: expected a mapping with nodes"),
    (lambda t: t.replace("!Memory {name: DRAM", "!Memory [name: DRAM"), r"not valid YAML"),
    (lambda t: "workload: {}\n", r"no arch: section"),
    (lambda t: t.replace("{name: x, fanout: 4}", "{name: x, fanout: 4, reuse: All}"),
     r"PE\).spatial\[0\]: no loop dimension satisfies its reuse"),
])
def test_a_bad_file_names_the_file_and_the_field(tmp_path, edit, match):
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(ValueError, match=match) as info:
        read_accelforge_arch(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"no file at .*nope.yaml"):
        read_accelforge_arch(tmp_path / "nope.yaml")
