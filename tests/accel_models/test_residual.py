"""Residual (imperfect) factors: the bound equation, the kernel against the walk, and Timeloop's own figures."""
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numba import njit

from accel_models import Accelerator, MappingArrays, StorageLevel, get_preset
from accel_models.cost_model import evaluate_batch
from accel_models.kernel.residual import iterations_run, whole_stream
from accel_models.kernel.workspace import TEMPORAL
from accel_models.mapping_arrays import bound_from_factors, canonical_residuals
from accel_models.reference import _Delta, evaluate, uniform_instances
from accel_models.result import BAD_FACTORS, OK, REASONS, SPATIAL_RESIDUAL
from accel_models.timeloop.corpus import load_cases
from accel_models.timeloop.corpus_check import WALKS, compare_case, inputs_sha256, load_walks, walk_figures
from mappings import Encoding, LevelMapping, Mapping, random_mappings
from nets import DIMS, Layer

from _residual_cut import cut_to_bounds

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


def test_spatial_class_is_counted_by_the_kernel_as_the_walk_counts_it(cases):
    """A spatial-class case: the walk counts the real work (every MAC of the layer, Timeloop's compute cycles), and
    the kernel gives the walk's counts, cycles and energy (Timeloop's own MACs are its approximation, F9)."""
    case = cases["IB-0004"]      # C=197 on a spatial (8, 5), K=37 on (2, 1); the RF keeps Weights
    assert case.raw["residuals"]["residual_class"] == "spatial"
    ref = evaluate(case.layer, case.accelerator, case.mapping)
    assert ref.valid and ref.macs == case.raw["residuals"]["problem_macs"] != case.timeloop["macs"]
    assert ref.compute_cycles == case.timeloop["compute_cycles"]
    # The innermost storage level reads one Weights word per MAC it feeds, over all its instances (F9: Timeloop
    # counts processing element 0's MACs times its truncated average instead).
    assert ref.reads[-1, 0] == case.raw["residuals"]["problem_macs"]
    r = evaluate_batch(case.layer, case.accelerator, case.mapping)
    assert int(r.reason[0]) == OK, REASONS[int(r.reason[0])]
    _assert_same(r, ref)


@pytest.mark.slow
def test_stored_walks_are_the_walks_results(cases):
    """The corpus check compares spatial-class cases with stored walks (`corpus_check.WALKS`, keyed by inputs): the
    stored figures of the spatial-class cases kept here are what the walk gives now, and the kernel gives them."""
    stored = load_walks(WALKS)
    spatial = [c for c in cases.values() if c.raw["residuals"]["residual_class"] == "spatial" and c.timeloop["valid"]]
    assert {c.family for c in spatial} == {"B", "C", "D"}
    for case in spatial:
        fig = stored[inputs_sha256(case)]
        now = walk_figures(case)
        assert {k: fig[k] for k in ("cycles", "compute_cycles", "macs")} == \
            {k: now[k] for k in ("cycles", "compute_cycles", "macs")}, case.id
        assert fig["energy_pj"] == pytest.approx(now["energy_pj"], rel=1e-12), case.id
        for key in ("reads", "fills", "updates"):
            assert np.array_equal(np.array(fig[key]), np.array(now[key])), (case.id, key)
        _assert_same(evaluate_batch(case.layer, case.accelerator, case.mapping),
                     evaluate(case.layer, case.accelerator, case.mapping))


def _assert_same(fast, ref, b=0):
    """The kernel's row b equals the walk's result: validity, cycles, energy and every count."""
    assert int(fast.reason[b]) == ref.reason, (REASONS[ref.reason], REASONS[int(fast.reason[b])])
    if ref.reason != OK:
        return
    assert (int(fast.cycles[b]), int(fast.compute_cycles[b])) == (ref.cycles, ref.compute_cycles)
    assert fast.energy_pj[b] == pytest.approx(ref.energy_pj, rel=1e-12)
    np.testing.assert_allclose(fast.reads[b], ref.reads, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.fills[b], ref.fills, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast.updates[b], ref.updates, rtol=1e-12, atol=1e-9)


