"""Timeloop YAML interop: the readers agree with the corpus's JSON loader, the writers give the corpus's files back."""
import json
import re
import warnings
from dataclasses import replace

import numpy as np
import pytest
import yaml

from accel_models import TENSORS, presets
from accel_models.mapping_arrays import MappingArrays
from accel_models.timeloop_corpus import default_corpus_path, load_cases
from accel_models.timeloop_yaml import (accelerator_from_timeloop, arch_to_timeloop_yaml, constraints_to_timeloop_yaml,
                                        ert_to_timeloop_yaml, layer_from_timeloop, load_timeloop,
                                        mapping_from_timeloop, mapping_to_timeloop_yaml, problem_to_timeloop_yaml)
from nets import DIMS, Layer

CORPUS = default_corpus_path()
MAPPER_BENCH = CORPUS.parent / "mapper_bench"
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"corpus not found at {CORPUS}")


@pytest.fixture(scope="module")
def cases():
    return load_cases(CORPUS)


@pytest.fixture(scope="module")
def loaded(cases):
    """case id -> (layer, accelerator, arrays) read from the case's four YAML files."""
    return {c.id: load_timeloop(**{k: c.raw["timeloop_yaml"][k] for k in ("arch", "problem", "mapping", "ert")})
            for c in cases}


def _same_arrays(a: MappingArrays, b: MappingArrays) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def _all_tensors(acc):
    """The accelerator with every level keeping every tensor (the JSON loader takes keeps from the mapping)."""
    return replace(acc, levels=tuple(replace(lv, keeps=TENSORS) for lv in acc.levels))


def _one_case(cases, family="B"):
    return next(c for c in cases if c.family == family and c.accelerator.fanout_levels)


# ---- readers vs the JSON loader -------------------------------------------------------------

def test_corpus_size(cases):
    assert len(cases) == 280


def test_layers_match_json_loader(cases, loaded):
    bad = [c.id for c in cases if loaded[c.id][0] != c.layer]
    assert not bad
    assert {c.layer.kind for c in cases} >= {"conv", "depthwise"}


def test_accelerators_match_json_loader(cases, loaded):
    bad = []
    for c in cases:
        acc = replace(loaded[c.id][1], name=c.accelerator.name)
        if _all_tensors(acc) != _all_tensors(c.accelerator):  # every field the cost model reads, but keeps
            bad.append(c.id)
    assert not bad
    fields = ("capacity_words", "block_size_words", "word_bits", "read_bandwidth", "write_bandwidth",
              "shared_bandwidth", "read_energy_pj", "write_energy_pj", "update_energy_pj", "fanout_x", "fanout_y")
    c = _one_case(cases, "C")
    for got, want in zip(loaded[c.id][1].levels, c.accelerator.levels):
        assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]
    assert loaded[c.id][1].mac_energy_pj == c.accelerator.mac_energy_pj


def test_mappings_match_json_loader(cases, loaded):
    bad = [c.id for c in cases if not _same_arrays(loaded[c.id][2], c.mapping)]
    assert not bad


def test_mapper_bench_constraints_give_keeps():
    files = sorted(MAPPER_BENCH.glob("*.json"))
    if not files:
        pytest.skip("no mapper_bench files")
    for f in files:
        raw = json.loads(f.read_text())
        y = raw["timeloop_yaml"]
        acc = accelerator_from_timeloop(y["arch"], y["ert"], constraints_yaml=y["mapspace_constraints"])
        assert [lv.keeps for lv in acc.levels] == [tuple(lv["tensors_kept"]) for lv in raw["arch"]["storage_levels"]]
        # a single document with the constraints merged in (Timeloop accepts concatenated inputs) does the same
        merged = {**yaml.safe_load(y["arch"]), **yaml.safe_load(y["mapspace_constraints"])}
        assert accelerator_from_timeloop(merged, y["ert"]).levels == acc.levels
        assert constraints_to_timeloop_yaml(acc) == y["mapspace_constraints"]


def test_paths_are_read(cases, tmp_path):
    c = cases[0]
    paths = {}
    for k in ("arch", "problem", "mapping", "ert"):
        paths[k] = tmp_path / f"{k}.yaml"
        paths[k].write_text(c.raw["timeloop_yaml"][k])
    layer, acc, arrays = load_timeloop(**paths)
    assert layer == c.layer and _same_arrays(arrays, c.mapping)
    assert layer_from_timeloop(str(paths["problem"])) == c.layer


