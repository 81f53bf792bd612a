"""Timeloop mappings: the reader agrees with the corpus's JSON, the writer gives the corpus's files back and
round-trips any loop order."""
import re

import numpy as np
import pytest
import yaml

from accel_models.mapping_arrays import MappingArrays
from accel_models.timeloop import mapping_from_timeloop, mapping_to_timeloop_yaml
from nets import DIMS, Layer


def test_mappings_match_json_loader(cases, loaded, same_arrays):
    bad = [c.id for c in cases if not same_arrays(loaded[c.id][2], c.mapping)]
    assert not bad


def test_mapping_writer_gives_the_corpus_text(cases, loaded, same_arrays):
    bad = []
    for c in cases:
        layer, acc, arrays = loaded[c.id]
        text = mapping_to_timeloop_yaml(arrays, acc, layer)
        if text != c.raw["timeloop_yaml"]["mapping"] or not same_arrays(mapping_from_timeloop(text, acc, layer),
                                                                         arrays):
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


def test_permutations_are_innermost_first(fanned_case, loaded):
    """The loop cosearch puts outermost is the last letter of Timeloop's permutation, and the other way round."""
    layer, acc, arrays = loaded[fanned_case.id]
    entries = yaml.safe_load(mapping_to_timeloop_yaml(arrays, acc, layer))["mapping"]
    for l in range(acc.num_levels):
        perm = next(e for e in entries if e["target"] == acc.level_names[l] and e["type"] == "temporal")["permutation"]
        outer_first = [DIMS[d] for d in arrays.order[0, l] if DIMS[d] in perm]
        assert perm == "".join(reversed(outer_first))


def test_mapping_writer_picks_row_b(fanned_case, loaded):
    layer, acc, arrays = loaded[fanned_case.id]
    batch = MappingArrays.concatenate([MappingArrays.empty(1, acc.num_levels), arrays])
    assert mapping_to_timeloop_yaml(batch, acc, layer, b=1) == fanned_case.raw["timeloop_yaml"]["mapping"]
    with pytest.raises(ValueError, match="factors of"):
        mapping_to_timeloop_yaml(batch, acc, layer, b=0)
    with pytest.raises(ValueError, match="b must be"):
        mapping_to_timeloop_yaml(batch, acc, layer, b=2)


def test_mapping_writer_rejects_what_timeloop_cannot_express(fanned_case, loaded):
    acc = loaded[fanned_case.id][1]
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


# ---- reader defaults ------------------------------------------------------------------------

def _entries(case):
    return yaml.safe_load(case.raw["timeloop_yaml"]["mapping"])["mapping"]


def test_unmentioned_level_gets_factor_1_and_arch_keeps(fanned_case, loaded, same_arrays):
    layer, acc, arrays = loaded[fanned_case.id]
    last = acc.level_names[-1]
    entries = [e for e in _entries(fanned_case) if e["target"] != last]
    got = mapping_from_timeloop({"mapping": entries}, acc)
    assert (got.temporal[0, -1] == 1).all() and got.keep[0, -1].tolist() == [1, 1, 1]
    assert same_arrays(MappingArrays(*(a[:, :-1] for a in got)), MappingArrays(*(a[:, :-1] for a in arrays)))


