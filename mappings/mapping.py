"""`Mapping`: how one layer's loop nest is tiled, ordered and unrolled on an accelerator."""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from accel_models import TENSORS, Accelerator, MappingArrays
from accel_models.mapping_arrays import bound_from_factors
from nets import DIMS, Layer
from nets.layer import MAX_BOUND


@dataclass(frozen=True)
class LevelMapping:
    """The loops one storage level owns.

    temporal: {dim: factor} of the level's temporal loops (their ends); permutation: dims outermost first.
    spatial_x / spatial_y: {dim: factor} unrolled across the level's fan-out (a dim on one axis only);
    spatial_permutation: order of the spatial loops, outermost first (Y loops sit outside X loops).
    bypass: tensors this level does not keep.
    temporal_residual / spatial_x_residual / spatial_y_residual: {dim: residual end} of the loops that run
    fewer iterations in their last pass (Timeloop's `P=e,r`, 1 <= r <= e); a dim left out is perfect (r = e).
    """

    temporal: dict[str, int]
    permutation: tuple[str, ...] = DIMS
    spatial_x: dict[str, int] | None = None
    spatial_y: dict[str, int] | None = None
    spatial_permutation: tuple[str, ...] = DIMS
    bypass: tuple[str, ...] = ()
    temporal_residual: dict[str, int] | None = None
    spatial_x_residual: dict[str, int] | None = None
    spatial_y_residual: dict[str, int] | None = None

    def __post_init__(self) -> None:
        for name in ("temporal", "spatial_x", "spatial_y", "temporal_residual", "spatial_x_residual",
                     "spatial_y_residual"):
            table = dict(getattr(self, name) or {})
            for d, f in table.items():
                if d not in DIMS:
                    raise ValueError(f"LevelMapping.{name}: unknown dim {d!r}; accepted: {', '.join(DIMS)}")
                if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or not 1 <= f <= MAX_BOUND:
                    raise ValueError(f"LevelMapping.{name}[{d}] must be an integer in [1, {MAX_BOUND}] (the largest "
                                     f"loop bound a Layer takes), got {f!r}")
            if name.endswith("_residual"):
                ends = getattr(self, name[:-len("_residual")])
                for d, r in table.items():
                    if r > ends[d]:
                        raise ValueError(f"LevelMapping.{name}[{d}] = {r} is above the loop's end {ends[d]}; "
                                         f"accepted: 1..{ends[d]}")
                object.__setattr__(self, name, {d: int(table.get(d, ends[d])) for d in DIMS})
            else:
                object.__setattr__(self, name, {d: int(table.get(d, 1)) for d in DIMS})
        for name in ("permutation", "spatial_permutation"):
            perm = tuple(getattr(self, name))
            missing = [d for d in DIMS if d not in perm]
            perm = tuple(d for d in perm if d in DIMS) + tuple(missing)
            if len(perm) != len(DIMS) or len(set(perm)) != len(DIMS):
                raise ValueError(f"LevelMapping.{name} must be a permutation of {''.join(DIMS)}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, perm)
        both = [d for d in DIMS if self.spatial_x[d] > 1 and self.spatial_y[d] > 1]
        if both:
            raise ValueError(f"LevelMapping: dim(s) {both} unrolled on both X and Y; a dim uses one axis only")
        bad = [t for t in self.bypass if t not in TENSORS]
        if bad:
            raise ValueError(f"LevelMapping.bypass: unknown tensor(s) {bad}; accepted: {', '.join(TENSORS)}")
        object.__setattr__(self, "bypass", tuple(t for t in TENSORS if t in self.bypass))

    def loops_outer_to_inner(self) -> list[tuple[str, str, int]]:
        """(kind, dim, factor) of the non-trivial loops, outermost first: temporal, then Y, then X."""
        return [(kind, d, e) for kind, d, e, _ in self.loops_with_residuals()]

    def loops_with_residuals(self) -> list[tuple[str, str, int, int]]:
        """(kind, dim, end, residual end) of the non-trivial loops, outermost first: temporal, then Y, then X."""
        loops = [("temporal", d, self.temporal[d], self.temporal_residual[d])
                 for d in self.permutation if self.temporal[d] > 1]
        for kind in ("spatial_y", "spatial_x"):
            ends, res = getattr(self, kind), getattr(self, kind + "_residual")
            loops += [(kind, d, ends[d], res[d]) for d in self.spatial_permutation if ends[d] > 1]
        return loops

    @property
    def is_perfect(self) -> bool:
        """No loop has a residual end other than its end."""
        return all(e == r for _, _, e, r in self.loops_with_residuals())


@dataclass(frozen=True)
class Mapping:
    """One `LevelMapping` per storage level, outermost first."""

    levels: tuple[LevelMapping, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(self.levels))

    def factor_product(self, dim: str) -> int:
        """The bound the dim's loops cover (rule F3; the product of its factors when they are perfect)."""
        return bound_from_factors(self._dim_loops(dim))

    def _dim_loops(self, dim: str) -> list[tuple[int, int]]:
        """(end, residual end) of the dim's loops, outermost first (per level: temporal, Y, X)."""
        return [(getattr(lv, kind)[dim], getattr(lv, kind + "_residual")[dim])
                for lv in self.levels for kind in ("temporal", "spatial_y", "spatial_x")]

    def check_shape(self, layer: Layer, accelerator: Accelerator) -> None:
        """Raise ValueError unless the factors of each dim cover its bound (F3), no outermost spatial loop has a
        residual, and the level count matches."""
        if len(self.levels) != accelerator.num_levels:
            raise ValueError(f"Mapping.levels: {len(self.levels)} levels for an accelerator with "
                             f"{accelerator.num_levels} ({', '.join(accelerator.level_names)})")
        for d, bound in zip(DIMS, layer.bounds):
            loops = self._dim_loops(d)
            outer = next(((k, e, r) for k, (e, r) in enumerate(loops) if e > 1), None)
            if outer is not None and outer[0] % 3 != 0 and outer[1] != outer[2]:
                raise ValueError(f"Mapping: the outermost loop of dim {d} is spatial ({d}={outer[1]},{outer[2]}); "
                                 "a spatial loop can carry a residual only inside another loop of its dim")
            got = bound_from_factors(loops)
            if got != bound:
                what = "multiply" if all(e == r for e, r in loops) else "cover (F3: acc*e + r-1)"
                raise ValueError(f"Mapping: factors of dim {d} {what} to {got}, but the layer's {d} is {bound}")
        for i, (lm, lv) in enumerate(zip(self.levels, accelerator.levels)):
            if i == 0 and lm.bypass:
                raise ValueError(f"Mapping.levels[0].bypass: the outermost level ({lv.name}) keeps every tensor")

    @property
    def is_perfect(self) -> bool:
        """No loop of any level has a residual end other than its end."""
        return all(lv.is_perfect for lv in self.levels)

    @property
    def compute_cycles(self) -> int:
        """Product of all temporal factors (ends, residuals not subtracted: F7): cycles with no bandwidth stall."""
        return prod(f for lv in self.levels for f in lv.temporal.values())

    def to_arrays(self, accelerator: Accelerator | None = None) -> MappingArrays:
        """Dense form (a batch of one). Tensors an accelerator level cannot keep count as bypassed."""
        L = len(self.levels)
        arrays = MappingArrays.empty(1, L)
        for l, lm in enumerate(self.levels):
            arrays.temporal[0, l] = [lm.temporal[d] for d in DIMS]
            arrays.spatial_x[0, l] = [lm.spatial_x[d] for d in DIMS]
            arrays.spatial_y[0, l] = [lm.spatial_y[d] for d in DIMS]
            arrays.order[0, l] = [DIMS.index(d) for d in lm.permutation]
            arrays.spatial_order[0, l] = [DIMS.index(d) for d in lm.spatial_permutation]
            for kind in ("temporal", "spatial_x", "spatial_y"):   # 0: no residual (MappingArrays)
                ends, res = getattr(lm, kind), getattr(lm, kind + "_residual")
                getattr(arrays, kind + "_residual")[0, l] = [0 if res[d] == ends[d] else res[d] for d in DIMS]
            allowed = accelerator.levels[l].keeps if accelerator is not None else TENSORS
            arrays.keep[0, l] = [int(t not in lm.bypass and t in allowed) for t in TENSORS]
        return arrays

    @classmethod
    def from_arrays(cls, arrays: MappingArrays, b: int = 0) -> "Mapping":
        arrays = arrays.with_residuals()
        levels = []
        for l in range(arrays.num_levels):
            levels.append(LevelMapping(
                temporal={d: int(arrays.temporal[b, l, i]) for i, d in enumerate(DIMS)},
                permutation=tuple(DIMS[i] for i in arrays.order[b, l]),
                spatial_x={d: int(arrays.spatial_x[b, l, i]) for i, d in enumerate(DIMS)},
                spatial_y={d: int(arrays.spatial_y[b, l, i]) for i, d in enumerate(DIMS)},
                spatial_permutation=tuple(DIMS[i] for i in arrays.spatial_order[b, l]),
                bypass=tuple(t for j, t in enumerate(TENSORS) if not arrays.keep[b, l, j]),
                temporal_residual={d: int(r) for d, r in zip(DIMS, arrays.temporal_residual[b, l]) if r},
                spatial_x_residual={d: int(r) for d, r in zip(DIMS, arrays.spatial_x_residual[b, l]) if r},
                spatial_y_residual={d: int(r) for d, r in zip(DIMS, arrays.spatial_y_residual[b, l]) if r},
            ))
        return cls(tuple(levels))

    def describe(self, accelerator: Accelerator | None = None) -> str:
        """A Timeloop-style loop nest listing, outermost first."""
        lines = []
        for l, lm in enumerate(self.levels):
            name = accelerator.levels[l].name if accelerator is not None else f"L{l}"
            kept = [t for t in TENSORS if t not in lm.bypass]
            lines.append(f"{name}  [keeps {', '.join(kept) or 'nothing'}]")
            indent = "  "
            for kind, d, f, r in lm.loops_with_residuals():
                tag = {"temporal": "for", "spatial_y": "spatial-Y for", "spatial_x": "spatial-X for"}[kind]
                end = f"{f}" if r == f else f"{f},{r}"
                lines.append(f"{indent}| {tag} {d} in [0:{end})")
                indent += " "
        return "\n".join(lines)
