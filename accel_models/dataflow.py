"""A dataflow: the constraint a known design (Eyeriss, NVDLA, ...) places on its mappings."""
from __future__ import annotations

from dataclasses import dataclass

from nets import DIMS, TENSORS


@dataclass(frozen=True)
class Dataflow:
    """Which loop dimensions may be unrolled on the PE array's X and Y axes, and what stays put.

    spatial_x / spatial_y: the dims allowed on each axis of the fan-out (empty = any dim).
    stationary: the tensor held in the PE while the innermost temporal loops run (weight-,
    output- or input-stationary), or None; 'row' is Eyeriss's row stationary.
    The mapper honours this: spatial dims outside the sets get factor 1, and with a stationary
    tensor the loops over the dims that do not index it are placed innermost at the PE level.
    """

    name: str
    spatial_x: tuple[str, ...] = ()
    spatial_y: tuple[str, ...] = ()
    stationary: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Dataflow.name must be a non-empty string, got {self.name!r}")
        for axis in ("spatial_x", "spatial_y"):
            dims = tuple(getattr(self, axis))
            bad = [d for d in dims if d not in DIMS]
            if bad:
                raise ValueError(f"Dataflow[{self.name}].{axis}: unknown dim(s) {bad}; accepted: {', '.join(DIMS)}")
            object.__setattr__(self, axis, dims)
        if self.stationary is not None and self.stationary not in TENSORS + ("row",):
            raise ValueError(f"Dataflow[{self.name}].stationary must be one of {TENSORS + ('row',)} or None, "
                             f"got {self.stationary!r}")
