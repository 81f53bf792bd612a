"""Where a study lives: storage URLs (checked before anything heavy is imported), opening, resuming.

Accepted `--storage` forms:
- `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, or a bare path ending in .db / .sqlite /
  .sqlite3 (the default is `<out>/cosearch.db`): one machine, several processes;
- `postgresql[+driver]://user:password@host[:port]/database`, `mysql[+driver]://...`: Optuna's RDB
  storage, which workers on several machines share (the driver must be installed, e.g. psycopg2-binary
  or PyMySQL);
- `journal:PATH` or a bare path ending in .log: Optuna's journal file storage (one machine, or a
  shared file system with working locks).
Resuming: a trial left RUNNING by a worker of this host that no longer exists (a killed run) is
marked FAIL; RDB storages also run Optuna's heartbeat, which fails stale trials of other hosts.
"""
from __future__ import annotations

import importlib.util
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..config.validate import UsageError

OPEN_ATTEMPTS = 4
HEARTBEAT_INTERVAL_S = 10
GRACE_PERIOD_S = 60
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_JOURNAL_SUFFIXES = (".log",)
_DRIVERS = {  # (dialect, driver) -> (module to import, pip package)
    ("postgresql", "psycopg2"): ("psycopg2", "psycopg2-binary"),
    ("postgresql", "psycopg"): ("psycopg", "psycopg[binary]"),
    ("postgresql", "pg8000"): ("pg8000", "pg8000"),
    ("mysql", "mysqldb"): ("MySQLdb", "mysqlclient"),
    ("mysql", "pymysql"): ("pymysql", "PyMySQL"),
    ("mysql", "mysqlconnector"): ("mysql.connector", "mysql-connector-python"),
    ("mariadb", "pymysql"): ("pymysql", "PyMySQL"),
    ("mariadb", "mysqldb"): ("MySQLdb", "mysqlclient"),
}
_PREFERRED = {"postgresql": ("psycopg2", "psycopg", "pg8000"), "mysql": ("pymysql", "mysqldb", "mysqlconnector"),
              "mariadb": ("pymysql", "mysqldb")}
"""A URL without a driver gets the first one installed (written into the URL, so that SQLAlchemy's own
default, which changes between versions, never matters)."""


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module.split(".")[0]) is not None


_ACCEPTED = ("accepted: sqlite:///PATH.db, a PATH ending in .db, postgresql://USER:PASSWORD@HOST/DB, "
             "mysql+pymysql://USER:PASSWORD@HOST/DB, journal:PATH or a PATH ending in .log")


@dataclass(frozen=True)
class StorageSpec:
    """A checked storage: kind 'sqlite', 'rdb' (PostgreSQL / MySQL) or 'journal', the URL or path, a display form."""

    kind: str
    url: str
    display: str

    @property
    def shared_across_hosts(self) -> bool:
        return self.kind == "rdb"

    @property
    def dashboard_arg(self) -> str:
        """What to pass to `optuna-dashboard` to watch this storage."""
        return self.url if self.kind != "journal" else self.url


def _mask(url: str) -> str:
    """The URL with its password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)([^@]*)@", r"\1***@", url)


def _check_sqlite_path(path: Path, field: str) -> Path:
    if str(path) in ("", ".", ":memory:") or path.name == "":
        raise UsageError(f"{field}: an SQLite storage needs a file path (in-memory databases cannot be resumed); "
                         f"{_ACCEPTED}")
    path = path.expanduser().resolve()
    if path.is_dir():
        raise UsageError(f"{field}: {path} is a directory, not a database file")
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise UsageError(f"{field}: {path} exists and is not an SQLite database")
    _check_parent(path, field)
    return path


def _check_parent(path: Path, field: str) -> None:
    """Create the file's folder (it would be created anyway); a folder that cannot be made is a UsageError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{field}: cannot create the folder of {path}: {exc.strerror or exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"{field}: cannot write in {path.parent}")


