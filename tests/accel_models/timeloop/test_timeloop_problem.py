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
    (lambda p: p["problem"]["instance"].update(G=4), r"problem.instance: unknown key.*'G'"),
    (lambda p: p["problem"]["instance"].update(Wstride=1.5), r"problem.instance.Wstride must be an integer"),
    (lambda p: p["problem"]["instance"].update(P="many"), r"problem.instance.P must be a number"),
    (lambda p: p["problem"]["shape"]["data_spaces"][0].update(projection=[[["K"]]]), r"data_spaces"),
    (lambda p: p["problem"]["shape"].update(dimensions=["R", "S"]), r"names dim '\w', which is not in problem.shape.dimensions"),
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
