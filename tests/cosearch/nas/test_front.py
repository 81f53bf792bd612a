"""The front's pieces: latency targets in equal ratios between the fastest and the slowest subnet, and the
non-dominated set of scored subnets."""
from types import SimpleNamespace

import pytest

from cosearch.search.nas.front import latency_targets_s, non_dominated


def test_targets_span_fastest_to_slowest_in_equal_ratios():
    t = latency_targets_s(2e-3, 32e-3, 5)
    assert t[0] == pytest.approx(2.04e-3) and t[-1] == pytest.approx(32e-3)
    ratios = [b / a for a, b in zip(t, t[1:])]
    assert max(ratios) == pytest.approx(min(ratios))
    assert latency_targets_s(2e-3, 1e-3, 3) == [pytest.approx(2.04e-3)] * 3   # nothing slower than the fastest
    with pytest.raises(ValueError, match="n must be >= 1"):
        latency_targets_s(1e-3, 2e-3, 0)


def test_non_dominated_keeps_only_points_no_other_beats_on_both():
    def point(lat_ms, acc):
        return SimpleNamespace(cost=SimpleNamespace(latency_s=lat_ms * 1e-3), accuracy=acc)

    pts = [point(5, 0.70), point(4, 0.72), point(6, 0.71), point(8, 0.75), point(8, 0.74), point(3, 0.60)]
    front = non_dominated(pts)
    assert [(p.cost.latency_s * 1e3, p.accuracy) for p in front] == [
        pytest.approx((3, 0.60)), pytest.approx((4, 0.72)), pytest.approx((8, 0.75))]
