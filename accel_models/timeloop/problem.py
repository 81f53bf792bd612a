"""Timeloop v0.4 problems <-> `Layer`: any shape whose data-space projections map onto cosearch's dims and tensors.

A Timeloop problem names its own dimensions and data spaces and says, per data space, which dims index
each axis (a sum of `dim x coefficient` terms). cosearch has one shape (`nets.problem_shape`: eight dims,
Weights / Inputs / Outputs), so a problem is read by finding each of its dims a role there, from which
tensors the dim indexes:
- the read-write data space is Outputs; of the two operands, the one with a sliding-window axis (two
  terms, as `R*Wdilation + P*Wstride`) is Inputs (if neither has one: a data space named Weights, else the
  first listed);
- a window axis gives an (R, P) or (S, Q) pair: the term whose dim also indexes Weights is R (or S), its
  coefficient the dilation; the other, also indexing Outputs, is P (or Q), its coefficient the stride;
- other dims by the tensors they index: all three -> G, Weights and Inputs -> C (then R, S when their
  window is unused), Weights and Outputs -> K, Inputs and Outputs -> N (then P, Q).
So conv1d (R, P), Conv1D_OC, the CNN layer written with M for output channels, grouped and depthwise
convs, GEMM (A[M][K] x B[K][N] -> Z[M][N]) and batched GEMMs all load; a shape that cannot be expressed
gets an error naming the projection. As in Timeloop, keys it does not read are ignored (with a warning: the
input sizes and paddings timeloopfe's problems carry in `instance`, say), a missing shape is cnn_layer and
the bounds may sit beside the shape instead of under `instance`. `ProblemNames` keeps the problem's names
for its mapping files.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from nets import DIMS, TENSORS, Layer

from ._fields import number, show
from ._yaml import Flow, FlowMap, YamlSource, dump, load

CNN_DIMS: tuple[str, ...] = DIMS[:7]
"""cnn_layer's dims; grouped_conv's are all of DIMS (G last)."""
COEFFICIENTS: tuple[tuple[str, str], ...] = (
    ("Wstride", "stride_w"), ("Hstride", "stride_h"), ("Wdilation", "dilation_w"), ("Hdilation", "dilation_h"))
"""(Timeloop coefficient, `Layer` field): W* run along R/P, H* along S/Q."""
_WINDOWS = (("R", "P", "dilation_w", "stride_w"), ("S", "Q", "dilation_h", "stride_h"))
_PROBLEM_KEYS = ("version", "shape", "instance")
_SHAPE_KEYS = ("name", "dimensions", "coefficients", "data_spaces")
_SPACE_KEYS = ("name", "projection", "read_write", "ranks")
_DENSITY_KEYS = ("densities", "commonDensity")
"""problem.instance keys giving tensor densities (sparse workloads)."""


@dataclass(frozen=True)
class ProblemNames:
    """How a Timeloop problem names cosearch's dims and tensors (the names its mapping files use).

    dims: {problem dim: cosearch dim}; tensors: {data space: cosearch tensor}; order: the problem's dims
    as it lists them (a missing permutation is this order, first innermost).
    """

    dims: dict[str, str]
    tensors: dict[str, str]
    order: tuple[str, ...]

    @staticmethod
    def standard(dims: tuple[str, ...] = CNN_DIMS) -> "ProblemNames":
        """cosearch's own names (a cnn_layer problem, or grouped_conv's with G)."""
        return ProblemNames({d: d for d in dims}, {t: t for t in TENSORS}, tuple(dims))

    def dim(self, name: str, field: str) -> str:
        """The cosearch dim of problem dim `name`; an error naming `field` if the problem has none."""
        if name not in self.dims:
            raise ValueError(f"{field}: unknown dim {name!r}; the problem's dims: {' '.join(self.order)}")
        return self.dims[name]

    def tensor(self, name: str, field: str) -> str:
        if name not in self.tensors:
            raise ValueError(f"{field}: unknown data space {name!r}; the problem's: {', '.join(self.tensors)}")
        return self.tensors[name]

    def problem_dim(self, dim: str) -> str | None:
        """The problem's name of cosearch dim `dim` (None: the problem has no such dim)."""
        return next((k for k, v in self.dims.items() if v == dim), None)

    def problem_tensor(self, tensor: str) -> str:
        return next(k for k, v in self.tensors.items() if v == tensor)


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


