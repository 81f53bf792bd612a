"""Files Timeloop accepts are read too: keys Timeloop ignores are ignored with a warning (one `warning:` line on
the command line), the forms its own reader allows are read as it reads them, and only what cosearch cannot
model is refused."""
import warnings

import pytest
import yaml

from accel_models.timeloop import layer_from_timeloop, load_spec, problem_from_timeloop
from accel_models.timeloop.__main__ import main
from nets import DIMS, Layer

# A 2-D convolution as timeloopfe's example problems write it: the output channels called M, and the input's
# height, width and padding (H, W, Hpad, Wpad) in the instance, which no projection uses.
CONV_PROBLEM = """problem:
  version: 0.4
  shape:
    name: conv2D
    dimensions: [C, M, R, S, N, P, Q]
    coefficients:
    - {name: Wstride, default: 1}
    - {name: Hstride, default: 1}
    - {name: Wdilation, default: 1}
    - {name: Hdilation, default: 1}
    data_spaces:
    - name: Weights
      projection: [[[C]], [[M]], [[R]], [[S]]]
    - name: Inputs
      projection: [[[N]], [[C]], [[R, Wdilation], [P, Wstride]], [[S, Hdilation], [Q, Hstride]]]
    - name: Outputs
      projection: [[[N]], [[M]], [[Q]], [[P]]]
      read_write: true
  instance: {C: 4, M: 8, R: 3, S: 3, N: 1, P: 6, Q: 6, Wstride: 2, Hstride: 2, W: 13, H: 13, Wpad: 0, Hpad: 0}
"""
CONV = Layer(C=4, K=8, R=3, S=3, P=6, Q=6, stride_w=2, stride_h=2)
# A two-level design in Timeloop's own `subtree` / `local` form, the MAC listed before the registers that feed
# it (Timeloop puts the compute element innermost wherever `local` lists it).
ARCH = """architecture:
  version: 0.4
  subtree:
  - name: system
    attributes: {technology: 45nm}
    local:
    - {name: DRAM, class: DRAM, attributes: {width: 64, datawidth: 16}}
    - {name: GLB, class: smartbuffer_SRAM, attributes: {depth: 1024, width: 64, datawidth: 16}}
    subtree:
    - name: PE[0..3]
      local:
      - {name: mac, class: intmac, attributes: {datawidth: 16, meshX: 4}}
      - {name: RF, class: regfile, attributes: {depth: 64, width: 16, datawidth: 16, meshX: 4}}
"""
ERT = {"ERT": {"version": 0.4, "tables": [
    {"name": f"system.{n}", "actions": [{"name": a, "energy": e} for a in ("read", "write", "update")]}
    for n, e in (("DRAM", 64.0), ("GLB", 4.0), ("RF", 0.25))]
    + [{"name": "system.PE[0..3].mac", "actions": [{"name": "compute", "energy": 1.0}]}]}}
MAPPING = """mapping:
- {target: DRAM, type: temporal, factors: C=4 M=2 R=1 S=1 N=1 P=1 Q=1, permutation: CMRSNPQ}
- {target: GLB, type: temporal, factors: C=1 M=1 R=3 S=3 N=1 P=6 Q=6, permutation: RSPQCMN}
- {target: GLB, type: spatial, factors: M=4, permutation: MCRSNPQ, split: 1}
- {target: RF, type: temporal, factors: C=1 M=1 R=1 S=1 N=1 P=1 Q=1, permutation: CMRSNPQ}
"""


def _plain_problem() -> dict:
    """CONV_PROBLEM without the keys no projection uses."""
    doc = yaml.safe_load(CONV_PROBLEM)
    for key in ("H", "W", "Hpad", "Wpad"):
        del doc["problem"]["instance"][key]
    return doc


