"""Timeloop's modelling rules, held by the kernel and the walk alike: storage leakage, cluster_size, and the MAC
reading an operand only when it changes above a fan-out that feeds it directly."""
import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel
from accel_models.cost_model import evaluate_batch
from accel_models.reference import evaluate, loop_nest, reads_on_change, tensor_axes
from mappings import random_mappings
from nets import DIMS, Layer

W, I, O = range(3)


def _level(name, fanout_x=1, **kw):
    return StorageLevel(name, read_energy_pj=kw.pop("e", 1.0), write_energy_pj=1.5, update_energy_pj=2.0,
                        fanout_x=fanout_x, **kw)


def _same(layer, acc, arrays, b=0):
    fast = evaluate_batch(layer, acc, arrays.row(b))
    ref = evaluate(layer, acc, arrays, b)
    assert bool(fast.valid[0]) == ref.valid
    if ref.valid:
        assert int(fast.cycles[0]) == ref.cycles
        assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
        for got, want in ((fast.reads, ref.reads), (fast.fills, ref.fills), (fast.updates, ref.updates)):
            np.testing.assert_allclose(got[0], want, rtol=1e-12, atol=1e-9)
    return ref


def _glb_to_macs(leak=0.0, cluster=1, rf_keeps=None):
    """DRAM -> GLB (fan-out 4 on X) [-> RF] -> 4 MACs."""
    levels = [_level("DRAM", e=10.0), _level("GLB", fanout_x=4, capacity_words=4096, leak_energy_pj=leak,
                                             cluster_size=cluster)]
    if rf_keeps is not None:
        levels.append(_level("RF", capacity_words=64, keeps=rf_keeps, leak_energy_pj=leak / 10))
    return Accelerator("rules", tuple(levels), mac_energy_pj=0.5)


def _kp_mapping(levels: int, inner: str = "K", rf_temporal: dict | None = None) -> MappingArrays:
    """P unrolled on the GLB's 4 PEs, K=8 looped at the GLB with `inner` innermost."""
    m = MappingArrays.empty(1, levels)
    m.temporal[0, 1, DIMS.index("K")] = 8
    m.spatial_x[0, 1, DIMS.index("P")] = 4
    order = [d for d in range(8) if DIMS[d] != inner] + [DIMS.index(inner)]
    m.order[0, 1] = order
    for d, f in (rf_temporal or {}).items():
        m.temporal[0, 1, DIMS.index(d)] //= f
        m.temporal[0, 2, DIMS.index(d)] = f
    return m


def test_mac_reads_an_unchanged_operand_once():
    """GLB feeds 4 MACs directly; its innermost loop K does not index Inputs: each MAC reads its input once,
    not at each of the 8 steps (8x fewer GLB reads), while Weights (indexed by K) are read every step."""
    layer, acc = Layer(P=4, K=8), _glb_to_macs()
    m = _kp_mapping(2)
    nest = loop_nest(m)
    axes = tensor_axes(layer)
    assert reads_on_change(acc, m, 0, I, nest, axes[I]) and not reads_on_change(acc, m, 0, W, nest, axes[W])
    ref = _same(layer, acc, m)
    assert ref.reads[1, I] == 4 and ref.reads[1, W] == 8


def test_rule_needs_no_temporal_loop_below_the_fan_out():
    """With a loop (K=2) at an RF below the fan-out that bypasses Inputs, the MAC reads every step again (R4)."""
    layer, acc = Layer(P=4, K=8), _glb_to_macs(rf_keeps=("Weights", "Outputs"))
    m = _kp_mapping(3, rf_temporal={"K": 2})
    assert not reads_on_change(acc, m, 0, I, loop_nest(m), tensor_axes(layer)[I])
    ref = _same(layer, acc, m)
    assert ref.reads[1, I] == 4 * 8
    m = _kp_mapping(3)          # no loop below the fan-out: the rule holds again through the bypassing RF
    assert reads_on_change(acc, m, 0, I, loop_nest(m), tensor_axes(layer)[I])
    assert _same(layer, acc, m).reads[1, I] == 4


