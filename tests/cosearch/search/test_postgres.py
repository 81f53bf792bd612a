"""Workers on several machines share one PostgreSQL database: two processes of the same command, started
together against a real server, complete the study with no trial lost or duplicated, also when one of them is
killed mid-trial."""
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import optuna
import psycopg2
import pytest

from _cosearch_cli import CLI, cli_env, run_cli
from cosearch.search.storage import HEARTBEAT_ENV

ARGS = ["--network", "alexnet", "--trials", "8", "--mapper-evals", "16", "--final-mapper-evals", "16",
        "--study-name", "two-machines", "--quiet", "--time-limit", "none"]
"""A fixed small network and tiny mapper budgets: trials of well under a second, so that the test is about the
storage (the subnet search is the same with any storage)."""


@pytest.mark.slow
def test_two_commands_on_one_postgresql_database(postgres, tmp_path):
    url = postgres.create_database("cosearch_two_machines")
    command = [*ARGS, "--storage", url, "--workers", "1"]     # one worker process per "machine"
    with ThreadPoolExecutor(2) as pool:  # the same command on two "machines", each with its own --out
        runs = list(pool.map(lambda i: run_cli([*command, "--out", f"machine{i}"], cwd=tmp_path, timeout=600),
                             range(2)))
    assert all(r.returncode == 0 for r in runs), [r.stderr[-3000:] for r in runs] + [postgres.log()[-2000:]]

    reports = [json.loads((tmp_path / f"machine{i}" / "result.json").read_text())["study"] for i in range(2)]
    assert {r["storage"] for r in reports} == {url.replace("postgresql://", "postgresql+psycopg2://")}  # the driver
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name="two-machines", storage=reports[0]["storage"]).get_trials(deepcopy=False)
    workers = [w for r in reports for w in r["workers"] if w["this_command"]]
    # nothing lost: every trial in the database was run by one of the two commands, which both counted it
    assert len(trials) == sum(w["trials"] for w in workers)
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # nothing duplicated or skipped
    pids = {t.user_attrs["worker"]["pid"] for t in trials}
    assert pids == {w["pid"] for w in workers}, "both commands ran trials"
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    # a worker waits while others run the last trials, but the workers of both commands may read the count in the
    # same instant and start the last one: at most one past the target per extra worker
    assert 8 <= len(complete) <= 8 + len(workers) - 1
    assert not any(t.state.name in ("RUNNING", "FAIL") for t in trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == len(complete)  # no trial run twice


@pytest.mark.slow
def test_a_worker_killed_mid_trial_is_replaced_by_the_heartbeat(postgres, tmp_path):
    """Two worker processes of one command; one is killed (SIGKILL) mid-trial. Optuna's heartbeat fails its trial,
    the other worker re-runs it, and the study completes with no trial lost or duplicated."""
    url = postgres.create_database("cosearch_killed_worker")
    env = {**cli_env(), HEARTBEAT_ENV: "1"}  # a silent worker's trial is failed after 6 s (not 60)
    proc = subprocess.Popen([sys.executable, str(CLI), *ARGS, "--storage", url, "--out", "out", "--workers", "2"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    try:
        with psycopg2.connect(url) as con:
            deadline = time.time() + 300
            while killed is None:
                assert proc.poll() is None and time.time() < deadline, "no trial to kill its worker in"
                with con.cursor() as cur:  # the trials table locked while looking and killing: nothing recorded
                    try:
                        cur.execute("LOCK TABLE trials IN EXCLUSIVE MODE")
                    except psycopg2.errors.UndefinedTable:  # the study is not created yet
                        states, running = [], []
                    else:
                        cur.execute("SELECT state FROM trials")
                        states = [s for (s,) in cur.fetchall()]
                        cur.execute("SELECT a.value_json FROM trial_user_attributes a JOIN trials t USING (trial_id) "
                                    "WHERE t.state = 'RUNNING' AND a.key = 'worker'")
                        running = [json.loads(v)["pid"] for (v,) in cur.fetchall()]
                    if "COMPLETE" in states and running:
                        killed = running[0]
                        os.kill(killed, signal.SIGKILL)
                con.rollback()
                time.sleep(0.01)
        _, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == 0, stderr[-3000:] + postgres.log()[-2000:]

    storage = json.loads((tmp_path / "out" / "result.json").read_text())["study"]["storage"]  # with its driver
    trials = optuna.load_study(study_name="two-machines", storage=storage).get_trials(deepcopy=False)
    (failed,) = [t for t in trials if t.state.name == "FAIL"]
    assert failed.user_attrs["worker"]["pid"] == killed
    assert "reason" not in failed.user_attrs  # failed by the heartbeat (the same-host check gives a reason)
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == failed.number]
    assert retry.state.name == "COMPLETE" and failed.params.items() <= retry.params.items()
    assert retry.user_attrs["worker"]["pid"] != killed
    assert sum(t.state.name == "COMPLETE" for t in trials) in (8, 9)  # the target (both may start the last at once)
    assert not any(t.state.name in ("RUNNING", "WAITING") for t in trials)
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == len(complete)  # no trial run twice

    workers = json.loads((tmp_path / "out" / "result.json").read_text())["study"]["workers"]
    assert len(workers) == 2 and len({w["name"] for w in workers}) == 2
    assert sum(w["trials"] for w in workers) == len(trials)
    dead = next(w for w in workers if w["pid"] == killed)
    assert dead["failed"] == 1 and dead["stop"].startswith("exited with status")