LAYERS = [Layer(R=3, S=2, P=5, Q=3, C=3, K=2, name="conv"),
          Layer(R=3, S=3, P=3, Q=3, C=1, K=1, G=3, stride_w=2, stride_h=1, name="dw_stride2"),
          Layer(C=7, K=5, N=3, name="fc")]


@pytest.mark.slow
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
    arrays = cut_to_bounds(random_mappings(padded, acc, 6, rng=seed, spatial_bias=2.0), layer.bounds)
    assert not arrays.is_perfect().all()
    fast = evaluate_batch(layer, acc, arrays)
    for b in range(arrays.batch_size):
        _assert_same(fast, evaluate(layer, acc, arrays, b), b)


@pytest.mark.slow
def test_kernel_matches_walk_on_spatial_class_mappings(corpus_architectures):
    """Seeded draws as above on the corpus's PE arrays, keeping the spatial class only (a residual on or below a
    spatial loop): the kernel's counts, cycles and energy equal the walk's on 40 valid ones per architecture
    (B2x2a's keep/bypass choices reach links that the others do not)."""
    layers = LAYERS + [Layer(R=3, P=13, C=2, K=3, name="p13")]
    for arch in ("B2x2a", "B4x4b", "C1", "D2"):
        acc = corpus_architectures[arch]
        compared = 0
        for seed in range(50):
            for layer in layers:
                padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                               stride_w=layer.stride_w, stride_h=layer.stride_h)
                arrays = cut_to_bounds(random_mappings(padded, acc, 6, rng=seed, spatial_bias=2.0),
                                         layer.bounds)
                fast = evaluate_batch(layer, acc, arrays)
                for b in range(arrays.batch_size):
                    if uniform_instances(arrays, b) or not fast.valid[b]:
                        continue
                    _assert_same(fast, evaluate(layer, acc, arrays, b), b)
                    compared += 1
            if compared >= 40:
                break
        assert compared >= 40, (arch, compared)


def test_too_many_instance_classes_are_refused_and_the_walk_counts_them():
    """Four dims of 13 on a 16x16 fan-out, each DRAM 2 x spatial (4, 3) x RF (2, 1) (13 = ((1 x 4) + 2) x 2 + 1):
    under the GLB, each dim has PEs below the bound's spatial digit (0, 1), at it (2: the RF loop decides) and above
    it (3: idle in the last DRAM pass), so 3^4 = 81 classes of PEs, more than the kernel's tables hold (`MAX_JOINT`
    32). The kernel refuses the mapping with reason 7; the walk counts it."""
    acc = Accelerator("pe16x16", (
        StorageLevel("DRAM", kind="DRAM", **UNIT),
        StorageLevel("GLB", capacity_words=1 << 16, fanout_x=16, fanout_y=16, **UNIT),
        StorageLevel("RF", capacity_words=64, **UNIT)), mac_energy_pj=1.0)
    four = {"P": 4, "Q": 4, "K": 4, "C": 4}
    mapping = Mapping((LevelMapping({d: 2 for d in four}),
                       LevelMapping({}, spatial_x={"P": 4, "Q": 4}, spatial_x_residual={"P": 3, "Q": 3},
                                    spatial_y={"K": 4, "C": 4}, spatial_y_residual={"K": 3, "C": 3}),
                       LevelMapping({d: 2 for d in four}, temporal_residual={d: 1 for d in four})))
    layer = Layer(P=13, Q=13, K=13, C=13)
    arrays = mapping.to_arrays(acc)
    assert not uniform_instances(arrays, 0)
    r = evaluate_batch(layer, acc, arrays)
    assert int(r.reason[0]) == SPATIAL_RESIDUAL, REASONS[int(r.reason[0])]
    ref = evaluate(layer, acc, arrays)
    assert ref.valid and ref.macs == 13 ** 4


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
    """The mapper's residual decode of random genes, and random ends and perfect decodes of the layer padded to powers
    of two cut back to its bounds with residuals; only the rows with a residual loop. (The residual decode takes a
    balanced tile only where a limit binds: on edge_tpu_like's buffers it gives these layers no temporal-class
    residual, the cut perfect decodes do.)"""
    enc = Encoding(layer, acc, factors="residual")
    decoded = enc.decode(np.random.default_rng(seed).random((40, enc.size)))
    padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                   stride_w=layer.stride_w, stride_h=layer.stride_h)
    cut = cut_to_bounds(random_mappings(padded, acc, 40, rng=seed, spatial_bias=2.0), layer.bounds)
    on_padded = Encoding(padded, acc)
    cut_decoded = cut_to_bounds(on_padded.decode(np.random.default_rng(seed).random((40, on_padded.size))),
                                  layer.bounds)
    parts = (decoded, cut, cut_decoded)
    every = MappingArrays(*(np.concatenate(arrays) for arrays in zip(*parts)))
    keep = ~every.is_perfect()
    return MappingArrays(*(a[keep] for a in every))


