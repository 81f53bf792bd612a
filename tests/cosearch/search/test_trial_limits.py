"""A run near a hard limit under the search's mapper is judged on the final mapper's run when that one is closer to
the limits (`NEAR_LIMIT_OVERSHOOT`); runs far over the limit, or within it, keep the search mapper's figures."""
import pytest

from cosearch.config import make_settings
from cosearch.search import trial as trial_module
from cosearch.search.evaluate import RunCost
from cosearch.search.trial import NEAR_LIMIT_OVERSHOOT, TrialObjective


@pytest.fixture
def judged(monkeypatch):
    """TrialObjective on a 10 ms limit whose stand-in mapper gives `latency[budget_evals]` milliseconds."""
    latency_ms = {}

    def fake_run(network, accelerator, cache, goal, fusion="none", fusion_groups=None, screen=False, search_views=None,
                 timing="timeloop"):
        return RunCost(round(latency_ms[cache.settings.budget_evals] * 1e6), 1e-3, 1.0)  # 1 GHz: cycles = ns

    monkeypatch.setattr(trial_module, "network_run", fake_run)
    settings = make_settings("area<=5mm2,latency<=10ms", network="resnet50", objective="edp", workers=1)
    objective = TrialObjective(settings, accuracy=None)
    search, final = settings.mapper.budget_evals, settings.final_mapper.budget_evals

    def run(search_ms: float, final_ms: float) -> tuple[float, bool]:
        latency_ms.update({search: search_ms, final: final_ms})
        objective._remapped.clear()
        r = objective._network_run(None, None, objective.cache)
        return r.latency_s * 1e3, bool(objective._remapped)
    return run


def test_near_the_limit_the_final_mappers_run_counts(judged):
    near = 10.0 * (1 + NEAR_LIMIT_OVERSHOOT / 2)
    assert judged(near, 9.5) == (pytest.approx(9.5), True)
    assert judged(near, near + 1) == (pytest.approx(near), False)  # the final mapper did no better


def test_far_over_or_within_the_limit_the_search_mappers_run_counts(judged):
    far = 10.0 * (1 + 2 * NEAR_LIMIT_OVERSHOOT)
    assert judged(far, 9.0) == (pytest.approx(far), False)
    assert judged(9.9, 5.0) == (pytest.approx(9.9), False)