def test_spatial_without_split_is_all_x(fanned_case, loaded):
    layer, acc, arrays = loaded[fanned_case.id]
    entries = _entries(fanned_case)
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
     r"mapping\[0\].*factors: cannot read '.5'"),
    (lambda es: es[0].update(factors=es[0]["factors"].replace("R=", "Z=")), r"mapping\[0\].*factors.*unknown dim 'Z'"),
    (lambda es: es[0].update(factors="R=0"), r"factor 0 of R \(the whole dim\) needs the problem's bounds"),
    (lambda es: es[0].update(permutation=es[0]["permutation"] + "X"), r"permutation.*unknown dim"),
    (lambda es: es[0].update(permutation=es[0]["permutation"][:-1] + es[0]["permutation"][0]),
     r"permutation.*twice"),
    (lambda es: es[0].update(target="NoSuchLevel"), r"mapping\[0\].target.*'NoSuchLevel' names no storage level"),
    (lambda es: es[0].update(type="sideways"), r"mapping\[0\].type"),
    (lambda es: es.append(dict(es[0])), r"second temporal entry"),
    (lambda es: es[1].update(bypass=["Weights"]), r"both kept and bypassed"),
    (lambda es: es[1].update(keep=["Kernels"]), r"keep: unknown data space 'Kernels'"),
    (lambda es: es[1].update(keep=[], bypass=["Outputs"]), r"outermost level must keep"),
    (lambda es: next(e for e in es if e["type"] == "spatial").update(split=-1), r"split must be >= 0"),
    (lambda es: es.append({"target": "DRAM", "type": "spatial", "factors": "R=1 N=2"}),
     r"DRAM has no spatial fan-out to map N=2 onto"),
    (lambda es: es[0].update(no_link_transfer=["Inputs"]), r"no_link_transfer \['Inputs'\]: not modelled"),
])
def test_malformed_mapping_raises(fanned_case, loaded, edit, match):
    with pytest.raises(ValueError, match=match):
        mapping_from_timeloop(_mutated(fanned_case, edit), loaded[fanned_case.id][1])


def test_factor_products_checked_against_layer(fanned_case, loaded):
    layer, acc, _ = loaded[fanned_case.id]
    doc = _mutated(fanned_case, lambda es: es[0].update(factors=es[0]["factors"].replace("N=1", "N=2")))
    mapping_from_timeloop(doc, acc)  # no layer: nothing to check against
    with pytest.raises(ValueError, match="factors of N multiply to 2"):
        mapping_from_timeloop(doc, acc, layer)


def test_a_depthwise_layer_with_its_channels_on_the_array_exports_and_reads_back():
    """Channels on the array (docs/cost_model.md): a depthwise layer mapped with G on a weight-stationary preset's
    axis is written as Timeloop's grouped_conv problem (G indexes all three data spaces) and a spatial G factor, and
    reads back as the same mapping at the same cost."""
    from accel_models import evaluate_batch, get_preset
    from accel_models.timeloop import layer_from_timeloop, problem_to_timeloop_yaml
    from mappings import Encoding

    acc, layer = get_preset("nvdla_256"), Layer(R=3, S=3, P=14, Q=14, G=64)
    enc = Encoding(layer, acc)
    arrays = enc.decode(np.random.default_rng(5).random((200, enc.size)))
    g = DIMS.index("G")
    on_array = (arrays.spatial_x[:, :, g] * arrays.spatial_y[:, :, g]).max(axis=1) > 1
    b = int(np.flatnonzero(evaluate_batch(layer, acc, arrays).valid & on_array)[0])
    problem = yaml.safe_load(problem_to_timeloop_yaml(layer))["problem"]
    assert problem["shape"]["name"] == "grouped_conv"
    assert all(["G"] in [[term[0] for term in axis] for axis in space["projection"]]
               for space in problem["shape"]["data_spaces"])
    text = mapping_to_timeloop_yaml(arrays, acc, layer, b)
    assert any(e["type"] == "spatial" and "G" in e["factors"] and "G1" not in e["factors"].split()
               for e in yaml.safe_load(text)["mapping"])
    back = mapping_from_timeloop(text, acc, layer_from_timeloop(problem_to_timeloop_yaml(layer)))
    row = arrays.row(b)
    for name in ("temporal", "spatial_x", "spatial_y", "keep"):
        assert np.array_equal(getattr(back, name), getattr(row, name)), name
    assert evaluate_batch(layer, acc, back).energy_pj[0] == evaluate_batch(layer, acc, row).energy_pj[0]
