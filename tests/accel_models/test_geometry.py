"""`accel_models.geometry`: the numba and numpy forms of tile boxes and the capacity rule agree with each other
and with the layer's own projection (`nets.problem_shape`); the accelerator's arrays say what it holds."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel_models import get_preset
from accel_models.geometry import (accelerator_arrays, box, fits, fits_batch, layer_arrays, project,
                                   projection_tables, tile_words)
from nets import N_AXES, TENSORS, Layer
from nets.problem_shape import box_words, tensor_dims

extents = st.lists(st.integers(1, 9), min_size=8, max_size=8)
coefficients = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=200, deadline=None)
@given(extents, coefficients)
def test_box_forms_agree_with_the_projection(ext, coef):
    e = np.array(ext, dtype=np.int64)
    out = np.empty(N_AXES, dtype=np.int64)
    numba_words = tuple(int(box(t, e, np.array(coef, dtype=np.int64), out)) for t in range(3))
    numpy_words = tuple(int(w) for w in tile_words([np.array(x) for x in ext], *projection_tables(coef)))
    assert numba_words == numpy_words == box_words(tuple(ext), coef)


def test_layer_words_are_the_whole_nest_boxes():
    layer = Layer.conv(32, 64, 3, 28, stride=2, dilation=2)
    assert layer.input_words == 32 * ((28 - 1) * 2 + (3 - 1) * 2 + 1) ** 2
    la = layer_arrays(layer)
    assert tuple(int(w) for w in tile_words(list(la.bounds), la.ax, la.co)) == layer.tensor_words


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=8, max_size=8), coefficients)
def test_project_is_linear_in_the_tables(u, coef):
    ax, co = projection_tables(coef)
    out = np.empty(N_AXES, dtype=np.int64)
    for t in range(3):
        project(t, np.array(u, dtype=np.int64), np.array(coef, dtype=np.int64), out)
        expected = np.zeros(N_AXES, dtype=np.int64)
        for d in range(8):
            if ax[t, d] >= 0:
                expected[ax[t, d]] += co[t, d] * u[d]
        assert out.tolist() == expected.tolist()


def test_projection_tables_name_the_dims_of_each_tensor():
    ax, _ = projection_tables((1, 1, 1, 1))
    for t, name in enumerate(TENSORS):
        assert {"RSPQCKNG"[d] for d in range(8) if ax[t, d] >= 0} == set(tensor_dims(name))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=3, max_size=3), st.lists(st.integers(1, 50), min_size=3, max_size=3),
       st.sampled_from([-1.0, 20.0, 60.0, 200.0]), st.lists(st.sampled_from([-1.0, 10.0, 30.0]), min_size=3,
                                                             max_size=3))
def test_capacity_rule_forms_agree(kept, tiles, capacity, tensor_capacity):
    k, tl, tc = np.array(kept, dtype=np.int64), np.array(tiles, dtype=np.int64), np.array(tensor_capacity)
    used = sum(x for x, on in zip(tiles, kept) if on)
    expected = ((capacity < 0 or used <= capacity)
                and all(not on or c < 0 or x <= c for x, on, c in zip(tiles, kept, tensor_capacity)))
    assert fits(k, tl, capacity, tc) == expected
    assert bool(fits_batch(np.array(kept)[None], [np.array([x]) for x in tiles], capacity, tc)[0]) == expected


def test_accelerator_arrays_of_a_preset():
    acc = get_preset("eyeriss")
    arrays = accelerator_arrays(acc)
    assert arrays.fanout.tolist() == [[lv.fanout_x, lv.fanout_y] for lv in acc.levels]
    assert arrays.capacity_words[0] == -1 and (arrays.capacity_words[1:] > 0).all()
    assert arrays.keeps.tolist() == [[int(t in lv.keeps) for t in TENSORS] for lv in acc.levels]
    assert arrays.num_macs == acc.num_macs == 168
    assert accelerator_arrays(acc) is arrays          # cached: accelerators are immutable
