"""The Optuna study of a co-search: samplers, creation or resumption (checked against the settings), counts.

Optuna is imported inside the functions that use it (see `cosearch.search`).
"""
from __future__ import annotations

import json
import time
import warnings

import numpy as np

from ..config import SAMPLERS, CoSearchSettings, UsageError
from ..config.objectives import EDP
from ..config.settings import IDENTITY_ABSENT
from ..config.validate import check_choice
from .objective import study_directions, study_metric_names
from .optuna_hooks import WaitForStart, draw_seeded
from .seeds import best_seed_params, enqueue_seeds, is_seed
from .space import AcceleratorSpace
from .storage import fail_orphaned_trials, open_storage, start_over

IDENTITY_ATTR = "cosearch.identity"
OBJECTIVE_NAME = EDP.label
"""The default objective's name and unit, as Optuna (and optuna-dashboard) show it: the network's energy x delay
(`study_metric_names` gives every objective's)."""
RESOURCE_SIGMA0 = 0.08
"""CMA-ES's initial step under `--match-resources`: a local search around the baseline's own design (trial 0)
rather than the space-wide default (1/6 of the range)."""
CREATOR_WAIT_S = 10.0
"""How long a command that finds the study just created by another waits for it to be set up (its identity and
first trials) before taking that over."""


def resource_x0(settings: CoSearchSettings) -> dict[str, float] | None:
    """CMA-ES's starting mean under `--match-resources`: the matched preset's own design, encoded (see
    `AcceleratorSpace.encode_preset`), so that the search starts from the baseline and moves away from it;
    None (the space's centre) without resource bounds."""
    if settings.resources is None:
        return None
    return AcceleratorSpace.for_settings(settings).encode_preset(settings.resources.preset)


def retried_trial(trial) -> int | None:
    """The number of the trial that `trial` (a FrozenTrial) re-runs (the first of a series of retries), or None.

    Optuna's convention (`RetryHeartbeatStaleTrialCallback.retried_trial_number`), which `storage.retry_trial`
    follows."""
    return trial.system_attrs.get("failed_trial")


def draw_number(trials, number: int) -> int:
    """The place of trial `number` in the study's sequence of draws: its number less the retries numbered before it,
    and a retry's is its original's.

    Random draws (the samplers', a trial's subnet search) are seeded by it, not by the trial number: a trial
    killed and re-run later under a new number draws what it drew the first time, and the trials after it draw
    what they would have drawn had it not been interrupted; so a killed and resumed run ends where an
    uninterrupted one does. Trials that draw (all but retries) have distinct draw numbers. `trials`: the
    study's trials (FrozenTrials, any order), including trial `number`."""
    by_number = {t.number: t for t in trials}
    original = retried_trial(by_number[number]) if number in by_number else None
    if original is not None:
        number = original
    return number - sum(1 for t in trials if t.number < number and retried_trial(t) is not None)


def _start_at_best_seed(study, trial) -> dict | None:
    """CMA-ES's start: the study's best seed trial (`seeds.best_seed_params`), or None; a seed's retry (drawing the
    genes its killed run had not) waits for none."""
    if is_seed(trial, study):
        raise WaitForStart
    return best_seed_params(study)


def _draw_of(study, trial) -> int:
    return draw_number(study.get_trials(deepcopy=False), trial.number)


def make_sampler(name: str, seed: int, trials: int = 60, x0: dict[str, float] | None = None,
                 stream_seed: int | None = None):
    """CmaEsSampler (default; starting at `x0` with step RESOURCE_SIGMA0 when given, else at the study's best seed
    trial if it has seeds (see `seeds`), else at the centre, with the default step), TPE, random or NSGA-II.

    CMA-ES's draws (its own, and its independent ones before the first trial completes) and the random
    sampler's are functions of (`seed`, the trial's draw number; see `draw_number`): commands that share a
    storage do not repeat each other's designs, and a resumed run draws what an uninterrupted one would. TPE
    and NSGA-II draw from one stream seeded by `stream_seed` (per worker, see `worker_seed`), else `seed`."""
    import optuna

    check_choice("--sampler", name, SAMPLERS, "sampler")
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*(x0|sigma0).*deprecated", category=FutureWarning)
    if name == "cmaes":
        return draw_seeded(optuna.samplers.CmaEsSampler, seed, _draw_of, _start_at_best_seed if x0 is None else None,
                           x0=x0, sigma0=None if x0 is None else RESOURCE_SIGMA0,
                           independent_sampler=draw_seeded(optuna.samplers.RandomSampler, seed, _draw_of),
                           warn_independent_sampling=False)
    if name == "random":
        return draw_seeded(optuna.samplers.RandomSampler, seed, _draw_of)
    seed = seed if stream_seed is None else stream_seed
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, trials // 4)))


def worker_seed(seed: int, worker: int, existing_trials: int) -> int:
    """A sampler seed per (run seed, worker, trials already in the study): a resumed run does not replay old draws."""
    return int(np.random.SeedSequence([seed, worker, existing_trials]).generate_state(1)[0] % (2**31 - 1))


