"""The storage: a trial whose worker died is failed with a reason; an empty file is refused unless --start-over."""
import json
import os
import subprocess
import sys
import time

import optuna
import pytest

from cosearch.config import UsageError, make_settings
from cosearch.search.storage import fail_orphaned_trials, open_storage
from cosearch.search.study import prepare_study
from cosearch.search.storage import claim_trial
from cosearch.search.study import OBJECTIVE_NAME


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # ask() outside optimize(), as a worker that died
def test_an_orphaned_trial_is_failed_with_a_reason_and_queued_again(tmp_path):
    settings = make_settings(out=tmp_path / "out")
    storage = open_storage(settings.storage)
    study = optuna.create_study(storage=storage, study_name="s")
    orphan = study.ask()
    orphan.set_user_attr("worker", {"host": __import__("socket").gethostname(), "pid": _dead_pid(), "index": 0})
    alive = study.ask()  # no worker tag yet and fresh: may still be claimed, left running
    assert fail_orphaned_trials(study, storage) == 1
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    failed = trials[orphan.number]
    assert failed.state.name == "FAIL" and failed.user_attrs["status"] == "failed"
    assert "ended without finishing it" in failed.user_attrs["reason"]
    assert trials[alive.number].state.name == "RUNNING"
    (retry,) = [t for t in trials.values() if t.state.name == "WAITING"]  # queued to run again, once
    assert retry.system_attrs["failed_trial"] == orphan.number and retry.params == failed.params
    assert fail_orphaned_trials(study, storage) == 0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Heartbeat of storage", "ignore::optuna.exceptions.ExperimentalWarning")
