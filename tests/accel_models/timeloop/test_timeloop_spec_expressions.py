"""timeloopfe's expressions wherever Timeloop's files take a number or a list: over the variables, `variables[...]`
and the whole specification as `spec`, with items of lists; one test per section that holds them."""
import pytest
import yaml

from accel_models.timeloop import load_spec
from accel_models.timeloop._expressions import DocumentView, ExpressionError, Scope, evaluate
from test_timeloop_accepted_inputs import ARCH, CONV, CONV_PROBLEM, ERT, MAPPING

VARIABLES = {"variables": {"CHANNELS": 4, "SIDES": [6, 13], "BYPASS": ["Inputs"], "DRAM_FACTORS":
                           "C=4 M=2 R=1 S=1 N=1 P=1 Q=1", "METRICS": ["energy"], "GLB_DEPTH": [512, 1024],
                           "WIDTH": 64}}


def _spec(problem=CONV_PROBLEM, arch=ARCH, mapping=MAPPING, extra=()):
    return load_spec([problem, arch, mapping, VARIABLES, ERT, *extra])


def test_problem_instance_values():
    problem = yaml.safe_load(CONV_PROBLEM)  # as parsed: unquoted texts (flow-style YAML cannot hold brackets)
    problem["problem"]["instance"].update(C="CHANNELS", M="spec.problem.instance.C * 2", P="SIDES[0]",
                                          Q="variables['SIDES'][0]")
    assert _spec(problem=problem).layer == CONV


def test_mapping_factors_and_split():
    mapping = MAPPING.replace("factors: C=4 M=2 R=1 S=1 N=1 P=1 Q=1,", "factors: DRAM_FACTORS,") \
        .replace("split: 1}", "split: len(spec.problem.shape.dimensions) - 6}")
    assert _spec(mapping=mapping).mapping is not None
    reference = _spec().mapping
    assert all((a == b).all() for a, b in zip(_spec(mapping=mapping).mapping, reference))


def test_constraint_lists_and_numbers():
    constraints = {"constraints": {"targets": [
        {"target": "GLB", "type": "bypass", "bypass": "BYPASS", "keep": "['Weights', 'Outputs']"},
        {"target": "GLB", "type": "spatial", "split": "min(len(SIDES), 1)"}]}}
    spec = load_spec([CONV_PROBLEM, ARCH, VARIABLES, ERT, constraints])
    glb = spec.constraints.level("GLB")
    assert glb.bypass == ("Inputs",) and set(glb.keep) == {"Weights", "Outputs"}


def test_mapper_settings():
    spec = _spec(extra=({"mapper": {"optimization_metrics": "METRICS"}},))
    assert spec.metrics == ("energy",)


def test_architecture_attributes_read_variables_and_spec():
    arch = yaml.safe_load(ARCH)
    dram, glb = arch["architecture"]["subtree"][0]["local"]
    glb["attributes"].update(depth="GLB_DEPTH[-1]", width="variables['WIDTH']")
    dram["attributes"]["width"] = "spec.variables.WIDTH"
    assert _spec(arch=arch).accelerator == _spec().accelerator


def test_reading_the_spec_is_sandboxed():
    scope = Scope({})
    scope.raw["spec"] = DocumentView({"a": {"b": [1, 2, 3]}, "_hidden": 1, "loop": "spec.loop"}, scope)
    assert evaluate("spec.a.b[1:] ", scope) == [2, 3] and evaluate("spec['a']['b'][-1]", scope) == 3
    for text, match in (("spec._hidden", "unsupported syntax Attribute"), ("spec.a.__class__", "Attribute"),
                        ("spec.a.b.append", "not an integer"), ("spec.nope", "no field 'nope'"),
                        ("spec.a.b[7]", "out of range"), ("spec.loop", "in terms of itself"),
                        ("(1).real", "Attribute")):
        with pytest.raises(ExpressionError, match=match):
            evaluate(text, scope)


def test_an_expression_that_fails_stays_text_and_is_refused_where_a_number_is_needed():
    problem = CONV_PROBLEM.replace("instance: {C: 4,", "instance: {C: spec.problem.nothing,")
    with pytest.raises(ValueError, match=r"problem\.instance\.C"):
        _spec(problem=problem)


def test_a_value_defined_by_itself_names_the_file_and_section(tmp_path):
    path = tmp_path / "problem.yaml"
    problem = yaml.safe_load(CONV_PROBLEM)
    problem["problem"]["instance"]["C"] = "spec.problem.instance.C + 1"
    path.write_text(yaml.safe_dump(problem))
    with pytest.raises(ValueError, match=rf"{path}: problem: an expression has no value: 'spec.problem.instance.C' is "
                                         "defined in terms of itself"):
        _spec(problem=str(path))