def _builtin_shapes() -> dict[str, dict]:
    """{lower-case name: shape} of the shapes a problem may name instead of giving them."""
    windows = [{"name": c, "default": 1} for c, _ in COEFFICIENTS]
    gemm = [{"name": "A", "projection": [[["M"]], [["K"]]]}, {"name": "B", "projection": [[["N"]], [["K"]]]},
            {"name": "Z", "projection": [[["M"]], [["N"]]], "read_write": True}]     # Z[M][N] += A[M][K] B[N][K]
    return {"cnn_layer": {"dimensions": list(CNN_DIMS), "coefficients": windows,
                          "data_spaces": standard_data_spaces(CNN_DIMS)},
            "grouped_conv": {"dimensions": list(DIMS), "coefficients": windows,
                             "data_spaces": standard_data_spaces(DIMS)},
            "gemm_abz": {"dimensions": ["M", "N", "K"], "data_spaces": gemm}}


SHAPES: dict[str, dict] = _builtin_shapes()
"""Shapes a problem may name instead of giving them: those of Timeloop's problem-shapes folder (cnn_layer,
gemm_ABZ) and cosearch's grouped_conv (cnn_layer with a G dim)."""


# ---- reading the shape ---------------------------------------------------------------------------
@dataclass
class _Space:
    name: str
    axes: list[list[tuple[str, int | str]]]     # per axis: (dim, coefficient value or name)
    read_write: bool


def _ignored_keys(d: dict, keys: tuple[str, ...], field: str) -> None:
    """Timeloop reads a problem's known keys and ignores the others: so does cosearch, with a warning."""
    unknown = [str(k) for k in d if k not in keys]
    if unknown:
        warnings.warn(f"{field}: key(s) {unknown} ignored (Timeloop reads only {', '.join(keys)})", stacklevel=3)


def _term(term, field: str) -> tuple[str, int | str]:
    if isinstance(term, str):
        return term, 1
    if isinstance(term, (list, tuple)) and len(term) in (1, 2) and isinstance(term[0], str):
        return term[0], (term[1] if len(term) == 2 else 1)
    raise ValueError(f"{field}: a projection term is [dim] or [dim, coefficient], got {show(term)}")


