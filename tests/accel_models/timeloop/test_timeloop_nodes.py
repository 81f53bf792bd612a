"""Timeloop v0.4 `nodes:` architectures as timeloopfe users write them, and mappings in the forms users and
Timeloop's tools write them."""
import numpy as np
import pytest

from accel_models.timeloop import load_spec
from nets import DIMS

ERT = {"ERT": {"version": 0.4, "tables": [
    {"name": f"system.{n}", "actions": [{"name": a, "energy": e} for a in ("read", "write", "update")]
     + [{"name": "leak", "energy": 0.01}]} for n, e in (("DRAM", 100.0), ("GLB", 5.0), ("RF", 0.5), ("W_reg", 0.1),
                                                         ("I_reg", 0.1))]
    + [{"name": "system.mac", "actions": [{"name": "compute", "energy": 1.0}, {"name": "leak", "energy": 0.5}]}]}}
ARCH = """
variables:
  version: 0.4
  WORD: {{ word }}
  GLB_WORDS: 4096
architecture:
  version: 0.4
  nodes:
  - !Container
    name: system
    attributes: {technology: "45nm", global_cycle_seconds: 1e-9}
  - !Component
    name: DRAM
    class: DRAM
    attributes: {width: 64, datawidth: WORD, type: LPDDR4}
  - !Component
    name: GLB
    class: smartbuffer_SRAM
    attributes:
      depth: GLB_WORDS // (64 // WORD)
      width: 64
      datawidth: WORD
      read_bandwidth: max(WORD, 4)
    constraints:
      dataspace: {keep: [Inputs, Outputs], bypass: [Weights]}
  - !Container
    name: PE
    spatial: {meshX: 4, meshY: 2}
    constraints:
      spatial: {permutation: [M, P], split: 1, factors: [C=1]}
  - !Component
    name: RF
    class: regfile
    attributes: {depth: 16, width: WORD, datawidth: WORD, cluster_size: 1}
  - !Parallel
    nodes:
    - !Component
      name: W_reg
      class: regfile
      attributes: {depth: 1, width: WORD, datawidth: WORD}
      constraints: {dataspace: {keep: [Weights]}}
    - !Component
      name: I_reg
      class: regfile
      attributes: {depth: 1, width: WORD, datawidth: WORD}
      constraints: {dataspace: {keep: [Inputs]}}
  - !Component
    name: mac
    class: intmac
    attributes: {multiplier_width: WORD, adder_width: 2 * WORD}
"""
PROBLEM = {"problem": {"shape": {"name": "CNN_Layer", "dimensions": ["C", "M", "R", "P"], "data_spaces": [
    {"name": "Weights", "projection": "[C, M, R]"}, {"name": "Inputs", "projection": "[C, R + P]"},
    {"name": "Outputs", "projection": "[M, P]", "read_write": True}]}, "instance": {"C": 2, "M": 8, "R": 3, "P": 8}}}
MAPPING = {"mapping": [
    {"target": "DRAM", "type": "temporal", "factors": "C2 M1 R1 P1", "permutation": "CMRP"},
    {"target": "GLB", "type": "temporal", "factors": "R=3,P=2", "permutation": "RP"},
    {"target": "PE", "type": "spatial", "factors": "M=4 P=2", "permutation": "MP", "split": 1},
    {"target": "RF", "type": "temporal", "factors": "M2 P2", "permutation": "PM"},
    {"target": "RF", "type": "dataspace", "keep": ["Weights", "Outputs"], "bypass": ["Inputs"]},
]}


def _spec(tmp_path, word=16, mapping=MAPPING):
    arch = tmp_path / "arch.yaml"
    arch.write_text(ARCH)
    return load_spec([arch, PROBLEM, mapping, ERT], jinja={"word": word})


def test_nodes_flatten_with_placeholder_parallel_and_expressions(tmp_path):
    spec = _spec(tmp_path)
    acc = spec.accelerator
    assert acc.level_names == ("DRAM", "GLB", "inter_PE_spatial", "RF", "W_reg", "I_reg")
    assert [(lv.fanout_x, lv.fanout_y) for lv in acc.levels] == [(1, 1), (1, 1), (4, 2), (1, 1), (1, 1), (1, 1)]
    glb = acc.levels[1]
    assert (glb.capacity_words, glb.block_size_words, glb.word_bits, glb.read_bandwidth) == (4096, 4, 16, 16)
    assert glb.keeps == ("Inputs", "Outputs")               # constraints written inside the component
    assert acc.levels[2].keeps == ()                         # the placeholder keeps nothing
    assert acc.levels[4].keeps == ("Weights",) and acc.levels[5].keeps == ("Inputs",)   # !Parallel branches
    assert acc.mac_bits == 16 and acc.num_macs == 8 and acc.technology_nm == 45
    assert [lv.leak_energy_pj for lv in acc.levels] == [0.01, 0.01, 0.0, 0.01, 0.01, 0.01]
    narrow = _spec(tmp_path, word=8).accelerator.levels[1]   # the Jinja2 variable reaches the expressions
    assert (narrow.capacity_words, narrow.block_size_words, narrow.read_bandwidth) == (4096, 8, 8)


