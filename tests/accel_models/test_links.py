"""The links' children listed as one-word keys count the same links as their offsets listed axis by axis, and the
keyed test for a neighbour difference answers as the listed differences do."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from accel_models import kernel
from accel_models.kernel.links import (KEY_LIMIT, _grid_link_step, _is_neighbour_key, _list_keys, _list_offsets,
                                       _offset_key, is_neighbour_diff, neighbour_diffs)
from nets import N_AXES

AXES = np.dtype([("reach", np.int64, (N_AXES,)), ("vstar", np.int64, (N_AXES,))])
"""Per-axis vectors held as the kernel's callers hold them, in a record's (N_AXES,) fields (a scratch's `reach`, a
step's delta), so that the functions under test are called with the argument types they are compiled for (numba
compiles a function again for each new set of types)."""


def _layer_rows(axes, coefs):
    """Tensor 0's axis and coefficient per dim as the layer's arrays hold them (read-only, (3, 8))."""
    ax = np.full((3, 8), -1, dtype=np.int64)
    co = np.zeros((3, 8), dtype=np.int64)
    ax[0], co[0] = axes, coefs
    ax.setflags(write=False)
    co.setflags(write=False)
    return ax, co


@njit(cache=False)
def _served_both_ways(spatial, n_sp, ax, co, held, width, ws):
    """(children, served, distinct) from the offsets, then from the keys; whether the keys fit and vstar is within
    the reach (`held[0]`: the reach and vstar)."""
    reach, vstar = held[0].reach, held[0].vstar
    scratch = ws.scratch[0]
    t = np.int64(0)
    n_offsets, _, _ = _list_offsets(t, spatial, n_sp, ax, co, ws.children, scratch.digits)
    served_offsets, distinct_offsets = _grid_link_step(ws.children, n_offsets, width, vstar, np.int64(0),
                                                       np.int64(N_AXES), ws.table)
    fits, within, vkey = _offset_key(vstar, reach)
    n_keys = _list_keys(t, spatial, n_sp, ax, co, reach, ws.children)
    served_keys, distinct_keys = _grid_link_step(ws.children, n_keys, width, vstar, vkey, np.int64(1), ws.table)
    return n_offsets, served_offsets, distinct_offsets, n_keys, served_keys, distinct_keys, fits, within


def _offsets(loops, ax, co):
    """Each child's offset (outermost loop most significant), in Python."""
    offsets = [np.zeros(N_AXES, dtype=np.int64)]
    for dim, bound, step in reversed(loops):
        a = ax[0, dim]
        block = offsets
        offsets = []
        for r in range(bound):
            for off in block:
                moved = off.copy()
                if a >= 0:
                    moved[a] += r * co[0, dim] * step
                offsets.append(moved)
    return offsets


loop = st.tuples(st.integers(0, 7), st.integers(1, 4), st.integers(1, 5))


@settings(max_examples=150, deadline=None)
@given(st.lists(loop, min_size=1, max_size=5), st.lists(st.integers(-1, N_AXES - 1), min_size=8, max_size=8),
       st.lists(st.integers(1, 3), min_size=8, max_size=8), st.integers(1, 16), st.data())
@pytest.mark.slow
def test_keys_count_the_links_their_offsets_count(loops, axes, coefs, width, data):
    ax, co = _layer_rows(axes, coefs)
    ws = kernel.make_workspace(2, 4 ** 5)
    for i, (dim, bound, step) in enumerate(loops):
        ws.spatial[i]["dim"], ws.spatial[i]["bound"], ws.spatial[i]["step"] = dim, bound, step
        ws.spatial[i]["kind"] = 2
    held = np.zeros(1, dtype=AXES)
    reach = held["reach"][0]
    for dim, bound, step in loops:
        if ax[0, dim] >= 0:
            reach[ax[0, dim]] += (bound - 1) * co[0, dim] * step
    offsets = _offsets(loops, ax, co)
    k = data.draw(st.integers(0, len(offsets) - 1))
    right = [k + 1] if k % width + 1 < width else []       # child k sits at (k mod width, k div width)
    j = data.draw(st.sampled_from([i for i in right + [k + width] if i < len(offsets)] or [k]))
    held["vstar"][0] = offsets[j] - offsets[k]   # the difference of two grid neighbours (or 0)
    n_off, served_off, distinct_off, n_keys, served_keys, distinct_keys, fits, within = _served_both_ways(
        ws.spatial, len(loops), ax, co, held, width, ws)
    assert fits and within
    assert n_off == n_keys == len(offsets)
    assert (served_keys, distinct_keys) == (served_off, distinct_off)
    if j != k:
        assert served_off >= 1


