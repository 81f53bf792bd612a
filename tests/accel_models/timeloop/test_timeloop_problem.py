"""Timeloop problems: the reader agrees with the corpus's JSON, the writer gives the corpus's files back."""
import pytest
import yaml

from accel_models.timeloop import layer_from_timeloop, problem_to_timeloop_yaml
from nets import Layer


def test_layers_match_json_loader(cases, loaded):
    bad = [c.id for c in cases if loaded[c.id][0] != c.layer]
    assert not bad
    assert {c.layer.kind for c in cases} >= {"conv", "depthwise"}


def test_problem_writer_gives_the_corpus_text(cases, loaded):
    bad = [c.id for c in cases if problem_to_timeloop_yaml(loaded[c.id][0]) != c.raw["timeloop_yaml"]["problem"]]
    assert not bad


def test_grouped_layers_are_grouped_conv(cases, loaded):
    for c in cases:
        assert ("grouped_conv" in problem_to_timeloop_yaml(loaded[c.id][0])) == (c.layer.G > 1)


@pytest.mark.parametrize("layer", [
    Layer(R=3, S=5, P=7, Q=9, C=4, K=6, N=2, stride_w=2, stride_h=3, dilation_w=2, dilation_h=1),
    Layer.conv(64, 128, 3, 14, stride=2, groups=4),
    Layer.conv(32, 32, 3, 28, groups=32),
    Layer.fc(256, 10, batch=8),
])
def test_problem_writer_round_trips(layer):
    assert layer_from_timeloop(problem_to_timeloop_yaml(layer)) == layer


def _problem(case):
    return yaml.safe_load(case.raw["timeloop_yaml"]["problem"])


@pytest.mark.parametrize("edit, match", [
    (lambda p: p["problem"].update(shape={"name": "attention"}), r"problem.shape.name: 'attention' is no built-in"),
    (lambda p: p["problem"]["shape"].update(flatten=[{"name": "PQ", "dimensions": ["P", "Q"]}]),
     r"problem.shape.flatten: flattened dimensions are not modelled"),
    (lambda p: p["problem"]["shape"]["data_spaces"][0].update(ranks=["K"]), r"ranks: expected one name per"),
    (lambda p: p["problem"]["instance"].update(Wstride=1.5), r"problem.instance.Wstride must be an integer"),
    (lambda p: p["problem"]["instance"].update(P="many"), r"problem.instance.P must be a number"),
    (lambda p: p["problem"]["shape"]["data_spaces"][0].update(projection=[[["K"]]]), r"data_spaces"),
    (lambda p: p["problem"]["shape"].update(dimensions=["R", "S"]),
     r"names dim '\w', which is not in problem.shape.dimensions"),
    (lambda p: p["problem"].pop("instance"), r"problem.instance: missing"),
])
def test_malformed_problem_raises(cases, edit, match):
    c = next(c for c in cases if c.layer.G == 1)
    doc = _problem(c)
    edit(doc)
    with pytest.raises(ValueError, match=match):
        layer_from_timeloop(doc)


def test_problem_file_is_read(cases, tmp_path):
    c = cases[0]
    path = tmp_path / "problem.yaml"
    path.write_text(c.raw["timeloop_yaml"]["problem"])
    assert layer_from_timeloop(str(path)) == c.layer
    assert layer_from_timeloop(path) == c.layer


# ---- problems by their projections ------------------------------------------------------------
from accel_models.timeloop import problem_from_timeloop  # noqa: E402


def _shape(dims, spaces, instance, name="custom"):
    return {"problem": {"shape": {"name": name, "dimensions": dims, "data_spaces": spaces}, "instance": instance}}


def _space(name, projection, read_write=False):
    return {"name": name, "projection": projection, **({"read_write": True} if read_write else {})}


