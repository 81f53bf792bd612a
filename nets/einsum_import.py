"""AccelForge's Einsum workloads (its `workload:` section, already read from YAML) as a `Network`: each Einsum that
is a layer cosearch models (a matmul, a 1x1 or windowed convolution, a depthwise convolution, an attention product)
becomes one `Layer`; any other Einsum is refused in one line naming it.

An Einsum lists its tensors' accesses: each tensor's projection maps its ranks to expressions of rank variables
(`[m, n0]` is `{M: m, N0: n0}`), and one tensor is the output. The two operands are the input and the weight (the
Einsum's `renames`, else the operand another Einsum writes is the input, else the first one listed). The roles of
the rank variables follow from which tensors they index (the same rule that defines a convolution's loop nest):

| indexes | role | cosearch dim |
|---|---|---|
| output, input and weight | independent groups | G |
| output and weight | output channels | K |
| input and weight | reduction | C |
| output and input | output positions / rows | P, Q (the windowed ones, else the first two of 2+), N |
| weight, and the input through `p + r` | filter taps | R, S (with P, Q) |

Several variables in one role multiply into its dim (the layer's loop bounds, not their order, set its cost). A
variable's size comes from the Einsum's or the workload's `iteration_space_shape` (`0 <= m < 128`) or from the size
of a rank it indexes alone (`rank_sizes`).
"""
from __future__ import annotations

import ast
import re
from math import prod
from typing import Any

from .layer import Layer
from .network import Network

_BOUND = re.compile(r"^\s*0\s*<=\s*([A-Za-z_]\w*)\s*<\s*(\d+)\s*$")
_OPERAND_ROLES = ("input", "weight", "output")


def _fail(where: str, text: str) -> ValueError:
    return ValueError(f"{where}: {text}")


def _bounds(shape: Any, where: str) -> dict[str, int]:
    """`iteration_space_shape` (a mapping var -> '0 <= var < N', or a list of such texts) -> {var: N}."""
    if shape is None:
        return {}
    items = shape.values() if isinstance(shape, dict) else shape if isinstance(shape, list) else None
    if items is None:
        raise _fail(where, f"expected a mapping or a list of '0 <= var < N' bounds, got {shape!r}")
    out = {}
    for text in items:
        m = _BOUND.match(str(text))
        if not m:
            raise _fail(where, f"bound {text!r}: accepted: '0 <= var < N' with N an integer")
        out[m[1]] = int(m[2])
    return out


