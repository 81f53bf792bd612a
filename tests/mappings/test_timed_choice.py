"""The mapping chosen under a timing model other than Timeloop's (`MapperSettings.timing`, `mappings.timed_choice`):
the best of the search's final candidates by the objective with that model's cycles, kept apart in the caches."""
from dataclasses import dataclass, replace

import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel, evaluate_batch
from accel_models.timing import HardwareTiming, outer_steps
from mappings import (CMAESStrategy, EvolutionStrategy, ExhaustiveStrategy, MapperSettings, MappingCache,
                      RandomStrategy, best_mapping)
from mappings.fitness import fitness
from mappings.strategies import Tracker
from mappings.timed_choice import FINALISTS
from nets import Layer

POINTWISE = Layer.conv(32, 64, 1, 28, name="pw")
CONV = Layer.conv(16, 32, 3, 14, name="conv")


def _mesh() -> Accelerator:
    """An 8 x 8 array under an 8 KB buffer, DRAM 50x a buffer access: Timeloop's semantics charge nothing for a DRAM
    step, so its best mapping of POINTWISE (64 evaluations) runs 28 of them, where one of 2 is faster on a chip that
    pays ~274 cycles to issue each."""
    return Accelerator("mesh", (
        StorageLevel("DRAM", kind="DRAM", read_energy_pj=100, write_energy_pj=100, update_energy_pj=100, word_bits=8,
                     block_size_words=8),
        StorageLevel("GLB", capacity_words=8192, read_energy_pj=2, write_energy_pj=2, update_energy_pj=2, word_bits=8,
                     fanout_x=8, fanout_y=8),
        StorageLevel("RF", capacity_words=16, read_energy_pj=0.1, write_energy_pj=0.1, update_energy_pj=0.1,
                     word_bits=8)), 1.0)


def _edp_under(timing, layer, acc, arrays) -> float:
    res = evaluate_batch(layer, acc, arrays, timing=timing)
    assert res.valid[0]
    return float(res.energy_pj[0]) * float(res.cycles[0])


def test_under_timeloops_semantics_the_search_is_as_it_was():
    """The default and an explicit "timeloop" return the strategy's own search, bit for bit, and record no timing;
    the finalists' search returns that same result, its best first and every finalist valid and distinct."""
    acc = _mesh()
    plain = MapperSettings(budget_evals=64)
    named = MapperSettings(budget_evals=64, timing="timeloop")
    assert plain == named and "timing" not in named.to_dict()
    a = plain.search(plain.encoding(POINTWISE, acc))
    b = named.search(named.encoding(POINTWISE, acc))
    direct = EvolutionStrategy().search(plain.encoding(POINTWISE, acc), "edp", 64, None, 0, np.zeros((0, a.genes.size)))
    for r in (b, direct):
        assert (r.cycles, r.energy_pj) == (a.cycles, a.energy_pj)
        assert all(np.array_equal(x, y) for x, y in zip(r.arrays, a.arrays))
    result, finalists = EvolutionStrategy().search_finalists(plain.encoding(POINTWISE, acc), "edp", 64, None, 0,
                                                             np.zeros((0, a.genes.size)), 64)
    assert (result.cycles, result.energy_pj) == (a.cycles, a.energy_pj) and np.array_equal(result.genes, a.genes)
    assert 2 <= finalists.batch_size <= 64
    assert all(np.array_equal(f[0], x[0]) for f, x in zip(finalists, a.arrays.with_residuals()))
    counts = evaluate_batch(POINTWISE, acc, finalists)
    assert counts.valid.all()
    flat = np.concatenate([f.reshape(finalists.batch_size, -1) for f in finalists], axis=1)
    assert len(np.unique(flat, axis=0)) == finalists.batch_size


