"""A layer's prices in every resident set from one kernel call (`screen_prices.context_prices`) equal the planner's
own pricing of each context (`Residency.priced`: the kernel on the view, one call per set): the moved mapping's and
the one with no tile in the home level, cycles and tile words exact, energy to 1e-12 (the sums run in another
order), on random mappings with bypasses on accelerators with blocks, bandwidth limits, leakage and clusters, and on
the mapper's residual-factor mappings (instances that do unequal work)."""
import numpy as np
import pytest

from accel_models import get_preset, reference
from cosearch.fusion.screen_prices import PriceRows, context_prices, price_shapes
from cosearch.fusion.view import Residency
from mappings import MapperSettings, random_mappings
from nets import Layer

from test_pricing import ACCELERATORS, LAYERS, _with_random_bypass

W, I, O = 0, 1, 2


def _agrees(prices, layer, acc, arrays) -> tuple[int, int]:
    """Assert every resident set's two prices against `Residency.priced`; (contexts compared, valid ones)."""
    compared = valid = 0
    for mask in range(8):
        resident = tuple(t for t in range(3) if mask >> t & 1)
        residency = Residency(1, resident, acc.levels[1].capacity_words)
        moved = residency.transplanted(arrays)
        for m, mapping in enumerate((moved, residency.bypassed(moved))):
            want = residency.priced(layer, acc, mapping)
            compared += 1
            if want is None:
                assert not prices.valid[m]
                continue
            valid += 1
            assert prices.valid[m]
            assert prices.cycles[m, mask] == want[0]
            assert prices.energy_pj[m, mask] == pytest.approx(want[1], rel=1e-12)
            assert float(prices.dram_read_words[m, mask].sum() + prices.dram_written_words[m, mask].sum()) == want[2]
            if m == 0:
                assert prices.tile_words[mask] == want[3]
    return compared, valid


@pytest.mark.parametrize("name", sorted(ACCELERATORS))
def test_context_prices_are_the_planners_on_random_mappings(name):
    acc, rng = ACCELERATORS[name](), np.random.default_rng(len(name) + 1)
    compared = valid = 0
    for layer in LAYERS:
        batch = _with_random_bypass(random_mappings(layer, acc, 10, rng), rng)
        for b in range(batch.batch_size):
            arrays = batch.row(b)
            prices = context_prices(layer, acc, arrays, 1)
            if prices is None:      # the mapping is not valid on the chip: no context of it is either
                assert Residency(1, (), acc.levels[1].capacity_words).priced(layer, acc, arrays) is None
                continue
            c, v = _agrees(prices, layer, acc, arrays)
            compared += c
            valid += v
    assert valid > compared // 4


def test_context_prices_on_residual_factor_mappings():
    acc = get_preset("nvdla_256")
    settings = MapperSettings(budget_evals=200, factors="residual")
    uneven = 0
    for layer in (Layer.conv(24, 40, 3, 13, name="odd"), Layer.conv(40, 40, 5, 11, groups=40, name="dw"),
                  Layer.fc(200, 100, name="fc")):
        found = settings.search(settings.encoding(layer, acc), "edp")
        arrays = found.arrays.row(0).with_residuals()
        uneven += not reference.uniform_instances(arrays, 0)
        _agrees(context_prices(layer, acc, arrays, 1), layer, acc, arrays)
    assert uneven


def test_one_call_prices_many_shapes_into_their_rows():
    """`price_shapes` over several layers in one call (rows out of order, an invalid mapping among them) fills each
    row as a call on that layer alone does, and marks the invalid one's row not valid."""
    acc, rng = ACCELERATORS[sorted(ACCELERATORS)[0]](), np.random.default_rng(11)
    layers, mappings, alone = [], [], []
    for layer in LAYERS:
        batch = random_mappings(layer, acc, 20, rng)
        for b in range(batch.batch_size):
            prices = context_prices(layer, acc, batch.row(b), 1)
            if (prices is None) == (sum(p is None for p in alone) == 0):   # one invalid mapping, valid ones
                layers.append(layer)
                mappings.append(batch.row(b))
                alone.append(prices)
                break
    assert any(p is None for p in alone) and sum(p is not None for p in alone) >= 3
    slots = np.arange(len(layers))[::-1] + 2
    rows = PriceRows.empty(len(layers) + 2)
    price_shapes(layers, acc, mappings, 1, slots, rows)
    assert not rows.valid[:2].any()                     # rows no slot names are left as they were
    for slot, prices in zip(slots, alone):
        if prices is None:
            assert not rows.valid[slot, 0]
            continue
        assert (rows.valid[slot] == prices.valid).all() and (rows.cycles[slot] == prices.cycles).all()
        assert np.array_equal(rows.energy[slot], prices.energy_pj, equal_nan=True)
        assert (rows.tiles[slot] == prices.tile_words).all() and rows.compute[slot] == prices.compute_cycles
        assert (rows.read[slot] == prices.dram_read_words).all()
        assert (rows.written[slot] == prices.dram_written_words).all()


def test_one_call_prices_residual_and_perfect_shapes_as_each_alone():
    """`price_shapes` evaluates a call's shapes one after the other on one workspace: the mapper's residual-factor
    mappings (instances doing unequal work: the kernel's memos, hash tables and instance classes) between
    perfect-factor ones, on a 32 x 32 array, fill each row exactly as a call on that shape alone does."""
    acc = get_preset("nvdla_1024")
    layers, mappings, uneven = [], [], 0
    for layer in (Layer.conv(24, 40, 3, 13, name="odd"), Layer.conv(16, 32, 1, 8, name="even"),
                  Layer.conv(40, 40, 5, 11, groups=40, name="dw"), Layer.fc(200, 100, name="fc")):
        for factors in ("residual", "perfect"):
            settings = MapperSettings(budget_evals=100, factors=factors)
            arrays = settings.search(settings.encoding(layer, acc), "edp").arrays.row(0).with_residuals()
            uneven += not reference.uniform_instances(arrays, 0)
            layers.append(layer)
            mappings.append(arrays)
    assert uneven
    rows = PriceRows.empty(len(layers))
    price_shapes(layers, acc, mappings, 1, np.arange(len(layers)), rows)
    for slot, (layer, arrays) in enumerate(zip(layers, mappings)):
        alone = PriceRows.empty(1)
        price_shapes([layer], acc, [arrays], 1, np.zeros(1, dtype=np.int64), alone)
        for together, by_itself in zip(rows, alone):
            assert np.array_equal(together[slot], by_itself[0], equal_nan=True), layer.name
