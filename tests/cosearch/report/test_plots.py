"""The report's plots: the Pareto front they draw."""
from cosearch.report.plots import pareto_front


def test_pareto_front():
    assert pareto_front([(0.8, 3.0), (0.81, 2.0), (0.82, 5.0), (0.79, 4.0)]) == [(0.81, 2.0), (0.82, 5.0)]
