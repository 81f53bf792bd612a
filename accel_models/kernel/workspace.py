"""Scratch of one thread of the kernel: a few record arrays whose fields name what they hold.

Record arrays rather than one array per field: numba passes each array as a structure of seven words
and references each on every call, so a workspace of 45 arrays made every step's call and the
compilation of every caller several times heavier (measured: a chain of six calls compiles 4x slower
with a 45-array tuple than with 3 arrays); one record array per group costs one array.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..mapping_arrays import N_DIMS

from nets import N_AXES

MAX_LEVELS = 10
MAX_LOOPS = 2 * 8 * MAX_LEVELS
"""A level has at most 8 temporal and 8 spatial loops (a dim on one axis only); the nest's array has one
more entry, where `nest.loop_nest` writes the factor-1 loops it drops after a full nest."""
MAX_SPATIAL = 16
MAX_NEIGHBOUR_DIFFS = 16 + 256
"""Offset differences of grid neighbours: one per carry position of k + 1 (<= 8 spatial loops listed),
and one per carry pattern of k + width (2^8)."""

_I, _F = np.int64, np.float64

FAN_X, FAN_Y = 0, 1
"""Columns of the accelerator's fan-out [L, 2] array (`geometry.AcceleratorArrays`): children along X, along Y."""
BW_READ, BW_WRITE, BW_SHARED = 0, 1, 2
PJ_READ, PJ_FILL, PJ_UPDATE = 0, 1, 2
"""Columns of the accelerator's bandwidth [L, 3] and energy [L, 3] arrays (`geometry.AcceleratorArrays`)."""

LOOP = np.dtype([("level", _I), ("kind", _I), ("dim", _I), ("bound", _I), ("step", _I)])
"""One loop of the nest (R1), outermost first: its level, kind (0 temporal, 1 spatial Y, 2 spatial X), dim,
bound, and step (the distance in the dim between its iterations)."""

TEMPORAL = np.dtype([("dim", _I), ("bound", _I), ("step", _I), ("level", _I), ("outer", _F), ("axis", _I, (3,)),
                     ("prev", _I, (3,))])
"""A temporal loop, outermost first (the loops above level l are a prefix of them); outer: how often it
starts, the product of the bounds of the loops outside it (the entry after the last: of all of them); per
tensor, the axis it moves (-1: none) and the innermost loop at or outside it that moves the tensor (-1: none)."""

SPATIAL = np.dtype([("dim", _I), ("bound", _I), ("step", _I), ("kind", _I), ("axis", _I), ("shift", _I)])
"""A spatial loop of one fan-out, outermost first (Y loops, then X loops); axis, shift: the axis of the
tensor under analysis it moves, and by how much per index (-1, 0 if none)."""

LEVEL = np.dtype([("start", _I), ("n_spatial", _I), ("used", _I), ("fan", _I), ("extents", _I, (8,)), ("kept", _I, (3,)),
                  ("tiles", _I, (3,)), ("axes", _I, (3, N_AXES)), ("fill", _F, (3,)), ("access", _F, (3,)),
                  ("mcw", _F, (3,)), ("peer", _F, (3,)), ("partition", _F)])
"""Per level (and the MAC, the last entry): its first loop in the nest, its spatial loop count, instances used, the
children per instance its fan-out's loops use (the next level's instances used over its own), the dim extents of its tile, whether it keeps each tensor (the mapping and the architecture agree), its tiles
(words, and their axis extents), and per tensor: fills of one instance as if it kept the tensor (R2), accesses
it serves its children (R3, R4), the children's multicast-weighted reads less the link-served ones (the
bypass fold's denominator, R5), peer transfers per instance (links), and Outputs' partition size (R6)."""

