"""Timeloop v0.4 problems (cnn_layer, grouped_conv) <-> `Layer`.

Issue 12 grows this into problem shapes given by their data-space projections (conv1d, GEMM, ...).
"""
from __future__ import annotations

from nets import DIMS, Layer

from ._fields import number
from ._yaml import Flow, FlowMap, YamlSource, dump, load

CNN_DIMS: tuple[str, ...] = DIMS[:7]
"""cnn_layer's dims; grouped_conv's are all of DIMS (G last)."""
SHAPES: dict[str, tuple[str, ...]] = {"cnn_layer": CNN_DIMS, "grouped_conv": DIMS}
COEFFICIENTS: tuple[tuple[str, str], ...] = (
    ("Wstride", "stride_w"), ("Hstride", "stride_h"), ("Wdilation", "dilation_w"), ("Hdilation", "dilation_h"))
"""(Timeloop coefficient, `Layer` field): W* run along R/P, H* along S/Q."""


def problem_dims(layer: Layer) -> tuple[str, ...]:
    """cnn_layer dims unless the layer is grouped (G > 1): then grouped_conv's, as the corpus does."""
    return DIMS if layer.G > 1 else CNN_DIMS


def standard_data_spaces(dims: tuple[str, ...]) -> list[dict]:
    """The three data spaces of cnn_layer (or grouped_conv, with a G axis): each axis a sum of [dim, coefficient]."""
    g = [[["G"]]] if "G" in dims else []
    return [
        {"name": "Weights", "projection": [*g, [["K"]], [["C"]], [["R"]], [["S"]]]},
        {"name": "Inputs", "projection": [[["N"]], *g, [["C"]], [["R", "Wdilation"], ["P", "Wstride"]],
                                          [["S", "Hdilation"], ["Q", "Hstride"]]]},
        {"name": "Outputs", "projection": [[["N"]], *g, [["K"]], [["Q"]], [["P"]]], "read_write": True},
    ]


def _shape(problem: dict) -> tuple[str, tuple[str, ...], dict]:
    """(shape name, its dims, its coefficient defaults); only cnn_layer and grouped_conv are accepted."""
    shape = problem.get("shape")
    shape = {"name": shape} if isinstance(shape, str) else (shape or {})
    name = str(shape.get("name", "")).lower().replace("-", "_")
    if name not in SHAPES:
        raise ValueError(f"problem.shape.name must be one of {', '.join(SHAPES)}, got {shape.get('name')!r}")
    dims = SHAPES[name]
    if "dimensions" in shape and tuple(shape["dimensions"]) != dims:
        raise ValueError(f"problem.shape.dimensions of {name} must be {list(dims)}, got {shape['dimensions']!r}")
    if "data_spaces" in shape and _normalise_spaces(shape["data_spaces"]) != _normalise_spaces(
            standard_data_spaces(dims)):
        raise ValueError(f"problem.shape.data_spaces: only the standard {name} projections are supported")
    defaults = {c["name"]: c.get("default", 1) for c in shape.get("coefficients") or []}
    return name, dims, defaults


def _normalise_spaces(spaces: list[dict]) -> list[tuple]:
    return sorted((s.get("name"), repr(s.get("projection")), bool(s.get("read_write", False))) for s in spaces)


def layer_from_timeloop(problem_yaml: YamlSource, name: str = "") -> Layer:
    """A Timeloop v0.4 cnn_layer / grouped_conv problem -> `Layer` (W* along R/P, H* along S/Q)."""
    problem = load(problem_yaml, "problem")
    problem = problem.get("problem", problem)
    _, dims, defaults = _shape(problem)
    instance = problem.get("instance")
    if not isinstance(instance, dict):
        raise ValueError("problem.instance: missing (expected the loop bounds, e.g. {R: 3, S: 3, ...})")
    allowed = set(dims) | {c for c, _ in COEFFICIENTS}
    unknown = sorted(set(instance) - allowed)
    if unknown:
        raise ValueError(f"problem.instance: unknown key(s) {unknown}; accepted: {', '.join(sorted(allowed))}")
    bounds = {d: number(instance.get(d, 1), f"problem.instance.{d}", integer=True) for d in dims}
    coeffs = {attr: number(instance.get(c, defaults.get(c, 1)), f"problem.instance.{c}", integer=True)
              for c, attr in COEFFICIENTS}
    return Layer(**bounds, **coeffs, name=name)


def problem_to_timeloop_yaml(layer: Layer) -> str:
    """`Layer` -> a Timeloop v0.4 problem (cnn_layer, or grouped_conv when G > 1)."""
    dims = problem_dims(layer)
    shape = {
        "name": "grouped_conv" if "G" in dims else "cnn_layer",
        "dimensions": Flow(dims),
        "coefficients": [FlowMap(name=c, default=1) for c, _ in COEFFICIENTS],
        "data_spaces": [{**space, "projection": Flow(space["projection"])} for space in standard_data_spaces(dims)],
    }
    instance = {d: int(getattr(layer, d)) for d in dims} | {c: int(getattr(layer, attr)) for c, attr in COEFFICIENTS}
    return dump({"problem": {"version": 0.4, "shape": shape, "instance": instance}})