# ---- writers ------------------------------------------------------------------------------

def test_mapping_writer_gives_the_corpus_text(cases, loaded):
    bad = []
    for c in cases:
        layer, acc, arrays = loaded[c.id]
        text = mapping_to_timeloop_yaml(arrays, acc, layer)
        if text != c.raw["timeloop_yaml"]["mapping"] or not _same_arrays(mapping_from_timeloop(text, acc, layer),
                                                                          arrays):
            bad.append(c.id)
    assert not bad


def test_problem_arch_ert_writers_give_the_corpus_text(cases, loaded):
    bad = []
    for c in cases:
        layer, acc, _ = loaded[c.id]
        y = c.raw["timeloop_yaml"]
        if (problem_to_timeloop_yaml(layer), arch_to_timeloop_yaml(acc), ert_to_timeloop_yaml(acc)) != (
                y["problem"], y["arch"], y["ert"]):
            bad.append(c.id)
    assert not bad


def _canonical(arrays: MappingArrays, layer: Layer) -> list:
    """What a mapping means: factors, keeps, the temporal order of the problem's dims, the X and Y spatial orders."""
    dims = [DIMS.index(d) for d in (DIMS if layer.G > 1 else DIMS[:7])]
    out = [arrays.temporal.tolist(), arrays.spatial_x.tolist(), arrays.spatial_y.tolist(), arrays.keep.tolist()]
    for l in range(arrays.num_levels):
        out.append([d for d in arrays.order[0, l] if d in dims])
        for axis in (arrays.spatial_x, arrays.spatial_y):
            out.append([d for d in arrays.spatial_order[0, l] if axis[0, l, d] > 1])
    return out


def test_mapping_writer_round_trips_arbitrary_orders(cases, loaded):
    rng = np.random.default_rng(0)
    for c in cases[::7]:
        layer, acc, arrays = loaded[c.id]
        shuffled = MappingArrays(arrays.temporal, np.stack([[rng.permutation(8) for _ in range(arrays.num_levels)]]),
                                 arrays.spatial_x, arrays.spatial_y,
                                 np.stack([[rng.permutation(8) for _ in range(arrays.num_levels)]]), arrays.keep)
        back = mapping_from_timeloop(mapping_to_timeloop_yaml(shuffled, acc, layer), acc, layer)
        assert _canonical(back, layer) == _canonical(shuffled, layer), c.id


def test_mapping_writer_picks_row_b(cases, loaded):
    c = _one_case(cases)
    layer, acc, arrays = loaded[c.id]
    batch = MappingArrays.concatenate([MappingArrays.empty(1, acc.num_levels), arrays])
    assert mapping_to_timeloop_yaml(batch, acc, layer, b=1) == c.raw["timeloop_yaml"]["mapping"]
    with pytest.raises(ValueError, match="factors of"):
        mapping_to_timeloop_yaml(batch, acc, layer, b=0)
    with pytest.raises(ValueError, match="b must be"):
        mapping_to_timeloop_yaml(batch, acc, layer, b=2)


def test_mapping_writer_rejects_what_timeloop_cannot_express(cases, loaded):
    acc = loaded[_one_case(cases).id][1]
    f, p = acc.fanout_levels[0], DIMS.index("P")
    layer = Layer(P=4)
    on_both = MappingArrays.empty(1, acc.num_levels)
    on_both.spatial_x[0, f, p] = on_both.spatial_y[0, f, p] = 2
    with pytest.raises(ValueError, match="both X and Y"):
        mapping_to_timeloop_yaml(on_both, acc, layer)
    no_fanout = MappingArrays.empty(1, acc.num_levels)
    no_fanout.spatial_x[0, f + 1, p] = 4
    with pytest.raises(ValueError, match="without a fan-out"):
        mapping_to_timeloop_yaml(no_fanout, acc, layer)


def test_cnn_mapping_has_no_g_and_grouped_has_g(cases, loaded):
    for c in cases:
        layer, acc, arrays = loaded[c.id]
        assert ("G=" in mapping_to_timeloop_yaml(arrays, acc, layer)) == (layer.G > 1)
        assert ("grouped_conv" in problem_to_timeloop_yaml(layer)) == (layer.G > 1)