def _terms(expr: Any, where: str) -> list[tuple[str, int]]:
    """A projection expression -> its (variable, coefficient) terms: `p`, `p + r`, `2*p + r`."""
    try:
        tree = ast.parse(str(expr).strip(), mode="eval").body
    except SyntaxError:
        raise _fail(where, f"projection expression {expr!r} is not an expression") from None

    def walk(node: ast.AST) -> list[tuple[str, int]]:
        if isinstance(node, ast.Name):
            return [(node.id, 1)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return walk(node.left) + walk(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(a, ast.Constant) and type(a.value) is int and a.value > 0 and isinstance(b, ast.Name):
                    return [(b.id, a.value)]
        raise _fail(where, f"projection expression {expr!r}: accepted: a variable or a sum of variables, each "
                           "optionally times a positive integer (p, p + r, 2*p + r)")
    return walk(tree)


def _projection(access: dict, where: str) -> dict[str, list[tuple[str, int]]]:
    """A tensor access's projection -> {rank: terms}; a list projection names each rank by its variable,
    upper-cased, as AccelForge does."""
    proj = access.get("projection")
    if isinstance(proj, list):
        return {str(v).upper(): _terms(v, where) for v in proj}
    if isinstance(proj, dict):
        return {str(rank): _terms(v, f"{where}.{rank}") for rank, v in proj.items()}
    raise _fail(where, f"projection: expected a list of variables or a mapping rank -> expression, got {proj!r}")


_REF = re.compile(r"^\s*([A-Za-z_]\w*)\s*\[(.*)\]\s*$")
_OPERAND = re.compile(r"[A-Za-z_]\w*\s*\[[^\]]*\]")


def _reference(text: str, where: str) -> dict:
    """'K[b, M: p, h]' -> a tensor access {name, projection {rank: expression}} (an entry without `RANK:` names
    the rank by its variable, upper-cased)."""
    m = _REF.match(text)
    if not m:
        raise _fail(where, f"{text.strip()!r}: accepted: TENSOR[index, ...]")
    projection = {}
    for entry in (e for e in m[2].split(",") if e.strip()):
        rank, _, expr = entry.rpartition(":")
        projection[rank.strip() or expr.strip().upper()] = expr.strip()
    return {"name": m[1], "projection": projection}


def _written_form(einsum: Any, where: str) -> dict:
    """An Einsum written as text ('Z[m, n] = A[m, k] * B[k, n]', alone or as `einsum:`) as the mapping form."""
    text = einsum if isinstance(einsum, str) else einsum.get("einsum") if isinstance(einsum, dict) else None
    if not isinstance(text, str):
        return einsum
    out, eq, rhs = text.partition("=")
    if not eq:
        raise _fail(where, f"{text!r}: accepted: 'OUT[...] = A[...] * B[...]'")
    output = {**_reference(out, where), "output": True}
    operands = [m.group(0) for m in _OPERAND.finditer(rhs)]
    if not operands or _OPERAND.sub("", rhs).replace("*", "").strip():
        raise _fail(where, f"{text!r}: accepted: 'OUT[...] = A[...] * B[...]'")
    accesses = [_reference(t, where) for t in operands] + [output]
    base = einsum if isinstance(einsum, dict) else {}
    return {**{k: v for k, v in base.items() if k != "einsum"}, "name": base.get("name", output["name"]),
            "tensor_accesses": accesses}


def _roles(einsum: dict, where: str, writers: dict[str, int]) -> tuple[dict, dict, dict]:
    """(input, weight, output) accesses of an Einsum: {'name', 'ranks'}; refuses any other number of tensors."""
    accesses = einsum.get("tensor_accesses")
    if not isinstance(accesses, list) or not all(isinstance(a, dict) and "name" in a for a in accesses):
        raise _fail(where, "tensor_accesses: expected a list of {name, projection} entries")
    outputs = [a for a in accesses if a.get("output") is True]
    if len(outputs) != 1 or len(accesses) != 3:
        raise _fail(where, f"{len(accesses)} tensors, {len(outputs)} output(s): cosearch models Einsums of two "
                           "operands and one output (a matmul, a convolution, an attention product)")
    named = {a["name"]: a for a in accesses}
    renames = einsum.get("renames") or {}
    operands = [a for a in accesses if a is not outputs[0]]
    if renames.get("input") in named and renames.get("weight") in named:
        first, second = named[renames["input"]], named[renames["weight"]]
    elif sum(a["name"] in writers for a in operands) == 1:
        first = next(a for a in operands if a["name"] in writers)
        second = next(a for a in operands if a is not first)
    else:
        first, second = operands
    return ({"name": first["name"], "ranks": _projection(first, f"{where}.{first['name']}.projection")},
            {"name": second["name"], "ranks": _projection(second, f"{where}.{second['name']}.projection")},
            {"name": outputs[0]["name"], "ranks": _projection(outputs[0], f"{where}.{outputs[0]['name']}.projection")})


def _sizes(einsum: dict, tensors: tuple[dict, ...], shape: dict[str, int], rank_sizes: dict, where: str
           ) -> dict[str, int]:
    sizes = dict(shape)
    sizes.update(_bounds(einsum.get("iteration_space_shape"), f"{where}.iteration_space_shape"))
    for t in tensors:
        for rank, terms in t["ranks"].items():
            if len(terms) == 1 and terms[0][1] == 1 and terms[0][0] not in sizes and rank in rank_sizes:
                sizes[terms[0][0]] = int(rank_sizes[rank])
    return sizes


def _size(value: Any, where: str) -> int:
    """A rank size: a positive integer, or integer arithmetic on integers ('128*32')."""
    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.FloorDiv)):
            a, b = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Mult) and a * b > 2**62:
                raise ValueError
            return a + b if isinstance(node.op, ast.Add) else a * b if isinstance(node.op, ast.Mult) else a // b
        raise ValueError
    try:
        size = value if type(value) is int else walk(ast.parse(str(value), mode="eval").body)
    except (ValueError, SyntaxError, ZeroDivisionError):
        size = 0
    if size <= 0:
        raise _fail(where, f"expected a positive integer (or integer arithmetic such as 128*32), got {value!r}")
    return size


def layer_from_einsum(einsum: dict, shape: dict[str, int], rank_sizes: dict, writers: dict[str, int],
                      where: str) -> Layer:
    """One Einsum as a `Layer` (see the module docstring), or a ValueError naming `where` and what it cannot map."""
    return einsum_layer_dims(einsum, shape, rank_sizes, writers, where)[0]


