"""A mapping of one accelerator carried over to another, level by level, as a starting point for a search there.

Levels are matched by name (the co-search's designs share DRAM, GLB and the per-PE register files). A
level the target lacks passes its temporal factors to the next outer level the target has; a level only
the target has starts empty; spatial factors stay where the target has a fan-out and become temporal
elsewhere. The result keeps every factor product and loop order, so `Encoding.encode` turns it into
genes whose decoding (with its capacity repair) is the nearest valid mapping on the target.
"""
from __future__ import annotations

import numpy as np

from accel_models import Accelerator, MappingArrays
from accel_models.geometry import accelerator_arrays


def transfer_mapping(arrays: MappingArrays, source: Accelerator, target: Accelerator, b: int = 0) -> MappingArrays:
    """Mapping b of `arrays` (on `source`) as a mapping of the same layer on `target` (a batch of one)."""
    out = MappingArrays.empty(1, target.num_levels)
    index = {name: l for l, name in enumerate(target.level_names)}
    fanout = accelerator_arrays(target).fanout
    dest = 0                                   # where the factors of unmatched source levels go (the next outer)
    for l, name in enumerate(source.level_names):
        if name in index:
            dest = index[name]
            out.order[0, dest] = arrays.order[b, l]
            out.keep[0, dest] = arrays.keep[b, l]
            if fanout[dest].prod() > 1:
                out.spatial_x[0, dest] = arrays.spatial_x[b, l]
                out.spatial_y[0, dest] = arrays.spatial_y[b, l]
                out.spatial_order[0, dest] = arrays.spatial_order[b, l]
                out.temporal[0, dest] *= arrays.temporal[b, l]
                continue
        out.temporal[0, dest] *= arrays.temporal[b, l] * arrays.spatial_x[b, l] * arrays.spatial_y[b, l]
    out.keep[0] &= accelerator_arrays(target).keeps
    out.keep[0, 0] = 1
    return MappingArrays(*(np.ascontiguousarray(a) for a in out))