def test_conv1d_and_conv1d_oc_keep_their_names():
    conv1d = _shape(["R", "P"], [_space("Weights", [[["R"]]]), _space("Inputs", [[["R"], ["P"]]]),
                                 _space("Outputs", [[["P"]]], True)], {"R": 3, "P": 16})
    layer, names = problem_from_timeloop(conv1d)
    assert layer == Layer(R=3, P=16) and names.dims == {"R": "R", "P": "P"}
    oc = _shape(["K", "R", "P"], [_space("Weights", [[["K"]], [["R"]]]), _space("Inputs", [[["R"], ["P"]]]),
                                  _space("Outputs", [[["K"]], [["P"]]], True)], {"K": 32, "R": 3, "P": 16})
    assert problem_from_timeloop(oc)[0] == Layer(K=32, R=3, P=16)


def test_gemm_names_map_to_cosearch_roles():
    gemm = _shape(["M", "N", "K"], [_space("A", [[["M"]], [["K"]]]), _space("B", [[["K"]], [["N"]]]),
                                    _space("Z", [[["M"]], [["N"]]], True)], {"M": 64, "N": 8, "K": 128})
    layer, names = problem_from_timeloop(gemm)
    assert layer == Layer(K=64, N=8, C=128)        # A = Weights: M -> K (output features), K -> C, N -> N
    assert names.dims == {"M": "K", "N": "N", "K": "C"} and names.tensors == {"A": "Weights", "B": "Inputs",
                                                                                "Z": "Outputs"}


def test_windows_strides_and_string_projections():
    conv = _shape(["C", "M", "R", "S", "P", "Q"],
                  [_space("Weights", "[C, M, R, S]"),
                   _space("Inputs", "[C, R*Wdilation + P*Wstride, S + Q*2]"),
                   _space("Outputs", "[M, Q, P]", True)],
                  {"C": 4, "M": 8, "R": 3, "S": 3, "P": 5, "Q": 7, "Wstride": 2, "Wdilation": 2})
    conv["problem"]["shape"]["coefficients"] = [{"name": "Wstride", "default": 1},
                                                {"name": "Wdilation", "default": 1}]
    layer, names = problem_from_timeloop(conv)
    assert layer == Layer(C=4, K=8, R=3, S=3, P=5, Q=7, stride_w=2, dilation_w=2, stride_h=2)
    assert names.dims["M"] == "K"


def test_depthwise_group_dim_by_another_name():
    dw = _shape(["D", "R", "S", "P", "Q"],
                [_space("Weights", "[D, R, S]"), _space("Inputs", "[D, R + P, S + Q]"),
                 _space("Outputs", "[D, Q, P]", True)], {"D": 32, "R": 3, "S": 3, "P": 8, "Q": 8})
    layer, names = problem_from_timeloop(dw)
    assert layer == Layer(G=32, R=3, S=3, P=8, Q=8) and layer.kind == "depthwise" and names.dims["D"] == "G"


@pytest.mark.parametrize("spaces, match", [
    ([_space("A", "[M, J]"), _space("B", "[N]"), _space("Z", "[M, N]", True)], r"dim J indexes only A"),
    ([_space("A", "[M]"), _space("B", "[N]"), _space("C", "[M + N]"), _space("Z", "[M, N]", True)],
     r"two operands and one read-write output; this problem has 4 data spaces"),
    ([_space("A", "[M, N, J]"), _space("B", "[M, N, J]"), _space("Z", "[M, N, J]", True)],
     r"3 dims \(M, N, J\) index Weights and Inputs and Outputs; cosearch has 1"),
    ([_space("A", "[M]"), _space("B", "[N + J]"), _space("Z", "[M, N]", True)],
     r"B's axis N \+ J is no sliding window"),
    ([_space("A", "[M, J*2]"), _space("B", "[J, N]"), _space("Z", "[M, N]", True)],
     r"A's axis J\*2 has a coefficient"),
])
def test_a_shape_that_cannot_be_expressed_names_its_projection(spaces, match):
    doc = _shape(["M", "N", "J"], spaces, {"M": 4, "N": 4, "J": 2})
    with pytest.raises(ValueError, match=match):
        problem_from_timeloop(doc)
