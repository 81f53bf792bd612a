"""The encoding under mapspace constraints (Timeloop's): fixed factors, fixed innermost loops, spatial axes and
keep/bypass hold in every decoded mapping, the compiled decoder equals the numpy one, and without
constraints nothing changes."""
import numpy as np
import pytest

from accel_models import LevelConstraints, MapspaceConstraints
from accel_models.mapping_arrays import bound_from_factors, dim_loops
from mappings import Encoding, best_mapping
from nets import DIMS, Layer

LAYER = Layer(R=3, S=3, P=8, Q=8, C=16, K=32, name="conv")


@pytest.fixture(scope="module")
def eyeriss(corpus_archs):
    """A family-C (Eyeriss-like) architecture of the corpus: DRAM, shared_glb (fan-out), three spads."""
    return next(c.accelerator for name, c in corpus_archs.items() if name.startswith("C"))


def _constraints(acc):
    glb, ifmap, weights, psum = acc.level_names[1:5]
    return MapspaceConstraints({
        acc.level_names[0]: LevelConstraints(temporal_factors={"R": 1, "S": 1}),           # the rest goes below
        glb: LevelConstraints(spatial_factors={"C": 1, "R": 1}, spatial_x=("Q", "K", "S"), spatial_y=("P", "K"),
                              keep=("Inputs",), bypass=("Weights",)),
        weights: LevelConstraints(temporal_factors={"R": 3, "C": 2}, temporal_order=("R", "C")),
        psum: LevelConstraints(temporal_factors={"K": 4}, temporal_order=("K",)),
    })


def test_every_decoded_mapping_keeps_the_constraints(eyeriss):
    cons = _constraints(eyeriss)
    enc = Encoding(LAYER, eyeriss, constraints=cons)
    x = np.random.default_rng(0).random((400, enc.size))
    fast, slow = enc.decode(x), enc.decode(x, fast=False)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
    assert all(not cons.violations(fast, eyeriss, b) for b in range(fast.batch_size))
    prod = (fast.temporal * fast.spatial_x * fast.spatial_y).prod(axis=1)
    assert (prod == np.array(LAYER.bounds)).all()
    assert not any(n.startswith("tile[" + eyeriss.level_names[3]) and n.endswith(",R]") for n in enc.names)


def test_residual_decode_keeps_the_constraints_and_leaves_the_pinned_dims_perfect(eyeriss):
    """Residual factors under constraints: the free dims take balanced tiles where a limit binds (P = 13 and Q = 11
    are prime), the dims with a fixed factor stay divisor-only, every bound is covered, and both decoders agree."""
    layer = Layer(R=3, S=3, P=13, Q=11, C=16, K=36, name="conv_primes")
    cons = _constraints(eyeriss)
    enc = Encoding(layer, eyeriss, constraints=cons, factors="residual")
    pinned = [DIMS.index(d) for d in ("R", "S", "C", "K")]
    assert not enc.residual_ok[pinned].any() and enc.residual_ok[[DIMS.index("P"), DIMS.index("Q")]].all()
    x = np.random.default_rng(0).random((300, enc.size))
    fast, slow = enc.decode(x), enc.decode(x, fast=False)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
    assert not fast.is_perfect().all()
    assert all(not cons.violations(fast, eyeriss, b) for b in range(fast.batch_size))
    for res in fast[6:]:
        assert not res[:, :, pinned].any()
    prod = (fast.temporal * fast.spatial_x * fast.spatial_y).prod(axis=1)
    assert (prod[:, pinned] == np.array(layer.bounds)[pinned]).all()
    for b in range(fast.batch_size):
        assert [bound_from_factors([(e, r) for _, _, e, r in dim_loops(fast, b, d)]) for d in range(len(DIMS))] == \
            [int(v) for v in layer.bounds]


def test_no_constraints_change_nothing_and_empty_ones_free_every_bypass(eyeriss):
    plain = Encoding(LAYER, eyeriss)
    assert not plain.pin_temporal.any() and not plain.pin_spatial.any() and not plain.rest_at.any()
    assert (plain.free_bounds == plain.bounds).all() and plain.order_bonus.min() >= 0
    empty = Encoding(LAYER, eyeriss, constraints=MapspaceConstraints())   # Timeloop: unconstrained bypass is free
    searched = {n for n in empty.names if n.startswith("keep[")}
    assert searched == {f"keep[{lv.name},{t}]" for lv in eyeriss.levels[1:] for t in lv.keeps}
    rest = {n for n in empty.names if not n.startswith("keep[")}
    assert rest == {n for n in plain.names if not n.startswith("keep[")}


def test_fixed_factors_must_divide_the_bound(eyeriss):
    bad = MapspaceConstraints({eyeriss.level_names[2]: LevelConstraints(temporal_factors={"K": 5})})
    with pytest.raises(ValueError, match="fixed factors of K multiply to 5, which does not divide its bound 32"):
        Encoding(LAYER, eyeriss, constraints=bad)


def test_mapper_searches_inside_the_constraints(eyeriss):
    cons = _constraints(eyeriss)
    r = best_mapping(LAYER, eyeriss, "edp", budget_evals=2000, seed=0, constraints=cons)
    assert r.valid and not cons.violations(r.arrays, eyeriss)
    free = best_mapping(LAYER, eyeriss, "edp", budget_evals=2000, seed=0)
    assert free.arrays.temporal[0, 4, DIMS.index("K")] != 4 or cons.violations(free.arrays, eyeriss)
    with pytest.raises(ValueError, match="exhaustive strategy does not take mapspace constraints"):
        best_mapping(LAYER, eyeriss, strategy="exhaustive", constraints=cons)


def test_encode_under_constraints_round_trips(eyeriss):
    """The compiled encoder skips the genes a constraint removed (fixed factors, the level taking the rest):
    decoding the genes of a decoded mapping gives it back."""
    enc = Encoding(LAYER, eyeriss, constraints=_constraints(eyeriss))
    maps = enc.decode(np.random.default_rng(1).random((50, enc.size)))
    for b in range(maps.batch_size):
        x = enc.encode(maps, b)
        assert x.shape == (enc.size,) and ((0 <= x) & (x <= 1)).all()
        again = enc.decode(x)
        for got, want in zip(again, maps.row(b)):
            assert np.array_equal(got, want)


def test_constrained_encodings_do_not_share_or_leak_into_cached_layouts(eyeriss):
    """Gene layouts are cached per (accelerator, active dims, keep settings) only: an encoding with constraints
    builds its own tables (they depend on the layer's bounds), and a plain one built after it is unconstrained."""
    other = Layer(R=3, S=3, P=8, Q=8, C=32, K=64, name="conv2")   # same active dims, other bounds
    constrained = Encoding(LAYER, eyeriss, constraints=_constraints(eyeriss))
    constrained_other = Encoding(other, eyeriss, constraints=_constraints(eyeriss))
    assert constrained_other.free_bounds[DIMS.index("K")] == 64 // 4
    assert constrained.free_bounds[DIMS.index("K")] == 32 // 4
    plain = Encoding(LAYER, eyeriss)
    assert not plain.pin_temporal.any() and (plain.free_bounds == plain.bounds).all()
    assert plain.size > constrained.size and plain.layout == Encoding(LAYER, eyeriss).layout