def parse_storage(storage: str | None, out: Path, field: str = "--storage") -> StorageSpec:
    """Check a storage URL or path (no connection is made, no heavy import); None = SQLite in `out`."""
    if storage is None:
        path = (Path(out) / "cosearch.db").expanduser().resolve()
        return StorageSpec("sqlite", f"sqlite:///{path}", str(path))
    text = storage.strip()
    if not text:
        raise UsageError(f"{field}: empty; {_ACCEPTED}")
    if text.startswith("journal:"):
        rest = text[len("journal:"):]
        rest = rest[2:] if rest.startswith("///") else rest
        if not rest or rest.endswith("/"):
            raise UsageError(f"{field}: journal storage needs a file path, e.g. journal:cosearch_out/journal.log")
        path = Path(rest).expanduser().resolve()
        if path.is_dir():
            raise UsageError(f"{field}: {path} is a directory, not a journal file")
        _check_parent(path, field)
        return StorageSpec("journal", str(path), f"journal:{path}")
    if "://" not in text:
        if text.endswith(_SQLITE_SUFFIXES):
            path = _check_sqlite_path(Path(text), field)
            return StorageSpec("sqlite", f"sqlite:///{path}", str(path))
        if text.endswith(_JOURNAL_SUFFIXES):
            return parse_storage(f"journal:{text}", out, field)
        raise UsageError(f"{field}: cannot tell what storage {text!r} is; {_ACCEPTED}")
    scheme, _, rest = text.partition("://")
    dialect, _, driver = scheme.lower().partition("+")
    if dialect == "sqlite":
        if not rest.startswith("/"):
            raise UsageError(f"{field}: SQLite URLs have three slashes before a relative path "
                             f"(sqlite:///{rest or 'PATH.db'}) and four before an absolute one")
        path = _check_sqlite_path(Path(unquote(rest[1:])), field)
        return StorageSpec("sqlite", f"sqlite:///{path}", str(path))
    if dialect in ("postgresql", "postgres", "mysql", "mariadb"):
        dialect = "postgresql" if dialect == "postgres" else dialect
        if driver and (dialect, driver) not in _DRIVERS:
            drivers = ", ".join(_PREFERRED[dialect])
            raise UsageError(f"{field}: unknown {dialect} driver {driver!r}; accepted: {drivers}")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise UsageError(f"{field}: malformed {dialect} URL ({exc}); {_ACCEPTED}") from None
        if not parts.hostname:
            raise UsageError(f"{field}: {dialect} URL has no host: {dialect}://USER:PASSWORD@HOST[:PORT]/DATABASE")
        if not parts.path.strip("/"):
            raise UsageError(f"{field}: {dialect} URL names no database: {dialect}://USER:PASSWORD@HOST[:PORT]/DATABASE")
        if not driver:
            driver = next((d for d in _PREFERRED[dialect] if _installed(_DRIVERS[(dialect, d)][0])), None)
            if driver is None:
                first = _DRIVERS[(dialect, _PREFERRED[dialect][0])][1]
                raise UsageError(f"{field}: the {dialect} storage needs a driver: pip install {first} "
                                 f"(or name one in the URL: {dialect}+DRIVER://, DRIVER one of "
                                 f"{', '.join(_PREFERRED[dialect])})")
        module, package = _DRIVERS[(dialect, driver)]
        if not _installed(module):
            raise UsageError(f"{field}: the {dialect}+{driver} storage needs the {module} driver: pip install {package}")
        url = f"{dialect}+{driver}://{rest}"
        return StorageSpec("rdb", url, _mask(url))
    raise UsageError(f"{field}: unsupported storage scheme {scheme!r}; {_ACCEPTED}")


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
    import warnings

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


def fail_orphaned_trials(study) -> int:
    """Mark FAIL the RUNNING trials whose worker ran on this host and is gone, and untagged RUNNING trials
    older than the grace period (a worker killed between creating a trial and tagging it); returns how many."""
    import datetime

    from optuna.trial import TrialState

    host = socket.gethostname()
    now = datetime.datetime.now()
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = t.user_attrs.get("worker") or {}
        if worker:
            orphan = (worker.get("host") == host and isinstance(worker.get("pid"), int)
                      and worker["pid"] != os.getpid() and not _alive(worker["pid"]))
        else:
            started = t.datetime_start
            orphan = started is not None and (now - started).total_seconds() > GRACE_PERIOD_S
        if orphan:
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            n += 1
    return n
