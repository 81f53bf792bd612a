"""timeloopfe's expressions (`max(INPUT_WEIGHT_DATAWIDTH, 16)`, `depth * 2`, `spec.problem.instance.C`)
evaluated safely.

timeloopfe evaluates an unquoted string value with Python's `eval` over the `variables:` (also as the dict
`variables`), the whole specification as `spec` and the attributes in scope, wherever a value is read, and keeps
the string when that fails. This evaluator walks Python's own parse tree (`ast`) and allows only literals, names,
arithmetic, comparisons, `x if c else y`, the functions and constants of `_expression_functions` (Accelergy's set:
`len`, `min`, `max`, `int`, `ceil`, `math.log2`, ...), and reading the specification: attributes and items of
`spec` / `variables` (`DocumentView`, names starting with '_' refused; a view can be iterated, measured with `len`
and summed) and items or slices of lists and texts. Nothing else: no attribute of any other object, no other
calls, bounded text, list and number sizes.
`Scope` resolves names lazily (a value may name another, in any order; a cycle is an error);
`evaluate_document` applies timeloopfe's rule to every value of some sections of a document.
"""
from __future__ import annotations

import ast
import math
import operator
from typing import Any

from ._expression_functions import CONSTANTS, FUNCTIONS, MATH_FUNCTIONS, MAX_INT_BITS, check_power
from ._yaml import Quoted

MAX_EXPRESSION_CHARS = 500

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}


class ExpressionError(ValueError):
    """An expression that cannot be evaluated (what is wrong, without the field's name)."""


class Scope:
    """Names an expression may use: raw values (evaluated on first use) over a parent scope."""

    def __init__(self, values: dict[str, Any] | None = None, parent: "Scope | None" = None) -> None:
        self.raw = dict(values or {})
        self.parent = parent
        self._done: dict[str, Any] = {}
        self._busy: set[str] = set()
        self.reading: set[str] = parent.reading if parent is not None else set()  # `spec` fields being read

    def __contains__(self, name: str) -> bool:
        return name in self.raw or (self.parent is not None and name in self.parent)

    def lookup(self, name: str) -> Any:
        if name in self._done:
            return self._done[name]
        if name not in self.raw:
            if self.parent is None:
                raise ExpressionError(f"unknown name {name!r}")
            return self.parent.lookup(name)
        if name in self._busy:
            raise ExpressionError(f"{name!r} is defined in terms of itself")
        self._busy.add(name)
        try:
            value = resolve(self.raw[name], self)
        finally:
            self._busy.discard(name)
        self._done[name] = value
        return value

    def resolved(self) -> dict[str, Any]:
        """Every raw value resolved (a value that is not an expression stays as written)."""
        return {k: self.lookup(k) for k in self.raw}


def resolve(value: Any, scope: Scope) -> Any:
    """timeloopfe's rule: a quoted string stays text; another string is evaluated if it is a valid expression
    over known names, else kept as written; lists and dicts are resolved item by item."""
    if isinstance(value, Quoted) or not isinstance(value, (str, list, dict)):
        return value
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    try:
        return evaluate(value, scope)
    except ExpressionError as exc:
        if "defined in terms of itself" in str(exc) or "too large" in str(exc):
            raise
        return value


def evaluate(text: str, scope: Scope | None = None) -> Any:
    """The value of one expression; ExpressionError says why it has none."""
    text = text.strip()
    if not text:
        raise ExpressionError("empty expression")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise ExpressionError(f"not an expression: {text!r}") from None
    return _eval(tree.body, scope or Scope())


