"""Opening a study's storage (after checking what it holds), and the trials a killed run left behind.

`open_storage(spec, check=True)` first checks the file it is about to open, without writing to it: an SQLite
file must be an intact SQLite database whose tables, if any, are Optuna's, and must not stay locked by another
process for more than `LOCK_WAIT_S` (the wait is announced); a journal must hold Optuna journal records, one per
line. A journal whose last record was cut mid-line (a process stopped while appending it) is repaired by dropping
that record alone: Optuna applies a record only once its newline is written, so the cut one never happened and no
finished trial is lost (appending after it, as Optuna would, makes the whole journal unreadable).
Anything else wrong is a `StorageDamaged` error naming the file and what is wrong, and the file is left as it is.

A trial left RUNNING by a worker of this host that no longer exists (a killed run) is marked FAIL when
a run resumes; RDB storages also run Optuna's heartbeat, which fails stale trials of other hosts. Either
way the failed trial is queued again with its parameters (`retry_trial`), so that the study completes
the trials it would have without the kill.
Optuna and SQLAlchemy are imported inside the functions that use them (see `cosearch.search`).
"""
from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import sqlite3
import socket
import time
import traceback
import warnings
from pathlib import Path

from collections.abc import Callable, Collection

from ..config import UsageError
from ..config.storage_url import StorageSpec, file_kind
from .messages import Notice
from .optuna_hooks import trial_id

OPEN_ATTEMPTS = 4
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 60
HEARTBEAT_ENV = "COSEARCH_HEARTBEAT_S"
"""Environment variable: the heartbeat interval in whole seconds (default HEARTBEAT_INTERVAL_S); the grace period
before a silent worker's trial is failed and queued again is six intervals. Short values suit tests and
preemptible machines; each beat is a database write per running trial."""


def heartbeat_s() -> tuple[int, int]:
    """(interval, grace period) of Optuna's heartbeat on RDB storages, in seconds (see HEARTBEAT_ENV)."""
    text = os.environ.get(HEARTBEAT_ENV)
    if text is None:
        return HEARTBEAT_INTERVAL_S, GRACE_PERIOD_S
    try:
        interval = int(text)
    except ValueError:
        interval = 0
    if not 1 <= interval <= 3600:
        raise UsageError(f"${HEARTBEAT_ENV} must be a whole number of seconds in [1, 3600], got {text!r}")
    return interval, 6 * interval
MAX_RETRIES = 3
"""How many times one trial is re-run after its worker died: a design that kills its worker every time (memory)
is not retried for ever."""


LOCK_WAIT_S = 15.0
"""How long a run waits for another process's lock on its SQLite storage before it gives up (said when it waits)."""
SQLITE_TIMEOUT_S = 120
"""SQLite's busy timeout once the storage is open: the run's own workers take turns writing to it."""
_OPTUNA_TABLES = {"studies": {"study_id", "study_name"}, "trials": {"trial_id", "study_id", "state"},
                  "version_info": {"schema_version"}}
"""Tables (and some of their columns) every Optuna RDB storage has."""
_OPTUNA_TABLE_NAMES = frozenset({
    "studies", "study_directions", "study_user_attributes", "study_system_attributes", "trials",
    "trial_user_attributes", "trial_system_attributes", "trial_params", "trial_values", "trial_intermediate_values",
    "trial_heartbeats", "version_info", "alembic_version"})
"""Every table of Optuna's RDB schema (version 12, Optuna 4 and 5). Optuna creates them one statement at a time,
each committed on its own (SQLAlchemy's `create_all` through Python's sqlite3 module), so a command that checks
the file while another command is creating it sees some of them, `studies` always among them (Optuna's first): a
database that holds `studies` and whose tables all bear these names is a storage being made (or whose maker stopped
part-way), which Optuna completes when it opens it."""


class StorageDamaged(UsageError):
    """A storage file that is not what a run can use (damaged, not Optuna's); nothing was written to it."""


def _damaged(path: str, what: str) -> StorageDamaged:
    return StorageDamaged(f"--storage: {path}: {what}; nothing was written to it; accepted: an Optuna storage made by "
                          "cosearch, or a new file (another --storage or --out)")


