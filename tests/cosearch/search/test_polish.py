"""The final phase's polish: fitting PEs to the budget, the compass search, and its place in the result."""
import math

import pytest

import cosearch
from cosearch.config import POLISH_CANDIDATES
from cosearch.search.objective import Objective
from cosearch.search.polish import fit_pes, polish
from cosearch.search.space import AcceleratorSpace, Design

SPACE = AcceleratorSpace(5.0)
START = {g: 0.5 for g in SPACE.genes}


def _fits(genes) -> bool:
    return SPACE.check(SPACE.decode(genes)).fits


def test_fit_pes_fills_the_budget_from_below_and_from_above():
    up = fit_pes(SPACE, START)
    assert _fits(START) and _fits(up) and up["pes"] > START["pes"]
    assert not _fits({**up, "pes": up["pes"] + 2 ** -10}), "a visibly larger pes gene still fits: not filled"
    assert {k: v for k, v in up.items() if k != "pes"} == {k: v for k, v in START.items() if k != "pes"}
    over = {**START, "pes": 1.0, "rf_weights": 0.9, "rf_inputs": 0.9}
    assert not _fits(over)
    down = fit_pes(SPACE, over)
    assert _fits(down) and down["pes"] < 1.0 and not _fits({**down, "pes": down["pes"] + 2 ** -10})


def _toy_score(calls: list, unmappable=lambda d: False):
    """A made-up objective with a known direction: more PEs and 16 B/cycle of DRAM are better."""
    def score_of(design: Design):
        calls.append(design)
        if unmappable(design):
            return None
        return Objective(1.0 / design.num_pes + abs(math.log2(design.dram_bytes_per_cycle / 16.0)), 0.0)
    return score_of


def test_polish_moves_towards_the_better_designs_within_its_budget():
    calls: list[Design] = []
    found = polish(SPACE, START, _toy_score(calls), max_evaluations=60)
    start = SPACE.decode(START)
    assert found.improved and found.score.value < found.start_score.value
    assert found.design.num_pes > start.num_pes and found.design.dram_bytes_per_cycle == pytest.approx(16, abs=2)
    assert SPACE.check(found.design).fits and SPACE.decode(found.genes) == found.design
    assert len(calls) == found.evaluations + 1 <= 61  # the start, then at most the budget
    assert len(set(calls)) == len(calls), "a design was scored twice"
    assert all(SPACE.check(d).fits for d in calls)
    assert found.moves and found.moves[0] == "pes fitted"


def test_polish_ends_by_itself_at_a_local_optimum():
    calls: list[Design] = []
    found = polish(SPACE, START, _toy_score(calls), max_evaluations=10_000)
    assert found.evaluations < 10_000
    again = polish(SPACE, found.genes, _toy_score([]), max_evaluations=10_000)
    assert not again.improved and again.moves == ()


def test_polish_skips_unmappable_designs_and_leaves_an_unmappable_start_alone():
    start = SPACE.decode(START)
    calls: list[Design] = []
    found = polish(SPACE, START, _toy_score(calls, lambda d: d.num_pes > 2 * start.num_pes), max_evaluations=40)
    assert found.design.num_pes <= 2 * start.num_pes and found.improved
    calls = []
    stuck = polish(SPACE, START, _toy_score(calls, lambda d: True))
    assert stuck.start_score is None and not stuck.improved and stuck.design == start and len(calls) == 1


def test_a_time_bound_stops_the_search_between_designs(monkeypatch):
    """Each design scored takes one tick of a fake clock: a bound at tick 5 leaves the start and 4 designs scored,
    and says it stopped the search; with no bound the same search goes on."""
    import cosearch.search.polish as polish_module
    from types import SimpleNamespace

    clock = [0.0]
    calls: list[Design] = []
    toy = _toy_score(calls)

    def ticking(design):
        clock[0] += 1.0
        return toy(design)

    monkeypatch.setattr(polish_module, "time", SimpleNamespace(monotonic=lambda: clock[0],
                                                               perf_counter=polish_module.time.perf_counter))
    found = polish(SPACE, START, ticking, max_evaluations=60, stop_at=5.0)
    assert found.timed_out and found.evaluations == 4 and len(calls) == 5
    clock[0], calls[:] = 0.0, []
    free = polish(SPACE, START, ticking, max_evaluations=60)
    assert not free.timed_out and free.evaluations > 4
    clock[0], calls[:] = 0.0, []
    late = polish(SPACE, START, ticking, max_evaluations=60, stop_at=-1.0)   # past already: the start alone
    assert late.timed_out and late.evaluations == 0 and late.moves == () and len(calls) == 1