def test_rule_needs_an_innermost_loop_that_does_not_index_the_operand():
    layer, acc = Layer(P=8, K=4), _glb_to_macs()
    m = MappingArrays.empty(1, 2)
    m.temporal[0, 1, DIMS.index("P")] = 2
    m.temporal[0, 1, DIMS.index("K")] = 4
    m.spatial_x[0, 1, DIMS.index("P")] = 4
    m.order[0, 1] = [d for d in range(8) if DIMS[d] != "P"] + [DIMS.index("P")]   # P (indexes Inputs) innermost
    assert not reads_on_change(acc, m, 0, I, loop_nest(m), tensor_axes(layer)[I])
    assert _same(layer, acc, m).reads[1, I] == 4 * 8


def test_leakage_is_every_instance_over_the_run():
    layer = Layer(P=4, K=8)
    quiet, leaky = _glb_to_macs(), _glb_to_macs(leak=0.25, rf_keeps=("Weights", "Inputs", "Outputs"))
    m3 = _kp_mapping(3)
    ref = _same(layer, leaky, m3)
    instances = [1, 1, 4]
    want = [lv.leak_energy_pj * n * ref.cycles for lv, n in zip(leaky.levels, instances)]
    np.testing.assert_allclose(ref.level_leak_pj, want)
    assert ref.level_leak_pj[1] > 0 and ref.level_leak_pj[2] > 0
    # the per-tensor energies are the accesses' only: with the leakage they make up each level's energy
    np.testing.assert_allclose(ref.tensor_energy_pj.sum(axis=1) + ref.level_leak_pj, ref.level_energy_pj, rtol=1e-12)
    no_leak = evaluate(layer, leaky.with_levels(GLB={"leak_energy_pj": 0.0}, RF={"leak_energy_pj": 0.0}), m3)
    assert ref.energy_pj == pytest.approx(no_leak.energy_pj + sum(want), rel=1e-12)
    assert _same(layer, quiet, _kp_mapping(2)).level_leak_pj.sum() == 0


def test_cluster_charges_an_access_once_per_cluster():
    """A level of 8 instances in clusters of 4: its accesses are charged to 2 instances, not to the 8 used."""
    layer = Layer(P=8, K=4)
    levels = [_level("DRAM", fanout_x=8), _level("RF", capacity_words=64)]
    plain = Accelerator("c", tuple(levels), mac_energy_pj=0.5)
    clustered = plain.with_levels(RF={"cluster_size": 4})
    m = MappingArrays.empty(1, 2)
    m.spatial_x[0, 0, DIMS.index("P")] = 8
    m.temporal[0, 1, DIMS.index("K")] = 4
    a, b = _same(layer, plain, m), _same(layer, clustered, m)
    assert b.reads.tolist() == a.reads.tolist()
    assert b.level_energy_pj[1] == pytest.approx(a.level_energy_pj[1] * 2 / 8)
    assert b.level_energy_pj[0] == a.level_energy_pj[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_matches_walk_with_leak_clusters_and_direct_fanouts(seed):
    """Random mappings on a GLB that feeds MACs through an RF that may bypass: every rule on at once."""
    layer = Layer(R=3, P=4, C=2, K=4, name="small")
    acc = Accelerator("mixed", (
        _level("DRAM", e=10.0),
        _level("GLB", fanout_x=4, capacity_words=2048, leak_energy_pj=0.01, cluster_size=2),
        _level("RF", capacity_words=32, leak_energy_pj=0.001)), mac_energy_pj=0.5)
    maps = random_mappings(layer, acc, 300, rng=seed)
    rng = np.random.default_rng(seed)
    maps.keep[:, 1:] = rng.integers(0, 2, size=maps.keep[:, 1:].shape)      # random bypass below DRAM
    flat = rng.random(maps.batch_size) < 0.5                                   # no temporal loop at the RF
    maps.temporal[flat, 1] *= maps.temporal[flat, 2]
    maps.temporal[flat, 2] = 1
    hits = 0
    for b in range(maps.batch_size):
        ref = _same(layer, acc, maps, b)
        if ref.valid:
            nest = loop_nest(maps, b)
            hits += any(reads_on_change(acc, maps, b, t, nest, tensor_axes(layer)[t]) for t in (W, I))
    assert hits > 0
