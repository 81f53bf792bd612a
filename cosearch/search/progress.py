"""Progress of a running search, for a display: complete trials of the target, best objective so far, times."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..config import CoSearchSettings
from .pareto import non_dominated
from .study import trial_counts


@dataclass(frozen=True)
class Progress:
    """A snapshot for a progress display: complete trials of the target, best objective so far (or the size of the
    front of a multi-objective study), times."""

    complete: int
    target: int
    pruned: int
    best_value: float | None
    elapsed_s: float
    remaining_s: float | None
    phase: str = "search"
    objective: str = "EDP (J*s)"
    """The objective's name and unit; for a multi-objective study, what `best_value` counts."""


class ProgressTracker:
    """Reads the study and turns it into `Progress` snapshots."""

    def __init__(self, study, settings: CoSearchSettings, start: float, deadline: float | None) -> None:
        self.study, self.settings, self.start, self.deadline = study, settings, start, deadline
        self.initial = trial_counts(study)["complete"]

    def snapshot(self, phase: str = "search") -> Progress:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        feasible = [t.values for t in complete if t.user_attrs.get("feasible")]
        now = time.time()
        elapsed = now - self.start
        done_here = len(complete) - self.initial
        left = max(0, self.settings.trials - len(complete))
        remaining = None
        if done_here > 0:
            remaining = elapsed / done_here * left
        if self.deadline is not None:
            remaining = min(remaining if remaining is not None else math.inf, max(0.0, self.deadline - now))
        s = self.settings
        if s.pareto:
            best, label = float(len(non_dominated(feasible, s.pareto))), "designs on the trials' front"
        else:
            values = [v[0] for v in feasible]
            best = (max(values) if s.objective.maximize else min(values)) if values else None
            label = s.objective.label
        # other commands on the study may pass the target (each finishes the trial it runs): shown as the target
        return Progress(min(len(complete), s.trials), s.trials, pruned, best, elapsed, remaining, phase, label)
