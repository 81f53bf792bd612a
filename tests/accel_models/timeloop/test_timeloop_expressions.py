"""timeloopfe's expressions through the safe evaluator (never eval), and `variables:` resolved lazily."""
import pytest

from accel_models.timeloop._expressions import ExpressionError, Scope, evaluate, resolve
from accel_models.timeloop._yaml import Quoted


@pytest.mark.parametrize("text, want", [
    ("max(INPUT_WEIGHT_DATAWIDTH, 16)", 16), ("max(W, 4)", 8), ("min(W, 4) * 2", 8), ("W // 3 + W % 3", 4),
    ("2 ** 10", 1024), ("len(NAMES)", 3), ("ceil(log2(DEPTH))", 10), ("W if W > 4 else 4", 8), ("-W + abs(-3)", -5),
    ("W / 4", 2.0), ("'45nm'", "45nm"), ("round(7 / 2)", 4), ("sum([1, 2, W])", 11),
])
def test_expressions_evaluate(text, want):
    scope = Scope({"INPUT_WEIGHT_DATAWIDTH": 8, "W": 8, "NAMES": [1, 2, 3], "DEPTH": 1000})
    assert evaluate(text, scope) == want


@pytest.mark.parametrize("text, match", [
    ("__import__('os').system('ls')", "unsupported function"),
    ("W.bit_length()", "unsupported function"),
    ("().__class__", "unsupported syntax Attribute"),
    ("[x for x in range(10)]", "unsupported syntax ListComp"),
    ("(lambda: 1)()", "unsupported function"),
    ("open('/etc/passwd')", "unsupported function 'open'"),
    ("9 ** 9 ** 9", "too large"),
    ("'a' * 100000000", "arithmetic needs numbers"),
    ("NOPE + 1", "unknown name 'NOPE'"),
    ("1 / 0", "division by zero"),
    ("x" * 600, "longer than"),
    ("W +", "not an expression"),
])
def test_unsafe_or_invalid_expressions_are_refused(text, match):
    with pytest.raises(ExpressionError, match=match):
        evaluate(text, Scope({"W": 8}))


def test_scope_resolves_in_any_order_and_refuses_cycles():
    scope = Scope({"B": "A * 2", "A": "C + 1", "C": 3, "X": "Y", "Y": "X"})
    assert scope.lookup("B") == 8
    with pytest.raises(ExpressionError, match="in terms of itself"):
        scope.lookup("X")


def test_resolve_keeps_text_that_is_not_an_expression_and_quoted_strings():
    scope = Scope({"W": 8})
    assert resolve("LPDDR4", scope) == "LPDDR4"          # an unknown name stays text (a DRAM type)
    assert resolve(Quoted("W * 2"), scope) == "W * 2"     # quoted: never evaluated
    assert resolve("W * 2", scope) == 16
    assert resolve({"a": ["W", "1e-9"]}, scope) == {"a": [8, 1e-9]}      # numbers in text are numbers