SCRATCH = np.dtype([("box", _I, (N_AXES,)), ("cover", _I, (8,)), ("reset", _I, (N_AXES,)), ("t0", _I, (N_AXES,)),
                    ("tj", _I, (N_AXES,)), ("digits", _I, (MAX_SPATIAL,)), ("n_digits", _I, (MAX_SPATIAL,)),
                    ("s1", _I, (N_AXES,)),
                    ("m1", _I, (N_AXES,)), ("s2", _I, (N_AXES,)), ("m2", _I, (N_AXES,)), ("n_on_axis", _I, (N_AXES,)),
                    ("reach", _I, (N_AXES,)), ("n_diffs", _I), ("clip", _I, (8,)), ("lo", _I, (N_AXES,)),
                    ("ext", _I, (N_AXES,)), ("d_old", _I), ("d_olo", _I, (N_AXES,)), ("d_oext", _I, (N_AXES,)),
                    ("p_lo", _I, (N_AXES,)), ("p_ext", _I, (N_AXES,)), ("p_old", _I), ("p_olo", _I, (N_AXES,)),
                    ("p_oext", _I, (N_AXES,)), ("vstar", _I, (N_AXES,))])
"""Small vectors: a box's axis extents, the cover box of a fan-out's children, tile translations, the digits of a
child's index, the values each spatial loop's digit takes (`links.distinct_offsets`), per axis the steps and largest
digits of the up to two spatial loops moving along it (s1, m1, s2, m2), their count and reach, and how many
neighbour differences are listed (-2: not yet, -1: too many); the walk of residual mappings (`residual`): the
clipped extents, the current tile (lo, ext), the current delta (the tile less, if d_old, the box d_olo / d_oext) and
the previous one (p_*), and the link offset vstar."""

STATE_LEN = 4 + 5 * N_AXES
"""Length of a stream's carried state (`state`): whether a step was taken, the previous delta's size and whether it
had an old box, whether a last stride is remembered, then per axis the previous tile's corner and extents, the
previous delta's old box (corner, extents) and the last stride."""

MAX_JOINT = 32
"""Classes of the children of one parent instance counted together (`joint`); a mapping needing more, or more
than `MAX_CLASSES` in all, is refused (reason 7)."""
JOINT_STATE = MAX_JOINT * STATE_LEN
JOINT_SUMS = MAX_JOINT + 2
"""A joint sweep's carried state (each class's `STATE_LEN`) and its sums (each class's fills, the parent's reads,
the link transfers); a uniform sweep uses STATE_LEN words and 3 sums (fills, parent reads, link transfers)."""

MEMO_SLOTS = 1024
MEMO_CAP = 512
MEMO_POOL = 1 << 17
"""A frame walk's memo (`state.memo_find`): its slots (a power of two), the most entries it takes per sweep (half
the slots, so that probing stays short; a sweep that fills it goes on without storing more), and the words of its
pool of keys and exit states (an entry takes twice the sweep's state)."""

FRAME = np.dtype([("base", _I, (8,)), ("ctx", _I, (8,)), ("reach", _I, (8,)), ("pb", _I, (N_AXES,)),
                  ("pstep", _I, (N_AXES,)), ("pbi", _I, (N_AXES,)), ("n", _I), ("i", _I), ("whole", _I),
                  ("hash", _I), ("hash1", _I), ("p_valid", _I), ("quiet", _I), ("quiet1", _I),
                  ("first", _F, (JOINT_SUMS,)), ("sums", _F, (JOINT_SUMS,)), ("p_sums", _F, (JOINT_SUMS,)),
                  ("s1", _I, (JOINT_STATE,)), ("entry", _I, (2, JOINT_STATE))])
"""One level of the frame walk's stack (`sweep.walk`), for temporal loop j: the dim offsets where its iterations
start (base), its cut context and the extents beyond which a cut cannot matter (reach), the tensor coordinates of
base, of one step of the loop and of the current iteration's start, its iteration count and the current one,
whether it took its own first step (then memoized whole too) and its memo keys' hashes (whole, and without the
first step), the streams that idle from its start and from after its first step (`joint.quiet_classes`; 0 in a
uniform sweep), the first step's sums and those of the rest, the previous iteration's sums, the state after the
first step (relative to base), and the entry states (relative to their start) of the iterations, even ones and odd
ones (the current one and the one before). The entry after the deepest frame holds the innermost reach, and its
p_sums the sums of the iteration that just ended."""

MEMO = np.dtype([("stamp", _I), ("entries", _I), ("used", _I), ("ready", _I), ("slot_stamp", _I, (MEMO_SLOTS,)),
                 ("slot_j", _I, (MEMO_SLOTS,)), ("slot_ctx", _I, (MEMO_SLOTS, 8)), ("slot_off", _I, (MEMO_SLOTS,)),
                 ("slot_sums", _F, (MEMO_SLOTS, JOINT_SUMS)), ("pool", _I, (MEMO_POOL,))])
