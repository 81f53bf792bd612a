"""The fusion planner's one memo rule (`memo.LruMemo`): least recently used dropped first, a None value remembered, and
the view search settings it keeps (one object per mapper settings object and objective)."""
from dataclasses import replace

from cosearch.fusion import memo, view_search
from mappings import MapperSettings


def test_the_memo_drops_the_least_recently_used_and_remembers_none():
    kept = memo.LruMemo(2)
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value
        return run
    assert kept.recall("a", compute(1)) == 1 and kept.recall("b", compute(None)) is None
    assert kept.recall("a", compute(99)) == 1               # a hit: not computed again, now the most recent
    assert kept.recall("b", compute(98)) is None            # a None value is remembered too
    assert calls == [1, None]
    kept.recall("a", compute(97))                           # "b" is now the least recently used
    kept.recall("c", compute(3))
    assert list(kept) == ["a", "c"] and len(kept) == 2
    assert kept.recall("b", compute(4)) == 4 and list(kept) == ["c", "b"]
    assert calls == [1, None, 3, 4]


def test_view_search_settings_are_one_object_per_settings_object_and_objective():
    mapper = MapperSettings(budget_evals=300, seed=5)
    twin = replace(mapper)                                  # equal, not the same object: its own view settings
    edp = view_search.view_search_settings(mapper, "edp")
    assert edp is view_search.view_search_settings(mapper, "edp")
    assert edp.budget_evals == view_search.VIEW_SEARCH_EVALS["edp"] and edp.time_limit_s is None and edp.seed == 5
    assert view_search.view_search_settings(twin, "edp") is not edp
    assert view_search.view_search_settings(mapper, "latency").budget_evals == view_search.VIEW_SEARCH_EVALS["latency"]
    for _ in range(80):                                     # more than it keeps, while `mapper`'s stays in use
        view_search.view_search_settings(replace(mapper), "energy")
        assert view_search.view_search_settings(mapper, "edp") is edp
