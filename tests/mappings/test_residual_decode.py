"""The encoding's residual decode (`factors="residual"`): the perfect decode wherever the nearest divisor is allowed,
a balanced tile where a limit binds (the fan-out left, a buffer, the axis fill), canonical residual ends on every
loop (spatial ones included), the compiled decoder equal to the reference, and the mapper finding what it pays for."""
import numpy as np
import pytest

from accel_models import Accelerator, Dataflow, MappingArrays, StorageLevel, evaluate_batch, get_preset
from accel_models.geometry import accelerator_arrays
from accel_models.mapping_arrays import bound_from_factors, dim_loops
from accel_models.reference import evaluate, uniform_instances
from accel_models.result import OK, REASONS, SPATIAL_RESIDUAL
from mappings import Encoding, MapperSettings, best_mapping
from mappings._factorize import DivisorTable, balanced_tiles, divisors
from mappings.transfer import transfer_mapping
from nets import DIMS, Layer

LAYERS = [Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes"),
          Layer(C=37, K=29, N=13, name="fc_primes"),
          Layer(R=3, S=3, P=7, Q=7, C=1, K=1, G=13, stride_w=2, stride_h=2, name="dw_primes")]
TIGHT = Accelerator("tight", (StorageLevel("DRAM"), StorageLevel("GLB", capacity_words=512, fanout_x=6, fanout_y=5),
                              StorageLevel("RF", capacity_words=10)), 1.0)
FIELDS = MappingArrays._fields


def _bounds_covered(arrays: MappingArrays, b: int) -> list[int]:
    return [bound_from_factors([(e, r) for _, _, e, r in dim_loops(arrays, b, d)]) for d in range(len(DIMS))]


def _one_row(enc: Encoding, **genes: float) -> np.ndarray:
    """Genes all 0 but those named `kind[level,dim]`."""
    x = np.zeros((1, enc.size))
    for name, value in genes.items():
        x[0, enc.names.index(name)] = value
    return x


def _decode_both(enc: Encoding, x: np.ndarray) -> MappingArrays:
    fast, ref = enc.decode(x), enc.decode(x, fast=False)
    for name, a, r in zip(FIELDS, fast, ref):
        np.testing.assert_array_equal(a, r, err_msg=f"{enc.accelerator.name} {enc.layer.name} {name}")
    return fast


