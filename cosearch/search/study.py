"""The Optuna study of a co-search: samplers, creation or resumption (checked against the settings), counts.

Optuna is imported inside the functions that use it (see `cosearch.search`).
"""
from __future__ import annotations

import json
import warnings

import numpy as np

from ..config import SAMPLERS, CoSearchSettings, UsageError
from ..config.objectives import ObjectiveSpec
from ..config.validate import check_choice
from .objective import study_directions, study_metric_names
from .space import AcceleratorSpace
from .storage import fail_orphaned_trials, open_storage

IDENTITY_ATTR = "cosearch.identity"
OBJECTIVE_NAME = ObjectiveSpec().label()
"""The default objective's name and unit, as Optuna (and optuna-dashboard) show it: the network's energy x delay
(`study_metric_names` gives every objective's)."""
RESOURCE_SIGMA0 = 0.08
"""CMA-ES's initial step under `--match-resources`: a local search around the baseline's own design (trial 0)
rather than the space-wide default (1/6 of the range)."""


def resource_x0(settings: CoSearchSettings) -> dict[str, float] | None:
    """CMA-ES's starting mean under `--match-resources`: the matched preset's own design, encoded (see
    `AcceleratorSpace.encode_preset`), so that the search starts from the baseline and moves away from it;
    None (the space's centre) without resource bounds."""
    if settings.resources is None:
        return None
    return AcceleratorSpace.for_settings(settings).encode_preset(settings.resources.preset)


def _trial_seed(seed: int, number: int) -> int:
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0] % (2**31 - 1))


def _trial_seeded_random_sampler(seed: int):
    """A random sampler whose draws are a function of (seed, trial number): workers of different commands on one
    storage (whose sampler seeds may coincide) never propose the same design, since trial numbers are unique."""
    import optuna

    class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
        def __init__(self):
            super().__init__(seed=seed)
            self._per_trial: tuple[int, optuna.samplers.RandomSampler] | None = None

        def sample_independent(self, study, trial, param_name, param_distribution):
            if self._per_trial is None or self._per_trial[0] != trial.number:
                self._per_trial = (trial.number, optuna.samplers.RandomSampler(seed=_trial_seed(seed, trial.number)))
            return self._per_trial[1].sample_independent(study, trial, param_name, param_distribution)

    return TrialSeededRandomSampler()


def make_sampler(name: str, seed: int, trials: int = 60, x0: dict[str, float] | None = None):
    """CmaEsSampler (default; starting at `x0` with step RESOURCE_SIGMA0 when given), TPE, random or NSGA-II.

    CMA-ES's own draws add the trial number to their seed, and its independent draws (the trials before the first
    completes) and the random sampler's are seeded per trial number: commands that share a storage do not
    repeat each other's designs. TPE and NSGA-II draw from their sampler's seed (per worker, see `worker_seed`)."""
    import optuna

    check_choice("--sampler", name, SAMPLERS, "sampler")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*(x0|sigma0).*deprecated", category=FutureWarning)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(x0=x0, sigma0=None if x0 is None else RESOURCE_SIGMA0, seed=seed,
                                            independent_sampler=_trial_seeded_random_sampler(seed),
                                            warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "random":
        return _trial_seeded_random_sampler(seed)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)))


def worker_seed(seed: int, worker: int, existing_trials: int) -> int:
    """A sampler seed per (run seed, worker, trials already in the study): a resumed run does not replay old draws."""
    return int(np.random.SeedSequence([seed, worker, existing_trials]).generate_state(1)[0] % (2**31 - 1))


def _describe_mismatch(stored: dict, wanted: dict) -> str:
    diffs = [k for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k)]
    k = diffs[0]
    return f"{k}: stored {json.dumps(stored.get(k))}, this run {json.dumps(wanted.get(k))}"


def prepare_study(settings: CoSearchSettings):
    """Create the study or resume it; a study made by different settings is a `UsageError`.

    With `settings.start_over` a study of the same name is deleted first. Trials orphaned by a killed run on
    this host are marked FAIL.
    """
    import optuna

    storage = open_storage(settings.storage)
    if settings.start_over and settings.study_name in {s.study_name for s in optuna.get_all_study_summaries(storage)}:
        optuna.delete_study(study_name=settings.study_name, storage=storage)
    identity = json.loads(json.dumps(settings.identity()))
    x0 = resource_x0(settings)
    study = optuna.create_study(storage=storage, study_name=settings.study_name,
                                directions=study_directions(settings), load_if_exists=True,
                                sampler=make_sampler(settings.sampler, settings.seed, x0=x0))
    if study.metric_names is None:
        study.set_metric_names(study_metric_names(settings))
    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None:
        study.set_user_attr(IDENTITY_ATTR, identity)
        study.set_user_attr("cosearch.budget", settings.budget.describe())
        if x0 is not None:  # trial 0 = the baseline's own design, as close as the space gets
            study.enqueue_trial(x0)
    elif stored != identity:
        raise UsageError(f"--study-name: study {settings.study_name!r} in {settings.storage.display} was made by a "
                         f"different search ({_describe_mismatch(stored, identity)}); use another --study-name or --out")
    fail_orphaned_trials(study, storage)
    return study


def load_study(settings: CoSearchSettings, worker: int = 0):
    """The existing study with this worker's sampler."""
    import optuna

    storage = open_storage(settings.storage)
    probe = optuna.load_study(study_name=settings.study_name, storage=storage)
    existing = len(probe.get_trials(deepcopy=False))
    sampler = make_sampler(settings.sampler, worker_seed(settings.seed, worker, existing), settings.trials,
                           x0=resource_x0(settings))
    return optuna.load_study(study_name=settings.study_name, storage=storage, sampler=sampler)


def trial_counts(study) -> dict[str, int]:
    """How many trials are complete, pruned (rejected designs), failed, running."""
    from optuna.trial import TrialState

    counts = {"complete": 0, "pruned": 0, "failed": 0, "running": 0, "waiting": 0}
    names = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
             TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}
    for t in study.get_trials(deepcopy=False):
        counts[names[t.state]] += 1
    return counts