@pytest.mark.parametrize("layer", [
    Layer(R=3, S=5, P=7, Q=9, C=4, K=6, N=2, stride_w=2, stride_h=3, dilation_w=2, dilation_h=1),
    Layer.conv(64, 128, 3, 14, stride=2, groups=4),
    Layer.conv(32, 32, 3, 28, groups=32),
    Layer.fc(256, 10, batch=8),
])
def test_problem_writer_round_trips(layer):
    assert layer_from_timeloop(problem_to_timeloop_yaml(layer)) == layer


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_arch_writer_round_trips_presets(name):
    acc = presets.get_preset(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-tensor capacities are not expressible in Timeloop v0.4
        arch = arch_to_timeloop_yaml(acc)
    back = accelerator_from_timeloop(arch, ert_to_timeloop_yaml(acc), name=acc.name,
                                     constraints_yaml=constraints_to_timeloop_yaml(acc))
    assert back == replace(acc, dataflow=None, levels=tuple(replace(lv, tensor_capacity_words=None)
                                                            for lv in acc.levels))


def test_per_tensor_capacity_warns():
    acc = presets.get_preset("shidiannao")
    with pytest.warns(UserWarning, match="per-tensor capacities"):
        arch_to_timeloop_yaml(acc)


# ---- reader defaults ------------------------------------------------------------------------

def _entries(case):
    return yaml.safe_load(case.raw["timeloop_yaml"]["mapping"])["mapping"]


def test_unmentioned_level_gets_factor_1_and_arch_keeps(cases, loaded):
    c = _one_case(cases)
    layer, acc, arrays = loaded[c.id]
    last = acc.level_names[-1]
    entries = [e for e in _entries(c) if e["target"] != last]
    got = mapping_from_timeloop({"mapping": entries}, acc)
    assert (got.temporal[0, -1] == 1).all() and got.keep[0, -1].tolist() == [1, 1, 1]
    assert _same_arrays(MappingArrays(*(a[:, :-1] for a in got)), MappingArrays(*(a[:, :-1] for a in arrays)))


def test_spatial_without_split_is_all_x(cases, loaded):
    c = _one_case(cases)
    layer, acc, arrays = loaded[c.id]
    entries = _entries(c)
    for e in entries:
        e.pop("split", None)
    got = mapping_from_timeloop({"mapping": entries}, acc)
    assert (got.spatial_y == 1).all()
    assert (got.spatial_x * got.spatial_y == arrays.spatial_x * arrays.spatial_y).all()


# ---- malformed input ------------------------------------------------------------------------

def _mutated(case, edit):
    entries = _entries(case)
    edit(entries)
    return {"mapping": entries}


@pytest.mark.parametrize("edit, match", [
    (lambda es: es[0].update(factors=es[0]["factors"].replace("R=", "R=x")), r"mapping\[0\].*factors.*integer"),
    (lambda es: es[0].update(factors=re.sub(r"R=\d+", "R=2.5", es[0]["factors"])),
     r"mapping\[0\].*factors: factor of R must be a positive integer, got '2.5'"),
    (lambda es: es[0].update(factors=es[0]["factors"].replace("R=", "Z=")), r"mapping\[0\].*factors.*unknown dim 'Z'"),
    (lambda es: es[0].update(factors="R=0"), r"factors.*positive integer"),
    (lambda es: es[0].update(permutation=es[0]["permutation"][1:]), r"mapping\[0\].*permutation.*missing dim"),
    (lambda es: es[0].update(permutation=es[0]["permutation"] + "X"), r"permutation.*unknown dim"),
    (lambda es: es[0].update(permutation=es[0]["permutation"][:-1] + es[0]["permutation"][0]),
     r"permutation.*twice"),
    (lambda es: es[0].update(target="NoSuchLevel"), r"mapping\[0\].target.*'NoSuchLevel' names no storage level"),
    (lambda es: es[0].update(type="sideways"), r"mapping\[0\].type"),
    (lambda es: es.append(dict(es[0])), r"second temporal entry"),
    (lambda es: es[1].update(bypass=["Weights"]), r"both kept and bypassed"),
    (lambda es: es[1].update(keep=["Kernels"]), r"keep.*unknown tensor"),
    (lambda es: es[1].update(keep=[], bypass=["Outputs"]), r"outermost level must keep"),
    (lambda es: next(e for e in es if e["type"] == "spatial").update(split=99), r"split must be in"),
    (lambda es: es.append({"target": "DRAM", "type": "spatial", "factors": "R=1"}), r"DRAM has no spatial fan-out"),
])
def test_malformed_mapping_raises(cases, loaded, edit, match):
    c = _one_case(cases)
    with pytest.raises(ValueError, match=match):
        mapping_from_timeloop(_mutated(c, edit), loaded[c.id][1])


def test_factor_products_checked_against_layer(cases, loaded):
    c = _one_case(cases)
    layer, acc, _ = loaded[c.id]
    doc = _mutated(c, lambda es: es[0].update(factors=es[0]["factors"].replace("N=1", "N=2")))
    mapping_from_timeloop(doc, acc)  # no layer: nothing to check against
    with pytest.raises(ValueError, match="factors of N multiply to 2"):
        mapping_from_timeloop(doc, acc, layer)


def _problem(case):
    return yaml.safe_load(case.raw["timeloop_yaml"]["problem"])


@pytest.mark.parametrize("edit, match", [
    (lambda p: p["problem"]["shape"].update(name="attention"), r"problem.shape.name"),
    (lambda p: p["problem"]["instance"].update(G=4), r"problem.instance: unknown key.*'G'"),
    (lambda p: p["problem"]["instance"].update(Wstride=1.5), r"problem.instance.Wstride must be an integer"),
    (lambda p: p["problem"]["instance"].update(P="many"), r"problem.instance.P must be a number"),
    (lambda p: p["problem"]["shape"]["data_spaces"][0].update(projection=[[["K"]]]), r"data_spaces"),
    (lambda p: p["problem"].pop("instance"), r"problem.instance: missing"),
])
def test_malformed_problem_raises(cases, edit, match):
    c = next(c for c in cases if c.layer.G == 1)
    doc = _problem(c)
    edit(doc)
    with pytest.raises(ValueError, match=match):
        layer_from_timeloop(doc)


def test_malformed_arch_and_ert_raise(cases):
    c = _one_case(cases)
    y = c.raw["timeloop_yaml"]
    arch = yaml.safe_load(y["arch"])
    arch["architecture"]["subtree"][0]["local"][-2]["attributes"]["meshX"] = 3
    with pytest.raises(ValueError, match=r"meshX x meshY"):
        accelerator_from_timeloop(arch, y["ert"])
    ert = yaml.safe_load(y["ert"])
    ert["ERT"]["tables"].pop(1)
    with pytest.raises(ValueError, match=r"ert: no table for"):
        accelerator_from_timeloop(y["arch"], ert)
    with pytest.raises(ValueError, match=r"arch.architecture.subtree: missing"):
        accelerator_from_timeloop("architecture: {version: 0.4}", y["ert"])
    with pytest.raises(ValueError, match="not valid YAML"):
        accelerator_from_timeloop("architecture: [", y["ert"])
    arch = yaml.safe_load(y["arch"])
    arch["architecture"]["subtree"][0]["local"][1]["attributes"]["width"] = 60
    with pytest.raises(ValueError, match=r"width \(60\) must be a multiple of datawidth"):
        accelerator_from_timeloop(arch, y["ert"])


def test_nested_subtree_instances():
    """A v0.4 nested subtree (PE[0..167] holding per-PE levels) multiplies instances as Timeloop does."""
    arch = {"architecture": {"version": 0.4, "subtree": [{"name": "system", "local": [
        {"name": "DRAM", "class": "DRAM", "attributes": {"width": 64, "datawidth": 16}}], "subtree": [
        {"name": "chip", "local": [{"name": "glb", "class": "SRAM",
                                    "attributes": {"depth": 1024, "width": 64, "datawidth": 16}}],
         "subtree": [{"name": "PE[0..167]", "local": [
             {"name": "spad", "class": "regfile", "attributes": {"depth": 16, "width": 16, "datawidth": 16,
                                                                 "meshX": 14}},
             {"name": "mac", "class": "intmac", "attributes": {"datawidth": 16, "meshX": 14}}]}]}]}]}}
    ert = {"ERT": {"version": 0.4, "tables": [
        {"name": n, "actions": [{"name": a, "energy": 1.0} for a in ("read", "write", "update")]}
        for n in ("system.DRAM", "system.chip.glb", "system.chip.PE[0..167].spad")] + [
        {"name": "system.chip.PE[0..167].mac", "actions": [{"name": "compute", "energy": 0.5}]}]}}
    acc = accelerator_from_timeloop(arch, ert)
    assert acc.level_names == ("DRAM", "glb", "spad")
    assert [(lv.fanout_x, lv.fanout_y) for lv in acc.levels] == [(1, 1), (14, 12), (1, 1)]
    assert acc.levels[1].capacity_words == 4096 and acc.levels[0].capacity_words is None
    assert acc.mac_energy_pj == 0.5 and acc.mac_bits == 16