def test_a_key_is_each_axis_offset_in_its_own_radix():
    reach = np.array([3, 0, 2, 0, 0], dtype=np.int64)
    fits, within, key = _offset_key(np.array([-1, 0, 2, 0, 0], dtype=np.int64), reach)
    assert fits and within and key == -1 + 2 * 7            # axis 2's radix: (2*3 + 1) * (2*0 + 1)
    _, within, _ = _offset_key(np.array([4, 0, 0, 0, 0], dtype=np.int64), reach)
    assert not within


def test_keys_that_would_not_fit_in_a_word_are_refused():
    reach = np.full(N_AXES, 2 ** 13, dtype=np.int64)         # (2**14 + 1)**5 > 2**56
    assert float(2 * 2 ** 13 + 1) ** N_AXES > KEY_LIMIT
    fits, _, _ = _offset_key(np.zeros(N_AXES, dtype=np.int64), reach)
    assert not fits


@njit(cache=False)
def _disagreements(spatial, n_sp, fan_x, ax, co, held, ws, probes):
    """Over every offset difference within the reach (`held[0].reach`; the box of them, if it holds at most `probes`;
    else `probes` of them spread over it, and every listed difference): how many the keyed test answers otherwise
    than the listed differences do, and how many of them are neighbour differences."""
    reach = held[0].reach
    scratch = ws.scratch[0]
    t = np.int64(0)
    n = neighbour_diffs(t, spatial, n_sp, fan_x, ax, co, scratch, ws.diffs)
    box = np.int64(1)
    for a in range(N_AXES):
        box *= 2 * reach[a] + 1
    vstar = np.zeros(N_AXES, dtype=np.int64)
    wrong = 0
    hits = 0
    count = min(box, probes)
    for p in range(count + 2 * n):
        if p < count:                # mixed radix over the box, or a spread of its points
            code = p if box <= probes else (p * 7919 * 104729) % box
            for a in range(N_AXES):
                vstar[a] = code % (2 * reach[a] + 1) - reach[a]
                code //= 2 * reach[a] + 1
        else:                        # a listed difference, either sign
            r = (p - count) // 2
            sign = 1 if (p - count) % 2 == 0 else -1
            for a in range(N_AXES):
                vstar[a] = sign * ws.diffs[r, a]
        listed = is_neighbour_diff(vstar, ws.diffs, n)
        fits, within, vkey = _offset_key(vstar, reach)
        if not (fits and within):
            return -1, 0
        keyed = _is_neighbour_key(vkey, t, spatial, n_sp, fan_x, ax, co, reach, scratch.digits)
        wrong += 1 if keyed != listed else 0
        hits += 1 if listed else 0
    return wrong, hits


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(2, 5), st.integers(1, 5), st.integers(1, 2)), min_size=1,
                max_size=6),
       st.lists(st.integers(-1, N_AXES - 1), min_size=8, max_size=8),
       st.lists(st.integers(1, 3), min_size=8, max_size=8), st.integers(1, 16))
@pytest.mark.slow
def test_the_keyed_neighbour_test_answers_as_the_listed_differences(loops, axes, coefs, fan_x):
    ax, co = _layer_rows(axes, coefs)
    ws = kernel.make_workspace(2, 4 ** 5)
    loops = sorted(loops, key=lambda lp: lp[3])          # Y loops (kind 1) above X loops (kind 2), as in the nest
    for i, (dim, bound, step, kind) in enumerate(loops):
        sp = ws.spatial[i]
        sp["dim"], sp["bound"], sp["step"], sp["kind"] = dim, bound, step, kind
    held = np.zeros(1, dtype=AXES)
    reach = held["reach"][0]
    for dim, bound, step, _ in loops:
        if ax[0, dim] >= 0:
            reach[ax[0, dim]] += (bound - 1) * co[0, dim] * step
    wrong, hits = _disagreements(ws.spatial, len(loops), fan_x, ax, co, held, ws, 20_000)
    assert wrong == 0
    assert hits > 0                  # the probes held neighbour differences (the listed ones at least)