def einsum_layer_dims(einsum: dict, shape: dict[str, int], rank_sizes: dict, writers: dict[str, int], where: str
                      ) -> tuple[Layer, dict[str, str], dict[str, str]]:
    """(the Einsum's `Layer`, {rank variable: the cosearch dim it is part of}, {tensor name: input | weight |
    output}): what a mapping of the Einsum, written over its rank variables and tensors, needs to be read as one of
    the layer's. A ValueError as `layer_from_einsum`'s."""
    name = str(einsum.get("name", ""))
    inp, wgt, out = _roles(einsum, where, writers)
    sizes = _sizes(einsum, (inp, wgt, out), shape, rank_sizes, where)

    def variables(t: dict) -> list[str]:
        return [v for terms in t["ranks"].values() for v, _ in terms]

    in_v, w_v, out_v = variables(inp), variables(wgt), variables(out)
    if any(len(terms) != 1 for t in (wgt, out) for terms in t["ranks"].values()):
        raise _fail(where, f"only the input ({inp['name']}) may index a rank by a sum (p + r)")
    unknown = sorted({v for v in in_v + w_v + out_v if v not in sizes})
    if unknown:
        raise _fail(where, f"no size for rank variable(s) {unknown} (give rank_sizes or iteration_space_shape)")
    windows = [terms for terms in inp["ranks"].values() if len(terms) > 1]
    taps: list[tuple[str, int, str, int]] = []      # (output var, stride, filter var, dilation)
    for terms in windows:
        outs = [(v, c) for v, c in terms if v in out_v and v not in w_v]
        filters = [(v, c) for v, c in terms if v in w_v and v not in out_v]
        if len(terms) != 2 or len(outs) != 1 or len(filters) != 1:
            raise _fail(where, f"input {inp['name']}: a window index must add one output position and one filter "
                               f"tap (p + r), got {[v for v, _ in terms]}")
        taps.append((outs[0][0], outs[0][1], filters[0][0], filters[0][1]))
    if len(taps) > 2:
        raise _fail(where, f"{len(taps)} windowed ranks; cosearch models at most 2 (width and height)")
    tap_vars = {t[2] for t in taps}
    window_out = [t[0] for t in taps]
    roles: dict[str, list[str]] = {"G": [], "K": [], "C": [], "rows": []}
    for v in dict.fromkeys(in_v + w_v + out_v):
        where_v = (v in out_v, v in in_v, v in w_v)
        if v in tap_vars:
            continue
        if where_v == (True, True, True):
            roles["G"].append(v)
        elif where_v == (True, False, True):
            roles["K"].append(v)
        elif where_v == (False, True, True):
            roles["C"].append(v)
        elif where_v == (True, True, False):
            roles["rows"].append(v)
        else:
            tensors = [n for n, inside in zip((out["name"], inp["name"], wgt["name"]), where_v) if inside]
            raise _fail(where, f"rank variable {v!r} indexes only {', '.join(tensors)}: cosearch models "
                               "matmuls, convolutions, depthwise convolutions and attention products")
    rows = [v for v in roles["rows"] if v not in window_out]
    if not taps and len(rows) >= 2:
        window_out, rows = rows[:2], rows[2:]

    def size(vs: list[str]) -> int:
        return prod(sizes[v] for v in vs)

    dims = {"G": size(roles["G"]), "K": size(roles["K"]), "C": size(roles["C"]), "N": size(rows)}
    for axis, (p_dim, r_dim, stride, dilation) in enumerate((("P", "R", "stride_w", "dilation_w"),
                                                              ("Q", "S", "stride_h", "dilation_h"))):
        if axis < len(taps):
            o, s, r, d = taps[axis]
            dims.update({p_dim: sizes[o], r_dim: sizes[r], stride: s, dilation: d})
        elif axis < len(window_out):
            dims[p_dim] = sizes[window_out[axis]]
    depthwise = bool(roles["G"]) and not roles["K"] and not roles["C"] and bool(taps)
    try:
        layer = Layer(**dims, name=name, weights_are_activations=wgt["name"] in writers and not depthwise)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    var_dim = {v: d for d in ("G", "K", "C") for v in roles[d]}
    var_dim.update({v: "N" for v in rows})
    var_dim.update({v: pq for v, pq in zip(window_out, "PQ")})
    var_dim.update({t[2]: rs for t, rs in zip(taps, "RS")})
    return layer, var_dim, {inp["name"]: "input", wgt["name"]: "weight", out["name"]: "output"}