@pytest.mark.slow
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


# The spatial class counted by the walk, on FORMAT.md F9's examples (P=13 on a 4x4 PE array) and a few more; every
# figure below is derived by hand in its docstring.
UNIT = {"read_energy_pj": 1.0, "write_energy_pj": 1.0, "update_energy_pj": 1.0}
W, I, O = range(3)


def _pe_array(**rf):
    """DRAM -> GLB (8192 words, a 4x4 fan-out) -> RF per PE (32 words, keeps every tensor; `rf` overrides) -> MAC,
    every access 1 pJ: B4x4a's shape with an RF that keeps Inputs too."""
    return Accelerator("pe4x4", (
        StorageLevel("DRAM", kind="DRAM", **UNIT),
        StorageLevel("GLB", capacity_words=8192, fanout_x=4, fanout_y=4, **UNIT),
        StorageLevel("RF", **{"capacity_words": 32, **UNIT, **rf})), mac_energy_pj=1.0)


def _walk(layer, acc, *levels):
    """The walk's result of the mapping, which the compiled kernel must give too."""
    mapping = Mapping(levels)
    r = evaluate(layer, acc, mapping)
    assert r.valid, r.reason_text
    _assert_same(evaluate_batch(layer, acc, mapping.to_arrays(acc)), r)
    return r


def test_f9_residual_on_the_spatial_loop():
    """GLB temporal P=4, spatial P=(4,1). PE k works at P = 4t + k < 13: PE 0 at t = 0..3, PEs 1-3 at t = 0..2:
    13 MACs (Timeloop reports 12). Each step brings every working PE a new input word: PE 0 is filled 4 times,
    the others 3 (13 in all), and the GLB reads the 13 distinct words. The one weight is read once by the GLB
    (multicast) and filled once per PE; each PE's MAC reads it at each of its steps (13). Outputs: every PE
    updates its own words once (no partial sums come back), so no reads and no fills. Compute cycles: 4 (the
    temporal end); 4 RF instances used (the spatial end, F5)."""
    acc = _pe_array()
    r = _walk(Layer(P=13), acc, LevelMapping({}),
              LevelMapping({"P": 4}, spatial_x={"P": 4}, spatial_x_residual={"P": 1}), LevelMapping({}))
    assert (r.macs, r.compute_cycles, r.cycles) == (13, 4, 4)
    assert list(r.instances_used) == [1, 1, 4]
    assert r.fills[2, I] == 13 and r.fills_per_instance[2, I] == 4          # PE 0 fetches 4 words
    assert r.reads[1, I] == 13 and r.reads[0, I] == 13 and r.fills[1, I] == 13
    assert (r.reads[1, W], r.fills[2, W], r.reads[2, W]) == (1, 4, 13)
    assert (r.updates[2, O], r.reads[2, O], r.fills[2, O]) == (13, 0, 0)
    assert (r.updates[1, O], r.reads[1, O], r.updates[0, O], r.reads[0, O]) == (13, 0, 13, 0)