def test_mapping_forms_and_container_target(tmp_path):
    spec = _spec(tmp_path)
    m, K, P, R = spec.mapping, DIMS.index("K"), DIMS.index("P"), DIMS.index("R")
    assert m.spatial_x[0, 2, K] == 4 and m.spatial_y[0, 2, P] == 2      # on the PE container's placeholder
    assert m.temporal[0, 1, R] == 3 and m.temporal[0, 3, K] == 2          # 'R=3,P=2' and 'M2 P2' (M is K)
    assert m.keep[0, 3].tolist() == [1, 0, 1]
    inner_first = [DIMS[d] for d in m.order[0, 3][::-1]]
    assert inner_first[:2] == ["P", "K"]                                  # the partial permutation 'PM'


def test_constraints_reach_the_mapper_and_the_model_check(tmp_path):
    spec = _spec(tmp_path)
    c = spec.constraints.level("inter_PE_spatial")
    assert c.spatial_x == ("K", "C", "R") and c.spatial_y == ("P", "C", "R")   # split 1 of [M, P]; the rest free
    assert c.spatial_factors == {"C": 1} and set(c.bypass) == {"Weights", "Inputs", "Outputs"}
    bad = {"mapping": [dict(e) for e in MAPPING["mapping"]]}
    bad["mapping"][2]["split"] = 0                                        # M on Y: the constraints allow X only
    with pytest.raises(ValueError, match=r"the mapping breaks the constraints: inter_PE_spatial: \['K'\] unrolled"):
        _spec(tmp_path, mapping=bad)


@pytest.mark.parametrize("edit, match", [
    (lambda a: a.replace("    spatial: {meshX: 4, meshY: 2}", "    spatial: {meshX: 4, meshY: 2}\n    spacial: 1"),
     r"unknown key\(s\) \['spacial'\]"),
    (lambda a: a.replace("class: regfile\n    attributes: {depth: 16", "class: flipflop\n    attributes: {depth: 16"),
     r"unknown class 'flipflop'"),
    (lambda a: a.replace("keep: [Inputs]}}", "keep: [Weights]}}"), r"both keep \['Weights'\]"),
    (lambda a: a.replace("      datawidth: WORD\n", "      datawidth: WORDS\n"),
     r"GLB.*datawidth must be a number, got 'WORDS' \(unknown name 'WORDS'\)"),
    (lambda a: a.replace("  GLB_WORDS: 4096", "  GLB_WORDS: GLB_WORDS + 1"), r"in terms of itself"),
])
def test_malformed_nodes_are_named(tmp_path, edit, match):
    arch = tmp_path / "arch.yaml"
    arch.write_text(edit(ARCH))
    with pytest.raises(ValueError, match=match):
        load_spec([arch, PROBLEM, MAPPING, ERT], jinja={"word": 16})


def test_spec_round_trips_through_the_mapping_writer(tmp_path):
    from accel_models.timeloop import mapping_to_timeloop_yaml
    spec = _spec(tmp_path)
    text = mapping_to_timeloop_yaml(spec.mapping, spec.accelerator, spec.layer, names=spec.names)
    assert "M=" in text and "K=" not in text and "target: inter_PE_spatial" in text
    path = tmp_path / "written.map.yaml"
    path.write_text(text)
    again = load_spec([tmp_path / "arch.yaml", PROBLEM, path, ERT], jinja={"word": 16})
    for field in ("temporal", "spatial_x", "spatial_y", "keep"):
        assert np.array_equal(getattr(again.mapping, field), getattr(spec.mapping, field)), field
    problem = [DIMS.index(d) for d in spec.names.dims.values()]
    for l in range(spec.accelerator.num_levels):
        assert [d for d in again.mapping.order[0, l] if d in problem] == [d for d in spec.mapping.order[0, l]
                                                                          if d in problem]