"""A frame walk's memo (`state`): the current stamp (a slot whose stamp differs is free), the entries and pool words
used under it, whether the slots were cleared; per slot its stamp, its key's frame kind j (twice the loop, plus one
for a frame without its first step) and cut context, the pool offset of its key state and exit state (both
relative to the frame's start), and its sums."""

LINK_CACHE = 8
"""Link answers (per offset difference) a uniform sweep keeps."""

SWEEP = np.dtype([("state", _I, (STATE_LEN,)), ("origin", _I, (8,)), ("off", _I, (8,)), ("zero", _F, (JOINT_SUMS,)),
                  ("result", _F, (JOINT_SUMS,)), ("groups", _I), ("n_children", _I), ("n_sp", _I), ("fan_x", _I),
                  ("fan_y", _I), ("listed", _I), ("n_links", _I),
                  ("link_v", _I, (LINK_CACHE, N_AXES)), ("link_saved", _F, (LINK_CACHE,)),
                  ("link_moved", _F, (LINK_CACHE,))])
"""The uniform sweep's carried state (`STATE_LEN`), the instance's origin offset, the frame walk's offsets of one
iteration, zero sums, the walk's result; the fan-out its steps read from (multicast groups, children, spatial loops,
X and Y), the children listed for links (0: not yet); the link answers kept: their count, offset differences,
parent reads saved and link transfers per word."""

CHILD = np.dtype([("offset", _I, (N_AXES,)), ("group", _I), ("neighbours", _I, (4,)), ("n_neighbours", _I),
                  ("cls", _I), ("next", _I)])
"""A child under one fan-out (R3): its offset in the tensor, its group (children with equal offsets share
one), and its grid neighbours; where the children do unequal work (`joint`), its instance class and the next child
of that class with an offset no earlier child of the class has (-1: none)."""

MAX_CLASSES = 512
"""Instance classes over all levels of one mapping (`instances.build_classes`)."""
KEY_LEN = 2 * N_AXES + 1 + 2 * N_AXES
"""A delta as a set of points (`reference._delta_key`): its corner (the anchor), then its shape: extents, whether it
has a hole, the hole's corner relative to the anchor and its extents."""
SERVE_LEN = 2 * (KEY_LEN + 1)
SERVE_SLOTS = 256
SERVE_POOL = 1 << 15
"""The joint sweep's tables of answers (`joint._serve`, `joint._union`): a served step's key holds per class whether it
has a current and a previous delta and both keys (`SERVE_LEN` words), anchors relative to one of them; the slots
of each table (at most half of them used) and the words of its pool of keys."""

CLASS = np.dtype([("parent", _I), ("first", _I), ("n_sub", _I), ("count", _F), ("per_parent", _I),
                  ("origin", _I, (8,)), ("decided", _I, (8,)), ("fill", _F, (3,)), ("access", _F, (3,)),
                  ("mcw", _F, (3,)), ("peer", _F, (3,)), ("partition", _F), ("rfu", _F, (3, 3))])
"""An instance class of one level (`instances`): instances whose work is the same up to a translation. Its parent
class, its first subclass at the next level and their number, how many instances it has (in all) and under one
instance of its parent, the dim offsets of one of them (origin), per dim whether its spatial indices already decide
how its work compares with the bound (`instances`), per tensor the `LEVEL` quantities of one of its instances, and
its reads, fills and updates per tensor (`instances.class_energy_and_cycles`; 0 where the level does not keep it)."""

