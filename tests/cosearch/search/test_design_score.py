"""The objective of a design: geometric-mean EDP over its networks, or a penalty growing with the overshoot."""
import math
from types import SimpleNamespace

import pytest

from cosearch.config import Budget
from cosearch.search.objective import PENALTY_J_S, geomean, objective


def _cost(latency_s, energy_j):
    return SimpleNamespace(latency_s=latency_s, energy_j=energy_j, edp_j_s=latency_s * energy_j)


def test_geomean():
    assert geomean([1e-4, 1e-2]) == pytest.approx(1e-3)
    assert geomean([3.7e-6]) == 3.7e-6  # one network: its EDP exactly


def test_within_budget_the_objective_is_the_edp():
    budget = Budget(5.0, latency_s=0.01)
    one = objective([_cost(0.002, 0.003)], budget)
    assert one.feasible and one.value == 0.002 * 0.003 and one.violation == 0
    two = objective([_cost(0.002, 0.003), _cost(0.004, 0.001)], budget)
    assert two.value == pytest.approx(math.sqrt(6e-6 * 4e-6))


def test_over_budget_the_penalty_grows_with_the_summed_overshoot():
    budget = Budget(5.0, latency_s=0.01)
    a = objective([_cost(0.02, 0.001)], budget)  # twice the latency limit
    b = objective([_cost(0.02, 0.001), _cost(0.03, 0.001)], budget)  # + three times
    assert not a.feasible and a.violation == pytest.approx(1.0) and a.value == pytest.approx(2 * PENALTY_J_S)
    assert b.violation == pytest.approx(3.0) and b.value == pytest.approx(4 * PENALTY_J_S)
    assert a.value > 1e3 * a.edp_j_s
