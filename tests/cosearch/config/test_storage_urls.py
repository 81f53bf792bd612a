import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cosearch.config import UsageError, parse_storage


def test_default_is_sqlite_in_out(tmp_path):
    spec = parse_storage(None, tmp_path / "out")
    assert spec.kind == "sqlite" and spec.url == f"sqlite:///{(tmp_path / 'out' / 'cosearch.db').resolve()}"


@pytest.mark.parametrize("text, kind", [
    ("sqlite:///run.db", "sqlite"), ("run.sqlite3", "sqlite"), ("journal:runs/j.log", "journal"),
    ("runs/j.log", "journal"),
])
def test_accepted_local_forms(tmp_path, monkeypatch, text, kind):
    monkeypatch.chdir(tmp_path)
    assert parse_storage(text, tmp_path).kind == kind


def test_rdb_urls_need_their_driver_and_mask_passwords():
    if importlib.util.find_spec("psycopg2") is None:
        with pytest.raises(UsageError, match="pip install psycopg2-binary"):
            parse_storage("postgresql://u:secret@db.example/cosearch", Path("."))
    else:
        spec = parse_storage("postgresql://u:secret@db.example/cosearch", Path("."))
        assert spec.kind == "rdb" and "secret" not in spec.display


@pytest.mark.parametrize("text, words", [
    ("foo://bar", "unsupported"), ("sqlite://relative.db", "three slashes"), ("sqlite:///", "file path"),
    ("sqlite:///:memory:", "in-memory"), ("postgresql://user@/db", "no host"), ("postgresql://user@host/", "no database"),
    ("mysql+foo://u@h/db", "unknown mysql driver"), ("journal:", "file path"), ("study.txt", "cannot tell"),
    ("", "empty"), ("postgresql://u@h:notaport/db", "malformed"),
])
def test_rejected(tmp_path, text, words):
    with pytest.raises(UsageError, match=words):
        parse_storage(text, tmp_path)


def test_existing_non_database_file(tmp_path):
    f = tmp_path / "notes.db"
    f.write_text("not a database")
    with pytest.raises(UsageError, match="not an SQLite database"):
        parse_storage(str(f), tmp_path)


_SHARED_LOCK_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, 0)  # SQLite's SHARED byte range
    print("free")
except OSError:
    print("held")
"""


def test_checking_a_database_this_process_has_open_keeps_its_locks(tmp_path):
    """A second run in one process checks the study's file while the first run's connections are open: reading
    the file with Python's I/O and closing it dropped their POSIX locks, and the study was corrupted ("database
    disk image is malformed", test_pipeline's resume, about one run in three)."""
    db = tmp_path / "cosearch.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.execute("SELECT * FROM t").fetchall()

    def lock() -> str:
        return subprocess.run([sys.executable, "-c", _SHARED_LOCK_PROBE, str(db)], capture_output=True, text=True,
                              check=True).stdout.strip()

    assert lock() == "held"
    assert parse_storage(str(db), tmp_path).kind == "sqlite"
    assert lock() == "held"
    con.close()
    assert lock() == "free"
