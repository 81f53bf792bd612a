"""One mapping of a batch, as the kernel's per-mapping functions take it: the profilers' compiled callers share it."""
from __future__ import annotations

from numba import njit

from accel_models import MappingArrays


@njit(_nrt=False)
def mapping_row(maps, b):
    """Row `b` of the batch `maps` (a `MappingArrays` of [B, ...] arrays) as a `MappingArrays` of that row's views."""
    temporal, order, spatial_x, spatial_y, spatial_order, keep, rt, rx, ry = maps
    return MappingArrays(temporal[b], order[b], spatial_x[b], spatial_y[b], spatial_order[b], keep[b], rt[b], rx[b],
                         ry[b])
