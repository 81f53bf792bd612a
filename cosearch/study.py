"""The Optuna study of a co-search: samplers, creation or resumption (checked against the settings), counts."""
from __future__ import annotations

import json
import warnings

import numpy as np

from .errors import UsageError
from .settings import CoSearchSettings
from .storage import fail_orphaned_trials, open_storage, worker_tag

IDENTITY_ATTR = "cosearch.identity"


def make_sampler(name: str, seed: int, trials: int = 60):
    """CmaEsSampler (default), TPE, random or NSGA-II, seeded."""
    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)))
    raise UsageError(f"--sampler: unknown sampler {name!r}; accepted: cmaes, tpe, random, nsga2")


def _tagging(sampler, worker: int):
    """`sampler`, wrapped so that every trial it is asked for is tagged with its worker (host, pid, index)
    as soon as the trial exists, before the sampler's own work: a run killed at any later point leaves a
    trial that `fail_orphaned_trials` recognises."""
    from optuna.samplers import BaseSampler

    tag = {**worker_tag(), "index": worker}

    class TaggingSampler(BaseSampler):
        def __init__(self, inner) -> None:
            self.inner = inner

        def infer_relative_search_space(self, study, trial):
            return self.inner.infer_relative_search_space(study, trial)

        def sample_relative(self, study, trial, search_space):
            return self.inner.sample_relative(study, trial, search_space)

        def sample_independent(self, study, trial, param_name, param_distribution):
            return self.inner.sample_independent(study, trial, param_name, param_distribution)

        def before_trial(self, study, trial) -> None:
            study._storage.set_trial_user_attr(trial._trial_id, "worker", tag)
            self.inner.before_trial(study, trial)

        def after_trial(self, study, trial, state, values) -> None:
            self.inner.after_trial(study, trial, state, values)

        def reseed_rng(self) -> None:
            self.inner.reseed_rng()

    return TaggingSampler(sampler)


def worker_seed(seed: int, worker: int, existing_trials: int) -> int:
    """A sampler seed per (run seed, worker, trials already in the study): a resumed run does not replay old draws."""
    return int(np.random.SeedSequence([seed, worker, existing_trials]).generate_state(1)[0] % (2**31 - 1))


def _describe_mismatch(stored: dict, wanted: dict) -> str:
    diffs = [k for k in sorted(set(stored) | set(wanted)) if stored.get(k) != wanted.get(k)]
    k = diffs[0]
    return f"{k}: stored {json.dumps(stored.get(k))}, this run {json.dumps(wanted.get(k))}"


def prepare_study(settings: CoSearchSettings):
    """Create the study or resume it; a study made by different settings is a `UsageError`.

    Trials orphaned by a killed run on this host are marked FAIL first.
    """
    import optuna

    storage = open_storage(settings.storage)
    identity = json.loads(json.dumps(settings.identity()))
    study = optuna.create_study(storage=storage, study_name=settings.study_name, direction="minimize",
                                load_if_exists=True, sampler=make_sampler(settings.sampler, settings.seed))
    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None:
        study.set_user_attr(IDENTITY_ATTR, identity)
        study.set_user_attr("cosearch.budget", settings.budget.describe())
    elif stored != identity:
        raise UsageError(f"--study-name: study {settings.study_name!r} in {settings.storage.display} was made by a "
                         f"different search ({_describe_mismatch(stored, identity)}); use another --study-name or --out")
    fail_orphaned_trials(study)
    return study


def load_study(settings: CoSearchSettings, worker: int = 0):
    """The existing study with this worker's sampler."""
    import optuna

    storage = open_storage(settings.storage)
    probe = optuna.load_study(study_name=settings.study_name, storage=storage)
    existing = len(probe.get_trials(deepcopy=False))
    sampler = make_sampler(settings.sampler, worker_seed(settings.seed, worker, existing), settings.trials)
    return optuna.load_study(study_name=settings.study_name, storage=storage, sampler=_tagging(sampler, worker))


def trial_counts(study) -> dict[str, int]:
    """How many trials are complete, pruned (rejected designs), failed, running."""
    from optuna.trial import TrialState

    counts = {"complete": 0, "pruned": 0, "failed": 0, "running": 0, "waiting": 0}
    names = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.FAIL: "failed",
             TrialState.RUNNING: "running", TrialState.WAITING: "waiting"}
    for t in study.get_trials(deepcopy=False):
        counts[names[t.state]] += 1
    return counts
