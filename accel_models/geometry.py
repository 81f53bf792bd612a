"""Tile geometry and buffer capacity: the one owner of tile boxes, the capacity rule and the arrays kernels read.

A tensor's tile at a level is the bounding box of the layer's projection (`nets.problem_shape`) over
the dim extents of the loops at or below that level (rule R1 of docs/cost_model.md). The tiles a level keeps fit
it when each kept tile is within its per-tensor limit and their sum within its shared capacity.
Each rule has a numba form (`project`, `box`, `fits`: the cost kernel and the mappers' decoder call
them in their hot loops) and a numpy batch form (`tile_words`, `fits_batch`: the numpy decoder and
the exhaustive mapper). `accel_models.reference` restates both on purpose, as the specification.

`layer_arrays` and `accelerator_arrays` turn a `Layer` and an `Accelerator` into the plain arrays
(named tuples) that every compiled kernel takes.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit

from nets import N_AXES, TENSORS, Layer
from nets.problem_shape import PROJECTION

from .accelerator import Accelerator

UNBOUNDED = -1
"""Capacity / bandwidth entry of a level without that limit."""


class LayerArrays(NamedTuple):
    """A layer as kernels read it: bounds [8], coef [4] (stride_w, stride_h, dilation_w, dilation_h),
    and the projection tables ax [3, 8] (the axis of tensor t that dim d indexes, -1 none) and
    co [3, 8] (its coefficient)."""

    bounds: np.ndarray
    coef: np.ndarray
    ax: np.ndarray
    co: np.ndarray


class AcceleratorArrays(NamedTuple):
    """An accelerator as kernels read it, one row per storage level (outermost first); -1 = no limit.

    capacity_words [L] (shared by the kept tensors), tensor_capacity_words [L, 3], block_words [L],
    bandwidth [L, 3] (read, write, shared; words/cycle per instance), energy_pj [L, 3] (read, write,
    update; pJ per block access), fanout [L, 2] (X, Y), keeps [L, 3] (1 where the level may keep the
    tensor), mac_energy_pj, num_macs; clusters [L]: instances / cluster size (the most instances an access
    is charged to); leak_pj: what every cycle of a run costs whatever it does, the leakage of every storage instance
    and the clock network (`Accelerator.clock_energy_pj`; pJ per cycle); homes [3]: the level holding
    each tensor whole (`Accelerator.tensor_homes`: 0 = the outermost level).
    """

    capacity_words: np.ndarray
    tensor_capacity_words: np.ndarray
    block_words: np.ndarray
    bandwidth: np.ndarray
    energy_pj: np.ndarray
    fanout: np.ndarray
    keeps: np.ndarray
    mac_energy_pj: float
    num_macs: float
    clusters: np.ndarray
    leak_pj: float
    homes: np.ndarray


@lru_cache(maxsize=64)
def projection_tables(coef: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ax, co) [3, 8]: the axis of tensor t that dim d indexes (-1: none) and its coefficient."""
    ax = np.full((len(TENSORS), 8), -1, dtype=np.int64)
    co = np.zeros((len(TENSORS), 8), dtype=np.int64)
    for t, axes in enumerate(PROJECTION):
        for a, terms in enumerate(axes):
            for d, c in terms:
                ax[t, d] = a
                co[t, d] = 1 if c < 0 else coef[c]
    ax.flags.writeable = False
    co.flags.writeable = False
    return ax, co


@lru_cache(maxsize=1024)
def layer_arrays(layer: Layer) -> LayerArrays:
    """The layer's bounds, coefficients and projection tables (cached: layers are immutable)."""
    ax, co = projection_tables(layer.coefficients)
    return LayerArrays(np.array(layer.bounds, dtype=np.int64), np.array(layer.coefficients, dtype=np.int64), ax, co)


def _limit(value) -> float:
    return float(UNBOUNDED) if value is None else float(value)


