import importlib.util
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