def _write(tmp_path, **texts) -> list:
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def _load(paths, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_spec(paths, ert=ERT, **kwargs)
    return spec, [str(w.message) for w in caught]


# ---- problems -------------------------------------------------------------------------------------
def test_instance_keys_that_are_neither_dims_nor_coefficients_warn():
    with pytest.warns(UserWarning, match=r"problem.instance: H, Hpad, W, Wpad ignored: neither a dim nor a "
                                         r"coefficient"):
        layer, names = problem_from_timeloop(CONV_PROBLEM)
    assert layer == CONV and names.dims["M"] == "K"


def test_command_line_prints_the_ignored_keys_as_a_warning_line(tmp_path, capsys):
    paths = _write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=MAPPING)
    ert = tmp_path / "ert.yaml"
    ert.write_text(yaml.safe_dump(ERT))
    assert main(["model", *map(str, paths), "--ert", str(ert), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: problem.instance: H, Hpad, W, Wpad ignored: neither a dim nor a coefficient of the "
                   "problem (C, Hdilation, Hstride, M, N, P, Q, R, S, Wdilation, Wstride)"]


@pytest.mark.parametrize("edit, warning", [
    (lambda p: p.update(note="from timeloopfe"), r"problem: key\(s\) \['note'\] ignored"),
    (lambda p: p["shape"].update(ranks=1), r"problem.shape: key\(s\) \['ranks'\] ignored"),
    (lambda p: p["shape"]["data_spaces"][0].update(format="CSR"), r"data_spaces\[0\]: key\(s\) \['format'\] ignored"),
    (lambda p: p["instance"].update(commonDensity=0.5), r"commonDensity 0.5: cosearch models dense tensors"),
])
def test_keys_timeloop_ignores_warn_and_change_nothing(edit, warning):
    doc = _plain_problem()
    edit(doc["problem"])
    with pytest.warns(UserWarning, match=warning) as caught:
        assert layer_from_timeloop(doc) == CONV
    assert len(caught) == 1


def test_data_space_ranks_are_read():
    doc = _plain_problem()
    doc["problem"]["shape"]["data_spaces"][2]["ranks"] = ["N", "M", "Q", "P"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert layer_from_timeloop(doc) == CONV


def test_a_problem_without_shape_is_a_cnn_layer_and_bounds_may_sit_beside_the_shape():
    bounds = {"R": 3, "S": 3, "P": 6, "Q": 6, "C": 4, "K": 8, "N": 1, "Wstride": 2, "Hstride": 2}
    with pytest.warns(UserWarning, match=r"problem.shape: missing; assuming Timeloop's cnn_layer"):
        assert layer_from_timeloop({"problem": {"instance": bounds}}) == CONV
    assert layer_from_timeloop({"problem": {"shape": "cnn_layer", **bounds}}) == CONV   # Timeloop's older form
    with pytest.raises(ValueError, match=r"problem.instance: missing"):
        layer_from_timeloop({"problem": {"shape": "cnn_layer", "Wstride": 2}})


def test_timeloops_gemm_abz_shape_by_name():
    layer, names = problem_from_timeloop({"problem": {"shape": "gemm_ABZ", "instance": {"M": 16, "N": 4, "K": 32}}})
    assert layer == Layer(K=16, N=4, C=32) and names.tensors == {"A": "Weights", "B": "Inputs", "Z": "Outputs"}


# ---- architectures and mappings -------------------------------------------------------------------
def test_subtree_compute_listed_before_storage_is_innermost(tmp_path):
    spec, caught = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=MAPPING))
    assert spec.accelerator.level_names == ("DRAM", "GLB", "RF") and spec.accelerator.levels[1].fanout_x == 4
    assert spec.accelerator.mac_energy_pj == 1.0 and spec.mapping.spatial_x[0, 1, DIMS.index("K")] == 4
    assert caught == [m for m in caught if m.startswith("problem.instance")]


def test_subtree_element_of_unknown_class_and_unknown_keys_are_skipped(tmp_path):
    arch = ARCH.replace("    - {name: GLB,", "    - {name: probe, class: counter, attributes: {}}\n    - {name: GLB,")
    arch = arch.replace("    - name: PE[0..3]\n", "    - name: PE[0..3]\n      description: four lanes\n")
    spec, caught = _load(_write(tmp_path, arch=arch, prob=CONV_PROBLEM, map=MAPPING))
    assert spec.accelerator.level_names == ("DRAM", "GLB", "RF")
    assert any("(probe): class 'counter' is no storage" in m and "skipped" in m for m in caught)
    assert any("key(s) ['description'] ignored" in m for m in caught)


