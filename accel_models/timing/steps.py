"""The outer steps of a mapping and the tile each one moves: whole tiles, and the smaller last tile of a loop that
overruns its dim.

A tile-by-tile runtime walks the outermost (DRAM) level's loops and hands the accelerator one tile a step, of every
loop below that level. When a dim's outer loop times its tile overruns the dim (a tile that does not divide it: an
imperfect mapping, or a runtime that pads or stretches the layer), the runtime clips the loop's last step to what is
left, `bound - (end - 1) x tile` (Gemmini's `tiled_conv` and `tiled_matmul`, gemmini-rocc-tests `include/gemmini.h`:
each loop steps by the tile and passes the remainder as the last step's size). Steps of different tiles cost
differently, so the steps are split into classes: for each set of such dims, the steps at the last iteration of
exactly those dims (their clipped extent) and at a whole iteration of the others. A mapping whose tiles divide every
dim has one class, all its steps.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from nets import DIMS, TENSORS, Layer

from ..geometry import layer_arrays
from ..mapping_arrays import MappingArrays


@dataclass(frozen=True)
class StepClass:
    """Outer steps of one tile size, per mapping of a batch: `extents` [B, 8] the tile's extent per dim, `steps` [B]
    how many steps move it, `output_steps` [B] how many of those end a reduction (their output tile goes out), and
    `last` the bit of the class (`step_classes`)."""

    extents: np.ndarray
    steps: np.ndarray
    output_steps: np.ndarray
    last: int


def outer_steps(mappings: MappingArrays) -> np.ndarray:
    """Steps of the outermost level's temporal loops per mapping [B] (the product of their ends)."""
    return np.prod(mappings.temporal[:, 0, :].astype(float), axis=1)


def step_extents(layer: Layer, mappings: MappingArrays) -> np.ndarray:
    """Extents [B, 8] of one whole outermost step's tile per dim: every loop below the outermost level, within the
    layer's bounds."""
    extents = np.prod(mappings.temporal[:, 1:, :].astype(np.int64), axis=1) \
        * np.prod(mappings.spatial_x.astype(np.int64), axis=1) * np.prod(mappings.spatial_y.astype(np.int64), axis=1)
    return np.minimum(extents, layer_arrays(layer).bounds[None, :])


def clipped_dims(layer: Layer, mappings: MappingArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([B, 8] int: a whole step's tile extent per dim (`step_extents`), [B, 8] bool: the dims whose last outer step
    takes a smaller tile, [B, 8] int: that tile's extent, the whole tile's elsewhere): a dim's last step covers
    `bound - (end - 1) x tile` where the outer loop's `end` whole tiles overrun its bound."""
    extents = step_extents(layer, mappings)
    ends = mappings.temporal[:, 0, :].astype(np.int64)
    bounds = layer_arrays(layer).bounds[None, :].astype(np.int64)
    last = bounds - (ends - 1) * extents
    clipped = (ends > 1) & (ends * extents > bounds) & (last > 0)
    return extents, clipped, np.where(clipped, last, extents)


def _bit_dims(clipped: np.ndarray) -> list[int]:
    """The dims some mapping of the batch clips, in order: the k-th sets bit k of a step's class."""
    return [d for d in range(len(DIMS)) if clipped[:, d].any()]


def step_classes(layer: Layer, mappings: MappingArrays) -> list[StepClass]:
    """The batch's outer steps by tile size (module docstring): for the dims D that any mapping clips, one class per
    subset S of D (its bit `last`: bit k for the k-th dim of D in S), the steps at the last iteration of the dims of
    S and at another iteration of the rest of D; a mapping that does not clip a dim of S has no step in the class
    (a class without a step in the batch is left out). The classes' steps add up to `outer_steps`; the output steps
    of a class are those at the last iteration of every reduction dim (the dims that do not index the outputs)."""
    whole, clipped, last_extents = clipped_dims(layer, mappings)
    extents = whole.astype(float)
    ends = mappings.temporal[:, 0, :].astype(float)
    reduction = layer_arrays(layer).ax[TENSORS.index("Outputs")] < 0
    dims = _bit_dims(clipped)
    classes = []
    for chosen in itertools.product((False, True), repeat=len(dims)):
        ext = extents.copy()
        steps = np.ones(extents.shape[0])
        outputs = np.ones(extents.shape[0])
        for d in range(len(DIMS)):
            if d in dims and chosen[dims.index(d)]:
                ext[:, d] = np.where(clipped[:, d], last_extents[:, d], extents[:, d])
                count = clipped[:, d].astype(float)
                steps, outputs = steps * count, outputs * count
            elif d in dims:
                count = ends[:, d] - clipped[:, d]
                steps = steps * count
                outputs = outputs * (np.where(clipped[:, d], 0.0, 1.0) if reduction[d] else count)
            else:
                steps = steps * ends[:, d]
                outputs = outputs * (1.0 if reduction[d] else ends[:, d])
        if steps.any():
            classes.append(StepClass(ext, steps, outputs, sum(1 << k for k, on in enumerate(chosen) if on)))
    return classes


def class_bits(clipped: np.ndarray) -> np.ndarray:
    """[B, 8] int: per mapping and dim, the bit its last step sets in a step's class (`StepClass.last`), 0 where the
    mapping does not clip the dim; `clipped` as `clipped_dims` gives it."""
    bits = np.zeros(clipped.shape, np.int64)
    for k, d in enumerate(_bit_dims(clipped)):
        bits[:, d] = np.where(clipped[:, d], 1 << k, 0)
    return bits


__all__ = ["StepClass", "outer_steps", "step_extents", "clipped_dims", "step_classes", "class_bits"]
