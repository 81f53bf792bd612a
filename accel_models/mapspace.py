"""Mapspace constraints: what a mapper may not choose, per storage level (Timeloop's `constraints`, neutral form).

Per level: exact temporal / spatial factors of some dims, the innermost temporal loops in a fixed
order, the dims each axis of a fan-out may unroll, and the tensors kept. The Timeloop reader
(`accel_models.timeloop`) builds them; `mappings.Encoding` searches inside them; `violations` checks
a given mapping against them, as timeloop-model does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nets import DIMS, TENSORS

from .accelerator import Accelerator
from .mapping_arrays import MappingArrays


@dataclass(frozen=True)
class LevelConstraints:
    """One level's constraints (dims and tensors by cosearch's names; empty = free).

    temporal_factors / spatial_factors: {dim: exact factor}; temporal_order: dims whose loops are the level's
    innermost temporal loops, innermost first (Timeloop's partial permutation); spatial_x / spatial_y: the
    dims each axis of the level's fan-out may unroll (None: any); keep / bypass: tensors the level must keep /
    must not keep (the others are the mapper's choice).
    """

    temporal_factors: dict[str, int] = field(default_factory=dict)
    spatial_factors: dict[str, int] = field(default_factory=dict)
    temporal_order: tuple[str, ...] = ()
    spatial_x: tuple[str, ...] | None = None
    spatial_y: tuple[str, ...] | None = None
    keep: tuple[str, ...] = ()
    bypass: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("temporal_factors", "spatial_factors"):
            for d, f in getattr(self, name).items():
                if d not in DIMS or not isinstance(f, int) or f < 1:
                    raise ValueError(f"LevelConstraints.{name}: {d}={f!r}; dims are {' '.join(DIMS)}, factors >= 1")
        for name in ("temporal_order", "spatial_x", "spatial_y"):
            bad = [d for d in (getattr(self, name) or ()) if d not in DIMS]
            if bad:
                raise ValueError(f"LevelConstraints.{name}: unknown dim(s) {bad}; accepted: {' '.join(DIMS)}")
        for name in ("keep", "bypass"):
            if any(t not in TENSORS for t in getattr(self, name)):
                raise ValueError(f"LevelConstraints.{name}: unknown tensor(s) in {getattr(self, name)}; "
                                 f"accepted: {', '.join(TENSORS)}")
        both = set(self.keep) & set(self.bypass)
        if both:
            raise ValueError(f"LevelConstraints: {sorted(both)} both kept and bypassed")


@dataclass(frozen=True)
class MapspaceConstraints:
    """Constraints by level name (levels not named are free)."""

    levels: dict[str, LevelConstraints] = field(default_factory=dict)

    def level(self, name: str) -> LevelConstraints:
        return self.levels.get(name, LevelConstraints())

    def violations(self, arrays: MappingArrays, accelerator: Accelerator, b: int = 0, orders: bool = True
                   ) -> list[str]:
        """What mapping `b` breaks (a factor-1 loop never breaks an order, as in Timeloop's check); `orders`:
        whether loop orders are checked too."""
        out = []
        for l, lv in enumerate(accelerator.levels):
            c = self.levels.get(lv.name)
            if c is None:
                continue
            spatial = arrays.spatial_x[b, l] * arrays.spatial_y[b, l]
            for d, f in c.temporal_factors.items():
                if arrays.temporal[b, l, DIMS.index(d)] != f:
                    out.append(f"{lv.name}: temporal factor of {d} is {arrays.temporal[b, l, DIMS.index(d)]}, "
                               f"the constraints say {f}")
            for d, f in c.spatial_factors.items():
                if spatial[DIMS.index(d)] != f:
                    out.append(f"{lv.name}: spatial factor of {d} is {spatial[DIMS.index(d)]}, the constraints say {f}")
            if c.temporal_order and orders:
                inner = [DIMS[d] for d in arrays.order[b, l][::-1] if arrays.temporal[b, l, d] > 1]
                pinned = [d for d in c.temporal_order if arrays.temporal[b, l, DIMS.index(d)] > 1]
                if inner[:len(pinned)] != pinned:
                    out.append(f"{lv.name}: innermost temporal loops {inner[:len(pinned)]}, the constraints say "
                               f"{pinned}")
            for axis, dims, fac in (("X", c.spatial_x, arrays.spatial_x), ("Y", c.spatial_y, arrays.spatial_y)):
                if dims is not None:
                    bad = [DIMS[d] for d in range(8) if fac[b, l, d] > 1 and DIMS[d] not in dims]
                    if bad:
                        out.append(f"{lv.name}: {bad} unrolled on {axis}, the constraints allow {list(dims)}")
            kept = {t for i, t in enumerate(TENSORS) if arrays.keep[b, l, i] and t in lv.keeps}
            missing = [t for t in c.keep if t not in kept]
            extra = [t for t in c.bypass if t in kept]
            if missing or extra:
                out.append(f"{lv.name}: keeps {sorted(kept)}, the constraints keep {list(c.keep)} and bypass "
                           f"{list(c.bypass)}")
        return out

    def pins(self, accelerator: Accelerator) -> tuple[np.ndarray, np.ndarray]:
        """(temporal [L, 8], spatial [L, 8]) exact factors per level and dim, 0 where free."""
        t = np.zeros((accelerator.num_levels, 8), dtype=np.int64)
        s = np.zeros_like(t)
        for l, lv in enumerate(accelerator.levels):
            c = self.level(lv.name)
            for d, f in c.temporal_factors.items():
                t[l, DIMS.index(d)] = f
            for d, f in c.spatial_factors.items():
                s[l, DIMS.index(d)] = f
        return t, s