def check_journal(path: str, say: Callable[[str], None]) -> None:
    """Check a journal file (see the module docstring); drops a cut last record, saying so."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _damaged(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data:
        return
    kind = file_kind(data[:64])
    if kind not in (None, "an Optuna journal") or b"\x00" in data[:4096]:
        hint = f": give it as sqlite:///{path}" if kind == "an SQLite database" else ""
        raise _damaged(path, f"it is {kind or 'a binary file'}, not an Optuna journal (JSON lines){hint}")
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, as every complete record does
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if not _is_record(line):
            raise _damaged(path, f"line {number} is not an Optuna journal record ({_preview(line)})")
    if tail:  # Optuna reads a record only with its newline: a tail without one was never applied
        if not any(line.strip() for line in lines):
            raise _damaged(path, "it holds no Optuna journal record")
        dropped = _drop_cut_record(path)
        if dropped:
            say(Notice(f"--storage: {path}: its last record was cut mid-line (a run stopped while writing it): "
                       f"dropped it ({dropped} bytes); the finished trials are kept"))


def _drop_cut_record(path: str) -> int:
    """Cut the journal at the end of its last complete record, under Optuna's own journal lock (a command sharing
    the journal may be appending right now: its record is complete once the lock is free); the bytes dropped."""
    from optuna.storages.journal import JournalFileSymlinkLock

    lock = JournalFileSymlinkLock(path)
    lock.acquire()
    try:
        with open(path, "r+b") as f:
            data = f.read()
            keep = data.rfind(b"\n") + 1
            if keep == len(data):
                return 0
            f.truncate(keep)
            return len(data) - keep
    finally:
        lock.release()


def _is_record(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(record, dict) and isinstance(record.get("op_code"), int)


def _preview(line: bytes) -> str:
    text = line[:40].decode("utf-8", "replace")
    return repr(text + ("..." if len(line) > 40 else ""))


def check_sqlite(path: str, say: Callable[[str], None], wait_s: float | None = None) -> None:
    """Check an SQLite storage file (see the module docstring): reads only."""
    wait_s = LOCK_WAIT_S if wait_s is None else wait_s
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    # Read through SQLite only: closing any other descriptor of the file would drop the POSIX locks this process's
    # SQLite connections hold on it (SQLite's "How To Corrupt An SQLite Database File", section 2.2).
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0, isolation_level=None)
    except sqlite3.Error as exc:
        raise _damaged(path, f"cannot be opened ({exc})") from None
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")  # names in a damaged file may not be UTF-8
    try:
        _wait_for_lock(conn, path, say, wait_s, "BEGIN")
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
            if problems != ["ok"]:
                raise _damaged(path, f"the database is damaged (SQLite's check: {'; '.join(problems)[:200]})")
            tables = {name: [row[1] for row in conn.execute(f"PRAGMA table_info('{name}')")]
                      for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables:
                _check_optuna_tables(path, tables)
                _check_json_values(conn, path, tables)
        except UnicodeDecodeError:
            raise _damaged(path, "the database is damaged (its schema does not read as text)") from None
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _locked(path, wait_s) from None
            raise _damaged(path, f"the database is damaged ({exc})") from None
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    finally:
        conn.close()
    # A writer's lock (which does not stop readers of a write-ahead log): waited for on a read-write connection,
    # released at once without a write.
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        _wait_for_lock(conn, path, say, wait_s, "BEGIN IMMEDIATE")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def _check_optuna_tables(path: str, tables: dict[str, list[str]]) -> None:
    """A database whose tables are not an Optuna storage's is another program's: said, naming what it holds. One
    that lacks some of Optuna's tables but holds their first and no other is a storage being created
    (`_OPTUNA_TABLE_NAMES`)."""
    for name, columns in _OPTUNA_TABLES.items():
        if name in tables and not columns <= set(tables[name]):
            raise _damaged(path, f"its table {name!r} is another program's, not Optuna's (columns "
                                 f"{', '.join(tables[name])[:120]}; Optuna's has {', '.join(sorted(columns))})")
    missing = [name for name in _OPTUNA_TABLES if name not in tables]
    if missing and not ("studies" in tables and set(tables) <= _OPTUNA_TABLE_NAMES):
        raise _damaged(path, f"it is another program's database, not an Optuna storage (no table {missing[0]!r}; its "
                             f"tables: {', '.join(sorted(tables))[:120]})")


def _check_json_values(conn, path: str, tables: dict[str, list[str]]) -> None:
    """Every JSON value of the storage (trial and study attributes, distributions) reads as JSON: bytes overwritten
    inside a row leave SQLite's structure intact, and Optuna would stop on the row while loading the study."""
    conn.text_factory = bytes
    try:
        for table, columns in tables.items():
            for column in (c for c in columns if c.endswith("_json")):
                for rowid, value in conn.execute(f'SELECT rowid, "{column}" FROM "{table}"'):
                    try:
                        if value is not None:
                            json.loads(value)
                    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
                        raise _damaged(path, f"the database is damaged (table {table}, row {rowid}: its {column} is "
                                             f"not JSON: {' '.join(str(exc).split())[:80]})") from None
    finally:
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")