def test_f9_residual_below_a_spatial_loop_of_its_dim():
    """Spatial P=4, RF temporal P=(4,1). PE k holds P in [4k, 4k + 4) cut at 13: PEs 0-2 four words, PE 3 one;
    13 MACs (Timeloop: 16). RF Inputs fills 4 + 4 + 4 + 1 and the GLB reads the four distinct tiles once each."""
    acc = _pe_array()
    r = _walk(Layer(P=13), acc, LevelMapping({}), LevelMapping({}, spatial_x={"P": 4}),
              LevelMapping({"P": 4}, temporal_residual={"P": 1}))
    assert (r.macs, r.compute_cycles) == (13, 4)
    assert (r.fills[2, I], r.fills_per_instance[2, I], r.reads[1, I]) == (13, 4, 13)
    assert (r.reads[2, W], r.reads_per_instance[2, W], r.fills[2, W], r.reads[1, W]) == (13, 4, 4, 1)
    assert (r.updates[2, O], r.reads[2, O], r.updates[1, O]) == (13, 0, 13)


def test_f9_residual_spatial_loop_inside_a_dram_loop():
    """DRAM P=2 (step 8), spatial P=(4,3) (step 2), RF P=(2,1). PE k works at 8d + 2k + i < 13: in DRAM pass 0
    every PE does 2 MACs, in pass 1 PEs 0 and 1 do 2, PE 2 does 1 (P=12) and PE 3 is idle: 4, 4, 3, 2 MACs, 13
    (Timeloop: 12). The GLB's tile is 8 words, cut to 5 in pass 1: 13 fills. Compute cycles 2 x 2 = 4."""
    acc = _pe_array()
    r = _walk(Layer(P=13), acc, LevelMapping({"P": 2}),
              LevelMapping({}, spatial_x={"P": 4}, spatial_x_residual={"P": 3}),
              LevelMapping({"P": 2}, temporal_residual={"P": 1}))
    assert (r.macs, r.compute_cycles) == (13, 4)
    assert (r.reads[2, W], r.reads_per_instance[2, W]) == (13, 4)
    assert (r.fills[2, I], r.reads[1, I], r.fills[1, I], r.reads[0, I]) == (13, 13, 13, 13)
    assert r.fills[2, W] == 4 and r.reads[1, W] == 1


def test_spatial_residual_multicast_reaches_only_the_working_pes():
    """K=7 on GLB temporal K=2 (step 4) and spatial K=(4,3); P=2 inside K at the GLB. PE 3 (K=3) works only in
    the first K pass. All working PEs share the input word of a step: the GLB reads it once a step (4 steps), and
    the RFs are filled once a step each: 4 x 3 + 2 = 14. Weights differ per PE: the GLB reads 4 then 3 (7), one per
    PE and K pass. Outputs: 14 updates at the GLB (a distinct word per working PE and step)."""
    acc = _pe_array()
    r = _walk(Layer(P=2, K=7), acc, LevelMapping({}),
              LevelMapping({"K": 2, "P": 2}, permutation=("K", "P"), spatial_x={"K": 4}, spatial_x_residual={"K": 3}),
              LevelMapping({}))
    assert r.macs == 14 and r.compute_cycles == 4
    assert (r.reads[1, I], r.fills[2, I]) == (4, 14)
    assert (r.reads[1, W], r.fills[2, W]) == (7, 7)
    assert r.updates[1, O] == 14


def test_spatial_residual_links_need_a_working_neighbour():
    """R=3, P=7: DRAM P=2 (step 4), GLB temporal R=3, spatial P=(4,3). PE k uses input word 4d + k + r at step
    (d, r); PE 3 is idle in pass d=1. Pass 0: step r=0 reads 4 words; at r=1, 2 PEs 0-2 take their word from the
    right neighbour, which held it the step before, and only PE 3's is read (1 + 1). Pass 1 (PEs 0-2): r=0 reads 3
    (no neighbour held 4, 5 or 6); at r=1, 2 PEs 0 and 1 are served, PE 2's neighbour PE 3 is idle, so PE 2's
    word is read (1 + 1). GLB reads 4 + 1 + 1 + 3 + 1 + 1 = 11, links 3 + 3 + 2 + 2 = 10; every RF fill (6, 6, 6,
    3 = 21) is one or the other. The RFs read 21 words for their MACs and 10 for their neighbours."""
    acc = _pe_array()
    r = _walk(Layer(R=3, P=7), acc, LevelMapping({"P": 2}),
              LevelMapping({"R": 3}, spatial_x={"P": 4}, spatial_x_residual={"P": 3}), LevelMapping({}))
    assert r.macs == 21
    assert (r.reads[1, I], r.link_transfers[1, I], r.fills[2, I], r.reads[2, I]) == (11, 10, 21, 31)
    assert (r.reads[1, W], r.fills[2, W]) == (6, 21)