def test_balanced_tiles_are_the_even_splits_and_the_table_is_closed():
    for n in list(range(1, 300)) + [1000, 3072, 4099]:
        assert list(balanced_tiles(n)) == sorted({-(-n // k) for k in range(1, n + 1)}), n
        assert set(divisors(n)) <= set(balanced_tiles(n))
    table = DivisorTable((197, 1000, 13, 1, 1, 1, 1, 1), balanced=True)
    values = set(table.values.tolist())
    for i, v in enumerate(table.values):
        tiles = table.tiles[i, :table.tile_counts[i]]
        assert list(tiles) == list(balanced_tiles(int(v)))
        assert {-(-int(v) // int(t)) for t in tiles} <= values   # what a tile leaves is a row of the table
        np.testing.assert_array_equal(table.tile_logs[i, :len(tiles)], np.log(tiles))
    perfect = DivisorTable((197, 1000, 13, 1, 1, 1, 1, 1))
    assert perfect.tiles is perfect.divs and 29 not in perfect.values


@pytest.mark.slow
@pytest.mark.parametrize("which", range(len(LAYERS)))
def test_compiled_decode_equals_the_reference_with_spatial_residuals_fill_and_repair(corpus_architectures,
                                                                                      odd_accelerators, which,
                                                                                      shape_ok):
    layer = LAYERS[which]
    accs = [corpus_architectures[a] for a in ("A2", "B4x4b", "C1", "D2")] + list(odd_accelerators) + [TIGHT]
    seen = {"residual": 0, "spatial class": 0, "spatial residual": 0, "filled": 0}
    for acc in accs:
        enc = Encoding(layer, acc, factors="residual")
        x = np.random.default_rng(which).random((60, enc.size))
        x[:15] = np.round(x[:15])                      # genes at 0 and 1: the repair and the fan-out bind
        fills = enc._sp_fill[enc._sp_fill >= 0]
        on, off = x.copy(), x.copy()
        on[:, fills], off[:, fills] = 0.75, 0.25
        fast, plain = _decode_both(enc, on), _decode_both(enc, off)
        _decode_both(enc, x)
        res = evaluate_batch(layer, acc, fast)
        for b in range(fast.batch_size):
            assert _bounds_covered(fast, b) == [int(v) for v in layer.bounds], (acc.name, b)
            assert shape_ok(layer, acc, fast, b) and shape_ok(layer, acc, plain, b), (acc.name, b)
            spatial_class = not uniform_instances(fast, b)
            assert res.reason[b] != SPATIAL_RESIDUAL or spatial_class, (acc.name, b)
            seen["residual"] += not fast.row(b).is_perfect()[0]
            seen["spatial class"] += spatial_class
            seen["spatial residual"] += bool(fast.spatial_x_residual[b].any() or fast.spatial_y_residual[b].any())
            seen["filled"] += not (np.array_equal(fast.spatial_x[b], plain.spatial_x[b])
                                   and np.array_equal(fast.spatial_y[b], plain.spatial_y[b]))
    assert min(seen.values()) >= 5, seen              # every path was taken


@pytest.mark.slow
def test_where_no_limit_binds_the_residual_decode_is_the_perfect_one():
    """A fan-out wider than the product of the bounds and unbounded buffers: no factor is ever refused, so the
    residual decode must be the perfect decode, fills included (a dim's best fill is all of it in both)."""
    wide = Accelerator("wide", (StorageLevel("DRAM"), StorageLevel("GLB", fanout_x=1 << 20), StorageLevel("RF")),
                       1.0)
    for layer in LAYERS:
        x = np.random.default_rng(4).random((80, Encoding(layer, wide).size))
        perfect = Encoding(layer, wide).decode(x)
        residual = _decode_both(Encoding(layer, wide, factors="residual"), x)
        for name, a, r in zip(FIELDS, perfect, residual):
            np.testing.assert_array_equal(a, r, err_msg=f"{layer.name} {name}")
        assert residual.is_perfect().all()


def test_orders_and_keep_do_not_depend_on_the_factor_mode(corpus_architectures):
    layer = LAYERS[1]
    acc = corpus_architectures["B4x4b"]
    x = np.random.default_rng(3).random((50, Encoding(layer, acc).size))
    perfect = Encoding(layer, acc, factors="perfect").decode(x)
    assert perfect.is_perfect().all()
    assert not perfect.temporal_residual.any() and not perfect.spatial_x_residual.any()
    residual = Encoding(layer, acc, factors="residual").decode(x)
    for name in ("order", "spatial_order", "keep"):
        np.testing.assert_array_equal(getattr(perfect, name), getattr(residual, name), err_msg=name)


def _axis(width: int, dims: tuple[str, ...]) -> Accelerator:
    return Accelerator(f"axis{width}", (StorageLevel("DRAM"), StorageLevel("GLB", fanout_x=width),
                                        StorageLevel("RF")), 1.0, dataflow=Dataflow("x", spatial_x=dims))


@pytest.mark.slow
@pytest.mark.parametrize("bound, dim, want_perfect, want_residual, passes",
                         [(197, "N", 1, 29, 7),      # ViT's tokens: 7 passes of 29, the last 23
                          (1000, "K", 25, 32, 32)])  # 1000 classes: 32 passes of 32, the last 8
def test_a_binding_axis_takes_the_largest_balanced_tile(bound, dim, want_perfect, want_residual, passes,
                                                        shape_ok):
    acc = _axis(32, (dim,))
    layer = Layer(**{dim: bound}, C=2, name="binding")
    genes = {f"spatial_ratio[GLB,{dim}]": 1.0, f"spatial_rank[GLB,{dim}]": 1.0}
    perfect = _decode_both(Encoding(layer, acc), _one_row(Encoding(layer, acc), **genes))
    enc = Encoding(layer, acc, factors="residual")
    residual = _decode_both(enc, _one_row(enc, **genes))
    d = DIMS.index(dim)
    assert perfect.spatial_x[0, 1, d] == want_perfect
    assert residual.spatial_x[0, 1, d] == want_residual
    assert residual.temporal[0, :, d].prod() == passes               # the levels decode from ceil(bound / tile)
    assert _bounds_covered(residual, 0)[d] == bound and shape_ok(layer, acc, residual, 0)
    assert residual.spatial_x_residual[0, 1, d] == bound - (passes - 1) * want_residual   # the last pass's PEs
    assert not uniform_instances(residual, 0)                        # Timeloop's spatial class
    walk = evaluate(layer, acc, residual, 0)
    assert walk.reason == OK and walk.macs == layer.macs and walk.cycles >= passes * 2


def test_a_buffer_that_binds_takes_the_largest_balanced_tile_that_fits():
    """P = 13 through a 16-word buffer: the tile t holds 1 weight, t inputs and t outputs, so 7 fits and 13 does
    not; the only divisor that fits is 1."""
    acc = Accelerator("buf16", (StorageLevel("DRAM"), StorageLevel("Buf", capacity_words=16)), 1.0)
    layer = Layer(P=13, name="p13")
    enc = Encoding(layer, acc, bypass="none", factors="residual")
    p = DIMS.index("P")
    asks_all = _one_row(enc, **{"tile[Buf,P]": 1.0})
    perfect = Encoding(layer, acc, bypass="none").decode(asks_all)
    residual = _decode_both(enc, asks_all)
    assert perfect.temporal[0, :, p].tolist() == [13, 1]
    assert residual.temporal[0, :, p].tolist() == [2, 7] and residual.temporal_residual[0, :, p].tolist() == [0, 6]
    fits = _one_row(enc, **{"tile[Buf,P]": 0.3})                      # the nearest divisor, 1, fits: kept
    np.testing.assert_array_equal(_decode_both(enc, fits).temporal,
                                  Encoding(layer, acc, bypass="none").decode(fits).temporal)
    walk = evaluate(layer, acc, residual, 0)
    assert walk.reason == OK and walk.macs == 13 and walk.cycles == 14


def test_below_a_spatial_loop_of_its_dim_the_repair_keeps_divisors():
    """P = 52 with spatial P = 4 at the GLB leaves 13 to the levels below it. A buffer above the fan-out holding a
    tile t of P, times the 4 PEs, takes 1 weight and 4t inputs and outputs: at 64 words it takes 7, the largest
    balanced tile of 13 that fits. Per PE below the fan-out, a 16-word buffer holds 1 + 2t words, so 7 would fit
    too, but it takes the largest divisor that fits, 1: a balanced tile there would give each PE a short last pass
    of its own (Timeloop's spatial class). Both decoders agree."""
    p = DIMS.index("P")
    for name, levels in (("above", (StorageLevel("DRAM"), StorageLevel("Buf", capacity_words=64),
                                    StorageLevel("GLB", fanout_x=4), StorageLevel("RF"))),
                         ("below", (StorageLevel("DRAM"), StorageLevel("GLB", fanout_x=4),
                                    StorageLevel("Buf", capacity_words=16)))):
        acc = Accelerator(name, levels, 1.0)
        enc = Encoding(Layer(P=52, name="p52"), acc, bypass="none", factors="residual")
        genes = {"tile[Buf,P]": 1.0, "spatial_ratio[GLB,P]": 1.0}
        if name == "above":
            genes["tile[RF,P]"] = 0.0
        m = _decode_both(enc, _one_row(enc, **genes))
        buf = acc.level_index("Buf")
        assert m.spatial_x[0, acc.level_index("GLB"), p] == 4
        assert m.temporal[0, buf, p] == (7 if name == "above" else 1), (name, m.temporal[0, :, p])
        assert uniform_instances(m, 0) and m.is_perfect()[0] == (name == "below"), name


@pytest.mark.slow
def test_the_fill_takes_balanced_tiles_and_never_trades_passes_for_fan_out(shape_ok):
    """A 7 x 7 map on a 16-wide axis: P takes 7, Q nothing; the fill adds Q = 2 (4 passes of 2, the last 1), 14 of
    16 where divisors reach 7. A 13 x 13 map keeps 13 x 1 (13 passes): 4 x 4 would use all 16 but need 16 passes."""
    acc = _axis(16, ("P", "Q"))
    for size, want in ((7, (7, 2)), (13, (13, 1))):
        layer = Layer(P=size, Q=size, name=f"map{size}")
        genes = {"spatial_rank[GLB,P]": 1.0, "spatial_rank[GLB,Q]": 0.5, "spatial_ratio[GLB,P]": 1.0,
                 "spatial_fill[GLB,X]": 0.75}
        enc = Encoding(layer, acc, factors="residual")
        m = _decode_both(enc, _one_row(enc, **genes))
        assert (m.spatial_x[0, 1, DIMS.index("P")], m.spatial_x[0, 1, DIMS.index("Q")]) == want
        perfect = Encoding(layer, acc).decode(_one_row(enc, **genes))
        assert (perfect.spatial_x[0, 1, DIMS.index("P")], perfect.spatial_x[0, 1, DIMS.index("Q")]) == (size, 1)
        assert shape_ok(layer, acc, m, 0) and _bounds_covered(m, 0)[DIMS.index("Q")] == size


@pytest.mark.slow
@pytest.mark.parametrize("acc_name", ["B4x4b", "eyeriss", "tight"])
def test_encode_inverts_a_residual_decode_without_the_fill(corpus_architectures, acc_name):
    """With the fill genes off every decoded mapping round-trips, its balanced tiles included (a gene of 1.0 gives
    the largest tile within the limit that bound it)."""
    acc = {"B4x4b": corpus_architectures["B4x4b"], "eyeriss": get_preset("eyeriss"), "tight": TIGHT}[acc_name]
    for layer in LAYERS[:2]:
        enc = Encoding(layer, acc, factors="residual")
        x = np.random.default_rng(5).random((60, enc.size))
        x[:, enc._sp_fill[enc._sp_fill >= 0]] = 0.25
        arrays = enc.decode(x)
        assert not arrays.is_perfect().all()
        for b in range(arrays.batch_size):
            again = enc.decode(enc.encode(arrays, b))
            for name in ("temporal", "spatial_x", "spatial_y", "temporal_residual", "spatial_x_residual",
                         "spatial_y_residual"):
                np.testing.assert_array_equal(getattr(again, name)[0], getattr(arrays, name)[b], err_msg=name)


@pytest.mark.parametrize("arch", ["A1", "C1"])
def test_decoded_temporal_class_mappings_evaluate_as_the_walk(corpus_architectures, arch):
    acc = corpus_architectures[arch]
    layer = Layer(R=3, P=7, C=3, K=5, name="small_primes")
    enc = Encoding(layer, acc, factors="residual")
    arrays = enc.decode(np.random.default_rng(1).random((160, enc.size)))
    checked = 0
    for b in range(arrays.batch_size):
        if arrays.row(b).is_perfect()[0] or not uniform_instances(arrays, b):
            continue
        fast = evaluate_batch(layer, acc, arrays.row(b))
        ref = evaluate(layer, acc, arrays, b)
        assert int(fast.reason[0]) == ref.reason, (b, REASONS[ref.reason], REASONS[int(fast.reason[0])])
        if ref.reason != OK:
            continue
        checked += 1
        assert int(fast.cycles[0]) == ref.cycles
        assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
        np.testing.assert_allclose(fast.fills[0], ref.fills, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(fast.reads[0], ref.reads, rtol=1e-12, atol=1e-9)
    assert checked >= 3


def test_decoded_spatial_class_mappings_are_valid_and_the_kernel_counts_them_as_the_walk(corpus_architectures):
    """A decoded spatial-class mapping is valid wherever its tiles fit and does the layer's real work (MACs = the
    product of the bounds); the kernel's cycles, energy and counts equal the walk's."""
    acc = corpus_architectures["B4x4b"]
    layer = Layer(P=13, C=3, K=5, name="tiny_primes")
    enc = Encoding(layer, acc, factors="residual")
    arrays = enc.decode(np.random.default_rng(2).random((40, enc.size)))
    fast = evaluate_batch(layer, acc, arrays)
    checked = 0
    for b in range(arrays.batch_size):
        if uniform_instances(arrays, b) or checked == 4:
            continue
        walk = evaluate(layer, acc, arrays, b)
        assert walk.reason == OK == int(fast.reason[b]), (REASONS[walk.reason], REASONS[int(fast.reason[b])])
        assert walk.macs == layer.macs
        assert int(fast.cycles[b]) == walk.cycles
        assert fast.energy_pj[b] == pytest.approx(walk.energy_pj, rel=1e-12)
        np.testing.assert_allclose(fast.reads[b], walk.reads, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(fast.fills[b], walk.fills, rtol=1e-12, atol=1e-9)
        checked += 1
    assert checked == 4


@pytest.mark.slow
def test_a_prime_dim_that_overflows_the_buffer_pays_with_residuals():
    """13 x 13 outputs (prime) through a 24-word buffer: perfect tiles of P and Q are 1 or 13, and a 13-wide tile does
    not fit with its 3 x 3 window; residual tiles (7 of 13, then 6) do, so fewer inputs are fetched again."""
    dram = StorageLevel("DRAM", read_energy_pj=100.0, write_energy_pj=100.0, update_energy_pj=100.0)
    buf = StorageLevel("Buf", capacity_words=24, read_energy_pj=1.0, write_energy_pj=1.0, update_energy_pj=1.0)
    acc = Accelerator("tiny", (dram, buf), 1.0)
    layer = Layer(R=3, S=3, P=13, Q=13, C=2, K=3, name="prime_map")
    perfect = best_mapping(layer, acc, budget_evals=3000, seed=0, factors="perfect")
    residual = best_mapping(layer, acc, budget_evals=3000, seed=0, factors="residual")
    assert perfect.valid and residual.valid
    assert residual.energy_pj < perfect.energy_pj * 0.9, (residual.energy_pj, perfect.energy_pj)
    assert residual.edp_pj_cycles < perfect.edp_pj_cycles * 0.95, (residual.edp_pj_cycles, perfect.edp_pj_cycles)
    assert not residual.arrays.is_perfect()[0]
    ref = evaluate(layer, acc, residual.arrays, 0)
    assert (ref.cycles, ref.energy_pj) == pytest.approx((residual.cycles, residual.energy_pj), rel=1e-12)


def _canonical(arrays: MappingArrays, b: int) -> bool:
    """Every dim's loops in F3's canonical form: 1 <= r <= e, and the outermost loop with end > 1 perfect."""
    for d in range(len(DIMS)):
        loops = [(e, r) for _, _, e, r in dim_loops(arrays, b, d) if e > 1]
        if any(not 1 <= r <= e for e, r in loops) or (loops and loops[0][0] != loops[0][1]):
            return False
    return True


@pytest.mark.slow
def test_transfer_keeps_a_spatial_residual_source_valid_and_canonical(corpus_architectures, odd_accelerators,
                                                                        shape_ok):
    source = corpus_architectures["B4x4b"]
    targets = [corpus_architectures[a] for a in ("A2", "C1", "D2")] + list(odd_accelerators) + [TIGHT]
    spatial_sources = 0
    for layer in LAYERS:
        enc = Encoding(layer, source, factors="residual")
        arrays = enc.decode(np.random.default_rng(7).random((30, enc.size)))
        for b in range(arrays.batch_size):
            spatial_sources += bool(arrays.spatial_x_residual[b].any() or arrays.spatial_y_residual[b].any())
            for target in targets:
                moved = transfer_mapping(arrays, source, target, b)
                assert _bounds_covered(moved, 0) == [int(v) for v in layer.bounds], (layer.name, b, target.name)
                assert _canonical(moved, 0), (layer.name, b, target.name)
                fan = accelerator_arrays(target).fanout
                if ((moved.spatial_x.prod(axis=2)[0] <= fan[:, 0]).all()
                        and (moved.spatial_y.prod(axis=2)[0] <= fan[:, 1]).all()):
                    assert shape_ok(layer, target, moved, 0), (layer.name, b, target.name)
                seeds = Encoding(layer, target, factors="residual")
                again = seeds.decode(seeds.encode(moved))          # its genes decode to a valid mapping there
                assert shape_ok(layer, target, again, 0), (layer.name, b, target.name)
    assert spatial_sources >= 10


def test_factors_are_checked():
    with pytest.raises(ValueError, match="factors must be one of perfect, residual"):
        MapperSettings(factors="imperfect")
    with pytest.raises(ValueError, match="Encoding.factors"):
        Encoding(LAYERS[1], Accelerator("t", (StorageLevel("DRAM"),), 1.0), factors="all")
