"""Where cosearch relies on Optuna's private state, all in one place. Optuna has no public hook for any of these;
each is checked by a test that fails if an Optuna release moves it (tests/cosearch/search/test_resume.py:
a killed and resumed run ends where an uninterrupted one does; test_workers, test_postgres: heartbeats), and
pyproject.toml bounds Optuna to the releases these were checked against.

- `draw_seeded`: a sampler whose draws for a trial are a function of (seed, the trial's draw number) rather than of
  the sampler's own stream: it reseeds `CmaEsSampler._cma_rng` per trial, reads `Trial._trial_id` to recognise the
  trial, and sets `CmaEsSampler._x0` once the study's seed trials are known (CMA-ES starts from the best of them).
- `trial_id`: `Trial._trial_id`, the storage's key of a trial, to record its first heartbeat ourselves.
- `OPTIMIZE_LOGGER`: the name of the private module whose logger reports a failed trial.
"""
from __future__ import annotations

import copy

import numpy as np

OPTIMIZE_LOGGER = "optuna.study._optimize"
"""The logger of Optuna's `Study.optimize` loop (its "Trial N failed" warnings)."""


def trial_id(trial) -> int:
    """The storage's id of an Optuna Trial or FrozenTrial."""
    return trial._trial_id


def trial_seed(seed: int, draw: int) -> int:
    """A sampler seed for one draw of a seeded run."""
    return int(np.random.SeedSequence([seed, draw]).generate_state(1)[0] % (2**31 - 1))


def draw_seeded(sampler_class, seed: int, draw_of, start_at=None, **kwargs):
    """`sampler_class` (Optuna's CmaEsSampler or RandomSampler) whose draws for a trial are a function of (`seed`,
    `draw_of(study, trial)`): workers of different commands on one storage never propose the same design, and a
    resumed run proposes what an uninterrupted one would. `start_at(study, trial)` (CMA-ES without an x0): the
    mean's start, a dict of gene values or None (keep the centre), asked once before the first relative draw; it
    may raise `WaitForStart` to be asked again at the next draw."""
    import optuna

    class DrawSeeded(sampler_class):
        def _start(self, study, trial, search_space) -> None:
            if start_at is not None and self._x0 is None and not getattr(self, "_start_known", False):
                try:
                    best = start_at(study, trial)
                except WaitForStart:
                    return
                if best is not None and set(search_space) <= set(best):
                    self._x0 = {name: best[name] for name in search_space}
                self._start_known = True

        def _draw(self, study, trial) -> int:
            if getattr(self, "_draw_of", (None,))[0] != trial_id(trial):
                self._draw_of = (trial_id(trial), draw_of(study, trial))
            return self._draw_of[1]

        def sample_relative(self, study, trial, search_space):
            if not search_space:
                return {}
            self._start(study, trial, search_space)
            draw = self._draw(study, trial)
            # CmaEsSampler seeds its ask with a draw of its own generator plus the trial number: both made
            # functions of the draw number (the trial is copied; only its number differs)
            self._cma_rng.rng.seed(trial_seed(seed, draw))
            shifted = copy.copy(trial)
            shifted.number = draw
            return super().sample_relative(study, shifted, search_space)

        def sample_independent(self, study, trial, param_name, param_distribution):
            draw = self._draw(study, trial)
            if getattr(self, "_per_draw", (None,))[0] != draw:
                self._per_draw = (draw, optuna.samplers.RandomSampler(seed=trial_seed(seed, draw)))
            return self._per_draw[1].sample_independent(study, trial, param_name, param_distribution)

    if sampler_class is optuna.samplers.RandomSampler:
        del DrawSeeded.sample_relative  # the random sampler has no relative draws
    return DrawSeeded(seed=seed, **kwargs)


class WaitForStart(Exception):
    """Raised by a `start_at` function: the start is not known yet (ask again at the next draw)."""


__all__ = ["OPTIMIZE_LOGGER", "trial_id", "trial_seed", "draw_seeded", "WaitForStart"]
