"""Workers on several machines share one PostgreSQL database: two processes of the same command, started
together against a real server, complete the study with no trial lost or duplicated."""
import json
from concurrent.futures import ThreadPoolExecutor

import optuna

from _cosearch_cli import run_cli

ARGS = ["--network", "alexnet", "--trials", "8", "--mapper-evals", "16", "--final-mapper-evals", "16",
        "--study-name", "two-machines", "--quiet", "--time-limit", "none"]
"""A fixed small network and tiny mapper budgets: trials of well under a second, so that the test is about the
storage (the subnet search is the same with any storage)."""


def test_two_commands_on_one_postgresql_database(postgres, tmp_path):
    url = postgres.create_database("cosearch_two_machines")
    command = [*ARGS, "--storage", url]
    with ThreadPoolExecutor(2) as pool:  # the same command on two "machines", each with its own --out
        runs = list(pool.map(lambda i: run_cli([*command, "--out", f"machine{i}"], cwd=tmp_path, timeout=600),
                             range(2)))
    assert all(r.returncode == 0 for r in runs), [r.stderr[-3000:] for r in runs] + [postgres.log()[-2000:]]

    reports = [json.loads((tmp_path / f"machine{i}" / "result.json").read_text())["study"] for i in range(2)]
    assert {r["storage"] for r in reports} == {url.replace("postgresql://", "postgresql+psycopg2://")}  # the driver
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name="two-machines", storage=reports[0]["storage"]).get_trials(deepcopy=False)
    workers = [w for r in reports for w in r["workers"]]
    # nothing lost: every trial in the database was run by one of the two commands, which both counted it
    assert len(trials) == sum(w["trials"] for w in workers)
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # nothing duplicated or skipped
    pids = {t.user_attrs["worker"]["pid"] for t in trials}
    assert pids == {w["pid"] for w in workers}, "both commands ran trials"
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert 8 <= len(complete) <= 8 + len(workers)  # a worker finishing its running trial may pass the target
    assert not any(t.state.name in ("RUNNING", "FAIL") for t in trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in complete}) == len(complete)  # no trial run twice
