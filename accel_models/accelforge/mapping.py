"""A cosearch mapping of one layer written as an AccelForge LoopTree mapping, with the one-Einsum workload it maps,
so that AccelForge's model can evaluate it on the architecture file the accelerator was read from.

The loop tree keeps cosearch's loops (each level's spatial loops, then its temporal loops in cosearch's order,
outermost first; loops of one iteration left out) and places each tensor's storage node where Timeloop's semantics
need it: AccelForge refills a storage node once per iteration of every temporal loop above it, while cosearch keeps
a tile across the innermost loops above it that do not index the tensor. So a tensor's node at a level moves up past
that innermost run of temporal loops (never past a spatial loop, whose iterations are other instances, nor past the
tensor's node at the level above). A level's spatial loops go above its temporal loops (the same iterations in
another order) so that this holds under a fan-out too. For a mapping whose spatial loops keep to the accelerator's
dataflow (the architecture's `reuse` / `may_reuse`), what AccelForge's model then counts differs from cosearch's by
the drain-read rule alone (docs/accelforge.md; checked by benchmarks/bench_accelforge.py).
"""
from __future__ import annotations

import numpy as np

from nets import DIMS, Layer

from ..accelerator import TENSORS, Accelerator
from ..mapping_arrays import MappingArrays
from ..timeloop._yaml import Tagged, dump
from .architecture import INDEXED_BY

EINSUM = "Layer"
TENSOR_NAMES = {"Weights": "W", "Inputs": "I", "Outputs": "O"}
"""The names the written workload gives cosearch's tensors."""


def _var(dim: str) -> str:
    return dim.lower()


def workload_document(layer: Layer, bits_per_value: int = 8) -> dict:
    """The layer as a one-Einsum AccelForge workload: its dims as rank variables r, s, p, q, c, k, n, g (those of
    bound 1 left out), the input indexed through its window (stride x p + dilation x r)."""
    bound = {d: getattr(layer, d) for d in DIMS}
    used = [d for d in DIMS if bound[d] > 1]

    def ranks(dims: str) -> dict:
        return {d: _var(d) for d in dims if d in used}

    window = {}
    for rank, (p, r, stride, dilation) in {"W": ("P", "R", layer.stride_w, layer.dilation_w),
                                          "H": ("Q", "S", layer.stride_h, layer.dilation_h)}.items():
        terms = [f"{c}*{_var(d)}" if c > 1 else _var(d) for d, c in ((p, stride), (r, dilation)) if d in used]
        if terms:
            window[rank] = " + ".join(terms)
    return {"workload": {
        "iteration_space_shape": {_var(d): f"0 <= {_var(d)} < {bound[d]}" for d in used},
        "bits_per_value": {"All": bits_per_value},
        "einsums": [{"name": EINSUM, "tensor_accesses": [
            {"name": "I", "projection": {**ranks("NGC"), **window}},
            {"name": "W", "projection": ranks("GKCRS")},
            {"name": "O", "projection": ranks("NGKQP"), "output": True}],
            "renames": {"input": "I", "weight": "W", "output": "O"}}]}}


def _loops(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int) -> list[dict]:
    """The loops of mapping b, outermost first: per level its spatial loops (Y, then X) then its temporal ones."""
    spatial = accelerator.meta.get("accelforge", {}).get("spatial", {})
    loops = []
    for l, lv in enumerate(accelerator.levels):
        for axis, factors in ((1, arrays.spatial_y[b, l]), (0, arrays.spatial_x[b, l])):
            for d in arrays.spatial_order[b, l]:
                if factors[d] > 1:
                    nodes = spatial.get(lv.name, [])
                    names = nodes[0][1] if len(nodes) == 1 else []
                    if len(names) <= axis:
                        raise ValueError(f"mapping level {lv.name}: a spatial loop on its "
                                         f"{'XY'[axis]} axis, which no single AccelForge node's spatial entry gives")
                    loops.append({"kind": "spatial", "level": l, "dim": DIMS[d], "factor": int(factors[d]),
                                  "component": nodes[0][0], "name": names[axis]})
        for d in arrays.order[b, l]:
            if arrays.temporal[b, l, d] > 1:
                loops.append({"kind": "temporal", "level": l, "dim": DIMS[int(d)],
                              "factor": int(arrays.temporal[b, l, d])})
    remaining = {d: getattr(layer, d) for d in DIMS}
    for loop in loops:                         # a loop's tile: the dim's bound over this loop and those above it
        remaining[loop["dim"]] //= loop["factor"]
        loop["tile_shape"] = remaining[loop["dim"]]
    return loops