def _bounds_of_each_candidate(monkeypatch, **options) -> list[tuple[int, float | None, int]]:
    """(trial number, stop_at, process id) of each candidate's polish, best first, with `_polish` faked to report
    them and the clock stopped at 1000 s."""
    import importlib
    import os
    from types import SimpleNamespace

    finalize = importlib.import_module("cosearch.search.finalize")
    trials = [SimpleNamespace(number=n) for n in (7, 3, 9)]
    candidates = [((value,), t.number, t, "d", "c", []) for value, t in zip((1.0, 2.0, 3.0), trials)]

    def fake_polish(settings_, trial, key, accuracy, final_cache, search_cache, stop_at=None):
        return {"from_trial": trial.number, "kept": False, "stop_at": stop_at, "pid": os.getpid()}, None

    monkeypatch.setattr(finalize, "_polish", fake_polish)
    monkeypatch.setattr(finalize, "search_cache", lambda settings_: None)
    monkeypatch.setattr(finalize, "time", SimpleNamespace(monotonic=lambda: 1000.0, time=finalize.time.time))
    summary, _ = finalize._polish_candidates(cosearch.make_settings("area=2.5mm2", network="alexnet", **options),
                                             candidates, None, None)
    return [(s["from_trial"], s["stop_at"], s["pid"]) for s in [summary, *summary.get("others", [])]]


def test_the_candidates_share_their_part_of_the_time_limit(monkeypatch):
    """On one worker, with a time limit, the candidates' bounds are 1/3, 2/3 and all of `POLISH_TIME_SHARE` of it
    from the polish's start (time one leaves goes to the next); without one there is no bound."""
    import os

    from cosearch.config import POLISH_TIME_SHARE

    share = POLISH_TIME_SHARE * 200
    runs = _bounds_of_each_candidate(monkeypatch, time_limit="200s", workers=1)
    assert [r[0] for r in runs] == [7, 3, 9] and {r[2] for r in runs} == {os.getpid()}
    assert [r[1] for r in runs] == pytest.approx([1000 + share / 3, 1000 + 2 * share / 3, 1000 + share])
    assert [r[1] for r in _bounds_of_each_candidate(monkeypatch, time_limit="none", workers=1)] == [None] * 3


def test_on_two_workers_the_best_candidate_has_a_lane_of_its_own(monkeypatch):
    """On two workers the best candidate runs here with half the polish's time and the two others one after the
    other in a forked process (on Linux) with the other half: the same CPU time, half the wall time."""
    import os

    from cosearch.config import POLISH_TIME_SHARE
    from cosearch.search.side_by_side import can_fork

    lane_s = POLISH_TIME_SHARE * 200 / 2
    runs = _bounds_of_each_candidate(monkeypatch, time_limit="200s", workers=2)
    assert [r[0] for r in runs] == [7, 3, 9]
    assert [r[1] for r in runs] == pytest.approx([1000 + lane_s, 1000 + lane_s / 2, 1000 + lane_s])
    assert runs[0][2] == os.getpid() and runs[1][2] == runs[2][2]
    assert (runs[1][2] != os.getpid()) == can_fork()
    assert [r[1] for r in _bounds_of_each_candidate(monkeypatch, time_limit="none", workers=2)] == [None] * 3


@pytest.mark.parametrize("candidates, workers, lanes", [
    (3, 1, [[0, 1, 2]]), (3, 2, [[0], [1, 2]]), (3, 3, [[0], [1], [2]]), (3, 8, [[0], [1], [2]]), (1, 4, [[0]]),
    (4, 3, [[0], [1, 3], [2]]), (0, 2, [[]])])
def test_polish_lanes(candidates, workers, lanes):
    from cosearch.search.finalize import polish_lanes

    assert polish_lanes(candidates, workers) == lanes