def _string_projection(text: str, field: str) -> list[list[tuple[str, int | str]]]:
    """'[ C, R*Wdilation + P*Wstride ]' (timeloopfe's expression form) -> axes of terms."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{field}: not a projection: {text!r}") from None
    items = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
    axes = []
    for item in items:
        terms, stack = [], [item]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                stack += [node.right, node.left]
            elif isinstance(node, ast.Name):
                terms.append((node.id, 1))
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
                a, b = node.left, node.right
                names = [n for n in (a, b) if isinstance(n, ast.Name)]
                consts = [n.value for n in (a, b) if isinstance(n, ast.Constant) and isinstance(n.value, int)]
                if len(names) == 2:
                    terms.append((a.id, b.id))
                elif len(names) == 1 and consts:
                    terms.append((names[0].id, consts[0]))
                else:
                    raise ValueError(f"{field}: a term is dim or dim*coefficient, got {ast.unparse(node)!r}")
            else:
                raise ValueError(f"{field}: a term is dim or dim*coefficient, got {ast.unparse(node)!r}")
        axes.append(terms)
    return axes


def _spaces(shape: dict) -> list[_Space]:
    raw = shape.get("data_spaces")
    if not isinstance(raw, list) or not raw:
        raise ValueError("problem.shape.data_spaces: expected a list of {name, projection} entries")
    spaces = []
    for i, ds in enumerate(raw):
        field = f"problem.shape.data_spaces[{i}]"
        if not isinstance(ds, dict) or "name" not in ds or "projection" not in ds:
            raise ValueError(f"{field}: expected {{name, projection[, read_write]}}, got {show(ds)}")
        _ignored_keys(ds, _SPACE_KEYS, field)
        proj = ds["projection"]
        if isinstance(proj, str):
            axes = _string_projection(proj, f"{field}.projection")
        elif isinstance(proj, list):
            axes = []
            for a, axis in enumerate(proj):
                terms = axis if isinstance(axis, list) else [axis]
                axes.append([_term(t, f"{field}.projection[{a}]") for t in terms])
        else:
            raise ValueError(f"{field}.projection: expected a list of axes, got {show(proj)}")
        ranks = ds.get("ranks")
        if ranks is not None and (not isinstance(ranks, list) or len(ranks) != len(axes)):
            raise ValueError(f"{field}.ranks: expected one name per projection axis ({len(axes)}), got {show(ranks)}")
        spaces.append(_Space(str(ds["name"]), axes, bool(ds.get("read_write", False))))
    return spaces


def _shape(problem: dict) -> tuple[str, tuple[str, ...], dict, list[_Space]]:
    """(shape name, its dims, coefficient defaults, data spaces); a built-in name may stand for its spaces, and a
    problem without a shape is a cnn_layer (as in Timeloop)."""
    if "shape" not in problem:
        warnings.warn("problem.shape: missing; assuming Timeloop's cnn_layer", stacklevel=3)
    shape = problem.get("shape", "cnn_layer")
    shape = {"name": shape} if isinstance(shape, str) else shape
    if not isinstance(shape, dict):
        raise ValueError(f"problem.shape: expected a mapping with dimensions and data_spaces, got {show(shape)}")
    if "flatten" in shape:
        raise ValueError("problem.shape.flatten: flattened dimensions are not modelled by cosearch; give the "
                         "problem with its factorized dimensions")
    _ignored_keys(shape, _SHAPE_KEYS, "problem.shape")
    name = str(shape.get("name", ""))
    key = name.lower().replace("-", "_")
    if "data_spaces" not in shape:
        if key not in SHAPES:
            raise ValueError(f"problem.shape.name: {name!r} is no built-in shape ({', '.join(SHAPES)}); give its "
                             "dimensions and data_spaces")
        builtin = SHAPES[key]
        spaces = _spaces(builtin)
        dims = tuple(builtin["dimensions"])
    else:
        builtin = {}
        spaces = _spaces(shape)
        dims = None
    if "dimensions" in shape:
        raw = shape["dimensions"]
        given = tuple(str(d) for d in (raw.split() if isinstance(raw, str) else raw or []))
        if len(set(given)) != len(given):
            raise ValueError(f"problem.shape.dimensions: a dim is listed twice in {list(given)}")
        if builtin and given != dims:
            raise ValueError(f"problem.shape.dimensions of {key} must be {list(dims)}, got {list(given)}")
        dims = given
    if dims is None:
        dims = tuple(dict.fromkeys(d for s in spaces for axis in s.axes for d, _ in axis))
    defaults = {}
    for j, c in enumerate(shape.get("coefficients") or builtin.get("coefficients") or []):
        if not isinstance(c, dict) or "name" not in c:
            raise ValueError(f"problem.shape.coefficients[{j}]: expected {{name, default}}, got {show(c)}")
        defaults[str(c["name"])] = c.get("default", 1)
    return name, dims, defaults, spaces


# ---- finding each dim its role -------------------------------------------------------------------
_WHERE = "problem.shape.data_spaces"
"""Where in a Timeloop problem the data spaces `_roles` reads are (its errors name it)."""


def _roles(dims: tuple[str, ...], spaces: list[_Space], coef_value) -> tuple[dict[str, str], dict[str, str], dict]:
    """({problem dim: cosearch dim}, {data space: tensor}, {Layer coefficient field: value}): the tensors by their
    projections, then the sliding windows' dims, then every other dim by the tensors it indexes."""
    _check_axis_dims(dims, spaces)
    inputs, weights, out = _operands(spaces)
    tensor_of = {weights.name: "Weights", inputs.name: "Inputs", out.name: "Outputs"}
    index = _tensors_of_dims(dims, spaces, tensor_of, coef_value)
    free_windows = list(_WINDOWS)
    role, coef = _window_roles(inputs, weights, out, index, free_windows, coef_value)
    role.update(_other_roles(dims, spaces, tensor_of, index, role, free_windows))
    return role, tensor_of, coef


def _check_axis_dims(dims: tuple[str, ...], spaces: list[_Space]) -> None:
    """Every dim a projection names is one of the problem's."""
    for s in spaces:
        for a, axis in enumerate(s.axes):
            for d, _ in axis:
                if d not in dims:
                    raise ValueError(f"{_WHERE}: {s.name}'s projection axis {a} names dim {d!r}, which is not in "
                                     f"problem.shape.dimensions {list(dims)}")


def _operands(spaces: list[_Space]) -> tuple[_Space, _Space, _Space]:
    """(inputs, weights, outputs) of the three data spaces: the output is the read-write one; the inputs are the
    operand with sliding windows (axes summing dims), else the one named like inputs (or the other than one named
    weights), else the second."""
    outs = [s for s in spaces if s.read_write]
    if len(spaces) != 3 or len(outs) != 1:
        raise ValueError(f"{_WHERE}: cosearch models two operands and one read-write output; this problem has "
                         f"{len(spaces)} data spaces ({', '.join(s.name for s in spaces)}), "
                         f"{len(outs)} of them read_write")
    out = outs[0]
    a, b = [s for s in spaces if s is not out]
    windowed = [s for s in (a, b) if any(len(axis) > 1 for axis in s.axes)]
    if len(windowed) == 2:
        raise ValueError(f"{_WHERE}: both {a.name} and {b.name} have axes summing several dims; only the input "
                         "operand may have sliding windows")
    if windowed:
        inputs = windowed[0]
    elif b.name.lower() == "weights" or a.name.lower() in ("inputs", "ifmap", "input"):
        inputs = a
    else:
        inputs = b
    return inputs, (b if inputs is a else a), out