def test_spatial_entry_of_factors_1_at_a_level_without_fanout_maps_nothing(tmp_path):
    plain, _ = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=MAPPING))
    ones = MAPPING + "- {target: DRAM, type: spatial, factors: C=1 M=1 R=1 S=1 N=1 P=1 Q=1, permutation: CMRSNPQ}\n"
    spec, caught = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=ones))
    assert all((a == b).all() for a, b in zip(spec.mapping, plain.mapping))
    assert any("DRAM has no spatial fan-out; its spatial entry (every factor 1) maps nothing" in m for m in caught)
    unrolled = MAPPING + "- {target: RF, type: spatial, factors: P=2}\n"
    with pytest.raises(ValueError, match=r"RF has no spatial fan-out to map P=2 onto"):
        _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=unrolled))


def test_unknown_mapping_keys_warn(tmp_path):
    noted = MAPPING.replace("permutation: RSPQCMN}", "permutation: RSPQCMN, comment: halo}")
    spec, caught = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=noted))
    assert spec.mapping is not None and any("key(s) ['comment'] ignored" in m for m in caught)


def test_container_spatial_constraints_without_fanout_are_ignored(tmp_path):
    arch = """architecture:
  version: 0.4
  nodes:
  - !Container {name: system, attributes: {technology: 45nm}}
  - !Component {name: DRAM, class: DRAM, attributes: {width: 64, datawidth: 16}}
  - !Container
    name: chip
    constraints: {spatial: {factors: [M=1]}}
  - !Component {name: GLB, class: smartbuffer_SRAM, attributes: {depth: 1024, width: 64, datawidth: 16}}
  - !Container {name: PE, spatial: {meshX: 4}}
  - !Component {name: RF, class: regfile, attributes: {depth: 64, width: 16, datawidth: 16}}
  - !Component {name: mac, class: intmac, attributes: {datawidth: 16}}
"""
    mapping = MAPPING.replace("{target: GLB, type: spatial", "{target: PE, type: spatial")
    spec, caught = _load(_write(tmp_path, arch=arch, prob=CONV_PROBLEM, map=mapping))
    assert spec.accelerator.level_names == ("DRAM", "GLB", "inter_PE_spatial", "RF")
    assert any("(chip).constraints.spatial: the container has no spatial fan-out" in m for m in caught)


# ---- mapspace constraints -------------------------------------------------------------------------
def test_constraints_by_name_with_min_factors_and_options_cosearch_does_not_enforce(tmp_path):
    constraints = """mapspace_constraints:
  targets:
  - {name: GLB, type: temporal, factors: R=3 P>=2, permutation: RS, remainders: 2}
  - {target: GLB, type: spatial, factors: M=4, split: 1, permutation: M, owner: lab}
  - {target: RF, type: bypass, keep: [Weights], bypass: [Inputs, Outputs]}
"""
    spec, caught = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, cons=constraints))
    glb = spec.constraints.level("GLB")
    assert glb.temporal_factors == {"R": 3} and glb.spatial_factors == {"K": 4}
    assert spec.accelerator.levels[2].keeps == ("Weights",)
    assert any("max/min factors (P>=2) are not enforced" in m for m in caught)
    assert any("remainders not enforced" in m for m in caught)
    assert any("key(s) ['owner'] ignored" in m for m in caught)


def test_a_split_past_the_last_dim_puts_every_dim_on_x(tmp_path):
    """Timeloop puts permutation position i on X when i < split: a split past the last dim is all-X."""
    wide = MAPPING.replace("permutation: MCRSNPQ, split: 1", "permutation: CRSNPQM, split: 9")
    spec, _ = _load(_write(tmp_path, arch=ARCH, prob=CONV_PROBLEM, map=wide))
    assert spec.mapping.spatial_x[0, 1, DIMS.index("K")] == 4 and (spec.mapping.spatial_y == 1).all()