def _storage_positions(arrays: MappingArrays, accelerator: Accelerator, loops: list[dict], b: int
                       ) -> list[list[tuple[int, str]]]:
    """Per position in `loops` (and one past the last), the (level, tensor) storage nodes placed just above it."""
    at: list[list[tuple[int, str]]] = [[] for _ in range(len(loops) + 1)]
    for t_index, tensor in enumerate(TENSORS):
        cap = 0
        for l in range(accelerator.num_levels):
            if not arrays.keep[b, l, t_index] and l > 0:
                continue
            pos = next((i for i, loop in enumerate(loops) if loop["level"] >= l), len(loops))
            while pos > cap and loops[pos - 1]["kind"] == "temporal" \
                    and loops[pos - 1]["dim"] not in INDEXED_BY[tensor]:
                pos -= 1
            at[pos].append((l, tensor))
            cap = pos
    return at


def mapping_document(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int = 0) -> dict:
    """Mapping b of `arrays` as an AccelForge `mapping:` (see the module docstring); a ValueError for what a loop
    tree cannot say as cosearch means it (an imperfect factor, a spatial loop on an axis no AccelForge node names)."""
    for name in ("temporal_residual", "spatial_x_residual", "spatial_y_residual"):
        residual = getattr(arrays, name)
        if residual is not None:
            ends = getattr(arrays, name.replace("_residual", ""))[b]
            if np.any((residual[b] != 0) & (residual[b] != ends)):
                raise ValueError("mapping: an imperfect factor (a residual) has no AccelForge loop-tree form here")
    must = accelerator.meta.get("accelforge", {}).get("must_keep", {})
    for l, lv in enumerate(accelerator.levels):
        bypassed = [t for i, t in enumerate(TENSORS) if t in must.get(lv.name, ()) and not arrays.keep[b, l, i]]
        if bypassed:
            raise ValueError(f"mapping level {lv.name}: bypasses {bypassed}, which the AccelForge architecture's "
                             "keep requires it to hold (map with fixed_keep=meta['accelforge']['must_keep'])")
    loops = _loops(arrays, accelerator, layer, b)
    positions = _storage_positions(arrays, accelerator, loops, b)
    nodes = []
    for i in range(len(loops) + 1):
        for l in sorted({l for l, _ in positions[i]}):
            tensors = [TENSOR_NAMES[t] for level, t in positions[i] if level == l]
            nodes.append(Tagged("!Storage", {"tensors": tensors, "component": accelerator.levels[l].name}))
        if i < len(loops):
            loop = loops[i]
            body = {"rank_variable": _var(loop["dim"]), "tile_shape": loop["tile_shape"]}
            if loop["kind"] == "spatial":
                body.update(name=loop["name"], component=loop["component"])
            nodes.append(Tagged("!Spatial" if loop["kind"] == "spatial" else "!Temporal", body))
    compute = accelerator.meta.get("accelforge", {}).get("compute", "MAC")
    nodes.append(Tagged("!Compute", {"einsum": EINSUM, "component": compute}))
    return {"mapping": {"nodes": nodes}}


def mapping_to_accelforge_yaml(arrays: MappingArrays, accelerator: Accelerator, layer: Layer, b: int = 0) -> str:
    """The layer's workload and mapping b as one AccelForge YAML document (give it to AccelForge with the
    architecture file the accelerator was read from)."""
    bits = accelerator.meta.get("accelforge", {}).get("bits_per_value", 8)
    return dump({**workload_document(layer, bits), **mapping_document(arrays, accelerator, layer, b)})


__all__ = ["mapping_to_accelforge_yaml", "mapping_document", "workload_document"]
