"""The functions and constants a timeloopfe expression may use, each bounded so that no call can run long or
grow without limit.

The set is Accelergy's (the evaluator timeloopfe calls): Python's `math` functions and constants by their bare
names (`ceil`, `log2`, `pi`), the same also written `math.ceil`, and the builtins `abs`, `round`, `pow`, `sum`,
`range`, `len`, `min`, `max`, `float`, `int`, `str`, `bool`, `list`, `tuple` and `enumerate`. Left out on
purpose: `getcwd` (it reads the machine, not the specification), `map` (it takes a function, and functions are
not values here), and `inf` / `nan` (no field takes them). Arguments are plain values or read-only views of the
specification; results are plain values (lists for tuples and iterators).
"""
from __future__ import annotations

import math
from typing import Any, Callable

MAX_INT_BITS = 128
"""Integers beyond 2^128 (a misspelled exponent) are refused rather than computed."""
MAX_ITEMS = 65536
"""The longest list a call may make (`range`, `list`), so that `sum(range(...))` stays quick."""
MAX_FACTORIAL_ARGUMENT = 1000
"""`factorial`, `comb` and `perm` refuse larger arguments (their result would be refused anyway)."""


class CallRefused(ValueError):
    """A call whose arguments are outside the bounds above (what is wrong)."""


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_power(a: Any, b: Any) -> None:
    """Refuses an integer power whose result would exceed MAX_INT_BITS (before computing it)."""
    if _integer(a) and _integer(b) and (b > MAX_INT_BITS or a.bit_length() * max(b, 0) > MAX_INT_BITS):
        raise CallRefused(f"result too large ({a} ** {b})")


def _power(a: Any, b: Any, modulus: Any = None) -> Any:
    if modulus is None:
        check_power(a, b)
        return pow(a, b)
    return pow(a, b, modulus)


def _small(fn: Callable) -> Callable:
    def call(*args: Any) -> Any:
        if any(_integer(a) and abs(a) > MAX_FACTORIAL_ARGUMENT for a in args):
            raise CallRefused(f"arguments above {MAX_FACTORIAL_ARGUMENT} are refused")
        return fn(*args)
    return call


def _bounded_list(items: Any) -> list:
    out = []
    for item in items:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise CallRefused(f"more than {MAX_ITEMS} items")
    return out


def _range(*args: Any) -> list:
    span = range(*args)
    if len(span) > MAX_ITEMS:
        raise CallRefused(f"range of {len(span)} items (at most {MAX_ITEMS})")
    return list(span)


def _product(items: Any, start: Any = 1) -> Any:
    total = start
    for item in _bounded_list(items):
        total = total * item
        if _integer(total) and total.bit_length() > MAX_INT_BITS:
            raise CallRefused(f"result too large (more than {MAX_INT_BITS} bits)")
    return total


def _text(value: Any) -> str:
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise CallRefused("str() takes a number or a text")
    return str(value)


def _as_list(fn: Callable) -> Callable:
    return lambda *args: list(fn(*args))


_MATH_NAMES = (
    "ceil", "comb", "copysign", "fabs", "factorial", "floor", "fmod", "frexp", "fsum", "gcd", "isclose", "isfinite",
    "isinf", "isnan", "isqrt", "ldexp", "modf", "perm", "prod", "remainder", "trunc", "exp", "expm1", "log", "log1p",
    "log2", "log10", "pow", "sqrt", "acos", "asin", "atan", "atan2", "cos", "dist", "hypot", "sin", "tan", "degrees",
    "radians", "acosh", "asinh", "atanh", "cosh", "sinh", "tanh", "erf", "erfc", "gamma", "lgamma")
"""Accelergy's `math` functions, by name."""

MATH_FUNCTIONS: dict[str, Callable] = {name: getattr(math, name) for name in _MATH_NAMES}
MATH_FUNCTIONS.update(
    factorial=_small(math.factorial), comb=_small(math.comb), perm=_small(math.perm), prod=_product,
    frexp=_as_list(math.frexp), modf=_as_list(math.modf))
"""`math.NAME` for each accepted NAME (bounded where a result could grow without limit)."""

FUNCTIONS: dict[str, Callable] = {
    **MATH_FUNCTIONS,
    "abs": abs, "round": round, "pow": _power, "sum": lambda items, start=0: sum(_bounded_list(items), start),
    "range": _range, "len": len, "min": min, "max": max, "float": float, "int": int, "str": _text, "bool": bool,
    "list": _bounded_list, "tuple": _bounded_list, "enumerate": lambda items, start=0: [
        [i, v] for i, v in enumerate(_bounded_list(items), start)],
}
"""The functions an expression may call by bare name (Accelergy's set, as timeloopfe offers it; Python's builtin
`pow` shadows `math.pow`, as there)."""

CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
"""Names every expression knows (unless the specification defines the same name, which wins)."""
