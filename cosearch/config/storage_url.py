"""Where a study lives: `--storage` URLs and paths, checked without connecting (`StorageSpec`, `parse_storage`).

Accepted `--storage` forms:
- `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, or a bare path ending in .db / .sqlite /
  .sqlite3 (the default is `<out>/cosearch.db`): one machine, several processes;
- `postgresql[+driver]://user:password@host[:port]/database`, `mysql[+driver]://...`: Optuna's RDB
  storage, which workers on several machines share (the driver must be installed, e.g. psycopg2-binary
  or PyMySQL);
- `journal:PATH` or a bare path ending in .log: Optuna's journal file storage (one machine, or a
  shared file system with working locks).
Opening a storage and resuming its study are the search's (`cosearch.search.storage`).
"""
from __future__ import annotations

import importlib.util
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .folders import check_folder, check_path
from .validate import UsageError

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
    def dashboard_arg(self) -> str:
        """What to pass to `optuna-dashboard` to watch this storage: the URL or journal path; an RDB URL with its
        password masked (the user types it)."""
        return self.display if self.kind == "rdb" else self.url


def _mask(url: str) -> str:
    """The URL with its password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)([^@]*)@", r"\1***@", url)


def _check_file(path: Path, field: str, kind: str, out: Path, start_over: bool) -> Path:
    """A storage file's path, resolved: not a folder, not empty unless starting over, its folder writable (and
    existing, unless it is inside `out`, which the run creates)."""
    path = check_path(field, path, f"the path of {kind} file").resolve()
    if path.is_dir():
        raise UsageError(f"{field}: {path} is a directory, not {kind} file")
    if path.is_file() and path.stat().st_size == 0 and not start_over:
        raise UsageError(f"{field}: {path} is empty (0 bytes): it holds no study to resume (a truncated file?); "
                         "give --start-over to begin a new study in it")
    out = Path(out).expanduser().resolve()
    check_folder(field, path.parent, must_exist=not path.parent.is_relative_to(out))
    return path


def _check_sqlite_path(path: Path, field: str, out: Path, start_over: bool) -> Path:
    if str(path) in ("", ".", ":memory:") or path.name == "":
        raise UsageError(f"{field}: an SQLite storage needs a file path (in-memory databases cannot be resumed); "
                         f"{_ACCEPTED}")
    path = _check_file(path, field, "a database", out, start_over)
    if path.is_file() and path.stat().st_size > 0:
        problem = _not_sqlite(path)
        if problem is not None:
            raise UsageError(f"{field}: {path} {problem}; nothing was written to it; accepted: an SQLite database "
                             "made by cosearch, or a new file (another --storage or --out)")
    return path


_MAGIC = ((b"SQLite format 3\x00", "an SQLite database"), (b"\x89PNG\r\n\x1a\n", "a PNG image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"%PDF-", "a PDF document"),
          (b"PK\x03\x04", "a zip archive"), (b"\x1f\x8b", "gzip data"), (b"\x7fELF", "an executable (ELF)"),
          (b'{"op_code"', "an Optuna journal"))
"""First bytes of the files a storage path most often names by mistake, and what they are."""


def file_kind(head: bytes) -> str | None:
    """What a file is by its first bytes, for the kinds in `_MAGIC` (None: not one of them)."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _not_sqlite(path: Path) -> str | None:
    """None if SQLite reads `path` as a database (or it is locked); else what is wrong with it. Asked of SQLite
    first, not read with Python's I/O: closing any file descriptor of the file drops every POSIX lock this process's
    SQLite connections hold on it (SQLite's "How To Corrupt An SQLite Database File", section 2.2), and a second run
    in one process (`cosearch.run` twice, the first run's connections still open) corrupted its study that way.
    Only a file SQLite does not take for a database (so one no connection of ours holds locks on) is read, to say
    what it is."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        con.execute("PRAGMA schema_version").fetchone()
        return None
    except sqlite3.OperationalError:  # locked, or cannot open its log read-only: a database all the same
        return None
    except UnicodeDecodeError:        # SQLite's error quotes a damaged schema that is not even text
        return "is an SQLite database, but damaged (its schema does not read as text)"
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_NOTADB:  # SQLITE_CORRUPT: cut short, overwritten
            return f"is an SQLite database, but damaged (SQLite: {exc})"
    finally:
        con.close()
    try:
        with open(path, "rb") as f:
            kind = file_kind(f.read(64))
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if kind == "an Optuna journal":
        return f"is an Optuna journal, not an SQLite database: give it as journal:{path}"
    if kind is None:
        return "is not an SQLite database (its first bytes are not SQLite's)"
    return f"is {kind}, not an SQLite database"


def parse_storage(storage: str | None, out: Path, field: str = "--storage", start_over: bool = False) -> StorageSpec:
    """Check a storage URL or path (no connection is made, no heavy import, nothing created); None = SQLite in `out`.

    A file's folder must exist unless it is inside `out`; an empty (0-byte) file is refused unless `start_over`.
    """
    if storage is None:
        path = _check_sqlite_path(Path(out) / "cosearch.db", field, out, start_over)
        return StorageSpec("sqlite", f"sqlite:///{path}", str(path))
    if isinstance(storage, os.PathLike) and not isinstance(storage, bytes):
        storage = os.fspath(storage)
    if not isinstance(storage, str):
        raise UsageError(f"{field}: expected a storage URL or path (text), got {type(storage).__name__} "
                         f"{storage!r}; {_ACCEPTED}")
    text = storage.strip()
    if not text:
        raise UsageError(f"{field}: empty; {_ACCEPTED}")
    if text.startswith("journal:"):
        rest = text[len("journal:"):]
        rest = rest[2:] if rest.startswith("///") else rest
        if not rest or rest.endswith("/"):
            raise UsageError(f"{field}: journal storage needs a file path, e.g. journal:cosearch_out/journal.log")
        path = _check_file(Path(rest), field, "a journal", out, start_over)
        return StorageSpec("journal", str(path), f"journal:{path}")
    if "://" not in text:
        if text.endswith(_SQLITE_SUFFIXES):
            path = _check_sqlite_path(Path(text), field, out, start_over)
            return StorageSpec("sqlite", f"sqlite:///{path}", str(path))
        if text.endswith(_JOURNAL_SUFFIXES):
            return parse_storage(f"journal:{text}", out, field, start_over)
        raise UsageError(f"{field}: cannot tell what storage {text!r} is; {_ACCEPTED}")
    scheme, _, rest = text.partition("://")
    dialect, _, driver = scheme.lower().partition("+")
    if dialect == "sqlite":
        if not rest.startswith("/"):
            raise UsageError(f"{field}: SQLite URLs have three slashes before a relative path "
                             f"(sqlite:///{rest or 'PATH.db'}) and four before an absolute one")
        path = _check_sqlite_path(Path(unquote(rest[1:])), field, out, start_over)
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
