"""The layer-wise lookup table: one search per (accelerator, shape, objective), hit rate, persistence."""
import json
from dataclasses import replace

import pytest

from mappings import MappingCache, accelerator_key
from nets import Layer

SETTINGS = {"budget_evals": 300, "seed": 0}


def test_repeated_shapes_are_searched_once(corpus_archs):
    acc = corpus_archs["B4x4a"].accelerator
    shapes = [Layer.conv(16, 16, 3, 8), Layer.conv(16, 32, 1, 8), Layer.fc(64, 10)]
    net = [s.with_name(f"layer{i}") for i, s in enumerate(shapes * 3 + shapes[:1])]   # 10 layers, 3 shapes
    cache = MappingCache(**SETTINGS)
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


def test_persisted_table_is_reused(tmp_path, corpus_archs):
    acc = corpus_archs["B2x2b"].accelerator
    layers = [Layer.conv(8, 16, 3, 6), Layer.fc(32, 16)]
    path = tmp_path / "table.json"
    first = MappingCache(path, **SETTINGS)
    found = [first.best_mapping(l, acc) for l in layers]
    first.save()
    assert json.loads(path.read_text())["format"].startswith("cosearch.mapping_cache")
    second = MappingCache(path, **SETTINGS)
    again = [second.best_mapping(l, acc) for l in layers]
    assert (second.hits, second.misses) == (2, 0)
    for a, b in zip(found, again):
        assert (a.cycles, a.energy_pj, a.evaluations) == (b.cycles, b.energy_pj, b.evaluations)
        assert a.mapping == b.mapping and b.accelerator is acc
    other = MappingCache(path, budget_evals=301)          # other mapper settings: not reused
    other.best_mapping(layers[0], acc)
    assert other.misses == 1


def test_bad_cache_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ValueError, match="not a mapping cache"):
        MappingCache(path)
    with pytest.raises(ValueError, match="per lookup"):
        MappingCache(objective="edp")
