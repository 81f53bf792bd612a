"""The links' children listed as one-word keys count the same links as their offsets listed axis by axis."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from accel_models import kernel
from accel_models.kernel.links import KEY_LIMIT, _grid_link_step, _list_keys, _list_offsets, _offset_key
from nets import N_AXES


@njit(cache=False)
def _served_both_ways(spatial, n_sp, ax, co, reach, width, vstar, ws):
    """(children, served, distinct) from the offsets, then from the keys; whether the keys fit and vstar is within
    the reach."""
    scratch = ws.scratch[0]
    n_offsets, _, _ = _list_offsets(0, spatial, n_sp, ax, co, ws.children, scratch.digits)
    served_offsets, distinct_offsets = _grid_link_step(ws.children, n_offsets, width, vstar, 0, N_AXES, ws.table)
    fits, within, vkey = _offset_key(vstar, reach)
    n_keys = _list_keys(0, spatial, n_sp, ax, co, reach, ws.children)
    served_keys, distinct_keys = _grid_link_step(ws.children, n_keys, width, vstar, vkey, 1, ws.table)
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
def test_keys_count_the_links_their_offsets_count(loops, axes, coefs, width, data):
    ax = np.full((3, 8), -1, dtype=np.int64)
    co = np.zeros((3, 8), dtype=np.int64)
    ax[0], co[0] = axes, coefs
    ws = kernel.make_workspace(2, 4 ** 5)
    for i, (dim, bound, step) in enumerate(loops):
        ws.spatial[i]["dim"], ws.spatial[i]["bound"], ws.spatial[i]["step"] = dim, bound, step
        ws.spatial[i]["kind"] = 2
    reach = np.zeros(N_AXES, dtype=np.int64)
    for dim, bound, step in loops:
        if ax[0, dim] >= 0:
            reach[ax[0, dim]] += (bound - 1) * co[0, dim] * step
    offsets = _offsets(loops, ax, co)
    k = data.draw(st.integers(0, len(offsets) - 1))
    right = [k + 1] if k % width + 1 < width else []       # child k sits at (k mod width, k div width)
    j = data.draw(st.sampled_from([i for i in right + [k + width] if i < len(offsets)] or [k]))
    vstar = offsets[j] - offsets[k]          # the difference of two grid neighbours (or 0)
    n_off, served_off, distinct_off, n_keys, served_keys, distinct_keys, fits, within = _served_both_ways(
        ws.spatial, len(loops), ax, co, reach, width, vstar, ws)
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
    reach = np.full(N_AXES, 2 ** 13, dtype=np.int64)         # (2**14 + 1)**5 > 2**60
    assert float(2 * 2 ** 13 + 1) ** N_AXES > KEY_LIMIT
    fits, _, _ = _offset_key(np.zeros(N_AXES, dtype=np.int64), reach)
    assert not fits
