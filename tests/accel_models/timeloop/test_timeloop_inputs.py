"""The four timeloop-model inputs read together, from text, parsed documents or files."""
import pytest
import yaml

from accel_models import load_timeloop

_KINDS = ("arch", "problem", "mapping", "ert")


def test_files_text_and_documents_read_the_same(cases, tmp_path, same_arrays):
    c = cases[0]
    paths = {}
    for k in _KINDS:
        paths[k] = tmp_path / f"{k}.yaml"
        paths[k].write_text(c.raw["timeloop_yaml"][k])
    from_files = load_timeloop(**paths)
    from_docs = load_timeloop(**{k: yaml.safe_load(c.raw["timeloop_yaml"][k]) for k in _KINDS})
    for layer, acc, arrays in (from_files, from_docs):
        assert layer == c.layer and same_arrays(arrays, c.mapping)
        assert acc.levels == from_files[1].levels


def test_constraints_reach_the_mapping(cases):
    """Constraints that bar a level from keeping Weights reject a mapping that keeps them there."""
    c = next(c for c in cases if c.accelerator.num_levels > 1 and c.mapping.keep[0, 1, 0])
    y = c.raw["timeloop_yaml"]
    level = c.accelerator.level_names[1]
    constraints = {"mapspace_constraints": {"targets": [{"target": level, "type": "bypass", "bypass": ["Weights"]}]}}
    layer, acc, _ = load_timeloop(**{k: y[k] for k in _KINDS})
    assert "Weights" in acc.levels[1].keeps
    with pytest.raises(ValueError, match=f"does not let {level} keep"):
        load_timeloop(**{k: y[k] for k in _KINDS}, constraints=constraints)