@pytest.mark.parametrize("layer, budget", [(POINTWISE, 64), (POINTWISE, 256), (CONV, 64)])
def test_the_hardware_choice_is_never_slower_by_the_objective_than_timeloops_retimed(layer, budget):
    """Same search, same seed: the mapping chosen under the hardware model has an EDP under that model at most the
    Timeloop-chosen mapping's re-timed (strictly lower on the pointwise layer at 64 evaluations, where Timeloop's best
    runs 28 DRAM steps and the chosen one 2); its result keeps the cost model's own cycles and energy."""
    acc = _mesh()
    timeloop = best_mapping(layer, acc, budget_evals=budget)
    hardware = best_mapping(layer, acc, budget_evals=budget, timing="hardware")
    model = HardwareTiming()
    chosen, retimed = (_edp_under(model, layer, acc, r.arrays) for r in (hardware, timeloop))
    assert chosen <= retimed
    counts = evaluate_batch(layer, acc, hardware.arrays)
    assert (hardware.cycles, hardware.energy_pj) == (int(counts.cycles[0]), float(counts.energy_pj[0]))
    if (layer, budget) == (POINTWISE, 64):
        assert chosen < 0.9 * retimed
        assert outer_steps(hardware.arrays.with_residuals())[0] < outer_steps(timeloop.arrays.with_residuals())[0]
        assert hardware.genes is None        # the cache encodes the chosen mapping for its warm starts


def test_a_cache_keeps_the_mappings_chosen_under_each_timing_apart():
    """`MappingCache.for_timing`: one sibling per timing model, made once and found again from either side, whose
    results are chosen under its model; the timeloop cache's table is untouched by the hardware lookups, and a model
    of other constants is a third cache, recorded by its repr."""
    acc = _mesh()
    cache = MappingCache(MapperSettings(budget_evals=64))
    assert cache.for_timing("timeloop") is cache
    first = cache.result(POINTWISE, acc)
    timed = cache.for_timing("hardware")
    assert timed is not cache and timed.for_timing("hardware") is timed and cache.for_timing("hardware") is timed
    assert timed.for_timing("timeloop") is cache
    assert timed.settings == replace(cache.settings, timing="hardware") and timed.settings.to_dict()["timing"] == \
        "hardware"
    chosen = timed.result(POINTWISE, acc)
    assert not np.array_equal(chosen.arrays.temporal, first.arrays.temporal)
    assert chosen.arrays is not None and (POINTWISE, acc, "edp") in timed
    assert len(cache) == 1 and cache.result(POINTWISE, acc) is first and cache.hits == 1
    assert timed.result(POINTWISE, acc) is chosen
    own = HardwareTiming(step_overhead_cycles=1000)
    other = cache.for_timing(own)
    assert other is not timed and other.settings.timing == own and other.settings.to_dict()["timing"] == repr(own)


def test_a_bad_timing_is_named():
    with pytest.raises(ValueError, match="best_mapping.timing"):
        MapperSettings(timing="rtl")
    with pytest.raises(ValueError, match="MappingCache.for_timing: timing"):
        MappingCache().for_timing(3)


@dataclass(frozen=True)
class _Reversed:
    """A stand-in timing model that ranks mappings by EDP the other way round: its cycles are
    1e30 / (cycles x energy^2), so its EDP is 1e30 / the cost model's."""

    name: str = "reversed"

    def cycles(self, layer, accelerator, mappings, result, on_chip=()):
        return np.where(result.valid, 1e30 / (np.maximum(result.cycles, 1) * result.energy_pj ** 2), result.cycles)


class _Recording(Tracker):
    """A tracker that keeps every batch it scores, to rank them apart from it."""

    def __init__(self, *args):
        super().__init__(*args)
        self.batches = []

    def score(self, arrays):
        self.batches.append(arrays.copy())
        return super().score(arrays)


ONE_BUFFER = Accelerator("one_buffer", (
    StorageLevel("DRAM", read_energy_pj=100.0, write_energy_pj=100.0, update_energy_pj=100.0),
    StorageLevel("Buf", capacity_words=24, read_energy_pj=1.0, write_energy_pj=1.0, update_energy_pj=1.0)), 1.0)
SMALL = Layer(R=3, S=3, P=4, Q=2, name="small")          # 9,858 mappings through ONE_BUFFER with residual tiles
TRACKED = [(CMAESStrategy(), POINTWISE, _mesh, "perfect", 256),
           (RandomStrategy(batch_size=100), POINTWISE, _mesh, "perfect", 256),
           (ExhaustiveStrategy(), SMALL, lambda: ONE_BUFFER, "residual", None)]
