"""A dataflow: the constraint a known design (Eyeriss, NVDLA, ...) places on its mappings."""
from __future__ import annotations

from dataclasses import dataclass

from nets import DIMS, TENSORS

CHANNEL_DIMS = ("C", "K")
"""The channel dims: an axis that carries one may carry a grouped layer's groups G (`Dataflow.groups_on_channels`)."""


@dataclass(frozen=True)
class Dataflow:
    """Which loop dimensions may be unrolled on the PE array's X and Y axes, and what stays put.

    spatial_x / spatial_y: the dims allowed on each axis of the fan-out (empty = any dim).
    stationary: the tensor held in the PE while the innermost temporal loops run (weight-,
    output- or input-stationary), or None; 'row' is Eyeriss's row stationary.
    groups_on_channels: an axis that carries a channel dim (C or K) may also carry the groups G of a
    grouped or depthwise layer: each PE along it then works on its own group, with its own input
    channels, weights and outputs, as depthwise convolutions run on real arrays (docs/cost_model.md,
    "Channels on the array"). False keeps each axis to the dims listed.
    The mapper honours this (`axis_dims`): spatial dims outside an axis's set get factor 1, and with a
    stationary tensor the loops over the dims that do not index it are placed innermost at the PE level.
    """

    name: str
    spatial_x: tuple[str, ...] = ()
    spatial_y: tuple[str, ...] = ()
    stationary: str | None = None
    groups_on_channels: bool = True

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
        if not isinstance(self.groups_on_channels, bool):
            raise ValueError(f"Dataflow[{self.name}].groups_on_channels must be True or False, "
                             f"got {self.groups_on_channels!r}")

    def axis_dims(self, axis: str) -> tuple[str, ...]:
        """The dims the mapper may unroll on `axis` ('X' or 'Y'): the listed ones, plus G where the axis carries a
        channel dim and `groups_on_channels` is set (empty = any dim)."""
        if axis not in ("X", "Y"):
            raise ValueError(f"Dataflow.axis_dims: axis must be 'X' or 'Y', got {axis!r}")
        dims = self.spatial_x if axis == "X" else self.spatial_y
        if self.groups_on_channels and "G" not in dims and any(d in CHANNEL_DIMS for d in dims):
            return dims + ("G",)
        return dims
