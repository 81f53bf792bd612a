"""A depth-first trial plans its subnet depth-first only within `PLANNED_WITHIN` of the best trial so far; further
off it keeps the resident plan that bounds the depth-first one, and says so."""
from unittest import mock

import numpy as np
import pytest

from cosearch.config.builder import make_settings
from cosearch.fusion.modes import DepthFirst
from cosearch.search.trial import PLANNED_WITHIN, TrialObjective


def _trial(best_value: float | None):
    """One trial of a depth-first subnet search on a fixed design (a new objective each time: the same search),
    in a study whose one complete trial has `best_value` and is feasible (None: a trial over the budget; the trial's
    draw number, which seeds its subnet search, is the same either way): (the trial, its costs, whether a
    depth-first plan was made)."""
    optuna = pytest.importorskip("optuna")
    settings = make_settings("area<=5mm2", fusion="depth-first", mapper_evals=16, final_mapper_evals=16, workers=1,
                             population=4, generations=1)
    objective = TrialObjective(settings)
    rng = np.random.default_rng(0)
    genes = next(g for g in (objective.space.sample(rng) for _ in range(200))
                 if objective.space.check(objective.space.decode(g)).fits)
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=best_value or 1.0,
                                              user_attrs={"feasible": best_value is not None}))
    study.enqueue_trial(genes)
    trial = study.ask()
    with mock.patch.object(DepthFirst, "plan", autospec=True, side_effect=DepthFirst.plan) as plan:
        _, _, costs, _ = objective._evaluate(trial)
    return trial, costs, plan.called


def test_a_trial_plans_depth_first_only_near_the_best():
    trial, costs, planned = _trial(None)                 # no feasible trial to compare with: depth-first
    assert planned and "fusion" not in trial.user_attrs
    depth_first = costs[0].edp_j_s
    trial, costs, planned = _trial(1e-30)                # far below any design: the resident plan kept
    assert not planned and trial.user_attrs["fusion"].startswith("resident: x") and \
        trial.user_attrs["fusion"].endswith("not planned depth-first")
    resident = costs[0].edp_j_s
    assert depth_first <= resident * (1 + 1e-9)          # the resident plan bounds the depth-first one
    trial, costs, planned = _trial(resident / (0.99 * PLANNED_WITHIN))      # just within reach
    assert planned and "fusion" not in trial.user_attrs and costs[0].edp_j_s == pytest.approx(depth_first)
    trial, costs, planned = _trial(resident / (1.01 * PLANNED_WITHIN))      # just beyond
    assert not planned and costs[0].edp_j_s == pytest.approx(resident, rel=1e-12)
    assert trial.user_attrs["fusion"].startswith(f"resident: x{1.01 * PLANNED_WITHIN:.3g} of the best")
