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
    level_axes: per-level exceptions for designs with more than one fan-out (a chip of tiles, each an array of
    MACs): (level name, X dims, Y dims) triples; the fan-out below a named level takes those dims instead of
    spatial_x / spatial_y.
    whole_dims: dims the array unrolls whole, never split over time, where the layer's extent fits the axis that
    may carry them (Eyeriss's row stationary: a PE set is as tall as the filter, one filter row a PE row, the
    partial sums running up the set's column: Chen et al., ISCA 2016; the active PEs of JSSC 2017's Table V put
    AlexNet's 11-, 5- and 3-row filters on 11, 2 x 5 and 4 x 3 of the 12 rows). A layer whose extent does not fit is
    free.
    The mapper honours this (`axis_dims`): spatial dims outside an axis's set get factor 1, and with a
    stationary tensor the loops over the dims that do not index it are placed innermost at the PE level.
    """

    name: str
    spatial_x: tuple[str, ...] = ()
    spatial_y: tuple[str, ...] = ()
    stationary: str | None = None
    groups_on_channels: bool = True
    level_axes: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    whole_dims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Dataflow.name must be a non-empty string, got {self.name!r}")
        for axis in ("spatial_x", "spatial_y", "whole_dims"):
            dims = tuple(getattr(self, axis))
            bad = [d for d in dims if d not in DIMS]
            if bad:
                raise ValueError(f"Dataflow[{self.name}].{axis}: unknown dim(s) {bad}; accepted: {', '.join(DIMS)}")
            object.__setattr__(self, axis, dims)
        if self.stationary is not None and self.stationary not in TENSORS + ("row",):
            raise ValueError(f"Dataflow[{self.name}].stationary must be one of {TENSORS + ('row',)} or None, "
                             f"got {self.stationary!r}")
        levels = []
        for entry in tuple(self.level_axes):
            if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], str) and entry[0]):
                raise ValueError(f"Dataflow[{self.name}].level_axes: each entry must be (level name, X dims, Y dims), "
                                 f"got {entry!r}")
            for dims in entry[1:]:
                bad = [d for d in dims if d not in DIMS]
                if bad:
                    raise ValueError(f"Dataflow[{self.name}].level_axes[{entry[0]}]: unknown dim(s) {bad}; "
                                     f"accepted: {', '.join(DIMS)}")
            levels.append((entry[0], tuple(entry[1]), tuple(entry[2])))
        if len({name for name, _, _ in levels}) != len(levels):
            raise ValueError(f"Dataflow[{self.name}].level_axes: a level is named twice in {self.level_axes!r}")
        object.__setattr__(self, "level_axes", tuple(levels))
        if not isinstance(self.groups_on_channels, bool):
            raise ValueError(f"Dataflow[{self.name}].groups_on_channels must be True or False, "
                             f"got {self.groups_on_channels!r}")

    def axis_dims(self, axis: str, level: str | None = None) -> tuple[str, ...]:
        """The dims the mapper may unroll on `axis` ('X' or 'Y') of the fan-out below `level` (a level name; None or
        a level without an entry in `level_axes`: spatial_x / spatial_y): the listed ones, plus G where the axis
        carries a channel dim and `groups_on_channels` is set (empty = any dim)."""
        if axis not in ("X", "Y"):
            raise ValueError(f"Dataflow.axis_dims: axis must be 'X' or 'Y', got {axis!r}")
        dims = self.spatial_x if axis == "X" else self.spatial_y
        for name, x, y in self.level_axes:
            if name == level:
                dims = x if axis == "X" else y
        if self.groups_on_channels and "G" not in dims and any(d in CHANNEL_DIMS for d in dims):
            return dims + ("G",)
        return dims