JOINT = np.dtype([("level_start", _I, (MAX_LEVELS + 2,)), ("last_imperfect", _I, (8,)),
                  ("split", _I, (MAX_SPATIAL,)), ("n_cat", _I, (MAX_SPATIAL,)), ("cat_hi", _I, (MAX_SPATIAL, 3)),
                  ("cat_n", _I, (MAX_SPATIAL, 3)), ("cat_rep", _I, (MAX_SPATIAL, 3)), ("cat_dec", _I, (MAX_SPATIAL, 3)),
                  ("n", _I), ("ready", _I), ("t", _I), ("parent", _I),
                  ("n_sp", _I), ("fan_x", _I), ("fan_y", _I), ("n_children", _I), ("listed", _I), ("p_stamp", _I),
                  ("off", _I, (MAX_JOINT, 8)), ("prep", _I, (MAX_JOINT, N_AXES)), ("npts", _I, (MAX_JOINT,)),
                  ("head", _I, (MAX_JOINT,)), ("state", _I, (JOINT_STATE,)),
                  ("here", _I, (MAX_JOINT,)), ("size", _I, (MAX_JOINT,)), ("lo", _I, (MAX_JOINT, N_AXES)),
                  ("ext", _I, (MAX_JOINT, N_AXES)), ("old", _I, (MAX_JOINT,)), ("olo", _I, (MAX_JOINT, N_AXES)),
                  ("oext", _I, (MAX_JOINT, N_AXES)), ("key", _I, (2, MAX_JOINT, KEY_LEN)), ("gid", _I, (MAX_JOINT,)),
                  ("tag", _I, (MAX_JOINT,)), ("pon", _I, (MAX_JOINT,)), ("zeros", _I, (MAX_JOINT, N_AXES)),
                  ("tail", _I, (MAX_JOINT,)), ("n_digits", _I, (MAX_SPATIAL,)), ("a_s1", _I, (N_AXES,)),
                  ("a_m1", _I, (N_AXES,)), ("a_s2", _I, (N_AXES,)), ("a_m2", _I, (N_AXES,)), ("a_k", _I, (N_AXES,)),
                  ("pos", _I, (8,)), ("point", _I, (N_AXES,)), ("gap", _I, (N_AXES,)), ("step", _F, (JOINT_SUMS,)),
                  ("cfg", _I, (MAX_JOINT * SERVE_LEN,)), ("answer_stamp", _I)])
"""The instance classes' bookkeeping and the joint sweep's scratch (`instances`, `joint`): each level's first class
(the entry after the last level: their count); per dim the position of its innermost loop with a residual; for the
fan-out being split, per spatial loop whether it splits its children and its categories (last digit, count,
representative digit, whether it decides); for the joint sweep: its class count, whether its tables of answers were
cleared, its tensor, parent class, fan-out (spatial loops, X, Y, children), whether the children are listed and the
`links` table's stamp; per class its representative's offset from the parent's origin (dims) and its projection, how
many distinct offsets its children have and the first of them, its carried state, the current step's delta (whether
it brings words, words, tile, old box), both steps' deltas as keys (`KEY_LEN`), the current ones' groups, a tag per
class for the hash tables, whether it had a delta at the previous step, zero anchors and the last child of each
class's list (`joint._list`); a class's digit counts per spatial loop and their per-axis loops
(`links.distinct_offsets`, apart from the scratch's, which a uniform sweep of the same level may still read); small
vectors, and the sums of a step or of the sweep (`step`); the key being looked up in the tables of answers (`cfg`,
`ANSWERS`) and the stamp of this sweep's answers."""

ANSWERS = np.dtype([("slot_stamp", _I, (SERVE_SLOTS,)), ("slot_key", _I, (SERVE_SLOTS,)), ("reads", _F, (SERVE_SLOTS,)),
                    ("transfers", _F, (SERVE_SLOTS,)), ("points", _I, (SERVE_SLOTS,)), ("entries", _I), ("words", _I),
                    ("pool", _I, (SERVE_POOL,))])
"""One of the joint sweep's tables of answers, kept by key (`joint._table_find`): per slot its stamp (a slot of
another stamp is free) and the pool offset of its key, and its answer: a served step's parent reads and link
transfers (`SERVED`), or a union's count of distinct points (`UNIONS`); the entries and pool words used under the
current stamp, and the pool of keys (each its length, then its words)."""
SERVED = 0
UNIONS = 1
"""The tables of answers (`Workspace.answers`): served steps (`joint._serve`) and unions of classes (`joint._union`)."""

HASH_SLOT = np.dtype([("child", _I), ("stamp", _I)])
"""A slot of the hash table of children by offset (`links._group_children`, `joint._insert`): the child it holds
(its index under the fan-out) where its stamp is the current call's; the table's last slot counts the calls in its
stamp (`links.new_stamp`)."""

