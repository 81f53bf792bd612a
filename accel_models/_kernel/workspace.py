"""Scratch arrays of one thread of the kernel, as named tuples (allocated once per chunk of mappings)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from nets import N_AXES

MAX_LEVELS = 10
MAX_LOOPS = 2 * 8 * MAX_LEVELS
"""A level has at most 8 temporal and 8 spatial loops (a dim on one axis only)."""
MAX_SPATIAL = 16
MAX_NEIGHBOUR_DIFFS = 16 + 256
"""Offset differences of grid neighbours: one per carry position of k + 1 (<= 8 spatial loops listed),
and one per carry pattern of k + width (2^8)."""


class Nest(NamedTuple):
    """The loop nest of one mapping (R1), outermost first: per loop its level, kind (0 temporal, 1 spatial Y,
    2 spatial X), dim, bound and step (distance in the dim between iterations); start[l] = the first loop of
    level l (start[L] = the loop count); extents[l] = dim extents of level l's tile (the loops at or below
    its first loop; extents[L] = the MAC's, all 1)."""

    level: np.ndarray
    kind: np.ndarray
    dim: np.ndarray
    bound: np.ndarray
    step: np.ndarray
    start: np.ndarray
    extents: np.ndarray
    run: np.ndarray


class Temporal(NamedTuple):
    """The temporal loops only, outermost first (the loops above level l are a prefix of them), and
    outer_prod[j] = the product of the bounds of loops 0..j-1 (how often loop j starts)."""

    dim: np.ndarray
    bound: np.ndarray
    step: np.ndarray
    level: np.ndarray
    outer_prod: np.ndarray


class Spatial(NamedTuple):
    """The spatial loops of one fan-out, outermost first (Y loops, then X loops)."""

    dim: np.ndarray
    bound: np.ndarray
    step: np.ndarray
    kind: np.ndarray


class Counts(NamedTuple):
    """Per-level figures of one mapping.

    kept [L, 3]: the level keeps the tensor (the mapping and the architecture agree). tiles [L, 3]: words.
    used [L + 1]: instances used. fill_stream [L + 1, 3]: fills of one instance as if it kept the tensor
    (R2). access [L, 3]: accesses a level serves its children, per instance (R3, R4). multicast_reads
    [L, 3]: the children's fills weighted by their count, less the link-served ones (the bypass fold's
    denominator, R5). peer [L + 1, 3]: per-instance link transfers. partition [L]: Outputs' partition
    size (R6). box_axes [N_AXES], cover [8]: scratch.
    """

    kept: np.ndarray
    tiles: np.ndarray
    used: np.ndarray
    fill_stream: np.ndarray
    access: np.ndarray
    multicast_reads: np.ndarray
    peer: np.ndarray
    partition: np.ndarray
    box_axes: np.ndarray
    cover: np.ndarray


class LinkScratch(NamedTuple):
    """Scratch of the link analysis (R3) of one (level, tensor).

    reset, t0, tj: tile translations (N_AXES); u (8), projected (N_AXES), max_offset (N_AXES), digits (16):
    scratch of the child enumeration; s1, m1, s2, m2 (N_AXES): per axis the steps and largest digits of
    the up to two spatial loops moving along it. loop_axis, loop_shift (MAX_SPATIAL): the axis of t each
    spatial loop moves and by how much per index. offsets [children, N_AXES + 1]: each child's offset and
    its group (children with equal offsets); neighbours [children, 4] and n_neighbours: grid neighbours;
    marks: group stamps; diffs / n_diffs: the offset differences grid neighbours can have (-2: not
    listed yet, -1: too many to list).
    """

    reset: np.ndarray
    t0: np.ndarray
    tj: np.ndarray
    u: np.ndarray
    projected: np.ndarray
    max_offset: np.ndarray
    digits: np.ndarray
    s1: np.ndarray
    m1: np.ndarray
    s2: np.ndarray
    m2: np.ndarray
    loop_axis: np.ndarray
    loop_shift: np.ndarray
    offsets: np.ndarray
    neighbours: np.ndarray
    n_neighbours: np.ndarray
    marks: np.ndarray
    diffs: np.ndarray
    n_diffs: np.ndarray


class Workspace(NamedTuple):
    nest: Nest
    temporal: Temporal
    spatial: Spatial
    counts: Counts
    links: LinkScratch


@njit(cache=True)
def make_workspace(n_levels, max_children):
    """Scratch arrays for one thread evaluating mappings of an accelerator with `n_levels` levels whose
    largest fan-out has `max_children` children."""
    L = n_levels
    i64 = np.int64
    nest = Nest(np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64),
                np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(L + 1, i64),
                np.empty((L + 1, 8), i64), np.empty(8, i64))
    temporal = Temporal(np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS, i64),
                        np.empty(MAX_LOOPS, i64), np.empty(MAX_LOOPS + 1))
    spatial = Spatial(np.empty(MAX_SPATIAL, i64), np.empty(MAX_SPATIAL, i64), np.empty(MAX_SPATIAL, i64),
                      np.empty(MAX_SPATIAL, i64))
    counts = Counts(np.empty((L, 3), i64), np.empty((L, 3), i64), np.empty(L + 1, i64), np.empty((L + 1, 3)),
                    np.empty((L, 3)), np.empty((L, 3)), np.empty((L + 1, 3)), np.empty(L), np.empty(N_AXES, i64),
                    np.empty(8, i64))
    links = LinkScratch(np.empty(N_AXES, i64), np.empty(N_AXES, i64), np.empty(N_AXES, i64), np.empty(8, i64),
                        np.empty(N_AXES, i64), np.empty(N_AXES, i64), np.empty(MAX_SPATIAL, i64),
                        np.empty(N_AXES, i64), np.empty(N_AXES, i64), np.empty(N_AXES, i64), np.empty(N_AXES, i64),
                        np.empty(MAX_SPATIAL, i64), np.empty(MAX_SPATIAL, i64), np.empty((max_children, N_AXES + 1), i64), np.empty((max_children, 4), i64),
                        np.empty(max_children, i64), np.zeros(max_children + 1, i64),
                        np.empty((MAX_NEIGHBOUR_DIFFS, N_AXES), i64), np.empty(1, i64))
    return Workspace(nest, temporal, spatial, counts, links)