def _prepared(workload: Any, where: str) -> tuple[list, dict[str, int], dict[str, int], dict[str, int]]:
    """(the Einsums in their tensor_accesses form, the workload's rank-variable bounds, its rank sizes, {tensor:
    the index of the Einsum writing it}) of a `workload:` section."""
    if not isinstance(workload, dict):
        raise _fail(where, f"expected a mapping with einsums:, got {type(workload).__name__}")
    einsums = workload.get("einsums")
    if not isinstance(einsums, list) or not einsums:
        raise _fail(f"{where}.einsums", "expected a non-empty list of Einsums")
    shape = _bounds(workload.get("iteration_space_shape"), f"{where}.iteration_space_shape")
    rank_sizes = workload.get("rank_sizes") or {}
    if not isinstance(rank_sizes, dict):
        raise _fail(f"{where}.rank_sizes", "expected a mapping rank -> positive integer")
    rank_sizes = {k: _size(v, f"{where}.rank_sizes.{k}") for k, v in rank_sizes.items()}
    einsums = [_written_form(e, f"{where}.einsums[{i}]") for i, e in enumerate(einsums)]
    writers: dict[str, int] = {}
    for i, e in enumerate(einsums):
        for a in (e.get("tensor_accesses") or []) if isinstance(e, dict) else []:
            if isinstance(a, dict) and a.get("output") is True:
                writers[str(a.get("name"))] = i
    return einsums, shape, rank_sizes, writers


def einsum_in_workload(workload: dict, einsum: str, where: str = "workload"
                       ) -> tuple[Layer, dict[str, str], dict[str, str]]:
    """`einsum_layer_dims` of the Einsum named `einsum` in an AccelForge `workload:` section (read in the context of
    the whole workload: its bounds, rank sizes and which Einsum writes which tensor)."""
    einsums, shape, rank_sizes, writers = _prepared(workload, where)
    names = [str(e.get("name")) if isinstance(e, dict) else "" for e in einsums]
    if einsum not in names:
        raise _fail(f"{where}.einsums", f"no Einsum named {einsum!r} (Einsums: {', '.join(n for n in names if n)})")
    i = names.index(einsum)
    return einsum_layer_dims(einsums[i], shape, rank_sizes, writers, f"{where}.einsums[{i}] ({einsum})")


def network_from_einsums(workload: dict, name: str, where: str = "workload") -> Network:
    """An AccelForge `workload:` mapping (after its Jinja2 template is rendered and its YAML read) as a `Network`:
    one `Layer` per Einsum, in order, each reading the output of the Einsum that writes its input (or the network's
    input); a ValueError of one line names `where`, the Einsum and what cosearch does not model."""
    einsums, shape, rank_sizes, writers = _prepared(workload, where)
    layers, sources = [], []
    for i, e in enumerate(einsums):
        if not isinstance(e, dict):
            raise _fail(f"{where}.einsums[{i}]", "expected a mapping {name, tensor_accesses}")
        at = f"{where}.einsums[{i}] ({e.get('name', '?')})"
        layers.append(layer_from_einsum(e, shape, rank_sizes, writers, at))
        inp, wgt, _ = _roles(e, at, writers)
        sources.append(tuple(writers[t["name"]] for t in (inp,) if t["name"] in writers and writers[t["name"]] < i)
                       or (-1,))
    meta = {"source": "accelforge", "bits_per_value": workload.get("bits_per_value")}
    return Network(name, tuple(layers), meta=meta, sources=_consistent(name, tuple(layers), sources))


def _consistent(name: str, layers: tuple[Layer, ...], sources: list[tuple[int, ...]]) -> tuple[tuple[int, ...], ...]:
    """The producer of each layer's input where its shape is the one the layer reads as cosearch lays tensors out
    (channels x batch); elsewhere (an attention product reading a reshaped tensor) the record is left empty."""
    kept = []
    for i, entry in enumerate(sources):
        trial = tuple(entry if j == i else () for j in range(len(layers)))
        try:
            Network(name, layers, sources=trial)
            kept.append(entry)
        except ValueError:
            kept.append(())
    return tuple(kept)


__all__ = ["network_from_einsums", "layer_from_einsum", "einsum_layer_dims", "einsum_in_workload"]
