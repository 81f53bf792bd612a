"""The resident planner's pricing (`Residency.priced`: the compiled kernel on a view whose `tensor_homes` name the
resident tensors' home) equals its reference, `explain_rehomed`: the same cycles, DRAM words and home tile words,
energy to 1e-12 (the kernel sums a level's energies in another order), on random mappings (bypasses included) of
convolutions, depthwise, strided and FC layers, on views of every resident tensor set, and on the mapper's
residual-factor mappings."""
import itertools
from dataclasses import replace

import numpy as np
import pytest

from accel_models import explain, explain_rehomed, get_preset
from accel_models import reference
from accel_models.geometry import accelerator_arrays
from accel_models.mapping_arrays import MappingArrays
from cosearch.fusion.pricing import dram_words, stream_cycles
from cosearch.fusion.view import Residency
from mappings import MapperSettings, random_mappings
from nets import Layer

from _fusion_tiny import tiny_accelerator

LAYERS = [Layer.conv(8, 16, 3, 6, name="c3"), Layer.conv(16, 8, 1, 7, name="c1"),
          Layer.conv(16, 16, 3, 6, groups=16, name="dw"), Layer.conv(8, 8, 3, 8, stride=2, name="s2"),
          Layer.fc(64, 24, name="fc")]
SETS = [r for n in range(1, 4) for r in itertools.combinations(range(3), n)]


def _reference(layer, acc, view, arrays, home, resident):
    ev = explain_rehomed(layer, acc, view, arrays, home, resident)
    if not ev.valid:
        return None
    return (int(ev.cycles), float(ev.energy_pj), float(ev.reads[0].sum() + ev.updates[0].sum()),
            int(sum(max(0, t) for t in ev.tile_words[home])))


def _same_price(got, want) -> bool:
    """(cycles, energy, DRAM words, home tile words) equal, the energy to 1e-12."""
    if got is None or want is None:
        return got is None and want is None
    return (got[0], got[2], got[3]) == (want[0], want[2], want[3]) and got[1] == pytest.approx(want[1], rel=1e-12)


def _with_random_bypass(arrays: MappingArrays, rng) -> MappingArrays:
    keep = arrays.keep.copy()
    keep[:, 1:] = rng.integers(0, 2, size=keep[:, 1:].shape)
    return arrays._replace(keep=keep)


def _odd_prices(glb_words: int):
    """The tiny accelerator with blocks of several words, bandwidth limits at every level, leakage and clusters."""
    acc = tiny_accelerator(glb_words)
    dram, glb, *rest = acc.levels
    dram = replace(dram, block_size_words=4, read_bandwidth=1.5, write_bandwidth=1.0)
    glb = replace(glb, block_size_words=2, read_bandwidth=3.0, write_bandwidth=2.0, shared_bandwidth=4.0,
                  leak_energy_pj=0.013)
    rest = [replace(lv, leak_energy_pj=0.002, cluster_size=2) for lv in rest]
    return replace(acc, levels=(dram, glb, *rest), name=f"odd_{glb_words}")


ACCELERATORS = {"tiny_96": lambda: tiny_accelerator(96), "tiny_65536": lambda: tiny_accelerator(65536),
                "odd_1024": lambda: _odd_prices(1024), "odd_300": lambda: _odd_prices(300),
                "eyeriss": lambda: get_preset("eyeriss"), "edge_tpu_like": lambda: get_preset("edge_tpu_like")}


@pytest.mark.parametrize("name", sorted(ACCELERATORS))
def test_pricing_is_explain_rehomed_on_random_mappings(name):
    acc, rng = ACCELERATORS[name](), np.random.default_rng(len(name))
    compared = valid = 0
    for layer, resident in itertools.product(LAYERS, SETS):
        residency = Residency(1, resident, acc.levels[1].capacity_words)
        view = residency.view(acc)
        batch = _with_random_bypass(random_mappings(layer, view, 12, rng), rng)
        for b in range(batch.batch_size):
            arrays = batch.row(b)
            got = residency.priced(layer, acc, arrays)
            assert _same_price(got, _reference(layer, acc, view, arrays, 1, resident))
            compared += 1
            valid += got is not None
    assert valid > compared // 4        # most random mappings are valid on the tiny array: the prices are compared


def test_fast_pricing_on_residual_factor_mappings_and_a_preset():
    """The mapper's residual-factor mappings (instances under a fan-out may do unequal work: the reference's
    per-instance path) and the priced tuple `Residency.priced` returns, on nvdla_256 (whose GLB is the home)."""
    acc = get_preset("nvdla_256")
    settings = MapperSettings(budget_evals=200, factors="residual")
    layers = [Layer.conv(24, 40, 3, 13, name="odd"), Layer.conv(40, 40, 5, 11, groups=40, name="dw"),
              Layer.fc(200, 100, name="fc")]
    seen_uneven = 0
    for layer, resident in itertools.product(layers, SETS):
        residency = Residency(1, resident, acc.levels[1].capacity_words)
        view = residency.view(acc)
        found = settings.search(settings.encoding(layer, view), "edp")
        assert found.valid
        arrays = found.arrays.row(0).with_residuals()
        seen_uneven += not reference.uniform_instances(arrays, 0)
        assert _same_price(residency.priced(layer, acc, arrays), _reference(layer, acc, view, arrays, 1, resident))
    assert seen_uneven       # the per-instance path was taken at least once


def test_stream_cycles_is_the_references_r7_per_level():
    """The planner's one R7 (`pricing.stream_cycles`, which the DRAM-read charge and the compiled planner's prices
    use) gives every level's cycles of `explain`, bit for bit, from its per-instance counts, on random mappings with
    bypasses where bandwidth limits bind."""
    acc, rng = _odd_prices(1024), np.random.default_rng(3)
    keeps, bandwidth = accelerator_arrays(acc).keeps.astype(bool), accelerator_arrays(acc).bandwidth
    compared = slowed = 0
    for layer in LAYERS:
        batch = _with_random_bypass(random_mappings(layer, acc, 24, rng), rng)
        for b in range(batch.batch_size):
            arrays = batch.row(b)
            ev = explain(layer, acc, arrays)
            if not ev.valid or not reference.uniform_instances(arrays.with_residuals(), 0):
                continue
            kept = arrays.keep[0].astype(bool) & keeps
            reads = np.where(kept, ev.reads_per_instance, 0.0)
            written = np.where(kept, ev.fills_per_instance + ev.updates_per_instance, 0.0)
            got = [stream_cycles(bandwidth[l], reads[l], written[l], 0.0, int(ev.compute_cycles))
                   for l in range(len(reads))]
            assert got == ev.level_cycles.tolist()
            compared += 1
            slowed += max(got) > ev.compute_cycles
    assert compared > 20 and slowed > 5


@pytest.mark.parametrize("name", ["odd_1024", "eyeriss"])
def test_dram_words_are_explains_level_0_reads_and_updates(name):
    """A layer-wise run's DRAM words from the kernel's counts (`pricing.dram_words`) are `explain`'s, bit for bit,
    on random mappings with bypasses; None where the mapping is not valid."""
    acc, rng = ACCELERATORS[name](), np.random.default_rng(5)
    valid = 0
    for layer in LAYERS:
        batch = _with_random_bypass(random_mappings(layer, acc, 12, rng), rng)
        for b in range(batch.batch_size):
            arrays = batch.row(b).with_residuals()
            ev = explain(layer, acc, arrays)
            got = dram_words(layer, acc, arrays)
            assert got == (float(ev.reads[0].sum() + ev.updates[0].sum()) if ev.valid else None)
            valid += ev.valid
    assert valid > 10