"""(strategy, layer, accelerator maker, factors, evaluation budget): each scores more than FINALISTS mappings."""


def _rows(arrays: MappingArrays) -> list[bytes]:
    full = arrays.with_residuals()
    return [b"".join(a[b].tobytes() for a in full) for b in range(arrays.batch_size)]


def _same_result(a, b) -> bool:
    return ((a.cycles, a.energy_pj, a.evaluations, a.valid_evaluations) == (b.cycles, b.energy_pj, b.evaluations,
                                                                              b.valid_evaluations)
            and _rows(a.arrays) == _rows(b.arrays) and [h[::2] for h in a.history] == [h[::2] for h in b.history])


@pytest.mark.parametrize("strategy, layer, acc, factors, budget", TRACKED, ids=lambda s: getattr(s, "name", None))
def test_a_python_strategy_offers_the_best_distinct_mappings_it_scored(strategy, layer, acc, factors, budget):
    """A strategy driven from Python (`TrackedStrategy`): its finalists are exactly the best FINALISTS distinct valid
    mappings of all it scored (fitness, then the order scored), the best first; keeping them changes no step of the
    search: under Timeloop's semantics the mapper's result is the strategy's search as before, bit for bit."""
    settings = MapperSettings(strategy, budget_evals=budget, factors=factors)
    enc = settings.encoding(layer, acc())
    seeds = np.zeros((0, enc.size))
    tracker = _Recording(layer, enc.accelerator, "edp", budget, None, FINALISTS)
    strategy.explore(enc, tracker, 0, seeds)
    everything = MappingArrays.concatenate(tracker.batches)
    counts = evaluate_batch(layer, enc.accelerator, everything)
    f = fitness(counts, "edp")
    expected, seen = [], set()
    for b in np.argsort(f, kind="stable"):
        key = _rows(everything.row(int(b)))[0]
        if counts.valid[b] and key not in seen and len(expected) < FINALISTS:
            seen.add(key)
            expected.append(key)
    finalists = tracker.finalists()
    assert 2 <= finalists.batch_size <= FINALISTS and _rows(finalists) == expected
    assert everything.batch_size > FINALISTS          # the search scored more than it kept
    result, offered = strategy.search_finalists(enc, "edp", budget, None, 0, seeds, FINALISTS)
    plain = strategy.search(enc, "edp", budget, None, 0, seeds)
    mapped = settings.search(enc, "edp")
    assert _same_result(result, plain) and _same_result(mapped, plain)
    assert _rows(offered) == expected and _rows(offered)[0] == _rows(plain.arrays)[0]


@pytest.mark.parametrize("strategy, layer, acc, factors, budget", TRACKED, ids=lambda s: getattr(s, "name", None))
def test_a_timing_that_reverses_the_ranking_chooses_the_finalists_best_under_it(strategy, layer, acc, factors,
                                                                                 budget):
    """Under a stand-in timing that ranks EDP the other way round, a Python strategy's mapping is not its search's
    best but one of its finalists with the best EDP under the stand-in (the most by the cost model's), and its
    result keeps that mapping's own counts."""
    acc = acc()
    timeloop = best_mapping(layer, acc, "edp", strategy, budget, factors=factors)
    reversed_ = best_mapping(layer, acc, "edp", strategy, budget, factors=factors, timing=_Reversed())
    settings = MapperSettings(strategy, budget_evals=budget, factors=factors)
    enc = settings.encoding(layer, acc)
    _, finalists = strategy.search_finalists(enc, "edp", budget, None, 0, np.zeros((0, enc.size)), FINALISTS)
    stand_in = evaluate_batch(layer, acc, finalists, timing=_Reversed())
    edp = stand_in.energy_pj * stand_in.cycles
    chosen = _rows(finalists).index(_rows(reversed_.arrays)[0])
    assert edp[chosen] == pytest.approx(edp.min(), rel=1e-9) and edp.min() < edp[0]
    assert chosen != 0 and reversed_.edp_pj_cycles > timeloop.edp_pj_cycles
    counts = evaluate_batch(layer, acc, reversed_.arrays)
    assert (reversed_.cycles, reversed_.energy_pj) == (int(counts.cycles[0]), float(counts.energy_pj[0]))