def _tensors_of_dims(dims: tuple[str, ...], spaces: list[_Space], tensor_of: dict[str, str],
                     coef_value) -> dict[str, set[str]]:
    """{dim: the tensors it indexes}, checking each data space's axes are cosearch's kind: each dim on one axis, a
    coefficient only inside a sliding window, at most two dims an axis."""
    index: dict[str, set[str]] = {d: set() for d in dims}
    for s in spaces:
        seen = set()
        for axis in s.axes:
            for d, c in axis:
                if d in seen:
                    raise ValueError(f"{_WHERE}: dim {d} indexes two axes of {s.name}; cosearch's tensors see each dim "
                                     "on one axis")
                seen.add(d)
                index[d].add(tensor_of[s.name])
                if len(axis) == 1 and coef_value(c, f"{s.name}'s projection") != 1:
                    raise ValueError(f"{_WHERE}: {s.name}'s axis {d}*{c} has a coefficient; cosearch's coefficients "
                                     "are the strides and dilations of a sliding window (R*Wdilation + P*Wstride)")
        for axis in s.axes:
            if len(axis) > 2:
                raise ValueError(f"{_WHERE}: {s.name}'s axis {' + '.join(d for d, _ in axis)} sums more than two dims")
    return index


def _window_roles(inputs: _Space, weights: _Space, out: _Space, index: dict[str, set[str]], free_windows: list,
                  coef_value) -> tuple[dict[str, str], dict[str, int]]:
    """({dim: cosearch dim}, {coefficient field: value}) of the inputs' sliding windows (filter dim + output dim);
    a window keeps its names when they are R/P or S/Q, else takes the free pairs in order (removed from
    `free_windows`)."""
    windows = [axis for axis in inputs.axes if len(axis) == 2]
    if len(windows) > 2:
        raise ValueError(f"{_WHERE}: {inputs.name} has {len(windows)} sliding-window axes; cosearch has two (W, H)")
    pairs = []
    for axis in windows:
        (d1, c1), (d2, c2) = axis
        kinds = {d: frozenset(index[d]) for d in (d1, d2)}
        filt = [d for d in (d1, d2) if kinds[d] == {"Weights", "Inputs"}]
        outp = [d for d in (d1, d2) if kinds[d] == {"Inputs", "Outputs"}]
        if len(filt) != 1 or len(outp) != 1:
            raise ValueError(f"{_WHERE}: {inputs.name}'s axis {d1} + {d2} is no sliding window: one dim must also "
                             f"index {weights.name} only and the other {out.name} only")
        pairs.append((filt[0], outp[0], c1 if d1 == filt[0] else c2, c2 if d1 == filt[0] else c1))
    role: dict[str, str] = {}
    coef: dict[str, int] = {}
    for f, o, cf, co in sorted(pairs, key=lambda p: 0 if (p[0], p[1]) in [(w[0], w[1]) for w in _WINDOWS] else 1):
        w = next((w for w in free_windows if (w[0], w[1]) == (f, o)), free_windows[0])
        free_windows.remove(w)
        role[f], role[o] = w[0], w[1]
        coef[w[2]] = coef_value(cf, f"{inputs.name}'s window {f}")
        coef[w[3]] = coef_value(co, f"{inputs.name}'s window {o}")
    return role, coef


_SLOTS = {frozenset(("Weights", "Inputs", "Outputs")): ("G",), frozenset(("Weights", "Inputs")): ("C",),
          frozenset(("Weights", "Outputs")): ("K",), frozenset(("Inputs", "Outputs")): ("N",)}
"""cosearch's dims outside the windows by the tensors they index (a free window's filter dim also indexes weights
and inputs, its output dim inputs and outputs)."""