def _locked(path: str, wait_s: float) -> StorageDamaged:
    return StorageDamaged(f"--storage: {path} is locked by another process (it kept the lock for {wait_s:g} s); "
                          "accepted: a storage no other program holds locked (let that program finish, or use another "
                          "--storage or --out)")


def _wait_for_lock(conn, path: str, say: Callable[[str], None], wait_s: float, begin: str) -> None:
    """Start a transaction with `begin`, waiting at most `wait_s` for a lock another process holds (said once)."""
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        try:
            conn.execute(begin)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
            return
        except UnicodeDecodeError:  # SQLite's error quotes the damaged schema, which is not even text
            raise _damaged(path, "the database is damaged (its schema does not read as text)") from None
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise _damaged(path, "it is not an SQLite database") from None
            if not isinstance(exc, sqlite3.OperationalError):
                raise _damaged(path, f"the database is damaged ({exc})") from None
            if "locked" not in str(exc) and "busy" not in str(exc):
                if _no_space(path):  # SQLite cannot make its shared-memory file: the disk, not the database
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path) from None
                raise _damaged(path, f"the database cannot be read ({exc})") from None
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if time.monotonic() >= deadline:
                raise _locked(path, wait_s) from None
            if not announced:
                say(Notice(f"--storage: {path} is locked by another process: waiting up to {wait_s:g} s for it"))
                announced = True
            time.sleep(0.2)


def _no_space(path: str) -> bool:
    """Whether the file system holding `path` has no byte left for this process."""
    try:
        return os.statvfs(os.path.dirname(os.path.abspath(path))).f_bavail == 0
    except OSError:
        return False


def check_storage(spec: StorageSpec, say: Callable[[str], None] | None = None) -> None:
    """Check the storage file `spec` names, before it is opened (see the module docstring); servers are not checked
    here (their connection errors are `StorageUnavailable`)."""
    say = say or (lambda _text: None)
    if spec.kind == "journal":
        check_journal(spec.url, say)
    elif spec.kind == "sqlite":
        check_sqlite(spec.display, say)


