"""A run killed with SIGKILL (mid-trial, between trials, in the final phase) and started again each time ends where an
uninterrupted run of the same command does: the same trials in the same order, the same best design and EDP.

The kill points are exact, not timed: the run is killed while the test holds its database's write lock and has read
the wanted state there, so that what the test read is what the kill left. The test looks after each of the run's
commits, not on a clock.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from _cosearch_cli import CLI, cli_env, run_cli, study_trials

TRIALS = 5
ARGS = ["--trials", str(TRIALS), "--population", "2", "--generations", "1", "--mapper-evals", "16",
        "--final-mapper-evals", "32", "--seed", "3", "--workers", "1", "--time-limit", "none"]
"""One worker (a deterministic order of trials), no time limit (nothing depends on the clock), small loops."""


def _states(con) -> list[tuple[str, int]]:
    """(state, number of parameters) of each trial, in trial order; [] before the tables exist."""
    try:
        return list(con.execute("SELECT t.state, (SELECT COUNT(*) FROM trial_params p WHERE p.trial_id = t.trial_id) "
                                "FROM trials t ORDER BY t.number"))
    except sqlite3.Error:
        return []


LOOK_AGAIN_S = 1.0
"""A look at the database at least this often even when the run commits nothing (a safety net: every change of the
trials' states is a commit, which is looked at at once)."""


def _kill_when(tmp_path, wanted, what: str, timeout_s: float = 240.0) -> list[tuple[str, int]]:
    """Start the command on OUT and SIGKILL it at the first moment `wanted(states)` holds; the states it left.

    Each look holds the database's write lock (BEGIN IMMEDIATE), so that the run cannot record anything between
    the look and the kill: a run between two trials cannot start the next one. A look is taken after each commit
    of the run (`PRAGMA data_version`, read without a lock, changes when another connection commits), so the run is
    blocked only while one look lasts: a busy machine slows the run, but the test never holds the lock so often that
    the run waits on it for long (looking every millisecond under the lock starved the run of it under load)."""
    db = tmp_path / "out" / "cosearch.db"
    log = (tmp_path / f"killed-{what}.log").open("w")
    proc = subprocess.Popen([sys.executable, str(CLI), *ARGS, "--out", "out"], cwd=tmp_path, env=cli_env(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    con = None
    seen_version, looked_at = None, 0.0
    try:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            assert proc.poll() is None, f"the run ended before it could be killed {what}: {_tail(tmp_path, what)}"
            if con is None:
                if not db.exists():
                    time.sleep(0.01)
                    continue
                con = sqlite3.connect(db, timeout=0.05, isolation_level=None)
            try:
                version = con.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                version = None
            if version == seen_version and time.monotonic() - looked_at < LOOK_AGAIN_S:
                time.sleep(0.001)  # nothing committed since the last look
                continue
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # the run is writing: its commit is looked at next
                continue
            try:
                seen_version, looked_at = con.execute("PRAGMA data_version").fetchone()[0], time.monotonic()
                states = _states(con)
                if wanted(states):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(30)
                    return states
            finally:
                con.execute("ROLLBACK")
        raise AssertionError(f"never {what} within {timeout_s} s")
    finally:
        if con is not None:
            con.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        log.close()


def _tail(tmp_path, what: str) -> str:
    return (tmp_path / f"killed-{what}.log").read_text()[-2000:]


def _finished(states) -> list[str]:
    return [s for s, _ in states if s in ("COMPLETE", "PRUNED")]


def _mid_trial(states) -> bool:
    """A trial has drawn its design (parameters stored) and is running, after at least one complete trial."""
    return "COMPLETE" in _finished(states) and states[-1][0] == "RUNNING" and states[-1][1] > 0


def _sequence(trials) -> list:
    """The study's finished trials in order, without the ones killed (failed, then re-run)."""
    return [(t.state.name, t.params, t.value) for t in trials if t.state.name != "FAIL"]


@pytest.mark.slow
def test_killed_three_times_then_resumed_ends_as_uninterrupted(tmp_path):
    db = tmp_path / "out" / "cosearch.db"
    with ThreadPoolExecutor(1) as pool:
        uninterrupted = pool.submit(run_cli, [*ARGS, "--out", "reference"], cwd=tmp_path, timeout=300)

        states = _kill_when(tmp_path, _mid_trial, "mid-trial")
        kept = len(_finished(states))
        between = kept + 1  # after the interrupted trial's re-run (or a later one), before the next trial starts
        states = _kill_when(tmp_path, lambda s: len(_finished(s)) >= between and s[-1][0] in ("COMPLETE", "PRUNED")
                            and _finished(s).count("COMPLETE") < TRIALS, "between trials")
        assert states[-1][0] in ("COMPLETE", "PRUNED") and "RUNNING" not in [s for s, _ in states]
        assert [s for s, _ in states].count("FAIL") == 1  # the mid-trial kill's trial, re-run
        states = _kill_when(tmp_path, lambda s: _finished(s).count("COMPLETE") == TRIALS
                            and not any(x in ("RUNNING", "WAITING") for x, _ in s), "in the final phase")
        assert not (tmp_path / "out" / "result.json").exists()  # killed before the end
        resumed = run_cli([*ARGS, "--out", "out"], cwd=tmp_path, timeout=300)
        reference = uninterrupted.result()
    assert reference.returncode == 0, reference.stderr
    assert resumed.returncode == 0, resumed.stderr
    assert f"{TRIALS} complete trials kept, 0 to go" in resumed.stderr

    killed = study_trials(db)
    assert [t.state.name for t in killed].count("FAIL") == 1
    failed = next(t for t in killed if t.state.name == "FAIL")
    retry = next(t for t in killed if t.system_attrs.get("failed_trial") == failed.number)
    # the retry keeps what the killed trial had drawn (the kill may land before it drew every gene)
    assert failed.params and failed.params.items() <= retry.params.items()
    assert retry.state.name in ("COMPLETE", "PRUNED")
    assert "killed" in failed.user_attrs["reason"]
    assert _sequence(killed) == _sequence(study_trials(tmp_path / "reference" / "cosearch.db"))

    results = [json.loads((tmp_path / out / "result.json").read_text()) for out in ("reference", "out")]
    assert results[0]["design"] == results[1]["design"]
    assert results[0]["metrics"]["edp_j_s"] == results[1]["metrics"]["edp_j_s"]
