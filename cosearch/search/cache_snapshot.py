"""A worker's mapping cache, saved after each of its trials so that a resumed worker starts where the killed one
stood.

The cache's warm starts seed every later search with the best mappings found so far (`mappings.WarmStarts`):
a worker restarted with an empty cache would map later designs differently, and a killed and resumed run would
not end where an uninterrupted one does. So each trial, before Optuna records it as finished, saves the cache
(`MappingCache.save`: what the trial added, appended to OUT/workers/mapper-cache-INDEX.log) labelled with the
trial. A resumed worker loads the saves of finished trials (complete or rejected): a trial killed after saving
and before being recorded is re-run (`storage.retry_trial`) from the cache of the trial before it.

The files are written by the worker itself and read back only by a worker of the same study (checked by study
name, trial number and start time; the cache checks its mapper settings).
"""
from __future__ import annotations

from pathlib import Path


def _path(folder: Path, index: int) -> Path:
    return folder / f"mapper-cache-{index}.log"


def _stamp(trial) -> str:
    return "" if trial.datetime_start is None else trial.datetime_start.isoformat()


def save_cache(folder: Path, index: int, trial, cache) -> None:
    """Save `cache` as it stands after `trial` (the running optuna Trial) into `folder`."""
    cache.save(_path(folder, index), {"study": trial.study.study_name, "trial": trial.number, "start": _stamp(trial)})


def load_cache(folder: Path, index: int, study, cache) -> bool:
    """Load into the new `cache` what worker `index` saved in `folder` up to its last trial finished in `study`
    (complete or rejected); whether there was any."""
    from optuna.trial import TrialState

    finished = {t.number: _stamp(t) for t in study.get_trials(deepcopy=False)
                if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}

    def accept(tag) -> bool:
        return (isinstance(tag, dict) and tag.get("study") == study.study_name
                and finished.get(tag.get("trial")) == tag.get("start"))

    return cache.load(_path(folder, index), accept)
