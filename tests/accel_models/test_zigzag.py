"""ZigZag 3.x files in and out (accel_models.zigzag) on ZigZag's own example files (tests/accel_models/data/zigzag,
MIT, copied from zigzag-dse 3.9.1)."""
import math
from dataclasses import fields
from pathlib import Path

import pytest

from accel_models import evaluate_batch, get_preset
from accel_models.zigzag import (accelerator_to_zigzag, accelerator_to_zigzag_yaml, mapping_to_zigzag,
                                 mapping_to_zigzag_yaml, read_zigzag_accelerator, read_zigzag_mapping,
                                 zigzag_constraints)
from mappings import best_mapping
from nets import Layer

DATA = Path(__file__).parent / "data" / "zigzag"


def _same_levels(a, b):
    for x, y in zip(a.levels, b.levels, strict=True):
        for f in fields(x):
            u, v = getattr(x, f.name), getattr(y, f.name)
            assert u == v or (isinstance(u, float) and math.isclose(u, v, rel_tol=1e-12)), (x.name, f.name, u, v)


def test_tpu_like_reads_as_zigzag_defines_it():
    acc = read_zigzag_accelerator(DATA / "tpu_like.yaml", DATA / "tpu_like_mapping.yaml")
    assert acc.level_names == ("dram", "sram_2MB", "rf_2B", "rf_128B")  # ZigZag lists them innermost first
    dram, sram, rf_o, rf_w = acc.levels
    assert acc.mesh == (32, 32) and (sram.fanout_x, sram.fanout_y) == (32, 32)  # rf_* serve no dimension: per PE
    assert sram.keeps == ("Inputs", "Outputs") and rf_o.keeps == ("Outputs",) and rf_w.keeps == ("Weights",)
    assert sram.capacity_words == 16777216 // 8 and rf_w.capacity_words == 1024 // 8 and rf_o.capacity_words == 1
    # r_cost per access of bandwidth_max (2048 b) bits, granule bandwidth_min (64 b) = a block of 8 words
    assert sram.block_size_words == 8 and math.isclose(sram.read_energy_pj, 416.16 * 64 / 2048)
    assert math.isclose(sram.write_energy_pj, 378.4 * 64 / 2048) and sram.read_bandwidth == 2048 / 8
    assert dram.shared_bandwidth == 8 and dram.read_energy_pj == 700 and dram.kind == "DRAM"
    assert acc.mac_energy_pj == 0.04
    assert (acc.dataflow.spatial_x, acc.dataflow.spatial_y) == (("K",), ("C",))


@pytest.mark.parametrize("name", ["tpu_like", "eyeriss_like", "edge_tpu_like", "tesla_npu_like", "gemm_l1"])
def test_examples_load_and_map(name):
    mapping = DATA / f"{name}_mapping.yaml"
    acc = read_zigzag_accelerator(DATA / f"{name}.yaml", mapping if mapping.exists() else None)
    layer = Layer.conv(64, 64, 3, 14)
    result = best_mapping(layer, acc, budget_evals=400, seed=0)
    assert result.valid and result.energy_pj > layer.macs * acc.mac_energy_pj


def test_four_array_dimensions_fold_into_x_and_y_and_unnested_memories_are_noted():
    edge = read_zigzag_accelerator(DATA / "edge_tpu_like.yaml", DATA / "edge_tpu_like_mapping.yaml")
    assert edge.mesh == (8 * 4, 8 * 4)  # D1 x D3, D2 x D4
    tesla = read_zigzag_accelerator(DATA / "tesla_npu_like.yaml")
    assert any("rf_1B" in note and "not nested" in note for note in tesla.meta["zigzag_notes"])


def test_written_files_read_back_the_same():
    acc = read_zigzag_accelerator(DATA / "tpu_like.yaml", DATA / "tpu_like_mapping.yaml")
    _same_levels(acc, read_zigzag_accelerator(accelerator_to_zigzag(acc), mapping_to_zigzag(acc)))
    eyeriss = get_preset("eyeriss")
    text, mapping = accelerator_to_zigzag_yaml(eyeriss), mapping_to_zigzag_yaml(eyeriss)
    back = read_zigzag_accelerator(_write(text), _write(mapping), word_bits=16, psum_bits=16)  # Eyeriss: 16-bit
    layer = Layer.conv(32, 64, 3, 13)
    best = best_mapping(layer, eyeriss, budget_evals=400, seed=1)
    # the same mapping costs the same on the preset and on its ZigZag round trip
    a, b = evaluate_batch(layer, eyeriss, best.arrays), evaluate_batch(layer, back, best.arrays)
    assert a.valid[0] and b.valid[0] and a.cycles[0] == b.cycles[0]
    assert math.isclose(a.energy_pj[0], b.energy_pj[0], rel_tol=1e-9)


def _write(text: str, _count=[0]) -> Path:
    import tempfile

    _count[0] += 1
    path = Path(tempfile.mkdtemp()) / f"doc{_count[0]}.yaml"
    path.write_text(text)
    return path


