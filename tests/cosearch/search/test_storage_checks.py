"""The storage is checked before it is opened: a damaged or foreign file is one error naming it, with nothing
written to it; a journal's cut last record is dropped with a line saying so; another process's lock is waited for
a bounded, announced time."""
import hashlib
import sqlite3
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import optuna
import pytest

from cosearch.config import UsageError, make_settings
from cosearch.search.messages import Notice
from cosearch.search.storage import StorageDamaged, check_sqlite, check_storage, open_storage
import cosearch.search.study as study_module
from cosearch.search.study import prepare_study

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _journal_with_trials(path, n=3) -> None:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(path))), study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n)


def _complete(path) -> int:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    return sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))


def _settings(tmp_path, storage):
    return make_settings(out=tmp_path / "out", storage=str(storage), trials=1)


def test_a_cut_last_journal_record_is_dropped_and_no_finished_trial_is_lost(tmp_path):
    journal = tmp_path / "j.log"
    _journal_with_trials(journal)
    with open(journal, "ab") as f:
        f.write(b'{"op_code": 4, "worker_id": "w", "study_id": 0, "datetime_st')  # a crash mid-record
    said = []
    spec = _settings(tmp_path, journal).storage
    check_storage(spec, said.append)
    assert len(said) == 1 and "last record was cut" in said[0] and str(journal) in said[0]
    assert isinstance(said[0], Notice)  # shown even with --quiet
    assert journal.read_bytes().endswith(b"\n")
    storage = open_storage(spec)  # appending after the repair keeps the journal readable as a whole
    optuna.load_study(study_name="s", storage=storage).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert _complete(journal) == 4