def test_spatial_residual_energy_rounds_blocks_per_instance_and_bandwidth_takes_the_busiest_pe():
    """The second F9 example with 3-word RF blocks. Per PE (k = 0..3): MAC reads of Weights and Inputs 4, 4, 4,
    1; Inputs fills 4, 4, 4, 1; Weights fills 1 each; Outputs updates 4, 4, 4, 1. Blocks per PE: 2, 2, 2, 1 (7)
    for each of the 4-4-4-1 counts and 1 each (4) for the weight fills: RF energy 7 + 4 + 7 + 7 + 7 = 32 pJ
    (rounding the mean, 3.25 words, would give 8 per count; the total, 13 words, 5). With an RF read bandwidth of
    1 word a cycle, PE 0 asks for (4 + 4) / 4 = 2 words a cycle over the 4 compute cycles: 8 cycles (the mean PE,
    1.625, would give 7)."""
    mapping = (LevelMapping({}), LevelMapping({}, spatial_x={"P": 4}),
               LevelMapping({"P": 4}, temporal_residual={"P": 1}))
    r = _walk(Layer(P=13), _pe_array(block_size_words=3), *mapping)
    assert r.tensor_energy_pj[2].sum() == pytest.approx(32.0)
    slow = _walk(Layer(P=13), _pe_array(read_bandwidth=1), *mapping)
    assert (slow.compute_cycles, slow.level_cycles[2], slow.cycles) == (4, 8, 8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(["A2", "B2x2a", "B4x4b", "C1", "D2"]), which=st.integers(0, len(LAYERS) - 1),
       seed=st.integers(0, 10_000), residual=st.booleans())
def test_walking_every_instance_changes_nothing_when_they_do_equal_work(corpus_architectures, arch, which, seed,
                                                                       residual):
    """Perfect and temporal-class mappings: walking every instance from its own spatial offset (each child's own
    stream, partitions as the union of its tiles) gives the counts, cycles and energy of walking instance 0 and
    translating it."""
    acc = corpus_architectures[arch]
    layer = LAYERS[which]
    if residual:
        padded = Layer(**{d: 1 << (getattr(layer, d) - 1).bit_length() for d in DIMS},
                       stride_w=layer.stride_w, stride_h=layer.stride_h)
        arrays = cut_to_bounds(random_mappings(padded, acc, 4, rng=seed, spatial_bias=2.0), layer.bounds)
    else:
        arrays = random_mappings(layer, acc, 4, rng=seed, spatial_bias=2.0)
    for b in range(arrays.batch_size):
        if not uniform_instances(arrays, b):
            continue
        one = evaluate(layer, acc, arrays, b)
        every = evaluate(layer, acc, arrays, b, every_instance=True)
        assert one.reason == every.reason
        if not one.valid:
            continue
        assert (one.cycles, one.compute_cycles) == (every.cycles, every.compute_cycles)
        assert every.energy_pj == pytest.approx(one.energy_pj, rel=1e-12)
        for key in ("reads", "fills", "updates", "reads_per_instance", "fills_per_instance", "updates_per_instance"):
            np.testing.assert_allclose(getattr(every, key), getattr(one, key), rtol=1e-12, atol=1e-9, err_msg=key)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4), st.integers(-2, 5), st.integers(1, 4)),
                min_size=1, max_size=3),
       st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4), st.integers(-2, 5), st.integers(1, 4)),
                min_size=1, max_size=3))
