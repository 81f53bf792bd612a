"""The layer-cost table: one search per (accelerator, shape, objective), hit rate, tables kept per accelerator,
warm starts."""
from dataclasses import replace

import numpy as np
import pytest

from accel_models.cost_model import evaluate_batch
from mappings import Encoding, MapperSettings, MappingCache, accelerator_key
from nets import Layer

SETTINGS = MapperSettings(budget_evals=300, seed=0)


def test_repeated_shapes_are_searched_once(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    shapes = [Layer.conv(16, 16, 3, 8), Layer.conv(16, 32, 1, 8), Layer.fc(64, 10)]
    net = [s.with_name(f"layer{i}") for i, s in enumerate(shapes * 3 + shapes[:1])]   # 10 layers, 3 shapes
    cache = MappingCache(SETTINGS)
    results = [cache.best_mapping(layer, acc) for layer in net]
    assert (cache.misses, cache.hits, len(cache)) == (3, 7, 3)
    assert cache.hit_rate == pytest.approx(0.7) and "70.0%" in cache.stats()
    assert [r.layer.name for r in results] == [l.name for l in net]
    assert results[3].arrays is results[0].arrays                    # the same search, renamed
    cache.best_mapping(net[0], acc, "latency")                        # another objective: a new entry
    assert cache.misses == 4 and (net[0], acc, "latency") in cache


def test_accelerator_key_ignores_names_not_content(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    assert accelerator_key(replace(acc, name="renamed")) == accelerator_key(acc)
    bigger = acc.with_levels(GLB={"capacity_words": acc.levels[1].capacity_words * 2})
    assert accelerator_key(bigger) != accelerator_key(acc)


def test_tables_of_the_least_recent_accelerators_go(corpus_archs):
    accs = [corpus_archs[k].accelerator for k in ("B2x2a", "B2x2b", "B4x4a")]
    layer = Layer.conv(8, 16, 3, 6)
    cache = MappingCache(SETTINGS, accelerators=2)
    for acc in accs:
        cache.best_mapping(layer, acc)
    assert cache.misses == 3 and (layer, accs[2], "edp") in cache and (layer, accs[0], "edp") not in cache
    cache.best_mapping(layer, accs[0])
    assert cache.misses == 4


def test_warm_starts_carry_mappings_to_other_accelerators_and_shapes():
    from accel_models import get_preset
    from mappings import Encoding

    a, b = get_preset("nvdla_256"), get_preset("nvdla_1024")
    layer = Layer.conv(64, 128, 3, 14, name="conv")
    cache = MappingCache(SETTINGS)
    found = cache.best_mapping(layer, a)
    seeds = cache.warm.seeds(Encoding(layer, b))          # the same shape, another accelerator
    assert seeds.shape == (1, Encoding(layer, b).size)
    assert evaluate_batch(layer, b, Encoding(layer, b).decode(seeds)).valid.all()
    bigger = Layer.conv(64, 128, 3, 16)                    # a neighbouring shape on the same accelerator
    near = cache.warm.seeds(Encoding(bigger, a))
    assert near.shape[0] == 1 and np.allclose(near[0], found.genes)
    assert cache.warm.seeds(Encoding(Layer.fc(64, 10), a)).shape[0] == 0   # nothing known about it


def test_warm_starts_add_the_c_k_mirror_of_the_latest_mapping():
    """The most recent mapping of a shape seeds a search with its mirror too: C's and K's factors and loop places
    exchanged, exact where the bounds allow it (pointwise 64 x 64 here), its keeps those the decoder's reuse rule
    gives it."""
    from accel_models import Accelerator, StorageLevel
    from nets import DIMS

    def mesh(rf_words):
        return Accelerator(f"mesh{rf_words}", (StorageLevel("DRAM"), StorageLevel("GLB", capacity_words=8192,
                           fanout_x=16, fanout_y=16), StorageLevel("RF", capacity_words=rf_words)), 1.0)
    layer = Layer(P=14, Q=14, C=64, K=64, name="pw")
    cache = MappingCache(SETTINGS)
    cache.best_mapping(layer, mesh(32))
    enc = Encoding(layer, mesh(32))             # an accelerator of the same content: a mapping that fits as it is
    seeds = cache.warm.seeds(enc)
    decoded = enc.decode(seeds)
    assert seeds.shape == (2, enc.size) and evaluate_batch(layer, enc.accelerator, decoded).valid.all()
    C, K = DIMS.index("C"), DIMS.index("K")
    for name in ("temporal", "spatial_x", "spatial_y", "order"):
        f = getattr(decoded, name)
        g = f[0].copy()
        if name == "order":
            g[f[0] == C], g[f[0] == K] = K, C
        else:
            g[:, [C, K]] = g[:, [K, C]]
        rows = slice(1, None) if name == "temporal" else slice(None)   # the outermost level takes the rest
        assert np.array_equal(f[1][rows], g[rows]), name


def test_warm_starts_of_an_accelerator_are_its_contents_not_the_object_searched_on():
    """A neighbouring shape's genes seed a search on any accelerator object of the same content (another object
    built with the same arguments, or renamed), so the same chip gives the same searches whichever object names it;
    an accelerator of other content gets none, and forgetting one object's content forgets it for its equals."""
    from accel_models import get_preset

    a = get_preset("nvdla_256")
    layer, bigger = Layer.conv(64, 128, 3, 14), Layer.conv(64, 128, 3, 16)
    cache = MappingCache(SETTINGS)
    cache.best_mapping(layer, a)
    same = [replace(a, name="twin"), get_preset("nvdla_256")]
    near = cache.warm.seeds(Encoding(bigger, a))
    assert near.shape[0] == 1
    for twin in same:
        assert twin is not a and np.array_equal(cache.warm.seeds(Encoding(bigger, twin)), near)
    other = get_preset("nvdla_1024")
    assert cache.warm.seeds(Encoding(bigger, other)).shape[0] == 0
    cache.warm.forget(same[0])
    assert cache.warm.seeds(Encoding(bigger, a)).shape[0] == 0

def test_without_warm_starts_a_result_does_not_depend_on_what_was_searched_before(corpus_archs):
    """A cache without warm starts maps a shape on an accelerator as a fresh cache does, after searching the same
    shape on other accelerators and its neighbouring shapes on this one."""
    accs = [corpus_archs[k].accelerator for k in ("B2x2a", "B2x2b", "B4x4a")]
    layer = Layer.conv(16, 32, 3, 8)
    cold = MappingCache(SETTINGS, warm_starts=False)
    for acc in accs[:2]:
        cold.best_mapping(layer, acc)
    cold.best_mapping(Layer.conv(16, 32, 3, 6), accs[2])
    fresh = MappingCache(SETTINGS, warm_starts=False).best_mapping(layer, accs[2])
    after = cold.best_mapping(layer, accs[2])
    assert all(np.array_equal(a, b) for a, b in zip(after.arrays, fresh.arrays))
    assert (after.cycles, after.energy_pj) == (fresh.cycles, fresh.energy_pj)

def test_a_seeded_search_is_never_worse_than_its_seed(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    layer = Layer.conv(16, 32, 3, 8)
    long = MappingCache(MapperSettings(budget_evals=3000, seed=1)).best_mapping(layer, acc)
    cache = MappingCache(MapperSettings(budget_evals=32, seed=2))
    cache.warm.record(Encoding(layer, acc), long.arrays, long.genes)
    other = Layer.conv(16, 32, 3, 10)                      # seeded by its neighbour's genes only
    enc = Encoding(other, acc)
    assert cache.warm.seeds(enc).shape[0] == 1
    seed_cost = evaluate_batch(other, acc, enc.decode(long.genes[None]))
    assert seed_cost.valid[0]
    assert cache.best_mapping(other, acc).edp_pj_cycles <= seed_cost.edp_pj_cycles[0] * (1 + 1e-12)


def test_bad_settings():
    with pytest.raises(ValueError, match="settings must be a MapperSettings"):
        MappingCache({"budget_evals": 32})
    with pytest.raises(ValueError, match="accelerators must be an integer >= 1"):
        MappingCache(accelerators=0)


def test_a_screen_searches_residual_layers_with_a_share_of_the_budget_and_seeds_their_own_search():
    from accel_models.presets import get_preset
    from mappings.cache import SCREEN_SHARE

    acc = get_preset("shidiannao")                     # an 8x8 P x Q array: 13x13 maps leave it idle with divisors
    settings = MapperSettings(budget_evals=256, seed=0, factors="auto")
    residual, perfect = Layer.conv(16, 16, 3, 13), Layer.conv(16, 16, 3, 8)
    assert settings.encoding(residual, acc).factors == "residual"
    assert settings.encoding(perfect, acc).factors == "perfect"
    cache = MappingCache(settings)
    screened = cache.result(residual, acc, screen=True)
    assert screened.valid and screened.evaluations == 256 // SCREEN_SHARE
    assert cache.result(residual, acc, screen=True) is screened and cache.misses == 1   # kept, apart
    assert (residual, acc, "edp") not in cache and len(cache) == 0
    own = cache.result(residual, acc)
    assert own.evaluations == 256 and cache.misses == 2
    assert own.cycles * own.energy_pj <= screened.cycles * screened.energy_pj   # the screened mapping is a seed
    assert cache.result(residual, acc, screen=True) is own                     # known: its own result
    plain = cache.result(perfect, acc, screen=True)                            # a perfect layer: its own search
    assert plain.evaluations == 256 and cache.result(perfect, acc) is plain and len(cache) == 2
    unscreened = MappingCache(replace(settings, factors="residual"))            # only auto screens
    assert unscreened.result(residual, acc, screen=True).evaluations == 256


def test_pools_take_their_share_of_the_budget_apart_from_a_depthwise_layer_of_their_shape(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    pool = Layer.pool(32, 3, 8, 2, name="pool")
    depthwise = Layer(R=3, S=3, P=8, Q=8, G=32, stride_w=2, stride_h=2, name="dw")
    assert depthwise.shape_key == pool.shape_key and depthwise.kind == "depthwise"
    cache = MappingCache(MapperSettings(budget_evals=256, seed=0), pool_share=2)
    halved = cache.result(pool, acc)
    assert halved.evaluations == 128 and (pool, acc, "edp") in cache and (depthwise, acc, "edp") not in cache
    whole = cache.result(depthwise, acc)
    assert whole.evaluations == 256 and cache.misses == 2 and len(cache) == 2
    assert cache.result(pool, acc) is halved and cache.hits == 1
    plain = MappingCache(MapperSettings(budget_evals=256, seed=0))           # pool_share 1: one result for both
    assert plain.result(pool, acc).evaluations == 256 and plain.result(depthwise, acc) is plain.result(pool, acc)
    with pytest.raises(ValueError, match="pool_share must be an integer >= 1"):
        MappingCache(pool_share=0)


def test_depthwise_and_pool_layers_have_no_mirror():
    """`mirrored` needs C and K both above 1: a depthwise or pool layer (C = K = 1) gets None, a pointwise layer its
    mirror."""
    from accel_models import get_preset
    from mappings.warm_starts import mirrored

    acc = get_preset("eyeriss")
    for layer, has_mirror in ((Layer.pool(32, 3, 8, 2), False), (Layer(R=3, S=3, P=8, Q=8, G=32), False),
                              (Layer(P=14, Q=14, C=64, K=64), True)):
        enc = Encoding(layer, acc)
        found = MappingCache(SETTINGS).result(layer, acc)
        assert (mirrored(enc, enc.encode(found.arrays)) is not None) == has_mirror


def test_results_looks_up_many_layers_in_order(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    layers = [Layer.conv(16, 16, 3, 8), Layer.fc(64, 10), Layer.conv(16, 16, 3, 8)]
    cache = MappingCache(SETTINGS)
    found = list(cache.results(layers, acc))
    assert found[0] is found[2] and found[1].layer.shape_key == layers[1].shape_key
    assert (cache.misses, cache.hits) == (2, 1)
    with pytest.raises(ValueError, match="MappingCache.result"):
        list(cache.results(["not a layer"], acc))


def test_the_screened_view_reads_the_caches_screened_results():
    """`MappingCache.screened`: the same object each time, its look-ups the cache's with screen=True (a residual
    layer's result searched with a share of the budget, a perfect layer's its own), renamed by `best_mapping`;
    pickled without it."""
    import pickle

    from accel_models.presets import get_preset
    from mappings.cache import SCREEN_SHARE

    acc = get_preset("shidiannao")
    cache = MappingCache(MapperSettings(budget_evals=256, seed=0, factors="auto"))
    view = cache.screened
    assert cache.screened is view and view.settings is cache.settings
    residual, perfect = Layer.conv(16, 16, 3, 13, name="r"), Layer.conv(16, 16, 3, 8, name="p")
    assert view.result(residual, acc).evaluations == 256 // SCREEN_SHARE
    assert view.result(residual, acc) is cache.result(residual, acc, screen=True)
    assert view.best_mapping(perfect, acc).evaluations == 256 and view.best_mapping(perfect, acc).layer.name == "p"
    assert [r.evaluations for r in view.results([residual, perfect], acc)] == [256 // SCREEN_SHARE, 256]
    assert "_screened" not in pickle.loads(pickle.dumps(cache)).__dict__


def test_screened_shapes_screen_every_shape_without_a_result_and_seed_its_own_search():
    """`MappingCache.screened_shapes`: a shape with no result is searched with 1/SCREEN_SHARE of the budget whatever
    its factors, kept apart (not a result of the cache's own look-ups, which search it in full, seeded by it); a shape
    whose own or residual-screened result is known gets that; the same object each time, not pickled."""
    import pickle

    from accel_models.presets import get_preset
    from mappings.cache import SCREEN_SHARE

    acc = get_preset("shidiannao")
    cache = MappingCache(MapperSettings(budget_evals=256, seed=0, factors="auto"))
    view = cache.screened_shapes
    assert cache.screened_shapes is view and view.settings is cache.settings and view.screened_shapes is view
    residual, perfect, known = (Layer.conv(16, 16, 3, 13, name="r"), Layer.conv(16, 16, 3, 8, name="p"),
                                Layer.conv(8, 16, 3, 8, name="k"))
    own_known = cache.result(known, acc)
    screened_residual = cache.result(residual, acc, screen=True)
    assert view.result(known, acc) is own_known                         # its own result
    assert view.result(residual, acc) is screened_residual              # a residual screen counts too
    rough = view.best_mapping(perfect, acc)
    assert rough.evaluations == 256 // SCREEN_SHARE and rough.layer.name == "p"
    assert view.result(perfect, acc) is view.result(perfect, acc) and len(cache) == 1   # kept apart
    assert cache.result(perfect, acc, screen=True).evaluations == 256   # the residual screen: a perfect layer's own
    own = cache.result(perfect, acc)
    assert own.cycles * own.energy_pj <= rough.cycles * rough.energy_pj   # the screened mapping seeded it
    assert view.result(perfect, acc) is own and len(cache) == 2
    assert "_screened_shapes" not in pickle.loads(pickle.dumps(cache)).__dict__
