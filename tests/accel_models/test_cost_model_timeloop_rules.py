"""Modelling rules held by the kernel and the walk alike: storage leakage and cluster_size (the MACs' operands
under a fan-out that feeds them directly: `test_cost_model_mac_fanout.py`)."""
import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel
from accel_models.cost_model import evaluate_batch
from accel_models.reference import evaluate
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


def _kp_mapping(levels: int) -> MappingArrays:
    """P unrolled on the GLB's 4 PEs, K=8 looped at the GLB."""
    m = MappingArrays.empty(1, levels)
    m.temporal[0, 1, DIMS.index("K")] = 8
    m.spatial_x[0, 1, DIMS.index("P")] = 4
    return m


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


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_matches_walk_with_leak_clusters_and_bypassing_rfs(seed):
    """Random mappings on a GLB that feeds MACs through an RF that may bypass and may have no loop (the MACs
    then read through the RF level every step): every rule on at once."""
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
        fanned = (maps.spatial_x[b, 1] > 1).any()
        hits += ref.valid and flat[b] and fanned and not maps.keep[b, 2, :2].all()
    assert hits > 0