def test_no_budget_no_moves():
    calls: list[Design] = []
    found = polish(SPACE, START, _toy_score(calls), max_evaluations=0)
    assert found.evaluations == 0 and found.moves == () and found.design == SPACE.decode(START) and len(calls) == 1


def _settings(out, polish_evals, workers=2):
    """Two workers by default: the final phase then polishes its candidates in two lanes, one of them forked."""
    return cosearch.make_settings("area=2.5mm2", network="alexnet", trials=3, out=out, mapper_evals=32,
                                  final_mapper_evals=64, time_limit="none", polish_evals=polish_evals, workers=workers)


@pytest.mark.slow
def test_the_result_says_where_its_design_came_from(tmp_path):
    result = cosearch.run(_settings(tmp_path / "on", 24))
    p = result.polish
    complete = sum(t.state == "COMPLETE" for t in result.trials)
    assert p["from_trial"] == result.best_trial and "polish" in result.timings_s
    assert 0 < p["evaluations"] <= min(24, complete)   # a short search's polish scores no more designs than it did
    assert "pattern search from trial" in (tmp_path / "on" / "report.md").read_text()
    before, after = p["search_mapper_value"]
    assert after <= before and (after < before) == bool(p["moves"])
    if p["kept"]:  # the final mapper agreed: the polished design is the result, and better than the trial's
        assert result.design == Design.from_dict(p["design"])
        assert result.best.edp_j_s == pytest.approx(p["final_value"][1]) and p["final_value"][1] < p["final_value"][0]
        assert result.design_origin == f"trial {result.best_trial}, polished ({len(p['moves'])} moves)"
    else:
        assert result.design == Design.from_dict(p["from_design"])
        assert result.design_origin == f"trial {result.best_trial}"
    # the search also ran from the other candidates, and the result is the best design of all, by the final mapper
    feasible = sum(1 for t in result.trials if t.state == "COMPLETE" and t.feasible)
    others = p.get("others", [])
    assert len(others) + 1 == min(POLISH_CANDIDATES, feasible)
    assert len({o["from_trial"] for o in others} | {p["from_trial"]}) == len(others) + 1
    for o in others:
        assert not o["kept"]
        for value in o.get("final_value", ()):
            assert result.best.edp_j_s <= value * (1 + 1e-9)
    off = cosearch.run(_settings(tmp_path / "off", 0, workers=1))
    assert off.polish == {} and "polish" not in off.timings_s and off.design_origin == f"trial {off.best_trial}"


def test_the_best_design_of_all_candidates_wins(monkeypatch):
    """Each of the best candidates is polished; a polished design of the second candidate that beats the first trial's
    design wins, and the summary is its polish's, the others' under "others"."""
    import importlib
    from types import SimpleNamespace

    finalize = importlib.import_module("cosearch.search.finalize")  # the module (the package exports its function)

    settings = cosearch.make_settings("area=2.5mm2", network="alexnet", polish_evals=8)
    trials = [SimpleNamespace(number=n) for n in (7, 3, 9, 1)]
    # (final-mapper sort key, trial number, trial, design, cost, extra networks' costs), as `finalize` builds them
    candidates = [((value,), t.number, t, f"design {t.number}", f"cost {t.number}", [])
                  for value, t in zip((1.0, 2.0, 3.0, 4.0), trials)]
    polished = {7: None, 3: 0.5, 9: 0.8, 1: 0.1}   # trial number -> its polished design's value (None: no better one)

    def fake_polish(settings_, trial, key, accuracy, final_cache, search_cache, stop_at=None):
        value = polished[trial.number]
        found = None if value is None else ((value,), f"polished {trial.number}", f"pcost {trial.number}", [])
        return {"from_trial": trial.number, "kept": False}, found

    monkeypatch.setattr(finalize, "_polish", fake_polish)
    summary, winner = finalize._polish_candidates(settings, candidates, None, None)
    assert winner == (trials[1], "polished 3", "pcost 3", [])  # trial 1 (value 4.0) is not among the 3 best: not run
    assert summary["from_trial"] == 3 and summary["kept"]
    assert [o["from_trial"] for o in summary["others"]] == [7, 9]
    polished[3] = polished[9] = None
    summary, winner = finalize._polish_candidates(settings, candidates, None, None)
    assert winner is None and summary["from_trial"] == 7 and not summary["kept"]
