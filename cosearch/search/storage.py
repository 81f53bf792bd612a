"""Opening a study's storage, and the trials a killed run left behind.

A trial left RUNNING by a worker of this host that no longer exists (a killed run) is marked FAIL when
a run resumes; RDB storages also run Optuna's heartbeat, which fails stale trials of other hosts.
Optuna and SQLAlchemy are imported inside the functions that use them (see `cosearch.search`).
"""
from __future__ import annotations

import datetime
import os
import socket
import time
import warnings
from pathlib import Path

from ..config.storage_url import StorageSpec

OPEN_ATTEMPTS = 4
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 60


def open_storage(spec: StorageSpec):
    """The Optuna storage object (connects; creates the tables or the file if needed)."""
    import optuna
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if spec.kind == "journal":
        Path(spec.url).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(spec.url))
    engine_kwargs: dict = {}
    if spec.kind == "sqlite":
        Path(spec.display).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": 120}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    for attempt in range(OPEN_ATTEMPTS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # heartbeat_interval is flagged experimental
            try:
                storage = RDBStorage(spec.url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_INTERVAL_S,
                                     grace_period=GRACE_PERIOD_S)
                break
            except Exception as exc:  # sqlalchemy errors: retried (workers starting together race to create the
                # tables), then one line, no traceback
                if attempt + 1 < OPEN_ATTEMPTS:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise StorageUnavailable(f"cannot open storage {spec.display}: {first}") from None
    if spec.kind == "sqlite":
        _sqlite_wal(storage.engine)
    return storage


def _sqlite_wal(engine) -> None:
    """Write-ahead log, synchronous=NORMAL: a commit costs ~1 ms instead of ~20 (one fsync per checkpoint),
    readers never block the writer (several workers), and a killed process loses nothing it committed."""
    import sqlalchemy

    @sqlalchemy.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened while creating the tables reconnect with the pragmas


class StorageUnavailable(RuntimeError):
    """The storage is well-formed but cannot be reached or opened."""


def worker_tag() -> dict:
    """Who runs a trial: host and process id (to recognise trials orphaned by a killed run)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_orphaned_trials(study, storage=None) -> int:
    """Mark FAIL the RUNNING trials whose worker ran on this host and is gone, and untagged RUNNING trials
    older than the grace period (a worker killed between creating a trial and tagging it); returns how many.

    Each such trial carries why in its user attributes ("status" failed, "reason"), set through `storage` (the
    study's storage object; its trials cannot be written once failed) when given.
    """
    from optuna.trial import TrialState

    host = socket.gethostname()
    now = datetime.datetime.now()
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker") or {}
        if worker:
            orphan = (worker.get("host") == host and isinstance(worker.get("pid"), int)
                      and worker["pid"] != os.getpid() and not _alive(worker["pid"]))
            why = f"its worker (pid {worker.get('pid')} on {host}) ended without finishing it (killed?)"
        else:
            started = t.datetime_start
            orphan = started is not None and (now - started).total_seconds() > GRACE_PERIOD_S
            why = f"no worker claimed it within {GRACE_PERIOD_S} s of its start (its process was killed?)"
        if orphan:
            if storage is not None:
                trial_id = storage.get_trial_id_from_study_id_trial_number(
                    storage.get_study_id_from_name(study.study_name), t.number)
                storage.set_trial_user_attr(trial_id, "status", "failed")
                storage.set_trial_user_attr(trial_id, "reason", f"{why}; marked failed when the study resumed at "
                                                                f"{now:%Y-%m-%d %H:%M:%S}")
            study.tell(t.number, state=TrialState.FAIL)
            n += 1
    return n