class DocumentView:
    """A read-only view of a parsed document (a dict or list) for expressions: `spec.problem.instance.C` and
    `spec["problem"]["instance"]["C"]` read the same field; a text field read this way is itself evaluated
    (timeloopfe parses the specification before an expression sees it)."""

    def __init__(self, data: Any, scope: "Scope", path: str = "spec") -> None:
        self._data, self._scope, self._path = data, scope, path

    def get(self, key: Any) -> Any:
        data = self._data
        if isinstance(data, dict):
            if not isinstance(key, str) or key.startswith("_") or key not in data:
                raise ExpressionError(f"{self._path} has no field {key!r}")
            value, path = data[key], f"{self._path}.{key}"
        elif isinstance(data, list):
            if isinstance(key, bool) or not isinstance(key, int) or not -len(data) <= key < len(data):
                raise ExpressionError(f"{self._path}[{key!r}]: index out of range or not an integer")
            value, path = data[key], f"{self._path}[{key}]"
        else:
            raise ExpressionError(f"{self._path} is not a mapping or a list")
        if isinstance(value, (dict, list)):
            return DocumentView(value, self._scope, path)
        if isinstance(value, str) and not isinstance(value, Quoted):
            busy = self._scope.reading
            if path in busy:
                raise ExpressionError(f"{path!r} is defined in terms of itself")
            busy.add(path)
            try:
                return resolve(value, self._scope)
            finally:
                busy.discard(path)
        return value

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __iter__(self):
        """A list's items (each read as `get` reads it) or a mapping's field names, as Python iterates them."""
        if isinstance(self._data, dict):
            return iter([k for k in self._data if not (isinstance(k, str) and k.startswith("_"))])
        if isinstance(self._data, list):
            return iter([self.get(i) for i in range(len(self._data))])
        raise ExpressionError(f"{self._path} is not a mapping or a list")

    def plain(self) -> Any:
        """The viewed data (for a value that an expression returns whole)."""
        return self._data


def _checked(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"result too large (more than {MAX_INT_BITS} bits)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("result is not a finite number")
    return value


def _number(value: Any, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"{what} needs numbers, got {value!r}")
    return value


def _eval(node: ast.AST, scope: Scope) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (int, float, str, bool)) or node.value is None:
            return _checked(node.value)
        raise ExpressionError(f"unsupported literal {node.value!r}")
    if isinstance(node, ast.Name):
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if node.id in CONSTANTS and node.id not in scope:
            return CONSTANTS[node.id]
        return scope.lookup(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        a = _number(_eval(node.left, scope), "arithmetic")
        b = _number(_eval(node.right, scope), "arithmetic")
        try:
            if isinstance(node.op, ast.Pow):
                check_power(a, b)
            return _checked(_BINARY[type(node.op)](a, b))
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise ExpressionError(str(exc)) from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        v = _eval(node.operand, scope)
        return _UNARY[type(node.op)](v if isinstance(node.op, ast.Not) else _number(v, "a sign"))
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, scope) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, scope)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                raise ExpressionError(f"cannot compare {left!r} and {right!r}") from None
            left = right
        return True
    if isinstance(node, ast.Attribute) and _is_math(node.value, scope) and node.attr in CONSTANTS:
        return CONSTANTS[node.attr]
    if isinstance(node, ast.Attribute):
        owner = _eval(node.value, scope)
        if not isinstance(owner, DocumentView) or node.attr.startswith("_"):
            raise ExpressionError(f"unsupported syntax Attribute ({node.attr!r} of {type(owner).__name__}: "
                                  "attributes are read from spec and variables only)")
        return owner.get(node.attr)
    if isinstance(node, ast.Subscript):
        owner = _eval(node.value, scope)
        if isinstance(node.slice, ast.Slice):
            parts = [None if p is None else _eval(p, scope) for p in (node.slice.lower, node.slice.upper,
                                                                      node.slice.step)]
            if any(p is not None and (isinstance(p, bool) or not isinstance(p, int)) for p in parts):
                raise ExpressionError("slice bounds must be integers")
            data = owner.plain() if isinstance(owner, DocumentView) else owner
            if not isinstance(data, (list, str)):
                raise ExpressionError(f"cannot slice {type(data).__name__}")
            return data[slice(*parts)]
        key = _eval(node.slice, scope)
        if isinstance(owner, DocumentView):
            return owner.get(key)
        if isinstance(owner, (list, str)) and isinstance(key, int) and not isinstance(key, bool):
            if not -len(owner) <= key < len(owner):
                raise ExpressionError(f"index {key} out of range")
            return owner[key]
        if isinstance(owner, dict) and isinstance(key, str) and key in owner:
            return owner[key]
        raise ExpressionError(f"cannot index {type(owner).__name__} with {key!r}")
    if isinstance(node, ast.IfExp):
        return _eval(node.body, scope) if _eval(node.test, scope) else _eval(node.orelse, scope)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, scope) for e in node.elts]
    if isinstance(node, ast.Call):
        name, fn = _function(node.func, scope)
        if any(k.arg is None or k.arg == "key" for k in node.keywords):
            raise ExpressionError(f"{name}(...): keyword 'key' and **arguments are not accepted")
        args = [_eval(a, scope) for a in node.args]
        kwargs = {k.arg: _eval(k.value, scope) for k in node.keywords}
        try:
            return _checked(_plain_result(fn(*args, **kwargs)))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise ExpressionError(f"{name}(...): {exc}") from None
    raise ExpressionError(f"unsupported syntax {type(node).__name__} in an expression")


