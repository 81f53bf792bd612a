"""A dataflow's whole dims (`Dataflow.whole_dims`): Eyeriss's row stationary holds a filter's rows whole down the
array, so every decoded mapping of the `eyeriss` preset unrolls S at its full extent on Y; a pinned factor placed
after free ones still leaves the axis within its fan-out, both decoders agree, and a filter taller than the array
is left free."""
import numpy as np
import pytest

from accel_models import Dataflow, LevelConstraints, MapspaceConstraints, get_preset
from mappings import Encoding
from mappings.exhaustive import _perfect_splits
from nets import DIMS, Layer

S = DIMS.index("S")
ALEXNET_CONV = (Layer.conv(3, 96, 11, 55, stride=4, name="conv1"), Layer.conv(48, 256, 5, 27, name="conv2"),
                Layer.conv(256, 384, 3, 13, name="conv3"))


@pytest.mark.parametrize("factors", ["perfect", "residual"])
@pytest.mark.parametrize("layer", ALEXNET_CONV, ids=lambda layer: layer.name)
def test_eyeriss_unrolls_every_filter_row_on_the_array(layer, factors):
    acc = get_preset("eyeriss")
    enc = Encoding(layer, acc, factors=factors)
    x = np.random.default_rng(3).random((120, enc.size))
    x[:20] = np.round(x[:20])                             # genes at 0 and 1: the greedy factors bind
    fast, slow = enc.decode(x), enc.decode(x, fast=False)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
    assert (fast.spatial_y[:, :, S].prod(axis=1) == layer.S).all()
    assert (fast.temporal[:, :, S] == 1).all() and (fast.spatial_x[:, :, S] == 1).all()
    fan = np.array([[lv.fanout_x, lv.fanout_y] for lv in acc.levels])
    assert (fast.spatial_y.prod(axis=2) <= fan[:, 1]).all() and (fast.spatial_x.prod(axis=2) <= fan[:, 0]).all()


def test_a_filter_taller_than_the_array_is_free():
    acc = get_preset("eyeriss")                                 # 12 rows
    tall = Layer(R=1, S=13, P=8, Q=8, C=4, K=4, name="tall")
    enc = Encoding(tall, acc)
    assert not enc.pin_spatial.any()
    assert Encoding(ALEXNET_CONV[2], acc).pin_spatial[:, S].max() == 3


def test_pinned_factors_placed_late_leave_the_axis_within_its_fan_out():
    """The pin is placed in the spatial rank's order; the free dims ranked before it leave room for it (without, a
    K of 8 first and S = 3 after filled 24 of 12 rows)."""
    acc = get_preset("eyeriss")
    layer = Layer.conv(64, 64, 3, 56)
    enc = Encoding(layer, acc)
    x = np.ones((1, enc.size))                                   # the largest factors the axis leaves
    glb = acc.level_index("GLB")
    x[0, enc._sp_rank[glb, S]] = 0.0                             # S ranked last: placed after K and C
    for m in (enc.decode(x), enc.decode(x, fast=False)):
        assert m.spatial_y[0].prod(axis=1).max() <= 12
        assert m.spatial_y[0, :, S].prod() == 3 and m.spatial_y[0, glb].prod() == 12


def test_timeloop_constraints_keep_their_own_factor_of_a_whole_dim():
    acc = get_preset("eyeriss")
    glb = acc.level_names[1]
    layer = ALEXNET_CONV[2]
    enc = Encoding(layer, acc, constraints=MapspaceConstraints({glb: LevelConstraints(spatial_factors={"K": 2})}))
    assert enc.pin_spatial[1, S] == 3 and enc.pin_spatial[1, DIMS.index("K")] == 2


def test_whole_dims_must_be_dims():
    with pytest.raises(ValueError, match="whole_dims: unknown dim"):
        Dataflow("bad", whole_dims=("H",))


def test_the_exhaustive_space_keeps_the_whole_dims():
    """The exhaustive strategy's splits of a pinned dim keep its pin (without, S = 3 split 1 x 3 over time and the
    array, among others)."""
    acc = get_preset("eyeriss")
    enc = Encoding(Layer(R=3, S=3, P=2, Q=4, C=2, K=2, name="small"), acc)
    splits = _perfect_splits(enc, S)
    assert splits and all((o[1] * o[2]).prod() == 3 and (o[0] == 1).all() for o in splits)
    free = _perfect_splits(enc, DIMS.index("K"))
    assert {int((o[1] * o[2]).prod()) for o in free} == {1, 2}