def test_garbage_lines_in_a_journal_are_refused_and_the_file_left_as_it_is(tmp_path):
    journal = tmp_path / "j.log"
    _journal_with_trials(journal, 1)
    with open(journal, "ab") as f:
        f.write(b"garbage line\nmore garbage\n")
    before = _digest(journal)
    with pytest.raises(StorageDamaged) as info:
        prepare_study(_settings(tmp_path, journal))
    message = str(info.value)
    assert str(journal) in message and "is not an Optuna journal record" in message and "\n" not in message
    assert _digest(journal) == before


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["random", "half", "foreign_table"])
def test_a_damaged_or_foreign_sqlite_file_is_named_and_not_written(tmp_path, damage):
    db = tmp_path / "cosearch.db"
    if damage == "foreign_table":
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE studies (id INTEGER, name TEXT)")
        expected = "its table 'studies' is another program's, not Optuna's (columns id, name"
    else:
        study = prepare_study(_settings(tmp_path / "first", db))
        study.enqueue_trial({})
        del study
        data = db.read_bytes()
        for extra in ("-wal", "-shm"):
            (tmp_path / f"cosearch.db{extra}").unlink(missing_ok=True)
        if damage == "random":  # 8 KiB of random bytes written into the file, past SQLite's header
            data = data[:4096] + np.random.default_rng(0).bytes(8192) + data[4096 + 8192:]
        else:
            data = data[: len(data) // 2]
        db.write_bytes(data)
        expected = "damaged"
    before = _digest(db)
    with pytest.raises(StorageDamaged) as info:
        prepare_study(_settings(tmp_path, db))
    message = str(info.value)
    assert str(db) in message and expected in message and "nothing was written" in message
    assert _digest(db) == before


@pytest.mark.slow
def test_a_locked_sqlite_file_is_waited_for_a_stated_time_then_refused(tmp_path):
    db = tmp_path / "cosearch.db"
    prepare_study(_settings(tmp_path / "first", db))
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        said = []
        with pytest.raises(StorageDamaged) as info:
            check_sqlite(str(db), said.append, wait_s=1.0)
    finally:
        holder.kill()
        holder.wait()
    assert len(said) == 1 and "waiting up to 1 s" in said[0] and isinstance(said[0], Notice)
    assert str(info.value).startswith(f"--storage: {db} is locked by another process (it kept the lock for 1 s)")


def _no_wait(seconds):
    raise AssertionError(f"waited {seconds} s for the study's creator")


def test_a_study_of_another_program_under_the_same_name_is_refused(tmp_path, monkeypatch):
    db = tmp_path / "cosearch.db"
    settings = _settings(tmp_path, db)
    other = optuna.create_study(storage=f"sqlite:///{db}", study_name=settings.study_name, direction="maximize")
    other.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    monkeypatch.setattr(study_module, "time", SimpleNamespace(sleep=_no_wait))  # refused at once, not after waiting
    with pytest.raises(UsageError) as info:                                      # for a creator to set it up
        prepare_study(settings)
    assert "was not made by cosearch" in str(info.value) and "maximize" in str(info.value)


def test_a_study_whose_creator_stopped_before_setting_it_up_is_taken_over(tmp_path, monkeypatch):
    from cosearch.search import study as study_module

    monkeypatch.setattr(study_module, "CREATOR_WAIT_S", 0.5)
    db = tmp_path / "cosearch.db"
    settings = _settings(tmp_path, db)
    optuna.create_study(storage=f"sqlite:///{db}", study_name=settings.study_name)
    study = prepare_study(settings)
    assert study.user_attrs["cosearch.identity"]


@pytest.mark.slow
def test_the_fixed_device_mode_checks_its_storage_too(tmp_path):
    from cosearch.search.nas.run import run_fixed_device

    journal = tmp_path / "j.log"
    journal.write_bytes(b"garbage\nmore garbage\n")
    settings = make_settings(out=tmp_path / "out", accelerator="eyeriss", nas_evals=4, storage=f"journal:{journal}")
    with pytest.raises(StorageDamaged, match="not an Optuna journal record"):
        run_fixed_device(settings)
    assert journal.read_bytes() == b"garbage\nmore garbage\n"


def _png(path) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("what", ["png", "sqlite"])
def test_a_journal_path_that_is_another_kind_of_file_names_the_flag_the_file_and_its_kind(tmp_path, what):
    path = tmp_path / f"x.{what}"
    if what == "png":
        _png(path)
        says = "it is a PNG image, not an Optuna journal (JSON lines)"
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (x)")
        says = f"it is an SQLite database, not an Optuna journal (JSON lines): give it as sqlite:///{path}"
    before = _digest(path)
    with pytest.raises(StorageDamaged) as info:
        prepare_study(_settings(tmp_path, f"journal:{path}"))
    assert str(info.value).startswith(f"--storage: {path}: {says}; nothing was written to it")
    assert _digest(path) == before


def _checkpointed(db) -> bytes:
    """The database file's bytes with everything its write-ahead log holds moved into it."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.read_bytes()


def test_a_database_overwritten_inside_a_row_is_refused_as_damaged(tmp_path):
    """Bytes overwritten inside a row leave SQLite's structure (and its quick_check) intact; Optuna then stopped on
    the row with a JSONDecodeError traceback while loading the study. The check reads every JSON value first."""
    db = tmp_path / "cosearch.db"
    study = prepare_study(_settings(tmp_path / "first", db))
    study.set_user_attr("note", "x" * 200)
    del study
    data = _checkpointed(db)
    at = data.index(b'"' + b"x" * 200)
    db.write_bytes(data[:at] + b"#" * 64 + data[at + 64:])   # the JSON string loses its opening quote
    before = _digest(db)
    with pytest.raises(StorageDamaged) as info:
        prepare_study(_settings(tmp_path, db))
    message = str(info.value)
    assert message.startswith(f"--storage: {db}: the database is damaged (table study_user_attributes, row ")
    assert "value_json is not JSON" in message and "nothing was written" in message
    assert _digest(db) == before


def test_a_database_cut_inside_its_schema_is_named_damaged_by_the_path_check(tmp_path):
    """A file cut before the end of its schema is refused when the settings are made, as a damaged SQLite database
    (it was "not an SQLite database"); a cut after it is the storage check's (`damage="half"` above)."""
    db = tmp_path / "cosearch.db"
    with sqlite3.connect(db) as conn:
        for i in range(60):  # a schema of several pages
            conn.execute(f"CREATE TABLE table_with_a_long_name_{i} (a_column_with_a_long_name INTEGER, b TEXT)")
    db.write_bytes(db.read_bytes()[:4096])
    with pytest.raises(UsageError) as info:
        _settings(tmp_path, db)
    assert str(info.value).startswith(f"--storage: {db} is an SQLite database, but damaged (SQLite: ")
    assert "nothing was written to it" in str(info.value)


def _optuna_schema(tmp_path) -> list[str]:
    """The statements of Optuna's tables and indexes in the order Optuna ran them (SQLite's rowid order)."""
    db = tmp_path / "schema.db"
    optuna.storages.RDBStorage(f"sqlite:///{db}")
    with sqlite3.connect(db) as conn:
        return [sql for (sql,) in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]


@pytest.mark.slow
def test_a_storage_another_command_is_creating_is_accepted_at_every_step(tmp_path):
    """Optuna commits each table on its own, so a command that checks the file while another creates it sees a
    part of the schema: each such part is accepted, not refused as another program's database, and opening the
    storage completes it."""
    schema = _optuna_schema(tmp_path)
    assert len(schema) > 10
    for step in range(1, len(schema)):
        db = tmp_path / f"part{step}.db"
        with sqlite3.connect(db) as conn:
            for sql in schema[:step]:
                conn.execute(sql)
        check_sqlite(str(db), lambda _text: None)
        study = optuna.create_study(storage=open_storage(_settings(tmp_path, db).storage), study_name="s")
        study.enqueue_trial({})
        assert len(study.get_trials()) == 1


@pytest.mark.parametrize("other", ["invoices", "alembic_version"])
def test_a_database_that_is_not_part_of_optunas_schema_is_refused(tmp_path, other):
    """Optuna's first table (studies) beside another program's table, or only the version table that Alembic makes
    for any program (Optuna creates it last, never alone)."""
    schema = _optuna_schema(tmp_path)
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        if other == "invoices":
            conn.execute(schema[0])
            conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
        else:
            conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    before = _digest(db)
    with pytest.raises(StorageDamaged) as info:
        check_sqlite(str(db), lambda _text: None)
    assert "another program's database, not an Optuna storage" in str(info.value) and other in str(info.value)
    assert _digest(db) == before
