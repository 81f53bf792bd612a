"""The compiled cost model: against Timeloop's corpus and against the pure-Python walk."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import types

from accel_models import Accelerator, MappingArrays, StorageLevel, get_preset, jit, kernel
from accel_models.geometry import accelerator_arrays, layer_arrays
from accel_models.jit import ensure_fresh_kernel_cache
from accel_models.timeloop import check_corpus
from accel_models.cost_model import evaluate_batch
from accel_models.reference import evaluate
from accel_models.result import BAD_INPUT, REASONS
from mappings import LevelMapping, Mapping, random_mappings
from nets import DIMS, Layer

def test_corpus_agrees_with_timeloop_exact_counts(corpus):
    agree, total, report = check_corpus(corpus, verbose=True)
    assert agree == total == len(corpus), report


def _assert_same(layer, acc, arrays, b):
    fast = evaluate_batch(layer, acc, arrays.row(b))
    ref = evaluate(layer, acc, arrays, b)
    assert int(fast.reason[0]) == ref.reason, (b, REASONS[ref.reason])
    if not ref.valid:
        return False
    assert int(fast.cycles[0]) == ref.cycles
    assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
    np.testing.assert_allclose(fast.reads[0], ref.reads, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.fills[0], ref.fills, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.updates[0], ref.updates, rtol=1e-12, atol=1e-9)
    return True


SMALL_LAYERS = [
    Layer(R=3, S=2, P=4, Q=2, C=2, K=2, name="conv"),
    Layer(R=3, S=3, P=2, Q=2, C=1, K=1, G=4, stride_w=2, stride_h=1, name="dw_stride2"),
    Layer(R=2, S=1, P=3, Q=2, C=2, K=3, N=2, dilation_w=2, name="dilated"),
    Layer(C=6, K=4, N=2, name="fc"),
]


@pytest.mark.parametrize("arch_id", ["A2", "B2x2a", "B4x4b", "B1x16a", "B8x1b", "C1", "D2", "D3"])
def test_kernel_matches_walk_on_random_mappings(corpus_architectures, arch_id):
    acc = corpus_architectures[arch_id]
    valid = 0
    for i, layer in enumerate(SMALL_LAYERS):
        arrays = random_mappings(layer, acc, 12, rng=1000 + i, spatial_bias=3.0)
        for b in range(arrays.batch_size):
            valid += _assert_same(layer, acc, arrays, b)
    assert valid > 0, "no valid mapping drawn: the comparison would be empty"


def _two_fanout_accelerator():
    """Fan-outs at two levels (2x2 under the GLB, 3x1 under L1) and per-tensor RF capacities."""
    return Accelerator("two_fanouts", (
        StorageLevel("DRAM", block_size_words=4, read_energy_pj=100, write_energy_pj=100, update_energy_pj=100,
                     kind="DRAM", shared_bandwidth=4),
        StorageLevel("GLB", capacity_words=512, block_size_words=4, read_energy_pj=5, write_energy_pj=6,
                     update_energy_pj=6, fanout_x=2, fanout_y=2, read_bandwidth=8, write_bandwidth=8),
        StorageLevel("L1", capacity_words=64, block_size_words=2, read_energy_pj=1, write_energy_pj=1,
                     update_energy_pj=1, fanout_x=3),
        StorageLevel("RF", capacity_words=16, tensor_capacity_words=(8, 8, 4), read_energy_pj=0.5,
                     write_energy_pj=0.5, update_energy_pj=0.5, kind="regfile"),
    ), mac_energy_pj=0.2)


def test_kernel_matches_walk_with_fanouts_at_two_levels():
    acc = _two_fanout_accelerator()
    valid = 0
    for i, layer in enumerate(SMALL_LAYERS):
        arrays = random_mappings(layer, acc, 25, rng=2000 + i, spatial_bias=4.0)
        for b in range(arrays.batch_size):
            valid += _assert_same(layer, acc, arrays, b)
    assert valid >= 20


def _systolic_case():
    """Inputs forwarded between neighbours: P unrolled over 4 PEs, R stepping above them."""
    acc = Accelerator("systolic", (
        StorageLevel("DRAM", capacity_words=None, block_size_words=4, read_energy_pj=100, write_energy_pj=100,
                     update_energy_pj=100, kind="DRAM"),
        StorageLevel("GLB", capacity_words=1024, block_size_words=4, read_energy_pj=5, write_energy_pj=5,
                     update_energy_pj=5, fanout_x=4, read_bandwidth=8, write_bandwidth=8),
        StorageLevel("RF", capacity_words=16, read_energy_pj=0.5, write_energy_pj=0.5, update_energy_pj=0.5,
                     kind="regfile"),
    ), mac_energy_pj=0.2)
    layer = Layer(R=3, P=4, C=2, K=2)
    mapping = Mapping((
        LevelMapping({"K": 2}),
        LevelMapping({"C": 2, "R": 3}, permutation=("C", "R"), spatial_x={"P": 4}),
        LevelMapping({}),
    ))
    return layer, acc, mapping


def test_link_transfers_match_walk_and_save_parent_reads():
    layer, acc, mapping = _systolic_case()
    arrays = mapping.to_arrays(acc)
    assert _assert_same(layer, acc, arrays, 0)
    ref = evaluate(layer, acc, mapping)
    assert ref.link_transfers[1, 1] > 0  # Inputs forwarded under the GLB's fan-out
    # Without links the GLB reads every child's delta (the 4 children's offsets all differ), i.e. the
    # RF fills summed over instances; with links some of those words come from a neighbour instead.
    assert ref.reads[1, 1] < ref.fills[2, 1]


def _mesh(x: int, y: int) -> Accelerator:
    """A DRAM -> GLB -> x-by-y PEs with a small register file each (mesh16's shape, smaller)."""
    return Accelerator(f"mesh{x}x{y}", (
        StorageLevel("DRAM", block_size_words=4, read_energy_pj=100, write_energy_pj=100, update_energy_pj=100,
                     kind="DRAM"),
        StorageLevel("GLB", capacity_words=4096, block_size_words=2, read_energy_pj=5, write_energy_pj=6,
                     update_energy_pj=6, fanout_x=x, fanout_y=y),
        StorageLevel("RF", capacity_words=64, read_energy_pj=0.5, write_energy_pj=0.5, update_energy_pj=0.5,
                     kind="regfile"),
    ), mac_energy_pj=0.2)


@pytest.mark.slow
@pytest.mark.parametrize("x, y", [(4, 4), (4, 3), (6, 2)])
def test_kernel_matches_walk_where_the_grid_separates(x, y):
    """Link counts without listing the children (`links._separable_link_step`): the X loops fill the array's
    width. Mappings with a full X axis, sliding windows on either axis, against the walk; enough of them with
    links in use that the counting is exercised."""
    acc = _mesh(x, y)
    layers = [Layer(R=3, S=3, P=8, Q=6, C=2, K=2, name="conv"), Layer(R=3, S=3, P=6, Q=4, G=6, name="dw"),
              Layer(R=2, S=2, P=4, Q=4, C=3, K=4, stride_w=2, dilation_h=2, name="strided")]
    compared = linked = 0
    for i, layer in enumerate(layers):
        arrays = random_mappings(layer, acc, 1500, rng=3000 + i, spatial_bias=6.0)
        full = np.flatnonzero((arrays.spatial_x[:, 1].prod(axis=1) == x) & (arrays.spatial_y[:, 1].prod(axis=1) >= 2))
        for b in full[:60]:
            if _assert_same(layer, acc, arrays, b):
                compared += 1
                linked += evaluate(layer, acc, arrays, b).link_transfers.sum() > 0
    assert compared >= 60 and linked >= 10, (compared, linked)


def test_invalid_mappings_come_back_invalid_with_a_reason():
    layer, acc, mapping = _systolic_case()
    arrays = mapping.to_arrays(acc)
    too_wide = MappingArrays(*(a.copy() for a in arrays))
    too_wide.spatial_y[0, 1, 5] = 2      # K over 2 rows of a 1-row fan-out
    too_wide.temporal[0, 0, 5] = 1
    too_big = MappingArrays(*(a.copy() for a in arrays))
    too_big.temporal[0, 2, [0, 4, 5]] = [3, 2, 2]   # RF tile R3 C2 K2: 12 + 6 + 2 words > 16
    too_big.temporal[0, 1, [0, 4]] = 1
    too_big.temporal[0, 0, 5] = 1
    bad_order = MappingArrays(*(a.copy() for a in arrays))
    bad_order.order[0, 1, :2] = 0
    batch = MappingArrays.concatenate([too_wide, too_big, bad_order])
    res = evaluate_batch(layer, acc, batch)
    assert list(res.reason) == [2, 3, 5]
    assert not res.valid.any()
    for b in range(3):
        assert evaluate(layer, acc, batch, b).reason == res.reason[b]


def test_level_count_mismatch_is_a_clear_error():
    layer, acc, mapping = _systolic_case()
    arrays = MappingArrays.empty(1, 2)
    with pytest.raises(ValueError, match="levels"):
        evaluate_batch(layer, acc, arrays)


@pytest.mark.parametrize("value", [2, -1])
@pytest.mark.parametrize("bad_order", [False, True])
def test_bad_keep_flags_are_flagged_by_the_kernel_and_refused(value, bad_order):
    """The kernel's shape check flags a keep flag other than 0 and 1 (BAD_INPUT), also behind a level that fails its
    own checks first (a bad loop order), and evaluate_batch refuses the batch naming the field; the batch's other,
    valid mapping does not hide it."""
    layer, acc, mapping = _systolic_case()
    arrays = MappingArrays.concatenate([mapping.to_arrays(acc)] * 2).with_residuals()
    assert evaluate_batch(layer, acc, arrays).valid.all()
    bad = arrays._replace(keep=arrays.keep.copy())
    bad.keep[1, acc.num_levels - 1, 0] = value
    if bad_order:
        bad.order[1, 0, :2] = 0          # level 0's order no permutation: its own reason comes first otherwise
    ensure_fresh_kernel_cache()
    reason = kernel.evaluate_batch_serial(layer_arrays(layer), accelerator_arrays(acc), bad)[0]
    assert list(reason) == [0, BAD_INPUT]
    with pytest.raises(ValueError, match=f"keep must hold 0 .bypass. or 1 .keep., got {value}"):
        evaluate_batch(layer, acc, bad)


@pytest.mark.parametrize("field, value, message", [
    ("temporal", 2**31, "temporal holds a factor of 2147483648; accepted: integers up to 2147483647"),
    ("spatial_y", 2**40, "spatial_y holds a factor of 1099511627776"),
    ("spatial_order", 2**32 + 3, "spatial_order holds the value 4294967299"),
    ("temporal_residual", -2**31 - 1, "temporal_residual holds the value -2147483649; accepted: integers from "
                                      "-2147483648"),
])
def test_values_the_rows_cannot_hold_are_refused_not_wrapped(field, value, message):
    """A value outside `MAPPING_DTYPE`'s range in a wider integer array is a ValueError naming the field, before
    any conversion: converted, it would wrap into another number (2**32 + 3 into 3, a valid dim index)."""
    layer, acc, mapping = _systolic_case()
    arrays = MappingArrays.concatenate([mapping.to_arrays(acc)] * 2).with_residuals()
    wide = MappingArrays(*(a.astype(np.int64) for a in arrays))
    assert evaluate_batch(layer, acc, wide).valid.all()
    getattr(wide, field)[1, acc.num_levels - 1, 0] = value
    with pytest.raises(ValueError, match=message):
        evaluate_batch(layer, acc, wide)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_kernel_never_crashes_on_arbitrary_arrays(data):
    layer, acc, _ = _systolic_case()
    L = acc.num_levels
    draw = lambda lo, hi, shape: np.array(data.draw(st.lists(st.integers(lo, hi), min_size=int(np.prod(shape)),
                                                            max_size=int(np.prod(shape))))).reshape(shape)
    arrays = MappingArrays(draw(-2, 12, (1, L, 8)), draw(-1, 8, (1, L, 8)), draw(-1, 5, (1, L, 8)),
                           draw(-1, 3, (1, L, 8)), draw(-1, 8, (1, L, 8)), draw(0, 1, (1, L, 3)))
    res = evaluate_batch(layer, acc, arrays)
    assert int(res.reason[0]) in REASONS
    if res.valid[0]:
        assert res.cycles[0] >= res.compute_cycles[0] >= 1
        assert np.isfinite(res.energy_pj[0]) and res.energy_pj[0] > 0
    assert evaluate(layer, acc, arrays).reason == res.reason[0]


def test_explain_gives_the_walks_breakdown():
    from accel_models.cost_model import explain
    layer, acc, mapping = _systolic_case()
    fast, ref = explain(layer, acc, mapping), evaluate(layer, acc, mapping)
    assert (fast.valid, fast.cycles) == (ref.valid, ref.cycles)
    np.testing.assert_allclose(fast.level_energy_pj, ref.level_energy_pj, rtol=1e-12)
    np.testing.assert_array_equal(fast.level_cycles, ref.level_cycles)
    np.testing.assert_array_equal(fast.tile_words, ref.tile_words)
    assert "RF" in fast.breakdown() and "invalid" not in fast.breakdown()
    # energy per level and tensor: each level's row sums to its energy, all of it plus the MACs to the total
    np.testing.assert_allclose(fast.tensor_energy_pj.sum(axis=1), fast.level_energy_pj, rtol=1e-12)
    assert fast.tensor_energy_pj.sum() + fast.mac_energy_pj == pytest.approx(fast.energy_pj, rel=1e-12)
    assert (fast.tensor_energy_pj > 0).sum() >= 2


@settings(max_examples=300, deadline=None)
@given(st.integers(-80, 80), st.integers(1, 12), st.integers(0, 6), st.integers(1, 12), st.integers(0, 6))
def test_link_lattice_solver_matches_brute_force(v, a, ma, b, mb):
    from accel_models.kernel.links import _bounded_solution
    brute = any(x * a + y * b == v for x in range(-ma, ma + 1) for y in range(-mb, mb + 1))
    assert _bounded_solution(v, a, ma, b, mb) == brute


def test_a_dim_on_both_axes_of_one_fanout_is_rejected_by_kernel_and_walk():
    """Timeloop puts a dim on one axis of a fan-out; the kernel and the walk both refuse the other case."""
    acc = _two_fanout_accelerator()
    layer = Layer(R=3, P=4, C=2, K=2)
    arrays = MappingArrays.empty(1, acc.num_levels)
    arrays.temporal[0, 0] = layer.bounds
    arrays.temporal[0, 0, 5] = 1                      # K: 2 = 1 (temporal) x 2 (X) x 1 (Y) ...
    arrays.spatial_x[0, 1, 5] = 2
    arrays.temporal[0, 0, 2] = 1                      # P: 4 = 2 (X) x 2 (Y) at the GLB's fan-out
    arrays.spatial_x[0, 1, 2] = 1
    arrays.spatial_y[0, 1, 2] = 2
    arrays.spatial_x[0, 2, 2] = 2
    assert _assert_same(layer, acc, arrays, 0)        # P on X at L1, on Y at the GLB: valid
    arrays.spatial_x[0, 2, 2] = 1
    arrays.spatial_x[0, 1, 2] = 2                      # P on X and Y of the GLB's fan-out
    fast = evaluate_batch(layer, acc, arrays)
    assert int(fast.reason[0]) == evaluate(layer, acc, arrays).reason
    assert "both the X and the Y axis" in REASONS[int(fast.reason[0])]


@pytest.mark.parametrize("bandwidth", [1e-12, 1e-13])
def test_a_bandwidth_whose_cycles_overflow_is_refused_not_wrapped(bandwidth):
    """1e-13 words/cycle used to give fewer cycles than 1e-12 on a large layer (the int64 count wrapped)."""
    import dataclasses

    from accel_models import evaluate, evaluate_batch, get_preset
    from mappings import best_mapping

    layer = Layer.conv(512, 512, 3, 56)  # 7.4e9 MACs: at 1e-12 words/cycle its traffic takes > 2**62 cycles
    base = get_preset("nvdla_256")
    dram = dataclasses.replace(base.levels[0], shared_bandwidth=bandwidth)
    acc = dataclasses.replace(base, levels=(dram, *base.levels[1:]))
    for call in (lambda: evaluate_batch(layer, acc, MappingArrays.empty(1, acc.num_levels)),
                 lambda: evaluate(layer, acc, MappingArrays.empty(1, acc.num_levels)),
                 lambda: best_mapping(layer, acc, budget_evals=16)):
        with pytest.raises(ValueError, match=r"shared_bandwidth = 1e-1\d words/cycle is too low .* 2\*\*62"):
            call()


def test_an_ordinary_bandwidth_is_countable():
    """A preset's bandwidths pass the check on a large layer, and the check turns at the bound it names: a bandwidth
    just above the words that could take 2**62 cycles passes, one just below is refused."""
    import dataclasses

    from accel_models import check_countable, get_preset
    from accel_models.limits import MAX_CYCLES, traffic_bound_words

    layer, acc = Layer.conv(512, 512, 3, 56), get_preset("nvdla_256")
    assert check_countable("test", layer, acc) is None
    bound = traffic_bound_words(layer) / MAX_CYCLES       # words/cycle below which the cycles could pass 2**62
    dram_words_per_cycle = acc.levels[0].shared_bandwidth
    assert dram_words_per_cycle > 1e6 * bound               # an ordinary bandwidth is far from it

    def with_dram(bandwidth):
        return dataclasses.replace(acc, levels=(dataclasses.replace(acc.levels[0], shared_bandwidth=bandwidth),
                                                *acc.levels[1:]))

    assert check_countable("test", layer, with_dram(bound * 1.01)) is None
    with pytest.raises(ValueError, match="too low"):
        check_countable("test", layer, with_dram(bound * 0.99))


def test_kernel_matches_walk_with_groups_on_the_array():
    """A depthwise and a grouped layer with G unrolled on the array (alone or beside P, K, C), at one and at two
    fan-outs: the kernel's counts are the walk's (G indexes all three tensors, so no multicast, no reduction)."""
    layers = [Layer(R=3, S=3, P=4, Q=4, G=8, name="dw"), Layer(R=3, P=4, Q=2, C=2, K=2, G=4, stride_w=2, name="grouped")]
    g = DIMS.index("G")
    compared = 0
    for acc in (_mesh(4, 2), _two_fanout_accelerator()):
        for i, layer in enumerate(layers):
            arrays = random_mappings(layer, acc, 600, rng=4000 + i, spatial_bias=6.0)
            on_array = np.flatnonzero((arrays.spatial_x[:, :, g] * arrays.spatial_y[:, :, g]).max(axis=1) > 1)
            for b in on_array[:25]:
                compared += _assert_same(layer, acc, arrays, b)
    assert compared >= 40, compared


def test_the_batch_driver_is_compiled_once_for_all_its_callers():
    """numba compiles a function once per argument types, and types a literal argument by its value: the serial and
    parallel batch entry points, `instance_classes` (`explain`) and the search's `(int64, int64)` call must share
    one compilation of `kernel.evaluate_range` (each more is a whole compile of the cost kernel in a cold start)."""
    ensure_fresh_kernel_cache()          # as the library's own callers do before a kernel runs
    acc = get_preset("eyeriss")
    la, aa = layer_arrays(Layer.conv(16, 16, 3, 8, name="c")), accelerator_arrays(acc)
    maps = MappingArrays.empty(2, acc.num_levels)
    kernel.evaluate_batch_serial(la, aa, maps)
    kernel.evaluate_batch_parallel(la, aa, maps)
    kernel.instance_classes(la, aa, maps.row(0))
    jit.compile_for(kernel.evaluate_range, types.int64, types.int64, la, aa, *jit.kernel_values(la, aa))()
    assert len(kernel.evaluate_range.signatures) == 1, kernel.evaluate_range.signatures
