"""Residual (imperfect) factors: the bound equation, the kernel against the walk, and Timeloop's own figures."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel_models import MappingArrays, get_preset
from accel_models.cost_model import evaluate_batch
from accel_models.mapping_arrays import bound_from_factors, canonical_residuals, dim_loops
from accel_models.reference import evaluate
from accel_models.result import BAD_FACTORS, OK, REASONS, SPATIAL_RESIDUAL
from accel_models.timeloop.corpus import load_cases
from accel_models.timeloop.corpus_check import compare_case
from mappings import Encoding, random_mappings
from nets import DIMS, Layer

DATA = Path(__file__).parent / "data" / "imperfect_cases.jsonl"


@pytest.fixture(scope="module")
def cases():
    return {c.id: c for c in load_cases(DATA)}


def test_canonical_residuals_follow_ceiling_division():
    # FORMAT.md F3's example: P=13 over DRAM 2, GLB (3,2), RF (3,1).
    ends, res = canonical_residuals([0, 3, 3], 13)
    assert (ends, res) == ([2, 3, 3], [2, 2, 1])
    assert bound_from_factors(list(zip(ends, res))) == 13
    assert bound_from_factors([(4, 4), (4, 2)]) == 14      # Timeloop's refusal: "product ... is 14"


def _check(case, arrays=None):
    r = evaluate_batch(case.layer, case.accelerator, case.mapping if arrays is None else arrays)
    totals = {"reads": r.reads[0], "fills": r.fills[0], "updates": r.updates[0]}
    return r, compare_case(case, bool(r.valid[0]), int(r.cycles[0]), float(r.energy_pj[0]), totals,
                           case.exact or case.timeloop)


def test_temporal_class_equals_timeloop_exact_counts(cases):
    temporal = [c for c in cases.values() if c.timeloop["valid"] and c.raw["residuals"]["residual_class"] == "temporal"]
    assert len(temporal) == 4
    for case in temporal:
        r, (ok, _, problems) = _check(case)
        assert ok, (case.id, problems)
        assert int(r.compute_cycles[0]) == case.timeloop["compute_cycles"]   # F7: product of the ends


def test_a_perfect_reading_of_the_ends_is_refused(cases):
    case = cases["IA-0000"]
    perfect = case.mapping._replace(temporal_residual=np.zeros_like(case.mapping.temporal))
    assert int(evaluate_batch(case.layer, case.accelerator, perfect).reason[0]) == BAD_FACTORS


def test_invalid_cases_are_refused_as_timeloop_refuses_them(cases):
    invalid = [c for c in cases.values() if not c.timeloop["valid"]]
    assert {c.raw["generator_intent"] for c in invalid} == {"invalid_factors", "invalid_capacity", "invalid_mesh"}
    for case in invalid:
        r, (ok, _, problems) = _check(case)
        assert ok and not r.valid[0], (case.id, problems)
        ref = evaluate(case.layer, case.accelerator, case.mapping)
        assert ref.reason == int(r.reason[0]), case.id


def test_spatial_class_is_refused_not_miscounted(cases):
    case = next(c for c in cases.values() if c.timeloop["valid"] and c.raw["residuals"]["residual_class"] == "spatial")
    r = evaluate_batch(case.layer, case.accelerator, case.mapping)
    assert int(r.reason[0]) == SPATIAL_RESIDUAL, REASONS[int(r.reason[0])]
    assert evaluate(case.layer, case.accelerator, case.mapping).reason == SPATIAL_RESIDUAL


def _with_residuals(layer: Layer, arrays: MappingArrays, bounds) -> MappingArrays:
    """Each row's ends made to cover `bounds` (smaller than the layer's) in canonical form (F3)."""
    out = MappingArrays(*(a.copy() for a in arrays))
    for b in range(out.batch_size):
        for d in range(len(DIMS)):
            loops = dim_loops(out, b, d)
            ends, res = canonical_residuals([e for _, _, e, _ in loops], bounds[d])
            for (l, kind, _, _), e, r in zip(loops, ends, res):
                field = ("temporal", "spatial_y", "spatial_x")[kind]
                getattr(out, field)[b, l, d] = e
                getattr(out, field + "_residual")[b, l, d] = r
    return out


LAYERS = [Layer(R=3, S=2, P=5, Q=3, C=3, K=2, name="conv"),
          Layer(R=3, S=3, P=3, Q=3, C=1, K=1, G=3, stride_w=2, stride_h=1, name="dw_stride2"),
          Layer(C=7, K=5, N=3, name="fc")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(["A2", "B2x2a", "B4x4b", "C1", "D2"]), which=st.integers(0, len(LAYERS) - 1),
       seed=st.integers(0, 10_000))
def test_kernel_matches_walk_on_random_residual_mappings(corpus_architectures, arch, which, seed):
    """Ends drawn for the layer with each bound rounded up to a power of two, then cut to the real bounds with
    residuals: the kernel's counts, cycles and energy equal the walk's, and so do its refusals."""
    acc = corpus_architectures[arch]
    layer = LAYERS[which]
    padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                   stride_w=layer.stride_w, stride_h=layer.stride_h)
    arrays = _with_residuals(layer, random_mappings(padded, acc, 6, rng=seed, spatial_bias=2.0), layer.bounds)
    assert not arrays.is_perfect().all()
    for b in range(arrays.batch_size):
        fast = evaluate_batch(layer, acc, arrays.row(b))
        ref = evaluate(layer, acc, arrays, b)
        assert int(fast.reason[0]) == ref.reason, (b, REASONS[ref.reason], REASONS[int(fast.reason[0])])
        if ref.reason != OK:
            continue
        assert int(fast.cycles[0]) == ref.cycles
        assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
        np.testing.assert_allclose(fast.reads[0], ref.reads, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(fast.fills[0], ref.fills, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(fast.updates[0], ref.updates, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("q, buffer_q, fills", [
    # Q=9, S=3 (Inputs W = Q + 2): DRAM Q=3 moves the Buffer's W window [0,6) -> [4,10) -> [8,11). The last tile is
    # cut by three words (Q 4 -> 1): it comes whole, 6 + 4 + 3 = 13 (reusing [8,10) would give 6 + 4 + 1 = 11).
    (9, "Q=4,1", 13),
    # Q=11: the last tile [8,13) is cut by one word (Q 4 -> 3): it keeps its overlap, 6 + 4 + 3 = 13 (whole: 15).
    (11, "Q=4,3", 13),
])
def test_a_tile_cut_by_two_words_or_more_comes_whole(corpus_architectures, q, buffer_q, fills):
    from accel_models.timeloop import mapping_from_timeloop
    acc = corpus_architectures["A2"]
    layer = Layer(S=3, Q=q, name="window")
    text = f"""mapping:
  - target: DRAM
    type: temporal
    factors: R=1 S=1 P=1 Q=3 C=1 K=1 N=1
    permutation: RSPQCKN
  - target: Buffer
    type: temporal
    factors: R=1 S=3 P=1 {buffer_q} C=1 K=1 N=1
    permutation: SQRPCKN