def _other_roles(dims: tuple[str, ...], spaces: list[_Space], tensor_of: dict[str, str], index: dict[str, set[str]],
                 windows: dict[str, str], free_windows: list) -> dict[str, str]:
    """{dim: cosearch dim} of the dims outside the windows (`windows`' keys), by the tensors each indexes
    (`_SLOTS`, then the free windows' dims); a dim named like its slot keeps it. A dim indexing nothing is left
    out (allowed only with bound 1, which the caller checks)."""
    pending: dict[frozenset, list[str]] = {k: [] for k in _SLOTS}
    for d in dims:
        if d in windows:
            continue
        kind = frozenset(index[d])
        if not kind:
            continue
        if kind not in _SLOTS:
            tensor = next(iter(kind))
            name = next(s.name for s in spaces if tensor_of[s.name] == tensor)
            raise ValueError(f"{_WHERE}: dim {d} indexes only {name}; each of cosearch's dims indexes two or three "
                             "of the tensors")
        pending[kind].append(d)
    role: dict[str, str] = {}
    for kind, ds in pending.items():
        slots = list(_SLOTS[kind])
        if kind == frozenset(("Weights", "Inputs")):
            slots += [w[0] for w in free_windows]
        elif kind == frozenset(("Inputs", "Outputs")):
            slots += [w[1] for w in free_windows]
        if len(ds) > len(slots):
            names = " and ".join(t for t in TENSORS if t in kind)
            raise ValueError(f"{_WHERE}: {len(ds)} dims ({', '.join(ds)}) index {names}; cosearch has "
                             f"{len(slots)} such dim(s) here ({', '.join(slots)})")
        ordered = sorted(ds, key=lambda d: (d not in slots, dims.index(d)))
        for d in ordered:
            slot = d if d in slots else slots[0]
            slots.remove(slot)
            role[d] = slot
            w = next((w for w in free_windows if slot in (w[0], w[1])), None)
            if w is not None:
                free_windows.remove(w)
    return role


def problem_from_timeloop(problem_yaml: YamlSource, name: str = "") -> tuple[Layer, ProblemNames]:
    """A Timeloop v0.4 problem -> (`Layer`, the problem's names for cosearch's dims and tensors)."""
    problem = load(problem_yaml, "problem")
    problem = problem.get("problem", problem)
    if not isinstance(problem, dict):
        raise ValueError(f"problem: expected a mapping with shape and instance, got {show(problem)}")
    _, dims, defaults, spaces = _shape(problem)
    if "instance" in problem:
        _ignored_keys(problem, _PROBLEM_KEYS, "problem")
        instance = problem["instance"]
    else:                                 # Timeloop's older form: the bounds beside the shape
        instance = {k: v for k, v in problem.items() if k not in _PROBLEM_KEYS}
        if not set(instance) & set(dims):
            instance = None
    if not isinstance(instance, dict):
        raise ValueError("problem.instance: missing (expected the loop bounds, e.g. {R: 3, S: 3, ...})")
    instance = dict(instance)
    for key in _DENSITY_KEYS:
        densities = instance.pop(key, None)
        if densities:
            warnings.warn(f"problem.instance.{key} {show(densities)}: cosearch models dense tensors; the densities "
                          "are ignored", stacklevel=2)
    used_coefs = {c for s in spaces for axis in s.axes for _, c in axis if isinstance(c, str)}
    allowed = set(dims) | set(defaults) | used_coefs

    def coef_value(c, where: str) -> int:
        if isinstance(c, str):
            if c not in instance and c not in defaults:
                raise ValueError(f"problem: {where} uses coefficient {c!r}, which neither problem.instance nor "
                                 "problem.shape.coefficients gives")
            return number(instance.get(c, defaults.get(c)), f"problem.instance.{c}", integer=True)
        return number(c, f"problem: {where}'s coefficient", integer=True)

    role, tensors, coef = _roles(dims, spaces, coef_value)
    unknown = sorted(str(k) for k in set(instance) - allowed)
    if unknown:   # e.g. timeloopfe's H, W, Hpad, Wpad: Timeloop reads only dims and coefficients
        warnings.warn(f"problem.instance: {', '.join(unknown)} ignored: neither a dim nor a coefficient of the "
                      f"problem ({', '.join(sorted(allowed))})", stacklevel=2)
    bounds = {d: number(instance.get(d, 1), f"problem.instance.{d}", integer=True) for d in dims}
    for d in dims:
        if d not in role and bounds[d] > 1:
            raise ValueError(f"problem.shape.data_spaces: dim {d} (bound {bounds[d]}) indexes no data space")
    layer = Layer(**{role[d]: bounds[d] for d in dims if d in role}, **coef, name=name)
    ordered = tuple(d for d in dims if d in role)
    return layer, ProblemNames({d: role[d] for d in ordered}, tensors, ordered)


def layer_from_timeloop(problem_yaml: YamlSource, name: str = "") -> Layer:
    """A Timeloop v0.4 problem -> `Layer` (see `problem_from_timeloop` for the shapes accepted)."""
    return problem_from_timeloop(problem_yaml, name)[0]


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
