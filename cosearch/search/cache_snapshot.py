"""A worker's mapping cache, saved after each of its trials so that a resumed worker starts where the killed one
stood.

The cache's warm starts seed every later search with the best mappings found so far (`mappings.WarmStarts`):
a worker restarted with an empty cache would map later designs differently, and a killed and resumed run would
not end where an uninterrupted one does. So each trial, before Optuna records it as finished, writes the cache
to OUT/workers/mapper-cache-INDEX.pickle (the previous one kept as .prev). A resumed worker loads the newer
of the two whose trial finished: a trial killed after writing its cache and before being recorded is re-run
(`storage.retry_trial`), from the cache of the trial before it.

The files are written by the worker itself and read back only by a worker of the same study (checked by study
name, trial number and start time, and the mapper settings).
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path



def _paths(folder: Path, index: int) -> tuple[Path, Path]:
    current = folder / f"mapper-cache-{index}.pickle"
    return current, current.with_suffix(".prev")


def _stamp(trial) -> str:
    return "" if trial.datetime_start is None else trial.datetime_start.isoformat()


def save_cache(folder: Path, index: int, trial, cache) -> None:
    """Write `cache` as it stands after `trial` (the running optuna Trial) into `folder`; the file before becomes
    .prev."""
    current, previous = _paths(folder, index)
    current.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps({"study": trial.study.study_name, "trial": trial.number, "start": _stamp(trial),
                         "mapper": cache.settings, "cache": cache}, protocol=pickle.HIGHEST_PROTOCOL)
    if current.exists():
        os.replace(current, previous)
    tmp = current.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, current)


def load_cache(folder: Path, index: int, study, mapper_settings: dict):
    """The newest cache saved in `folder` by worker `index` whose trial is finished in `study` (complete or
    rejected), made with `mapper_settings`; None if there is none."""
    from optuna.trial import TrialState

    finished = {t.number: _stamp(t) for t in study.get_trials(deepcopy=False)
                if t.state in (TrialState.COMPLETE, TrialState.PRUNED)}
    for path in _paths(folder, index):
        try:
            saved = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            continue  # none yet, or unreadable: the next, or an empty cache
        if (isinstance(saved, dict) and saved.get("study") == study.study_name
                and finished.get(saved.get("trial")) == saved.get("start") and saved.get("mapper") == mapper_settings):
            return saved["cache"]
    return None