PAIR_SLOT = np.dtype([("child", _I), ("neighbour", _I), ("stamp", _I)])
"""A slot of the hash table of neighbouring children by class pair and offset difference (`joint._find_pair`): a
child and its grid neighbour where its stamp is the current sweep's; the last slot counts the sweeps."""


class Workspace(NamedTuple):
    """The scratch of one thread: the nest, its temporal and spatial loops, the levels, small vectors, the
    children of one fan-out, the listed neighbour differences, and the
    hash table that groups children by offset (`HASH_SLOT`); the frame walk's stack (`FRAME`), its two memos
    (`MEMO`: the uniform sweep's, the joint sweep's) and the uniform sweep's state (`sweep`); the instance classes
    (`CLASS`), the joint sweep's scratch (`JOINT`), its table of neighbouring children (`PAIR_SLOT`) and its two
    tables of answers (`ANSWERS`)."""

    loops: np.ndarray
    temporal: np.ndarray
    spatial: np.ndarray
    levels: np.ndarray
    scratch: np.ndarray
    children: np.ndarray
    diffs: np.ndarray
    table: np.ndarray
    frames: np.ndarray
    memo: np.ndarray
    sweep: np.ndarray
    classes: np.ndarray
    joint: np.ndarray
    links: np.ndarray
    answers: np.ndarray


@njit(cache=True)
def make_workspace(n_levels, max_children):
    """Scratch for one thread evaluating mappings of an accelerator with `n_levels` levels whose largest
    fan-out has `max_children` children."""
    slots = 1
    while slots < 2 * max_children:   # a power of two, at most half full
        slots *= 2
    sweep = np.empty(1, dtype=SWEEP)
    for d in range(N_DIMS):
        sweep[0]['origin'][d] = 0
    for q in range(JOINT_SUMS):
        sweep[0]['zero'][q] = 0.0
    memo = np.empty(2, dtype=MEMO)    # large, and mostly untouched: only residual mappings use them
    for k in range(2):
        memo[k]['ready'] = 0          # the slots are cleared on the first sweep (most workspaces see none)
        memo[k]['stamp'] = 0
    joint = np.empty(1, dtype=JOINT)    # likewise: only mappings of unequal instances use it
    joint[0]['ready'] = 0
    joint[0]['answer_stamp'] = 0
    answers = np.empty(2, dtype=ANSWERS)  # their slots are cleared on the first joint sweep
    return Workspace(np.empty(MAX_LOOPS + 1, dtype=LOOP), np.empty(MAX_LOOPS + 1, dtype=TEMPORAL),
                     np.empty(MAX_SPATIAL, dtype=SPATIAL), np.empty(n_levels + 1, dtype=LEVEL),
                     np.empty(1, dtype=SCRATCH), np.empty(max_children, dtype=CHILD),
                     np.empty((MAX_NEIGHBOUR_DIFFS, N_AXES), dtype=np.int64),
                     np.zeros(slots + 1, dtype=HASH_SLOT), np.empty(MAX_LOOPS + 1, dtype=FRAME),
                     memo, sweep, np.empty(MAX_CLASSES, dtype=CLASS), joint,
                     np.zeros(4 * slots + 1, dtype=PAIR_SLOT), answers)


def reset_workspace(ws: Workspace) -> None:
    """Put a used workspace back in the state `make_workspace` leaves a new one in, in place (Python: the mapper
    reuses one workspace per thread across its searches, `mappings.evolution`): the uniform sweep's zero origin and
    sums, both memos and the joint sweep not ready and at stamp 0, and the two hash tables of children cleared. The
    other records start undefined in a new workspace too (every user writes them before reading).
    `tests/accel_models/test_workspace_reset.py` holds the two to the same bytes."""
    ws.sweep["origin"] = 0
    ws.sweep["zero"] = 0.0
    ws.memo["ready"] = 0
    ws.memo["stamp"] = 0
    ws.joint["ready"] = 0
    ws.joint["answer_stamp"] = 0
    ws.table.view(np.uint8)[...] = 0     # as bytes: numpy's zeroing of a record array field by field is ~10x slower
    ws.links.view(np.uint8)[...] = 0