def test_a_delta_key_is_equal_exactly_when_the_point_sets_are(a, b):
    """R3 reads each distinct delta once: two deltas (a box less the previous box) share a key iff they are the
    same set of points."""
    def points(spec):
        new = set(itertools.product(*(range(lo, lo + e) for lo, e, _, _ in spec)))
        old = set(itertools.product(*(range(lo, lo + e) for _, _, lo, e in spec)))
        return frozenset(new - old)

    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    da, db = (_Delta(tuple(x[0] for x in s), tuple(x[1] for x in s), tuple(x[2] for x in s), tuple(x[3] for x in s))
              for s in (a, b))
    pa, pb = points(a), points(b)
    assert da.size == len(pa) and db.size == len(pb)
    if pa and pb:
        assert (da.key == db.key) == (pa == pb)


@njit
def _run_and_whole(temporal, M, bounds, origin, extents, ax):
    return iterations_run(temporal, M, bounds, origin), whole_stream(0, temporal, M, bounds, origin, extents, ax)


def _shuffled_nest(loops: list, rng) -> tuple[list, np.ndarray]:
    """`loops` ((dim, bound, step) per loop, each dim's chain in any order) in a random order of the dims' loops
    that keeps each dim's chain outer to inner (larger steps outside; `rng` shuffles `loops` in place), and that
    nest as a `TEMPORAL` record (one spare row)."""
    rng.shuffle(loops)
    by_dim = {d: sorted((lp for lp in loops if lp[0] == d), key=lambda lp: -lp[2]) for d in range(8)}
    order = [by_dim[d].pop(0) for d, _, _ in loops]
    temporal = np.zeros(len(order) + 1, dtype=TEMPORAL)
    for j, (d, bound, step) in enumerate(order):
        temporal[j]["dim"], temporal[j]["bound"], temporal[j]["step"] = d, bound, step
    return order, temporal


def test_iterations_run_and_whole_stream_against_enumeration():
    """`residual.iterations_run` (the iterations of a nest that run from an origin, F2) and `residual.whole_stream`
    (every iteration runs and no tile of the tensor is cut) against listing every iteration of random nests: per
    dim a chain of loops whose steps cover the loops inside them (with a spatial factor between some), bounds cut
    anywhere, origins inside them."""
    rng = np.random.default_rng(38)
    ax = np.full((3, 8), -1, dtype=np.int64)
    ax[0, :4] = np.arange(4)                    # tensor 0 indexed by dims 0-3; dims 4-7 only decide what runs
    checked_whole = 0
    for _ in range(300):
        loops = []                              # (dim, bound, step), innermost first per dim
        span = np.ones(8, dtype=np.int64)       # per dim: the extent of the tile and the loops inside the next one
        extents = rng.integers(1, 4, 8)
        span[:] = extents
        for _ in range(rng.integers(1, 7)):
            d = int(rng.integers(0, 8))
            bound = int(rng.integers(2, 4))
            step = int(span[d]) * int(rng.integers(1, 3))
            loops.append((d, bound, step))
            span[d] = step * bound
        order, temporal = _shuffled_nest(loops, rng)
        bounds = np.array([int(rng.integers(1, span[d] + 1)) if rng.random() < 0.1 else int(span[d])
                           for d in range(8)], dtype=np.int64)
        origin = np.array([int(rng.integers(0, min(b, 3))) if rng.random() < 0.1 else 0 for b in bounds],
                          dtype=np.int64)
        run = 0
        reach = origin + np.where(ax[0] >= 0, extents, 1)
        for digits in itertools.product(*(range(b) for _, b, _ in order)):
            off = origin.copy()
            for (d, _, step), i in zip(order, digits):
                off[d] += i * step
            if np.all(off < bounds):
                run += 1
            reach = np.maximum(reach, off + np.where(ax[0] >= 0, extents, 1))
        total = int(np.prod([b for _, b, _ in order]))
        count, whole = _run_and_whole(temporal, np.int64(len(order)), bounds, origin, extents.astype(np.int64), ax)
        assert count == run, (order, bounds, origin)
        assert whole == (run == total and bool(np.all(reach <= bounds))), (order, bounds, origin, extents)
        checked_whole += int(whole)
    assert 10 <= checked_whole <= 290, checked_whole