def _is_math(node: ast.AST, scope: Scope) -> bool:
    """`math` written as a module name (and not a name the specification defines)."""
    return isinstance(node, ast.Name) and node.id == "math" and "math" not in scope


def _function(func: ast.AST, scope: Scope) -> tuple[str, Any]:
    """The accepted function a call names (`len`, `ceil`, `math.ceil`) and its name; anything else is refused."""
    if isinstance(func, ast.Name) and func.id in FUNCTIONS:
        return func.id, FUNCTIONS[func.id]
    if isinstance(func, ast.Attribute) and _is_math(func.value, scope) and func.attr in MATH_FUNCTIONS:
        return f"math.{func.attr}", MATH_FUNCTIONS[func.attr]
    name = func.id if isinstance(func, ast.Name) else ast.unparse(func)
    raise ExpressionError(f"unsupported function {name!r} (accepted: {', '.join(FUNCTIONS)}, and math.NAME for "
                          "each math function)")


def _plain_result(value: Any) -> Any:
    """A function's result as a value an expression may hold (a tuple becomes a list)."""
    return list(value) if isinstance(value, tuple) else value


def _plain(value: Any) -> bool:
    """Data a document may hold (what an expression may put in place of its text)."""
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def resolve_plain(value: Any, scope: Scope) -> Any:
    """One unquoted text's value as data a document may hold (a part of the specification it names is copied in);
    anything else, and a text whose value is not such data, stays as written."""
    if not isinstance(value, str) or isinstance(value, Quoted):
        return value
    result = resolve(value, scope)
    if isinstance(result, DocumentView):
        result = result.plain()
    return result if _plain(result) else value


def evaluate_document(document: dict, sections: tuple[str, ...], variables: dict | None = None) -> None:
    """timeloopfe's rule applied in place to every value under `document[section]` for each section: an unquoted
    text that is an expression over the variables (also `variables`) and the document (`spec`) becomes its value;
    any other text stays as written (a name, a permutation, a factor list entry 'C=4'). A cycle is an
    ExpressionError naming the value."""
    base = Scope(variables or {})
    scope = Scope({}, base)
    scope.raw.update(spec=DocumentView(document, scope), variables=DocumentView(variables or {}, scope, "variables"))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key, value in node.items():
                if not (isinstance(key, str) and key.startswith("_")):
                    node[key] = walk(value)
            return node
        if isinstance(node, list):
            node[:] = [walk(v) for v in node]
            return node
        return resolve_plain(node, scope)

    for section in sections:
        if section in document:
            document[section] = walk(document[section])