IDENTITY_FLAGS = {"fusion": "--fusion", "sampler": "--sampler", "seed": "--seed", "nas_strategy": "--nas-strategy",
                  "nas_evals": "--nas-evals", "efficiency": "--efficiency"}
"""The identity keys one option sets by itself: a mismatch on one of them says which option resumes the study."""


def describe_mismatch(stored: dict, wanted: dict) -> str:
    """The first setting a stored study identity and this run's differ in, both values, and the option that resumes
    the study where one does: 'fusion: stored "none", this run "resident" (--fusion none resumes it)'. A key the
    stored identity lacks has its `IDENTITY_ABSENT` value (the study predates the setting)."""
    def value(identity: dict, key: str):
        return identity.get(key, IDENTITY_ABSENT.get(key))
    diffs = [k for k in sorted(set(stored) | set(wanted)) if value(stored, k) != value(wanted, k)]
    k = diffs[0]
    old = value(stored, k)
    hint = f" ({IDENTITY_FLAGS[k]} {old} resumes it)" if k in IDENTITY_FLAGS and isinstance(old, (str, int)) else ""
    return f"{k}: stored {json.dumps(old)}, this run {json.dumps(value(wanted, k))}{hint}"


def check_foreign(study, settings: CoSearchSettings, directions: list[str]) -> None:
    """A `UsageError` if `study` (found in the storage under this run's name, without cosearch's identity) was made
    by another program: its directions differ from `directions`, or it holds trials (cosearch records the identity
    before any trial). A study with neither is one whose creator stopped before setting it up: it is taken over."""
    from optuna.study import StudyDirection

    stored = [d.name.lower() for d in study.directions if d != StudyDirection.NOT_SET]
    trials = study.get_trials(deepcopy=False)
    if stored == [d.lower() for d in directions] and not trials:
        return
    params = sorted({p for t in trials for p in t.params})
    what = (f"direction {', '.join(stored)}" + (f", {len(trials)} trials" if trials else "")
            + (f", parameters {', '.join(params[:4])}{'...' if len(params) > 4 else ''}" if params else ""))
    raise UsageError(f"--study-name: study {settings.study_name!r} in {settings.storage.display} was not made by "
                     f"cosearch ({what}); accepted: a study cosearch made with these settings (use another "
                     "--study-name, --storage or --out)")


def prepare_study(settings: CoSearchSettings, say=None, replaced: dict | None = None):
    """Create the study or resume it; a study made by different settings, or by another program, is a
    `UsageError`, and so is a storage file that is damaged or not Optuna's (checked before it is opened).

    With `settings.start_over` a study of the same name is deleted first, and the study of the run whose --out was
    taken over (`replaced`, from `claim_out`) where it shares this storage (`storage.start_over`). Trials orphaned
    by a killed run on this host are marked FAIL.
    """
    import optuna

    storage = open_storage(settings.storage, check=True, say=say)
    start_over(storage, settings, replaced, say)
    identity = json.loads(json.dumps(settings.identity()))
    x0 = resource_x0(settings)
    sampler = make_sampler(settings.sampler, settings.seed, x0=x0)
    try:  # the storage's unique study name makes one command the creator, even when two start at once
        study = optuna.create_study(storage=storage, study_name=settings.study_name,
                                    directions=study_directions(settings), sampler=sampler)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=settings.study_name, storage=storage, sampler=sampler)
        created = False
    if study.metric_names is None:
        study.set_metric_names(study_metric_names(settings))
    stored = study.user_attrs.get(IDENTITY_ATTR)
    waited = 0.0
    if stored is None and not created:
        check_foreign(study, settings, study_directions(settings))
    while stored is None and not created and waited < CREATOR_WAIT_S:  # the creator is still setting it up
        time.sleep(0.2)
        waited += 0.2
        stored = optuna.load_study(study_name=settings.study_name, storage=storage).user_attrs.get(IDENTITY_ATTR)
    if stored is None:  # this command created it (or its creator died before setting it up): set it up, once
        study.set_user_attr(IDENTITY_ATTR, identity)
        study.set_user_attr("cosearch.budget", settings.budget.describe())
        if x0 is not None:  # trial 0 = the baseline's own design, as close as the space gets
            study.enqueue_trial(x0)
        else:  # the first trials = the designs of the presets that fit the budget (CMA-ES starts at the best)
            enqueue_seeds(study, AcceleratorSpace.for_settings(settings))
    elif stored != identity:
        raise UsageError(f"--study-name: study {settings.study_name!r} in {settings.storage.display} was made by a "
                         f"different search ({describe_mismatch(stored, identity)}); use another --study-name or --out")
    fail_orphaned_trials(study, storage)
    return study


def load_study(settings: CoSearchSettings, worker: int = 0):
    """The existing study with this worker's sampler."""
    import optuna

    storage = open_storage(settings.storage)
    probe = optuna.load_study(study_name=settings.study_name, storage=storage)
    existing = len(probe.get_trials(deepcopy=False))
    sampler = make_sampler(settings.sampler, settings.seed, settings.trials, x0=resource_x0(settings),
                           stream_seed=worker_seed(settings.seed, worker, existing))
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
