"""The compiled totals of a resident plan with no view searched (`Resident.totals`, `resident_screen.screen_totals`)
equal the Python planner's (`Resident.plan(..., search_views=False)`): the same cycles, energy to 1e-12, whichever
activations and weights fit, on chains, residual shortcuts and concatenations, for every objective."""
from dataclasses import replace

import pytest

from accel_models import get_preset
from cosearch.fusion.modes import get_fusion_mode
from cosearch.fusion.modes.resident_screen import screen_totals
from nets import Layer, Network
from nets.spaces import to_network
from nets.spaces.evolution import sample_configs

from _fusion_tiny import tiny_accelerator
from test_pricing import _odd_prices


def _residual() -> Network:
    """stem -> expand -> depthwise -> project (+ the stem's output, a shortcut) -> 1x1."""
    layers = [Layer.conv(3, 8, 3, 12, name="stem"), Layer.conv(8, 16, 1, 12, name="expand"),
              Layer.conv(16, 16, 3, 12, groups=16, name="dw"), Layer.conv(16, 8, 1, 12, name="project"),
              Layer.conv(8, 8, 1, 12, name="last")]
    return Network("residual", layers, skips=((0, 3),))


def _concatenation() -> Network:
    """Two branches read the stem's output; a 1x1 reads their outputs concatenated, and the stem's output is also
    added to a later layer (a tensor that is read whole and as a shortcut)."""
    layers = [Layer.conv(4, 8, 3, 10, name="stem"), Layer.conv(8, 8, 1, 10, name="left"),
              Layer.conv(8, 8, 3, 10, name="right"), Layer.conv(16, 8, 1, 10, name="join"),
              Layer.conv(8, 8, 1, 10, name="after")]
    return Network("concatenation", layers, skips=((0, 4),), sources=((-1,), (0,), (0,), (1, 2), (3,)))


def _weighty() -> Network:
    """Four convolutions whose weights outweigh their activations."""
    return Network("weighty", [Layer.conv(16, 32, 3, 4, name="a"), Layer.conv(32, 32, 3, 4, name="b"),
                               Layer.conv(32, 64, 1, 4, name="c"), Layer.conv(64, 16, 1, 4, name="d")])


ACCELERATORS = {"tiny_600": lambda: tiny_accelerator(600), "tiny_2048": lambda: tiny_accelerator(2048),
                "tiny_8192": lambda: tiny_accelerator(8192), "odd_1024": lambda: _odd_prices(1024),
                "tiny_6000": lambda: tiny_accelerator(6000), "split_glb": lambda: _split_glb(3000)}


def _split_glb(words_per_tensor: int):
    """The tiny accelerator with its GLB split per tensor: no home level, the plan is the layer-wise one."""
    acc = tiny_accelerator(3 * words_per_tensor)
    glb = replace(acc.levels[1], tensor_capacity_words=(words_per_tensor,) * 3)
    return replace(acc, levels=(acc.levels[0], glb, *acc.levels[2:]), name="split_glb")


def _agree(net, acc, cache, objective):
    plan = get_fusion_mode("resident").plan(net, acc, cache, objective, False, count_dram=False)
    cycles, energy = screen_totals(net, acc, cache, objective)
    assert cycles == plan.cycles, (net.name, acc.name, objective)
    assert energy == pytest.approx(plan.energy_pj, rel=1e-12), (net.name, acc.name, objective)
    return plan


@pytest.mark.parametrize("objective", ["edp", "latency", "energy"])
@pytest.mark.parametrize("name", sorted(ACCELERATORS))
def test_compiled_totals_are_the_planners(cache, name, objective):
    acc = ACCELERATORS[name]()
    for make in (_residual, _concatenation, _weighty):
        _agree(make(), acc, cache, objective)


def test_the_cases_cover_what_the_greedy_decides(cache):
    """Across the cases above some plans keep activations on chip, some cache only part of the weights (a note
    says how many stream), some keep nothing: the agreement is not only that of plans with nothing on chip."""
    on_chip = partial = nothing = 0
    for name in sorted(ACCELERATORS):
        for make in (_residual, _concatenation, _weighty):
            plan = _agree(make(), ACCELERATORS[name](), cache, "edp")
            on_chip += bool(plan.activations)
            partial += 0 < plan.pinned_weight_words and bool(plan.notes)
            nothing += not plan.activations and not plan.pinned_weight_words
    assert on_chip and partial and nothing


def test_one_shape_table_serves_every_cache_on_an_accelerator(cache):
    """The caches mapping on one accelerator share its shape table (`resident_screen._TABLES`): a row priced from one
    cache's result serves another only where that is the same result object, else the shape is priced again. So the
    totals through the shared table equal those through a table of the asking cache alone (the memo emptied first),
    a cache's screened view and the cache itself price each shape once, and a cache with its own results prices
    every shape again."""
    from cosearch.fusion.memo import accelerator_memo_key
    from cosearch.fusion.modes import resident_screen
    from mappings import MappingCache
    acc = tiny_accelerator(6000)
    other = MappingCache(replace(cache.settings, budget_evals=40, seed=7))
    tables = resident_screen._TABLES
    tables.clear()
    sizes = []
    for asking in (cache.screened, cache, other):
        for make in (_residual, _concatenation, _weighty):
            net = make()
            shared = screen_totals(net, acc, asking, "edp")
            kept = dict(tables)
            tables.clear()
            alone = screen_totals(net, acc, asking, "edp")
            tables.clear()
            tables.update(kept)
            assert shared == alone, (net.name, type(asking).__name__)
        sizes.append(tables[(accelerator_memo_key(acc), "edp")].size)
    assert sizes[1] == sizes[0] < sizes[2]


@pytest.mark.slow
def test_compiled_totals_on_searched_subnets():
    """ofa-mbv3 subnets on accelerators of the co-search's kind, with the mapper's residual-factor mappings, and the
    small networks on Eyeriss (whose global buffer keeps no weights: no weights step)."""
    from cosearch.search.trial import search_cache
    from cosearch.config.builder import make_settings
    settings = make_settings(workers=1)
    for glb_words in (40_000, 150_000):
        acc = get_preset("nvdla_256")
        acc = replace(acc, levels=(acc.levels[0], replace(acc.levels[1], capacity_words=glb_words),
                                   *acc.levels[2:]), name=f"nvdla_{glb_words}")
        cache = search_cache(settings)
        for config in sample_configs("ofa-mbv3", 4, rng=glb_words):
            _agree(to_network(config), acc, cache.screened, "edp")
    for make in (_residual, _concatenation, _weighty):
        for objective in ("edp", "latency"):
            _agree(make(), get_preset("eyeriss"), cache, objective)


@pytest.mark.slow
def test_the_compile_steps_compile_what_a_plan_calls(cache):
    """The warm-up's steps (`compile_steps`) compile the planner for the very types `screen_totals` passes: after
    both, each compiled function holds one signature (a type that differed would compile a second)."""
    from cosearch.fusion.modes import resident_screen
    from cosearch.fusion import screen_prices
    for step in resident_screen.compile_steps():
        step.run()
    screen_totals(_residual(), tiny_accelerator(2048), cache, "edp")
    screen_totals(_weighty(), _split_glb(3000), cache, "edp")
    get_fusion_mode("resident").plan(_weighty(), tiny_accelerator(6000), cache, "edp")     # the weights step
    assert len(resident_screen._greedy.signatures) == 1
    assert len(screen_prices._price_shapes.signatures) == 1
    assert len(resident_screen.weight_gain.signatures) == 1
