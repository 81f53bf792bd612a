"""Rule H: a tensor homed in an on-chip level (`Accelerator.tensor_homes`) is priced by the compiled kernel in one
pass as `explain_rehomed` prices it (the counts of the same mapping with every tensor from DRAM, its level-0
accesses moved to the home) and as the literal walker (`reference.evaluate`) counts it; with every tensor homed in
DRAM the kernel is unchanged (the corpora, elsewhere)."""
import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel_models import TENSORS, MappingArrays, build_accelerator, evaluate_batch, explain, explain_rehomed
from accel_models.reference import evaluate
from mappings import random_mappings
from nets import Layer

from _residual_cut import cut_to_bounds

SETS = [r for n in range(1, 4) for r in itertools.combinations(range(3), n)]


def _chip(glb_words: int, dram_words_per_cycle: float, glb_block: int, glb_bandwidth: float | None):
    """A 4 x 4 array under a GLB of `glb_words`, with the GLB's block and bandwidth as given (so that moving traffic
    there changes both its energy and, where the bandwidth binds, its cycles)."""
    acc = build_accelerator(pe_array=(4, 4), rf_words=8, glb_words=glb_words,
                            dram_bandwidth_words_per_cycle=dram_words_per_cycle, word_bits=8, technology_nm=45,
                            name=f"homes_{glb_words}")
    glb = replace(acc.levels[1], block_size_words=glb_block, shared_bandwidth=glb_bandwidth)
    return replace(acc, levels=(acc.levels[0], glb, *acc.levels[2:]))


def _views(chip, resident):
    """(the view with every tensor from DRAM, the same view with `resident` homed in the GLB)."""
    glb = chip.levels[1]
    keeps = tuple(t for i, t in enumerate(TENSORS) if t in glb.keeps and i not in resident)
    dram_backed = replace(chip, levels=(chip.levels[0], replace(glb, keeps=keeps), *chip.levels[2:]))
    return dram_backed, replace(dram_backed, tensor_homes=tuple(1 if t in resident else 0 for t in range(3)))


def _compare(layer, chip, resident, seed: int, walk: bool) -> int:
    """Kernel on the homed view against explain_rehomed (and the literal walker if `walk`) on 8 random mappings, 4 of
    them with residual factors (a padded layer's mappings cut to the bounds); the number of valid ones compared."""
    dram_backed, homed = _views(chip, resident)
    padded = replace(layer, **{d: 1 << (getattr(layer, d) - 1).bit_length() for d in ("R", "S", "P", "Q", "C", "K")})
    cut = cut_to_bounds(random_mappings(padded, dram_backed, 4, rng=seed).with_residuals(), layer.bounds)
    maps = MappingArrays.concatenate([random_mappings(layer, dram_backed, 4, rng=seed + 1).with_residuals(), cut])
    fast = evaluate_batch(layer, homed, maps)
    valid = 0
    for b in range(maps.batch_size):
        ref = explain_rehomed(layer, chip, dram_backed, maps.row(b), 1, resident)
        assert bool(fast.valid[b]) == ref.valid
        if not ref.valid:
            continue
        valid += 1
        assert int(fast.cycles[b]) == ref.cycles
        assert fast.energy_pj[b] == pytest.approx(ref.energy_pj, rel=1e-12)
        for got, want in ((fast.reads[b], ref.reads), (fast.fills[b], ref.fills), (fast.updates[b], ref.updates)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
        assert not fast.reads[b, 0, list(resident)].any() and not fast.updates[b, 0, list(resident)].any()
        if walk:
            walked = evaluate(layer, homed, maps, b)
            assert walked.cycles == ref.cycles and walked.energy_pj == pytest.approx(ref.energy_pj, rel=1e-12)
            np.testing.assert_allclose(walked.reads, ref.reads, rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(walked.updates, ref.updates, rtol=1e-12, atol=1e-9)
    return valid


_LAYER = st.builds(lambda r, p, c, k, stride, g: Layer(R=r, S=r, P=p, Q=p, C=c, K=k, G=g, stride_w=stride,
                                                      stride_h=stride),
                   st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(1, 2),
                   st.sampled_from([1, 2]))
_CHIP = st.builds(_chip, st.sampled_from([64, 300, 4096]), st.sampled_from([0.5, 2.0, 64.0]),
                  st.sampled_from([1, 2, 4]), st.sampled_from([None, 1.0, 8.0]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LAYER, _CHIP, st.sampled_from(SETS), st.integers(0, 2**31))
def test_homed_kernel_is_explain_rehomed_and_the_walk(layer, chip, resident, seed):
    _compare(layer, chip, resident, seed, walk=True)


@pytest.mark.slow
@settings(max_examples=240, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LAYER, _CHIP, st.sampled_from(SETS), st.integers(0, 2**31))
def test_homed_kernel_is_explain_rehomed_on_many_cases(layer, chip, resident, seed):
    """240 examples x 8 mappings: 1,920 cases, over 1,000 of them valid (the valid ones are compared)."""
    _compare(layer, chip, resident, seed, walk=False)


def test_the_comparison_sees_valid_mappings_and_moved_traffic():
    """The property tests compare something: on a fixed case most mappings are valid, and homing a tensor moves
    energy off DRAM."""
    chip = _chip(4096, 2.0, 1, None)
    layer = Layer(R=3, S=3, P=6, Q=6, C=4, K=4)
    assert _compare(layer, chip, (1, 2), 11, walk=True) >= 4
    dram_backed, homed = _views(chip, (1, 2))
    m = random_mappings(layer, dram_backed, 1, rng=5)
    a, h = explain(layer, dram_backed, m), explain(layer, homed, m)
    assert h.level_energy_pj[0] < a.level_energy_pj[0] and h.level_energy_pj[1] > a.level_energy_pj[1]


def test_every_tensor_homed_in_dram_is_the_default():
    chip = _chip(4096, 2.0, 1, None)
    assert chip.tensor_homes == (0, 0, 0) and chip.homed_on_chip == ()
    layer = Layer(R=3, S=3, P=6, Q=6, C=4, K=4)
    m = random_mappings(layer, chip, 16, rng=2)
    a, b = evaluate_batch(layer, chip, m), evaluate_batch(layer, replace(chip, tensor_homes=[0, 0, 0]), m)
    assert np.array_equal(a.energy_pj, b.energy_pj) and np.array_equal(a.cycles, b.cycles)


@pytest.mark.parametrize("homes, message", [
    ((1, 0), "tensor_homes must be 3 level indices"),
    ((0, 0, 2), r"each in \[0, 1\]"),          # the RF sits under the 4 x 4 fan-out: 16 instances
    ((0, -1, 0), "tensor_homes must be 3 level indices"),
    ((0, 1.0, 0), "tensor_homes must be 3 level indices"),
    ((1, 0, 0), "Weights lives whole in level 1 .GLB., which must then not keep a tile of it too"),
])
def test_bad_homes_name_the_field(homes, message):
    chip = _chip(4096, 2.0, 1, None)
    with pytest.raises(ValueError, match=message):
        replace(chip, tensor_homes=homes)