def test_mapping_file_gives_per_layer_constraints():
    acc = read_zigzag_accelerator(DATA / "tpu_like.yaml", DATA / "tpu_like_mapping.yaml")
    entries = read_zigzag_mapping(DATA / "tpu_like_mapping.yaml")
    assert [e.name for e in entries] == ["default", "Add", "Pooling", "example_name_of_layer0"]
    assert entries[3].temporal[0] == ("OX", 112)
    c = zigzag_constraints(entries, acc, Layer.conv(64, 128, 3, 28)).level("sram_2MB")
    assert c.spatial_factors == {"C": 32, "K": 32} and c.spatial_x == ("K",) and c.spatial_y == ("C",)
    first = zigzag_constraints(entries, acc, Layer.conv(3, 64, 7, 112, stride=2)).level("sram_2MB")
    assert first.spatial_factors == {"C": 3, "K": 32}  # ZigZag clips an unrolling to the layer's size
    named = zigzag_constraints(entries, acc, Layer.conv(3, 64, 7, 112, name="example_name_of_layer0"))
    assert named.level("sram_2MB").spatial_x == ("C",)


@pytest.mark.parametrize("edit, field", [
    (lambda t: t.replace("size: 16777216", "size: big"), "memories.sram_2MB.size"),
    (lambda t: t.replace("served_dimensions: [D1, D2]\n\n  dram", "served_dimensions: [X1]\n\n  dram"),
     "memories.sram_2MB.served_dimensions"),
    (lambda t: t.replace("operands: [I1, O]", "operands: [I3]"), "memories.sram_2MB.operands"),
    (lambda t: t.replace("bandwidth_max: 2048", "bandwidth_max: 32", 1), "memories.sram_2MB.ports[0].bandwidth_max"),
    (lambda t: t.replace("sizes: [32, 32]", "sizes: [32]"), "operational_array.dimensions"),
    (lambda t: t.replace("    r_cost: 700\n", ""), "memories.dram.r_cost"),
    (lambda t: t + "\n  : [", "not valid YAML"),
])
def test_bad_accelerator_is_one_line_naming_file_and_field(tmp_path, edit, field):
    path = tmp_path / "bad.yaml"
    path.write_text(edit((DATA / "tpu_like.yaml").read_text()))
    with pytest.raises(ValueError) as info:
        read_zigzag_accelerator(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and field in message


def test_imc_arrays_and_bad_mapping_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"aimc\.yaml: operational_array\.is_imc: in-memory computing"):
        read_zigzag_accelerator(DATA / "aimc.yaml")
    bad = tmp_path / "map.yaml"
    bad.write_text("- name: default\n  spatial_mapping:\n    D1:\n      - Q, 32\n")
    with pytest.raises(ValueError, match=r"map\.yaml: \[0\]\.spatial_mapping\.D1: 'Q, 32': accepted dims"):
        read_zigzag_mapping(bad)


def test_an_axis_split_over_two_levels_cannot_be_written():
    acc = read_zigzag_accelerator(DATA / "tpu_like.yaml")
    split = acc.with_levels(sram_2MB={"fanout_x": 4}, rf_2B={"fanout_x": 8})
    with pytest.raises(ValueError, match="X axis fans out at sram_2MB, rf_2B"):
        accelerator_to_zigzag(split)


# ZigZag 3.9.1's choice (LOMA, EDP) for a 64->64 3x3 conv on 28x28 on tpu_like, as benchmarks/_zigzag_side.py reports
# it; ZigZag's own model costs it 19,170,876.544 pJ and 34,560 cycles.
ZIGZAG_CHOICE = {
    "dims": {"B": 1, "K": 64, "G": 1, "OX": 28, "OY": 28, "C": 64, "FX": 3, "FY": 3},
    "spatial": {"D1": [["K", 32.0]], "D2": [["C", 32.0]]},
    "temporal": {"O": [[["C", 2], ["FY", 3], ["FX", 3]], [["OY", 28], ["OX", 28], ["K", 2]], []],
                 "W": [[["C", 2], ["FY", 3], ["FX", 3], ["OY", 28], ["OX", 28], ["K", 2]], []],
                 "I": [[["C", 2], ["FY", 3], ["FX", 3], ["OY", 28], ["OX", 28], ["K", 2]], []]},
    "memories": {"O": ["rf_2B", "sram_2MB", "dram"], "W": ["rf_128B", "dram"], "I": ["sram_2MB", "dram"]},
}


def test_zigzag_chosen_mapping_converts_and_costs_what_zigzag_says():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_peers import zigzag_entry, zigzag_to_mapping

    acc = read_zigzag_accelerator(DATA / "tpu_like.yaml", DATA / "tpu_like_mapping.yaml")
    layer = Layer.conv(64, 64, 3, 28)
    ordered, mapping = zigzag_to_mapping(acc, layer, ZIGZAG_CHOICE)
    assert ordered.level_names == ("dram", "sram_2MB", "rf_128B", "rf_2B")  # O's register holds the fewest loops
    result = evaluate_batch(layer, ordered, [mapping])
    assert result.valid[0] and result.cycles[0] == 28 * 28 * 2 * 2 * 9  # every temporal loop, none stalls
    assert abs(result.energy_pj[0] / 19_170_876.544 - 1) < 0.05      # ZigZag's own figure for its mapping
    entry = zigzag_entry(acc, mapping, "conv0", {"O": "O", "W": "I2", "I": "I1"})
    assert entry["spatial_mapping"] == {"D1": ["K, 32"], "D2": ["C, 32"]}
    assert entry["temporal_ordering"] == [["C", 2], ["FY", 3], ["FX", 3], ["OY", 28], ["OX", 28], ["K", 2]]