def test_a_claimed_trial_beats_at_once_so_its_worker_killed_at_once_is_noticed_from_any_host(tmp_path):
    """No heartbeat thread runs here, as for a worker killed right after claiming its trial on another host:
    the claim's own beat is what lets Optuna's stale check fail the trial."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    claim_trial(trial, {"host": "another-machine", "pid": 12345, "index": 0})
    time.sleep(2.5)
    optuna.storages.fail_stale_trials(study)
    (frozen,) = study.get_trials(deepcopy=False)
    assert frozen.state.name == "FAIL" and frozen.user_attrs["worker"]["host"] == "another-machine"


def test_the_objective_is_named(tmp_path):
    study = prepare_study(make_settings(out=tmp_path / "out"))
    assert study.metric_names == [OBJECTIVE_NAME] == ["EDP (J*s)"]


def test_an_empty_database_is_refused_unless_starting_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cosearch.db").write_bytes(b"")
    with pytest.raises(UsageError, match=r"cosearch\.db is empty \(0 bytes\).*--start-over"):
        make_settings(out=out)
    study = prepare_study(make_settings(out=out, start_over=True))
    # a new study: only its seed trials, queued (cosearch.search.seeds)
    assert [t.state.name for t in study.get_trials()] == ["WAITING"] * 3 and (out / "cosearch.db").stat().st_size > 0


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_start_over_deletes_the_old_study(tmp_path):
    settings = make_settings(out=tmp_path / "out", study_name="s")
    study = prepare_study(settings)
    assert len(study.get_trials()) == 3  # the seed trials (cosearch.search.seeds)
    study.enqueue_trial({"pes": 0.5})
    assert len(prepare_study(settings).get_trials()) == 4  # resumed: the trials are kept, no seeds queued again
    fresh = prepare_study(make_settings(out=tmp_path / "out", study_name="s", start_over=True)).get_trials()
    assert [t.user_attrs.get("seed") for t in fresh] == ["nvdla_256", "nvdla_1024", "shidiannao"]


def test_a_study_another_command_is_creating_gets_its_seeds_once(tmp_path, monkeypatch):
    """Two commands starting at once on one storage: the one that did not create the study waits for the creator's
    set-up instead of queueing the seed trials a second time; a creator that never sets it up is taken over."""
    import threading

    from cosearch.search import study as study_module

    settings = make_settings(out=tmp_path / "out", study_name="s")
    storage = open_storage(settings.storage)
    made = optuna.create_study(storage=storage, study_name="s")  # the other command, before its set-up
    identity = json.loads(json.dumps(settings.identity()))
    threading.Timer(0.5, lambda: made.set_user_attr(study_module.IDENTITY_ATTR, identity)).start()
    assert prepare_study(settings).get_trials() == []  # no seed queued by this command: the creator queues them

    monkeypatch.setattr(study_module, "CREATOR_WAIT_S", 0.4)
    optuna.create_study(storage=storage, study_name="t")  # a creator that died before its set-up
    taken_over = prepare_study(make_settings(out=tmp_path / "out", study_name="t"))
    assert taken_over.user_attrs[study_module.IDENTITY_ATTR] == identity
    assert [t.state.name for t in taken_over.get_trials()] == ["WAITING"] * 3  # the fitting presets' designs


@pytest.mark.slow
def test_resuming_with_other_settings_is_refused(finished_run):
    study = json.loads((finished_run / "result.json").read_text())["study"]["name"]
    with pytest.raises(UsageError, match=r"--study-name: .* was made by a different search \(budget: stored"):
        prepare_study(make_settings("area=4mm2", out=finished_run, study_name=study))


def test_heartbeat_interval_from_the_environment(monkeypatch):
    from cosearch.config import UsageError
    from cosearch.search.storage import GRACE_PERIOD_S, HEARTBEAT_ENV, HEARTBEAT_INTERVAL_S, heartbeat_s

    monkeypatch.delenv(HEARTBEAT_ENV, raising=False)
    assert heartbeat_s() == (HEARTBEAT_INTERVAL_S, GRACE_PERIOD_S)
    monkeypatch.setenv(HEARTBEAT_ENV, "2")
    assert heartbeat_s() == (2, 12)
    for bad in ("abc", "0", "1.5", "-3", "99999"):
        monkeypatch.setenv(HEARTBEAT_ENV, bad)
        with pytest.raises(UsageError, match=r"COSEARCH_HEARTBEAT_S must be a whole number of seconds in \[1, 3600\]"):
            heartbeat_s()


def test_a_study_from_before_another_fusion_mode_names_the_option_that_resumes_it(tmp_path):
    """A study made with `--fusion none` (whose identity has no fusion key, as every study made before the option)
    resumed by a run with another mode: one line naming the setting, both values and the option that resumes it;
    `--fusion none` does resume it."""
    out = tmp_path / "out"
    prepare_study(make_settings(out=out, study_name="t", fusion="none"))
    with pytest.raises(UsageError) as info:
        prepare_study(make_settings(out=out, study_name="t", fusion="resident"))
    assert 'fusion: stored "none", this run "resident" (--fusion none resumes it)' in str(info.value)
    assert "\n" not in str(info.value)
    assert prepare_study(make_settings(out=out, study_name="t", fusion="none")).study_name == "t"


def test_a_fixed_device_study_from_another_fusion_mode_says_what_differs(tmp_path):
    from cosearch.search.nas.run import _prepare_study

    out = tmp_path / "out"
    _prepare_study(make_settings(None, accelerator="eyeriss", out=out, study_name="t", fusion="none"), print)
    with pytest.raises(UsageError, match=r'\(fusion: stored "none", this run "resident" \(--fusion none resumes it\)\)'):
        _prepare_study(make_settings(None, accelerator="eyeriss", out=out, study_name="t", fusion="resident"), print)


def test_a_new_sqlite_storage_is_written_while_another_process_holds_its_write_lock(tmp_path):
    """Another command holds the write lock of the new file (creating its tables, or checking it with `check_sqlite`)
    as this one writes: this one waits for it (SQLite's busy timeout) rather than failing at once. SQLite refuses a
    switch of the journal mode to WAL at once, whatever the busy timeout, while a file in rollback-journal mode is
    locked for writing: made on a connection's first use of a file Optuna had created, that switch failed mid-run
    ("database is locked" under Optuna's StorageInternalError)."""
    import sqlite3
    import threading

    spec = make_settings(out=tmp_path / "out").storage
    open_storage(spec)                                                       # the file, its tables
    other = sqlite3.connect(spec.display, timeout=0, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")                                          # the other command's write lock
    released = threading.Timer(1.0, lambda: other.execute("ROLLBACK"))
    released.start()
    try:
        study = optuna.create_study(storage=open_storage(spec), study_name="s")  # new connections, a write
        assert not other.in_transaction                                          # it waited for the lock
        assert study.study_name == "s"
    finally:
        released.join()
        other.close()
    with sqlite3.connect(spec.display) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_sqlite_storage_file_is_never_seen_empty(tmp_path, monkeypatch):
    """Another command on the same --out checks the path while this one creates it: SQLite creates a file empty and
    writes its header later, and an empty file is refused as a truncated study. The file appears whole, already in
    WAL mode, and no temporary file is left beside it."""
    import sqlite3
    import cosearch.search.storage as storage_module

    spec = make_settings(out=tmp_path / "out").storage
    seen = []
    connect = sqlite3.connect

    def watched(*args, **kwargs):
        conn = connect(*args, **kwargs)
        seen.append(os.path.getsize(spec.display) if os.path.exists(spec.display) else None)
        return conn

    monkeypatch.setattr(storage_module.sqlite3, "connect", watched)
    open_storage(spec)
    monkeypatch.undo()
    assert seen and 0 not in seen
    assert [p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith("cosearch.db")] == []
    with sqlite3.connect(spec.display) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_journal_is_never_seen_empty(tmp_path):
    """The same for a journal, which Optuna creates empty and writes at the study's creation: a new journal appears
    holding records already (a placeholder study created and deleted), no study in it, nothing left beside it, and a
    second command's check of its path passes while the first has only opened it."""
    path = tmp_path / "shared" / "study.log"
    path.parent.mkdir()
    spec = make_settings(out=tmp_path / "out", storage=f"journal:{path}").storage
    storage = open_storage(spec)
    assert path.stat().st_size > 0
    assert optuna.get_all_study_summaries(storage) == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["study.log"]
    make_settings(out=tmp_path / "out2", storage=f"journal:{path}")          # the other command's check: no error
    study = optuna.create_study(storage=open_storage(spec), study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert [s.study_name for s in optuna.get_all_study_summaries(open_storage(spec))] == ["s"]


def test_a_worker_starting_a_trial_holds_the_others_of_its_host_until_the_trial_exists(tmp_path):
    """`hold_trial_start` takes the run folder's lock (another process cannot take it) until `claim_trial`, the
    objective's first step, releases it; releasing twice is harmless."""
    import fcntl
    import os

    from cosearch.search.storage import TRIAL_START_LOCK, claim_trial, hold_trial_start, release_trial_start

    def others_can_take() -> bool:
        fd = os.open(tmp_path / TRIAL_START_LOCK, os.O_CREAT | os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)      # a new open file: as another process would
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    hold_trial_start(tmp_path)
    assert not others_can_take()
    study = optuna.create_study()
    claim_trial(study.ask(), {"index": 0})
    assert others_can_take()
    release_trial_start()
    assert others_can_take()