@lru_cache(maxsize=256)
def accelerator_arrays(acc: Accelerator) -> AcceleratorArrays:
    """The accelerator's capacities, bandwidths, energies, fan-outs and keeps (cached: accelerators are immutable)."""
    levels = acc.levels
    return AcceleratorArrays(
        capacity_words=np.array([_limit(lv.capacity_words) for lv in levels]),
        tensor_capacity_words=np.array([[_limit(c) for c in (lv.tensor_capacity_words or (None,) * 3)]
                                        for lv in levels]),
        block_words=np.array([float(lv.block_size_words) for lv in levels]),
        bandwidth=np.array([[_limit(v) for v in (lv.read_bandwidth, lv.write_bandwidth, lv.shared_bandwidth)]
                            for lv in levels]),
        energy_pj=np.array([[lv.read_energy_pj, lv.write_energy_pj, lv.update_energy_pj] for lv in levels]),
        fanout=np.array([[lv.fanout_x, lv.fanout_y] for lv in levels], dtype=np.int64),
        keeps=np.array([[int(t in lv.keeps) for t in TENSORS] for lv in levels], dtype=np.int64),
        mac_energy_pj=float(acc.mac_energy_pj), num_macs=float(acc.num_macs),
        clusters=np.array([float(max(1, acc.instances(l) // lv.cluster_size)) for l, lv in enumerate(levels)]),
        leak_pj=float(sum(lv.leak_energy_pj * acc.instances(l) for l, lv in enumerate(levels)) + acc.clock_energy_pj),
        homes=np.array(acc.tensor_homes, dtype=np.int64))


# ---- numba forms ---------------------------------------------------------------------------------
_WEIGHTS_TERMS, _INPUTS_TERMS, _OUTPUTS_TERMS = (
    tuple((a, d, c) for a, terms in enumerate(axes) for d, c in terms) for axes in PROJECTION)
"""Each tensor's projection terms (axis, dim, coefficient index or -1) from nets.PROJECTION, as tuples that
numba compiles in as constants: `box` and `project` unroll to straight-line code."""


@njit(cache=True, inline="always")
def _add_terms(terms, u, shift, coef, out):
    for term in terms:
        a, d, c = term
        out[a] += (1 if c < 0 else coef[c]) * (u[d] - shift)


@njit(cache=True, inline="always")
def _projected(t, u, shift, coef, out):
    """out[a] += sum over tensor t's terms on axis a of coefficient x (u[dim] - shift)."""
    if t == 0:
        _add_terms(_WEIGHTS_TERMS, u, shift, coef, out)
    elif t == 1:
        _add_terms(_INPUTS_TERMS, u, shift, coef, out)
    else:
        _add_terms(_OUTPUTS_TERMS, u, shift, coef, out)


@njit(cache=True, _nrt=False)
def project(t, u, coef, out):
    """Dim-space vector u [8] (an offset or a step) -> its coordinates on tensor t's axes, into out [N_AXES].
    coef = (stride_w, stride_h, dilation_w, dilation_h)."""
    for a in range(N_AXES):
        out[a] = 0
    _projected(t, u, 0, coef, out)


@njit(cache=True, _nrt=False)
def box(t, e, coef, out):
    """Bounding box of tensor t for dim extents e [8]: its axis extents into out [N_AXES]; returns its words.
    coef = (stride_w, stride_h, dilation_w, dilation_h)."""
    for a in range(N_AXES):
        out[a] = 1
    _projected(t, e, 1, coef, out)
    return out[0] * out[1] * out[2] * out[3] * out[4]


@njit(cache=True, inline="always")
def fits(kept, tiles, capacity_words, tensor_capacity_words):
    """Do the tiles [3] of the tensors a level keeps (kept [3], nonzero = kept) fit its per-tensor limits
    [3] and its shared capacity (-1 = no limit)?"""
    used = 0
    for t in range(3):
        if kept[t]:
            used += tiles[t]
            if tensor_capacity_words[t] >= 0 and tiles[t] > tensor_capacity_words[t]:
                return False
    return capacity_words < 0 or used <= capacity_words


# ---- numpy batch forms ---------------------------------------------------------------------------
def tile_words(cols, ax: np.ndarray, co: np.ndarray) -> tuple:
    """Bounding-box words (Weights, Inputs, Outputs) for dim extents given as 8 broadcastable arrays
    `cols` (DIMS order); the batch form of `box`."""
    out = []
    for t in range(len(TENSORS)):
        spans = [1] * N_AXES
        for d in range(8):
            if ax[t, d] >= 0:
                spans[ax[t, d]] = spans[ax[t, d]] + co[t, d] * (cols[d] - 1)
        size = spans[0]
        for s in spans[1:]:
            size = size * s
        out.append(size)
    return tuple(out)


def fits_batch(kept, tiles, capacity_words: float, tensor_capacity_words: np.ndarray) -> np.ndarray:
    """The batch form of `fits`: kept [..., 3] (bool) and tiles (3 arrays broadcastable with kept[..., t])
    of one level -> bool [...]."""
    ok = np.ones(np.broadcast_shapes(*(np.shape(kept[..., t]) for t in range(3)),
                                     *(np.shape(x) for x in tiles)), dtype=bool)
    used = 0
    for t in range(3):
        k = kept[..., t]
        used = used + np.where(k, tiles[t], 0)
        if tensor_capacity_words[t] >= 0:
            ok &= ~k | (tiles[t] <= tensor_capacity_words[t])
    if capacity_words >= 0:
        ok &= used <= capacity_words
    return ok
