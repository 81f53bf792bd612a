"""MappingCache.save / load: a loaded cache seeds later searches as the saved one does; saves that `accept` refuses,
a torn last write and other settings are left out; saves append, and the file is rewritten whole when it grows."""
import copy

import pytest

import mappings.cache
from accel_models import get_preset
from mappings import MapperSettings, MappingCache
from mappings._warm_log import _chunks
from nets import Layer

SETTINGS = MapperSettings(budget_evals=48, seed=0)
LAYERS = [Layer.conv(16 * (i % 3 + 1), 32, 3, 6 + i) for i in range(8)]
PRESETS = ("nvdla_256", "nvdla_1024", "eyeriss")


def _trial(cache: MappingCache, preset: str, layers) -> list:
    """One co-search trial: tables cleared, then layers searched on a new accelerator object; (cycles, energy) each."""
    cache.clear_tables()
    acc = copy.deepcopy(get_preset(preset))
    return [(r.cycles, r.energy_pj) for r in (cache.result(layer, acc) for layer in layers)]


def _run(trials: int, path=None) -> MappingCache:
    """A cache after `trials` trials, saved to `path` after each."""
    cache = MappingCache(SETTINGS)
    for i in range(trials):
        _trial(cache, PRESETS[i % 3], LAYERS[i % 4: i % 4 + 4])
        if path is not None:
            cache.save(path, i)
    return cache


def _next(cache: MappingCache) -> list:
    """What the next trial finds, seeded by the cache's warm starts: what a resumed run must reproduce."""
    return _trial(cache, "eyeriss", LAYERS)


def _loaded(path, accept=lambda tag: True) -> MappingCache:
    cache = MappingCache(SETTINGS)
    assert cache.load(path, accept)
    return cache


def test_a_loaded_cache_searches_as_the_saved_one(tmp_path):
    path = tmp_path / "cache.log"
    saved = _run(5, path)
    loaded = _loaded(path)
    assert [(k, a.name) for k, a, _ in loaded.warm.records()] == [(k, a.name) for k, a, _ in saved.warm.records()]
    expected = _next(saved)
    assert _next(loaded) == expected
    assert _next(MappingCache(SETTINGS)) != expected  # the warm starts change what is found


def test_saves_append_and_the_file_is_rewritten_when_it_grows(tmp_path, monkeypatch):
    path = tmp_path / "cache.log"
    _run(5, path)
    assert len(list(_chunks(path))) == 5  # a base, then one delta per save
    monkeypatch.setattr(mappings.cache, "COMPACT_MIN_RECORDS", -10 ** 6)  # rewrite at every save
    compacted = tmp_path / "compacted.log"
    saved = _run(5, compacted)
    assert len(list(_chunks(compacted))) == 1
    assert _next(_loaded(compacted)) == _next(saved)


def test_a_refused_save_and_the_ones_after_it_are_left_out(tmp_path):
    path = tmp_path / "cache.log"
    _run(4, path)
    expected = _next(_run(2))
    assert _next(_loaded(path, lambda trial: trial < 2)) == expected
    assert _next(_loaded(path)) == expected  # the load rewrote the file as what it took


def test_a_refused_rewrite_falls_back_to_the_file_before_it(tmp_path, monkeypatch):
    path = tmp_path / "cache.log"
    monkeypatch.setattr(mappings.cache, "COMPACT_MIN_RECORDS", -10 ** 6)
    _run(4, path)  # each save rewrote the file, the one before kept as .prev
    assert _next(_loaded(path, lambda trial: trial < 3)) == _next(_run(3))


def test_a_torn_last_write_is_left_out(tmp_path):
    path = tmp_path / "cache.log"
    _run(3, path)
    path.write_bytes(path.read_bytes()[:-10])  # killed while appending the third save
    assert _next(_loaded(path)) == _next(_run(2))


def test_a_save_of_other_settings_is_not_loaded(tmp_path):
    path = tmp_path / "cache.log"
    _run(2, path)
    before = path.read_bytes()
    assert not MappingCache(MapperSettings(budget_evals=64, seed=0)).load(path)
    assert not MappingCache(SETTINGS).load(tmp_path / "missing.log")
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="only into a new cache"):
        _run(1).load(path)


def test_clear_tables_keeps_the_warm_starts():
    cache = _run(2)
    kept = len(cache.warm)
    cache.clear_tables()
    assert len(cache) == 0 and len(cache.warm) == kept
