"""The calls timeloopfe's expressions may make (Accelergy's function set: builtins and math functions, bare or as
`math.NAME`), over plain values and over the specification, and the calls refused as outside the sandbox."""
import math
import pathlib

import pytest

from accel_models.timeloop import load_spec
from accel_models.timeloop._expressions import DocumentView, ExpressionError, Scope, evaluate
from test_timeloop_nodes import ARCH, ERT, MAPPING, PROBLEM


def _scope() -> Scope:
    scope = Scope({"W": 8, "NAMES": ["a", "b", "c"]})
    scope.raw["spec"] = DocumentView({"problem": {"instance": {"C": 2, "M": "W + 1", "_hidden": 1},
                                                  "dims": ["C", "M"], "sizes": [3, "W + 1"]}}, scope)
    scope.raw["variables"] = DocumentView({"W": 8}, scope, "variables")
    return scope


@pytest.mark.parametrize("text, want", [
    ("len(spec.problem.instance)", 2),                 # a mapping's fields (names starting with '_' hidden)
    ("len(spec.problem.dims) * 2", 4),
    ("min(spec.problem.sizes)", 3), ("max(spec.problem.sizes)", 9),   # list items are evaluated as they are read
    ("sum(spec.problem.sizes)", 12), ("sum([1, 2], 10)", 13),
    ("int(spec.problem.instance.M / 2)", 4), ("float(W)", 8.0), ("int('12')", 12),
    ("round(2.567, 2)", 2.57), ("round(ndigits=1, number=2.25)", 2.2), ("abs(-W)", 8),
    ("range(3)", [0, 1, 2]), ("sum(range(1, W + 1))", 36), ("len(range(0, 10, 3))", 4),
    ("pow(2, 10)", 1024), ("pow(2, 5, 3)", 2), ("str(W)", "8"), ("bool(0)", False),
    ("list(spec.problem.instance)", ["C", "M"]), ("tuple([1, 2])", [1, 2]),
    ("enumerate(NAMES, 1)[2]", [3, "c"]), ("list(spec.problem.dims)[-1]", "M"),
    ("ceil(log2(1000))", 10), ("math.ceil(math.log2(1000))", 10), ("math.floor(2.7) + floor(2.7)", 4),
    ("factorial(5)", 120), ("math.comb(5, 2)", 10), ("perm(4, 2)", 12), ("gcd(12, 18)", 6), ("isqrt(17)", 4),
    ("prod(spec.problem.sizes)", 27), ("math.prod([2, 3, 4])", 24), ("frexp(8.0)", [0.5, 4]),
    ("trunc(-2.5)", -2), ("fmod(7, 3)", 1.0), ("hypot(3, 4)", 5.0), ("copysign(2, -1)", -2.0),
    ("round(pi, 3)", 3.142), ("math.pi == pi", True), ("round(e, 2) + round(tau, 2)", 2.72 + 6.28),
    ("isclose(sqrt(2) ** 2, 2)", True), ("degrees(math.pi)", 180.0),
])
def test_accepted_calls_evaluate(text, want):
    got = evaluate(text, _scope())
    assert got == pytest.approx(want) if isinstance(want, float) else got == want


def test_a_name_the_specification_defines_wins_over_a_constant():
    assert evaluate("e * 2", Scope({"e": 4})) == 8 and evaluate("math.e", Scope({"e": 4})) == pytest.approx(math.e)


@pytest.mark.parametrize("text, match", [
    ("getcwd()", "unsupported function 'getcwd'"),
    ("map(int, NAMES)", "unsupported function 'map'"),
    ("math.system('ls')", "unsupported function 'math.system'"),
    ("math.__dict__", "unknown name 'math'"),
    ("math.inf", "unknown name 'math'"),
    ("spec.problem.keys()", "unsupported function"),
    ("max(NAMES, key=len)", "keyword 'key'"),
    ("sum(**{'a': 1})", r"\*\*arguments"),
    ("range(10 ** 9)", "range of 1000000000 items"),
    ("sum(range(10 ** 9))", "range of"),
    ("factorial(100000)", "above 1000"),
    ("comb(10 ** 6, 3)", "above 1000"),
    ("pow(9, 9 ** 9)", "too large"),
    ("prod(range(1, 60000))", "too large"),
    ("str(spec.problem)", "takes a number or a text"),
    ("exp(10000)", "exp"),
    ("len(W)", r"len\(\.\.\.\)"),
    ("int('x')", r"int\(\.\.\.\)"),
    ("sum(spec.problem.nope)", "has no field 'nope'"),
])
def test_calls_outside_the_sandbox_are_refused(text, match):
    with pytest.raises(ExpressionError, match=match):
        evaluate(text, _scope())


def _arch_with_split(tmp_path, split: str) -> pathlib.Path:
    arch = tmp_path / "arch.yaml"
    arch.write_text(ARCH.replace("spatial: {permutation: [M, P], split: 1, factors: [C=1]}",
                                 f"spatial:\n        permutation: [M, P]\n        split: {split}\n        factors: [C=1]"))
    return arch


@pytest.mark.parametrize("split, x_first", [
    ("1", ("K",)), ("len(spec.problem.instance) - 3", ("K",)), ("min(2, len(spec.problem.shape.dimensions))", ("K", "P")),
    ("int(spec.variables.GLB_WORDS / 4096) - 1", ()), ("math.ceil(0.5) * 2", ("K", "P")),
])
def test_an_architecture_node_constraint_calls_builtins_over_the_spec(tmp_path, split, x_first):
    spec = load_spec([_arch_with_split(tmp_path, split), PROBLEM, MAPPING, ERT], jinja={"word": 16}, check_mapping=False)
    assert spec.constraints.level("inter_PE_spatial").spatial_x[:len(x_first)] == x_first
    assert "P" in spec.constraints.level("inter_PE_spatial").spatial_x[:len(x_first)] or "P" not in x_first


def test_a_constraint_expression_with_no_value_names_its_field(tmp_path):
    with pytest.raises(ValueError, match=r"PE\).constraints.spatial.split must be a number.*spec.problem has no field"):
        load_spec([_arch_with_split(tmp_path, "len(spec.problem.nope)"), PROBLEM, MAPPING, ERT], jinja={"word": 16})
