"""The plan's one memo rule (`plan._LruMemo`): least recently used dropped first, a None value remembered, and the
view search settings it keeps (one object per mapper settings object and objective)."""
from dataclasses import replace

from cosearch.fusion import plan
from mappings import MapperSettings


def test_the_memo_drops_the_least_recently_used_and_remembers_none():
    memo = plan._LruMemo(2)
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return value
        return run
    assert memo.recall("a", compute(1)) == 1 and memo.recall("b", compute(None)) is None
    assert memo.recall("a", compute(99)) == 1               # a hit: not computed again, now the most recent
    assert memo.recall("b", compute(98)) is None            # a None value is remembered too
    assert calls == [1, None]
    memo.recall("a", compute(97))                           # "b" is now the least recently used
    memo.recall("c", compute(3))
    assert list(memo) == ["a", "c"] and len(memo) == 2
    assert memo.recall("b", compute(4)) == 4 and list(memo) == ["c", "b"]
    assert calls == [1, None, 3, 4]


def test_view_search_settings_are_one_object_per_settings_object_and_objective():
    mapper = MapperSettings(budget_evals=300, seed=5)
    twin = replace(mapper)                                  # equal, not the same object: its own view settings
    edp = plan.view_search_settings(mapper, "edp")
    assert edp is plan.view_search_settings(mapper, "edp")
    assert edp.budget_evals == plan.VIEW_SEARCH_EVALS["edp"] and edp.time_limit_s is None and edp.seed == 5
    assert plan.view_search_settings(twin, "edp") is not edp
    assert plan.view_search_settings(mapper, "latency").budget_evals == plan.VIEW_SEARCH_EVALS["latency"]
    for _ in range(80):                                     # more than it keeps, while `mapper`'s stays in use
        plan.view_search_settings(replace(mapper), "energy")
        assert plan.view_search_settings(mapper, "edp") is edp