def open_storage(spec: StorageSpec, check: bool = False, say: Callable[[str], None] | None = None):
    """The Optuna storage object (connects; creates the tables or the file if needed); with `check`, the file is
    checked first (`check_storage`)."""
    import optuna
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if check:
        check_storage(spec, say)
    if spec.kind == "journal":
        Path(spec.url).parent.mkdir(parents=True, exist_ok=True)
        _create_whole(spec.url, _write_new_journal)
        return JournalStorage(JournalFileBackend(spec.url))
    engine_kwargs: dict = {}
    if spec.kind == "sqlite":
        Path(spec.display).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    interval_s, grace_s = heartbeat_s()
    for attempt in range(OPEN_ATTEMPTS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # heartbeat_interval is flagged experimental
            try:
                if spec.kind == "sqlite":
                    _make_wal(spec.display)
                storage = RDBStorage(spec.url, engine_kwargs=engine_kwargs, heartbeat_interval=interval_s,
                                     grace_period=grace_s, heartbeat_stale_trial_callback=retry_trial)
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


def start_over(storage, settings, replaced: dict | None = None, say: Callable[[str], None] | None = None) -> None:
    """`--start-over` in the storage: delete the study of the run's own name, and the study of the run whose --out
    this run took over (`replaced`, its owner record from `claim_out`) when it lives in this storage: a shared
    database (PostgreSQL, one SQLite file for several runs) would otherwise keep the replaced study for ever. A study
    in another storage is named and left (a server's password is not kept in the owner record)."""
    import optuna

    if not settings.start_over:
        return
    say = say or (lambda _text: None)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    if settings.study_name in names:
        optuna.delete_study(study_name=settings.study_name, storage=storage)
    other = (replaced or {}).get("study_name")
    if not other or other == settings.study_name:
        return
    if replaced.get("storage") != settings.storage.display:
        say(Notice(f"--start-over: the replaced run's study {other!r} is in another storage ({replaced.get('storage')})"
                   ": left there"))
    elif other in names:
        trials = len(optuna.load_study(study_name=other, storage=storage).get_trials(deepcopy=False))
        optuna.delete_study(study_name=other, storage=storage)
        say(Notice(f"--start-over: the replaced run's study {other!r} ({trials} trial{'s' * (trials != 1)}) deleted "
                   f"from {settings.storage.display}"))


def _make_wal(path: str) -> None:
    """Put the SQLite file at `path` (made if missing) in write-ahead-log mode, which the file keeps: a commit costs
    ~1 ms instead of ~20 (with synchronous=NORMAL, `_sqlite_wal`), readers never block the writer (several workers),
    and a killed process loses nothing it committed.

    Done before Optuna opens the file (before its first table, for a new file), because SQLite refuses the switch at
    once, without the busy timeout, while another connection holds the write lock of a file in rollback-journal mode
    ("database is locked"): two commands starting on one new file, one creating the tables or checking the file
    (`check_sqlite`) while the other's first connection switched, failed so mid-run. Refused switches are retried
    for up to SQLITE_TIMEOUT_S; a file already in WAL mode switches with no lock at all."""
    _create_whole(path, _write_empty_sqlite)
    deadline = time.monotonic() + SQLITE_TIMEOUT_S
    pause_s = 0.01
    while True:
        conn = sqlite3.connect(path, timeout=SQLITE_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() >= deadline:
                raise
        finally:
            conn.close()
        time.sleep(pause_s)
        pause_s = min(2 * pause_s, 0.5)


def _create_whole(path: str, write: Callable[[str], None]) -> None:
    """Make a missing storage file at `path` whole at once: `write(temp)` fills a file under a temporary name in the
    same folder, which is then hard-linked to `path` (a link fails if `path` appeared meanwhile: another command's
    file is kept). SQLite and Optuna's journal each create their file empty and write it later, and another command
    on the same storage that looked in between took the empty file for a truncated study and refused to run. Where
    the file system has no hard links, the file is created as before."""
    if os.path.exists(path):
        return
    folder, name = os.path.split(os.path.abspath(path))
    temp = os.path.join(folder, f".{name}.{os.getpid()}.{time.monotonic_ns()}.new")
    try:
        write(temp)
        os.link(temp, path)
    except FileExistsError:  # another command made it first: theirs is the study's file
        pass
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
    finally:
        for leftover in (temp, temp + "-wal", temp + "-shm", temp + ".lock"):
            if os.path.lexists(leftover):
                os.unlink(leftover)


def _write_empty_sqlite(path: str) -> None:
    """An SQLite database with no table, in write-ahead-log mode (`_make_wal`)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
    finally:
        conn.close()


JOURNAL_PLACEHOLDER = "cosearch: a new journal"
"""The study a new journal is created with and at once deleted, so that it never exists empty (`_write_new_journal`):
its two records are the journal's first; it is in no list of the journal's studies."""


def _write_new_journal(path: str) -> None:
    """An Optuna journal holding no study: `JOURNAL_PLACEHOLDER` created and deleted."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(path))
    storage.delete_study(storage.create_new_study([optuna.study.StudyDirection.MINIMIZE], JOURNAL_PLACEHOLDER))


def _sqlite_wal(engine) -> None:
    """synchronous=NORMAL on each connection of the file `_make_wal` put in write-ahead-log mode: one fsync per
    checkpoint, not per commit."""
    import sqlalchemy

    @sqlalchemy.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened while creating the tables reconnect with the pragma


class StorageUnavailable(RuntimeError):
    """The storage is well-formed but cannot be reached or opened."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def storage_failure(exc: BaseException) -> str | None:
    """One line saying why a run stopped when `exc` (or an error it was raised from) is its storage or its output
    folder failing under it (a full disk, a quota, a read-only or failing file system, the database driver's
    errors, Optuna's storage errors); None for anything else. Committed trials stay in the storage: Optuna writes
    each trial in its own transaction (RDB) or record (journal)."""
    seen = set()
    chain = []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    keep = "finished trials are kept: fix it and re-run the same command to resume"
    for e in chain:
        text = " ".join(str(e).split())[:200]
        if isinstance(e, OSError) and e.errno in _FULL_ERRNOS or "database or disk is full" in text:
            return f"no space left on the device (while writing {getattr(e, 'filename', None) or 'the run'}); {keep}"
        if isinstance(e, OSError) and e.errno in (errno.EROFS, errno.EIO, errno.EACCES):
            return f"cannot write {getattr(e, 'filename', None) or 'the run'}: {e.strerror or text}; {keep}"
    for e in chain:
        module = type(e).__module__ or ""
        from_optuna_storage = any("optuna/storages" in frame.filename.replace("\\", "/")
                                  for frame in traceback.extract_tb(e.__traceback__))
        if module.startswith(("sqlalchemy", "sqlite3")) or type(e).__name__ == "StorageInternalError" or (
                isinstance(e, AssertionError) and from_optuna_storage):
            text = " ".join(str(e).split())[:200] or type(e).__name__
            return f"the storage failed while the run wrote to it ({type(e).__name__}: {text}); {keep}"
    return None


def worker_tag() -> dict:
    """Who runs a trial: host and process id (to recognise trials orphaned by a killed run)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def claim_trial(trial, tag: dict) -> None:
    """Mark `trial` (an optuna Trial, just started) as this worker's: a heartbeat first where the storage keeps them,
    then the `tag` as user attribute "worker". Optuna's heartbeat thread records its first beat concurrently with the
    objective, and its stale check skips a RUNNING trial with no beat at all (`RDBStorage._get_stale_trial_ids`):
    a worker killed between tagging and that first beat left a trial no other host would ever fail (seen in
    test_postgres: the study waited out SEED_MAX_WAIT_S). A second first beat is ignored by the storage."""
    interval = getattr(trial.storage, "get_heartbeat_interval", lambda: None)()
    if interval is not None:
        trial.storage.record_heartbeat(trial_id(trial))
    trial.set_user_attr("worker", tag)
    release_trial_start()


TRIAL_START_LOCK = "trial-start.lock"
"""The file in a run's folder whose lock a worker of this host holds while it starts a trial (`hold_trial_start`)."""

_START_LOCK: dict[str, int] = {}


def hold_trial_start(folder: Path) -> None:
    """Take this host's lock on starting a trial of the run in `folder` (waiting for it): a worker holds it from
    reading the study's counts until its new trial exists (`claim_trial`, the objective's first step, releases it),
    so that two workers of one host that finish together do not both start the study's last trial, each counting
    the other's as not yet begun. Workers on other hosts (a PostgreSQL study) are not held: there the study may end
    a trial or two past its target."""
    if "fd" in _START_LOCK:
        return
    fd = os.open(Path(folder) / TRIAL_START_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _START_LOCK["fd"] = fd


def release_trial_start() -> None:
    """Release the lock `hold_trial_start` took, if this process holds it."""
    fd = _START_LOCK.pop("fd", None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def fail_dead_trials(study) -> None:
    """Fail the trials of dead workers while waiting for other workers' trials: Optuna's heartbeat (any host, after
    the grace period) and `fail_orphaned_trials` (this host's gone workers at once, unclaimed trials)."""
    import optuna

    optuna.storages.fail_stale_trials(study)
    fail_orphaned_trials(study)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def retry_trial(study, failed) -> None:
    """Queue `failed` (a FrozenTrial whose worker died) to run again with its parameters, as Optuna's
    `RetryHeartbeatStaleTrialCallback` does and with its attributes (system attributes "failed_trial", the
    first trial of the series, and "retry_history"), but without copying the dead run's user attributes
    (its worker, a partial design). At most MAX_RETRIES times per trial. The retry draws what the failed
    trial drew (`study.draw_number`); parameters it had not yet drawn are drawn again, the same; an enqueued
    trial's (a seed's, `seeds`) keep their queued values."""
    import optuna

    history = [*failed.system_attrs.get("retry_history", []), failed.number]
    if len(history) > MAX_RETRIES or any(failed.number in t.system_attrs.get("retry_history", ())
                                         for t in study.get_trials(deepcopy=False)):
        return  # retried enough, or already (an interrupted worker queued it, then was killed)
    fixed = failed.system_attrs.get("fixed_params")  # an enqueued trial (a seed) keeps the genes it was queued with
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params=failed.params, distributions=failed.distributions,
        system_attrs={"failed_trial": history[0], "retry_history": history,
                      **({} if fixed is None else {"fixed_params": fixed})}))


def fail_orphaned_trials(study, storage=None) -> int:
    """Mark FAIL the RUNNING trials whose worker ran on this host and is gone, and untagged RUNNING trials
    older than the grace period (a worker killed between creating a trial and tagging it), and queue each
    again (`retry_trial`); returns how many.

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
            orphan = started is not None and (now - started).total_seconds() > heartbeat_s()[1]
            why = f"no worker claimed it within {heartbeat_s()[1]} s of its start (its process was killed?)"
        if orphan:
            n += _fail_and_retry(study, storage, t, f"{why}; marked failed when the study resumed at "
                                                    f"{now:%Y-%m-%d %H:%M:%S}")
    return n


def fail_trials_of_ended_workers(study, storage, pids: Collection[int], reason: str) -> int:
    """Mark FAIL, with `reason`, the RUNNING trials that worker processes of this host with process ids `pids` ran,
    once those processes have ended (a command stopping its own workers: one killed before it recorded its trial
    left it RUNNING), and queue each again (`retry_trial`); returns how many."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker") or {}
        if worker.get("host") == host and worker.get("pid") in pids and not _alive(worker["pid"]):
            n += _fail_and_retry(study, storage, t, reason)
    return n


def fail_trials_of_this_process(study, storage, reason: str) -> int:
    """Mark FAIL, with `reason`, the RUNNING trials this process claimed, and queue each again (`retry_trial`);
    returns how many. For a search that runs its trials in the command's own process: an interrupt that lands in
    Optuna's own steps after the objective returned, before the trial is recorded, leaves the trial RUNNING."""
    from optuna.trial import TrialState

    mine = worker_tag()
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker") or {}
        if worker.get("host") == mine["host"] and worker.get("pid") == mine["pid"]:
            n += _fail_and_retry(study, storage, t, reason)
    return n


def _fail_and_retry(study, storage, trial, reason: str) -> int:
    """Mark `trial` (a RUNNING FrozenTrial) FAIL with status "failed" and `reason` (set through `storage` when given)
    and queue it again (`retry_trial`); 0 if another process finished it meanwhile (Optuna's heartbeat, which
    queued the retry itself), else 1."""
    import optuna
    from optuna.trial import TrialState

    if storage is not None:
        trial_id = storage.get_trial_id_from_study_id_trial_number(
            storage.get_study_id_from_name(study.study_name), trial.number)
        try:
            storage.set_trial_user_attr(trial_id, "status", "failed")
            storage.set_trial_user_attr(trial_id, "reason", reason)
        except optuna.exceptions.UpdateFinishedTrialError:
            return 0
    try:
        study.tell(trial.number, state=TrialState.FAIL)
    except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
        return 0
    retry_trial(study, trial)
    return 1
