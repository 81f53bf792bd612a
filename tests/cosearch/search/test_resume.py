"""A run killed with SIGKILL mid-way and started again resumes: no finished trial is lost."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

from _cosearch_cli import CLI, cli_env, run_cli, study_trials

ARGS = ["--out", "out", "--trials", "6", "--population", "2", "--generations", "1", "--mapper-evals", "32",
        "--final-mapper-evals", "64", "--seed", "3"]


def _states(db) -> list[str]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return [row[0] for row in con.execute("SELECT state FROM trials ORDER BY number")]
    except sqlite3.Error:
        return []


def test_sigkill_then_resume(tmp_path):
    db = tmp_path / "out" / "cosearch.db"
    log = (tmp_path / "killed_run.log").open("w")
    proc = subprocess.Popen([sys.executable, str(CLI), *ARGS, "--quiet"], cwd=tmp_path, env=cli_env(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            states = _states(db) if db.exists() else []
            if states.count("COMPLETE") >= 2 and states[-1:] == ["RUNNING"]:
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        else:
            raise AssertionError("no trial was running after two complete ones")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        log.close()
    before = {t.number: (t.value, t.params) for t in study_trials(db) if t.state.name == "COMPLETE"}
    assert len(before) >= 2
    interrupted = sum(t.state.name == "RUNNING" for t in study_trials(db))  # 1, or 0 if it just finished

    again = run_cli(ARGS, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{len(before)} complete trials kept" in again.stderr
    after = study_trials(db)
    complete = {t.number: (t.value, t.params) for t in after if t.state.name == "COMPLETE"}
    assert len(complete) == 6
    for number, (value, params) in before.items():
        assert complete[number] == (value, params)
    assert not any(t.state.name == "RUNNING" for t in after)
    assert sum(t.state.name == "FAIL" for t in after) == interrupted  # the trial the kill interrupted
