"""The encoding's residual decode (`factors="residual"`): balanced tiles, canonical residual ends, always in the class
the cost model counts, the compiled decoder equal to the reference, and the mapper finding what it pays for."""
import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel, evaluate_batch
from accel_models.mapping_arrays import bound_from_factors, dim_loops
from accel_models.reference import evaluate, uniform_instances
from accel_models.result import OK, REASONS, SPATIAL_RESIDUAL
from mappings import Encoding, MapperSettings, best_mapping
from mappings._decode_kernel import balanced_tile
from mappings.encoding import _balanced_fitting
from mappings.transfer import transfer_mapping
from nets import DIMS, Layer

LAYERS = [Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes"),
          Layer(C=37, K=29, N=13, name="fc_primes"),
          Layer(R=3, S=3, P=7, Q=7, C=1, K=1, G=13, stride_w=2, stride_h=2, name="dw_primes")]


def _bounds_covered(arrays: MappingArrays, b: int) -> list[int]:
    return [bound_from_factors([(e, r) for _, _, e, r in dim_loops(arrays, b, d)]) for d in range(len(DIMS))]


def test_balanced_tile_picks_the_nearest_even_split():
    # 197 = 7 passes of 29 (the last 23) is the balanced tile nearest 197 ** 0.63 = 27.9; divisors are among them
    assert balanced_tile(197, 0.63) == (29, 7)
    assert balanced_tile(64, np.log(16) / np.log(64)) == (16, 4)
    assert balanced_tile(1, 0.5) == (1, 1)
    for rem in (2, 13, 97, 100, 197, 1000):
        for gene in np.linspace(0.0, 1.0, 41):
            f, n = balanced_tile(rem, gene)
            assert -(-rem // n) == f and 1 <= f <= rem
            assert _balanced_fitting(rem, float(gene), lambda _: True) == f


@pytest.mark.parametrize("which", range(len(LAYERS)))
def test_compiled_decode_equals_the_reference_and_stays_in_the_counted_class(corpus_architectures, odd_accelerators,
                                                                               which):
    layer = LAYERS[which]
    accs = [corpus_architectures[a] for a in ("A2", "B4x4b", "C1", "D2")] + list(odd_accelerators)
    for acc in accs:
        enc = Encoding(layer, acc, factors="residual")
        x = np.random.default_rng(which).random((40, enc.size))
        fast, ref = enc.decode(x), enc.decode(x, fast=False)
        for name, a, r in zip(MappingArrays._fields, fast, ref):
            np.testing.assert_array_equal(a, r, err_msg=f"{acc.name} {name}")
        assert not fast.is_perfect().all(), acc.name
        res = evaluate_batch(layer, acc, fast)
        for b in range(fast.batch_size):
            assert _bounds_covered(fast, b) == [int(v) for v in layer.bounds], (acc.name, b)
            assert uniform_instances(fast, b), (acc.name, b)   # the class the kernel counts
            assert res.reason[b] != SPATIAL_RESIDUAL, (acc.name, b)


@pytest.mark.parametrize("arch", ["A2", "B4x4b", "C1"])
def test_decoded_residual_mappings_evaluate_as_the_walk(corpus_architectures, arch):
    acc = corpus_architectures[arch]
    layer = Layer(R=3, P=7, C=3, K=5, name="small_primes")
    enc = Encoding(layer, acc, factors="residual")
    arrays = enc.decode(np.random.default_rng(1).random((12, enc.size)))
    checked = 0
    for b in range(arrays.batch_size):
        if arrays.row(b).is_perfect()[0]:
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


def test_perfect_mode_decodes_no_residual(corpus_architectures):
    layer = LAYERS[1]
    acc = corpus_architectures["B4x4b"]
    x = np.random.default_rng(3).random((50, Encoding(layer, acc).size))
    perfect = Encoding(layer, acc, factors="perfect").decode(x)
    assert perfect.is_perfect().all()
    assert not perfect.temporal_residual.any()
    residual = Encoding(layer, acc, factors="residual").decode(x)
    # same genes, same layout: the spatial factors, orders and keep flags do not depend on the factor mode
    for name in ("order", "spatial_x", "spatial_y", "spatial_order", "keep"):
        np.testing.assert_array_equal(getattr(perfect, name), getattr(residual, name), err_msg=name)


def test_encode_inverts_a_residual_decode(corpus_architectures):
    layer = LAYERS[0]
    acc = corpus_architectures["B4x4b"]
    enc = Encoding(layer, acc, factors="residual")
    arrays = enc.decode(np.random.default_rng(5).random((20, enc.size)))
    for b in range(arrays.batch_size):
        again = enc.decode(enc.encode(arrays, b))
        np.testing.assert_array_equal(again.temporal[0], arrays.temporal[b])
        np.testing.assert_array_equal(again.temporal_residual[0], arrays.temporal_residual[b])


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


def test_transfer_recomputes_the_residuals_of_a_residual_source(corpus_architectures):
    layer = LAYERS[0]
    source, target = corpus_architectures["B4x4b"], corpus_architectures["A2"]
    enc = Encoding(layer, source, factors="residual")
    arrays = enc.decode(np.random.default_rng(7).random((10, enc.size)))
    for b in range(arrays.batch_size):
        moved = transfer_mapping(arrays, source, target, b)
        assert _bounds_covered(moved, 0) == [int(v) for v in layer.bounds], b


def test_factors_are_checked():
    with pytest.raises(ValueError, match="factors must be one of perfect, residual"):
        MapperSettings(factors="imperfect")
    with pytest.raises(ValueError, match="Encoding.factors"):
        Encoding(LAYERS[1], Accelerator("t", (StorageLevel("DRAM"),), 1.0), factors="all")