# ---- ZigZag's own validator rules (zigzag-dse 3.9's schemas and checks) and what cosearch cannot model -----------
@pytest.mark.parametrize("edit, field, words", [
    # the array: a dimension named twice, too many MACs, a systolic dimension not in the array
    (lambda t: t.replace("dimensions: [D1, D2]", "dimensions: [D1, D1]"), "operational_array.dimensions",
     "D1 more than once"),
    (lambda t: t.replace("dimensions: [D1, D2]", "dimensions: [D2, D2]").replace("sizes: [32, 32]", "sizes: [4, 8]"),
     "operational_array.dimensions", "D2 more than once"),
    (lambda t: t.replace("sizes: [32, 32]", f"sizes: [{2**40}, 1]"), "operational_array.sizes", "2**20"),
    (lambda t: t.replace("sizes: [32, 32]", "sizes: [2048, 1024]"), "operational_array.sizes", "2**20"),
    (lambda t: t.replace("dimensions: [D1, D2]", "dimensions: [D1, D2]\n  systolic_dimensions: [D3]"),
     "operational_array.systolic_dimensions", "D1, D2"),
    # memory sizes in bits that are not whole words, or more words than an accelerator holds
    (lambda t: t.replace("size: 1024", "size: 1"), "memories.rf_128B.size", "multiple of 8 bits"),
    (lambda t: t.replace("size: 1024", "size: 1020"), "memories.rf_128B.size", "multiple of 8 bits"),
    (lambda t: t.replace("size: 16\n", "size: 24\n"), "memories.rf_2B.size", "multiple of 16 bits"),  # outputs only
    (lambda t: t.replace("size: 10000000000", f"size: {2**80}"), "memories.dram.size", "2**62"),
    # fields ZigZag's schema requires or constrains
    (lambda t: t.replace("served_dimensions: [D1, D2]\n\n  dram", "served_dimensions: [D1, D3]\n\n  dram"),
     "memories.sram_2MB.served_dimensions", "D1, D2"),
    (lambda t: t.replace("    latency: 1\n", "", 1), "memories.rf_128B.latency", "missing"),
    (lambda t: t.replace("    area: 0\n", "", 1), "memories.rf_128B.area", "missing"),
    (lambda t: t.replace("operands: [I2]", "operands: [I2, I2]"), "memories.rf_128B.operands", "at most once"),
    (lambda t: t.replace("name: r_port_1", "name: port1", 1), "memories.rf_128B.ports[0].name", "r_port_<n>"),
    (lambda t: t.replace("- I2, tl", "- I2, fh", 1), "memories.rf_128B.ports[0].allocation[0]", "read port"),
    (lambda t: t.replace("- I2, fh", "- I2, th", 1), "memories.rf_128B.ports[1].allocation[0]", "write port"),
    (lambda t: t.replace("- I2, tl", "- I3, tl", 1), "memories.rf_128B.ports[0].allocation[0]", "I1, I2, O"),
])
def test_what_zigzags_validator_refuses_is_refused_naming_the_files_field(tmp_path, edit, field, words):
    path = tmp_path / "bad.yaml"
    text = (DATA / "tpu_like.yaml").read_text()
    assert edit(text) != text    # the edit applies to the example
    path.write_text(edit(text))
    with pytest.raises(ValueError) as info:
        read_zigzag_accelerator(path)
    message = str(info.value)
    assert "\n" not in message and f"{path}: {field}:" in message and words in message, message


@pytest.mark.parametrize("edit, field, words", [
    (lambda t: t.replace("name: default", "name: conv"), "(top level)", "'default' entry"),
    (lambda t: t.replace("name: default", "name: Default"), "(top level)", "'default' entry"),
    (lambda t: t.replace("    W: I2\n", "", 1), "[0].memory_operand_links", "all of O, W and I"),
])
def test_a_mapping_file_zigzag_refuses_is_refused(tmp_path, edit, field, words):
    """ZigZag applies the 'default' entry to every layer no other entry names, and refuses a file without one."""
    path = tmp_path / "map.yaml"
    text = (DATA / "tpu_like_mapping.yaml").read_text()
    assert edit(text) != text
    path.write_text(edit(text))
    for read in (read_zigzag_mapping, lambda p: read_zigzag_accelerator(DATA / "tpu_like.yaml", p)):
        with pytest.raises(ValueError) as info:
            read(path)
        message = str(info.value)
        assert "\n" not in message and f"{path}: {field}:" in message and words in message, message