"""
    arrays = mapping_from_timeloop(text, acc, layer)
    fast = evaluate_batch(layer, acc, arrays)
    assert int(fast.reason[0]) == OK, REASONS[int(fast.reason[0])]
    assert fast.fills[0][1, 1] == fills
    assert evaluate(layer, acc, arrays).fills[1, 1] == fills


BIG_LAYERS = [Layer.conv(32, 32, 3, 7, name="3x3_7x7"),                 # ResNet-50 stage 5's map, fewer channels
              Layer.conv(96, 96, 3, 7, groups=96, name="dw3x3_7x7"),
              Layer(C=64, K=1000, name="fc1000")]                       # 1000 classes: 1000 = 8 x 125
MAX_WALK_CYCLES = 8192
"""Compute cycles of the mappings the walk checks below: its time grows with them (~0.5 s at this bound)."""


def _residual_candidates(layer: Layer, acc, seed: int) -> MappingArrays:
    """The mapper's residual decode of random genes, and random ends of the layer padded to powers of two cut back
    to its bounds with residuals; only the rows with a residual loop."""
    enc = Encoding(layer, acc, factors="residual")
    decoded = enc.decode(np.random.default_rng(seed).random((40, enc.size)))
    padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                   stride_w=layer.stride_w, stride_h=layer.stride_h)
    cut = _with_residuals(layer, random_mappings(padded, acc, 40, rng=seed, spatial_bias=2.0), layer.bounds)
    both = MappingArrays(*(np.concatenate([a, b]) for a, b in zip(decoded, cut)))
    keep = ~both.is_perfect()
    return MappingArrays(*(a[keep] for a in both))


@pytest.mark.parametrize("preset", ["eyeriss", "edge_tpu_like"])
def test_kernel_matches_walk_on_bigger_layers(preset):
    """Sweeps over many loop iterations (thousands of compute cycles, multicast and links under 168- and 4096-PE
    arrays): the kernel's counts, cycles and energy equal the walk's on every mapping cheap enough to walk."""
    acc = get_preset(preset)
    checked = 0
    for k, layer in enumerate(BIG_LAYERS):
        maps = _residual_candidates(layer, acc, seed=k)
        fast = evaluate_batch(layer, acc, maps)
        cheap = np.flatnonzero(fast.valid & (fast.compute_cycles <= MAX_WALK_CYCLES))
        cheap = cheap[np.argsort(fast.compute_cycles[cheap], kind="stable")][-2:]   # the two longest such walks
        for b in cheap:
            ref = evaluate(layer, acc, maps, int(b))
            assert ref.valid and int(fast.cycles[b]) == ref.cycles, (layer.name, b)
            assert fast.energy_pj[b] == pytest.approx(ref.energy_pj, rel=1e-12)
            np.testing.assert_array_equal(fast.reads[b], ref.reads)
            np.testing.assert_array_equal(fast.fills[b], ref.fills)
            np.testing.assert_array_equal(fast.updates[b], ref.updates)
            checked += 1
    assert checked >= 4, checked
