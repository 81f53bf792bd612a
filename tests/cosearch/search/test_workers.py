"""--workers 2 on one storage: the study's trial count equals the sum of the workers' trials."""
import gc
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from _cosearch_cli import TINY, run_cli, study_trials
import optuna

from cosearch.search.study import make_sampler, worker_seed


def test_seeds():
    assert worker_seed(0, 0, 0) == worker_seed(0, 0, 0) != worker_seed(0, 1, 0) != worker_seed(0, 0, 5)


def test_samplers_of_one_seed_on_one_storage_never_repeat_a_design():
    """Two commands started together on one storage give their workers the same sampler seeds: the draws before
    the first trial completes (CMA-ES's independent ones, the random sampler's) are seeded per trial number."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in ("cmaes", "random"):
        storage = optuna.storages.InMemoryStorage()
        studies = [optuna.create_study(storage=storage, study_name="s", load_if_exists=True,
                                       sampler=make_sampler(name, worker_seed(0, 0, 0))) for _ in range(2)]
        asked = [studies[i % 2].ask({"x": optuna.distributions.FloatDistribution(0, 1)}) for i in range(6)]
        assert len({t.params["x"] for t in asked}) == 6, name  # all running: none completed yet
        again = optuna.create_study(storage=optuna.storages.InMemoryStorage(), sampler=make_sampler(name, worker_seed(0, 0, 0)))
        assert again.ask({"x": optuna.distributions.FloatDistribution(0, 1)}).params["x"] == asked[0].params["x"]


@pytest.mark.slow
def test_two_worker_processes(tmp_path):
    proc = run_cli(["--out", "out", "--workers", "2", "--quiet", *TINY, "--trials", "4"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    workers = doc["study"]["workers"]
    assert len(workers) == 2 and len({w["name"] for w in workers}) == 2 and all(w["this_command"] for w in workers)
    trials = study_trials(tmp_path / "out" / "cosearch.db")
    assert len(trials) == sum(w["trials"] for w in workers)
    # the target (which of the two ran how many depends on their start-up times): a worker waits while the other
    # runs the last trial; both may start it in the same instant (one past the target)
    assert sum(t.state.name == "COMPLETE" for t in trials) == sum(w["complete"] for w in workers) in (4, 5)
    assert {t.user_attrs["worker"]["index"] for t in trials} <= {0, 1}


@pytest.mark.slow
def test_two_commands_on_one_out(tmp_path):
    """Two commands on one --out (one SQLite study): distinct worker names, result.json lists every worker that ran
    trials of the study, and neither progress display counts past the target."""
    args = ["--out", "out", "--workers", "1", *TINY, "--trials", "4"]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_cli(args, cwd=tmp_path, timeout=300), range(2)))
    assert all(r.returncode == 0 for r in runs), [r.stderr[-2000:] for r in runs]
    trials = study_trials(tmp_path / "out" / "cosearch.db")
    ran = {(t.user_attrs["worker"]["host"], t.user_attrs["worker"]["pid"], t.user_attrs["worker"]["index"])
           for t in trials}
    assert {index for _, _, index in ran} == {0}  # each command's worker 0 (usually both ran trials)
    workers = json.loads((tmp_path / "out" / "result.json").read_text())["study"]["workers"]  # the last written
    listed = {(w["host"], w["pid"], w["index"]) for w in workers}
    assert ran <= listed and len(listed - ran) <= 1  # every worker that ran trials, and this command's own
    assert len({w["name"] for w in workers}) == len(workers) and [w["this_command"] for w in workers].count(True) == 1
    assert sum(w["trials"] for w in workers) == len(trials)
    assert sum(t.state.name == "COMPLETE" for t in trials) in (4, 5)  # one past it if both start the last at once
    for w in workers:
        mine = [t for t in trials if t.user_attrs["worker"]["pid"] == w["pid"]]
        assert w["complete"] == sum(t.state.name == "COMPLETE" for t in mine)
    shown = [tuple(map(int, m)) for r in runs for m in re.findall(r"trial (\d+)/(\d+)", r.stderr)]
    assert shown and all(done <= target == 4 for done, target in shown)


@pytest.mark.slow
def test_two_commands_share_one_journal(tmp_path):
    """Two separate commands on one storage and study, as workers on two machines would be."""
    args = ["--storage", "journal:shared/study.log", "--study-name", "shared", "--quiet", "--workers", "1", *TINY,
            "--trials", "4"]
    (tmp_path / "shared").mkdir()  # a storage outside --out needs its folder
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda i: run_cli(args + ["--out", f"out{i}"], cwd=tmp_path, timeout=300), range(2)))
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    import optuna

    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "shared" / "study.log")))
    trials = optuna.load_study(study_name="shared", storage=storage).get_trials(deepcopy=False)
    reports = [json.loads((tmp_path / f"out{i}" / "result.json").read_text())["study"]["workers"] for i in range(2)]
    assert len(trials) == sum(w["trials"] for r in reports for w in r if w["this_command"])  # each its own once
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 4


def test_a_failed_trial_is_retried_with_its_draw_number():
    """retry_trial queues a failed trial's parameters again; draw_number gives the retry its original's place, and
    the trials after it the places they would have had without the failure (so the sampler draws the same)."""
    from cosearch.search.storage import MAX_RETRIES, retry_trial
    from cosearch.search.study import draw_number

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    x = {"x": optuna.distributions.FloatDistribution(0, 1)}

    def run(sampler, fail_at=None):
        study = optuna.create_study(sampler=sampler)
        values = []
        while len(values) < 5:
            trial = study.ask(x)
            if trial.number == fail_at:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                retry_trial(study, study.get_trials(deepcopy=False)[trial.number])
                continue
            values.append(trial.params["x"])
            study.tell(trial, values[-1])
        return study, values

    _, uninterrupted = run(make_sampler("cmaes", 0))
    study, resumed = run(make_sampler("cmaes", 0), fail_at=2)
    assert resumed == uninterrupted  # the same designs in the same order, one trial number later from trial 2 on
    trials = study.get_trials(deepcopy=False)
    assert [draw_number(trials, t.number) for t in trials] == [0, 1, 2, 2, 3, 4]
    assert trials[3].system_attrs["failed_trial"] == 2 and trials[3].params == trials[2].params
    failed = trials[2]
    for _ in range(MAX_RETRIES + 1):  # a trial is retried at most MAX_RETRIES times, and once per failure
        retry_trial(study, failed)
    assert sum(t.system_attrs.get("failed_trial") == 2 for t in study.get_trials(deepcopy=False)) == 1


def test_a_trial_finished_by_another_process_is_told_apart_from_other_errors():
    """Optuna's refusal to tell a finished trial (two processes given one queued trial) is recognised; any other
    ValueError from a trial is not, so it still ends the worker with its message."""
    from cosearch.search.workers import _finished_elsewhere

    assert _finished_elsewhere(ValueError("Cannot tell a COMPLETE trial."))
    assert _finished_elsewhere(ValueError("Cannot tell a FAIL trial."))
    assert not _finished_elsewhere(ValueError("Cannot tell a trial with no values"))
    assert not _finished_elsewhere(ValueError("budget: cannot read 'area'"))


def test_a_worker_waits_for_its_study_and_ends_when_its_command_is_gone(tmp_path):
    """A worker process started before its command prepared the study does not load it (nor create it) until the
    command says it is ready; when its command is gone meanwhile it ends, without touching the storage."""
    from cosearch import make_settings
    from cosearch.search.workers import run_worker

    settings = make_settings(out=tmp_path / "out", study_name="s", workers=2)
    asked = []

    def not_ready() -> bool:
        asked.append(1)
        return False

    report = run_worker(settings, 0, None, None, parent_pid=-1, study_ready=not_ready)
    assert report.stop == "parent process gone" and report.trials == 0 and asked
    assert not list((tmp_path / "out").glob("*.db"))   # the study's SQLite file was never created


def test_a_storage_that_fails_while_a_command_stops_its_workers_is_said_in_one_line(monkeypatch, capsys):
    """Marking the ended workers' RUNNING trials failed is the last thing a stopped command does; when the storage
    fails there, the trials are left to the next run, and the command says so in one line, not silently."""
    from types import SimpleNamespace

    from cosearch.search import workers

    def storage_gone(_url):
        raise RuntimeError("the database went away\n(a second line the driver adds)")

    monkeypatch.setattr(workers, "open_storage", storage_gone)
    workers._fail_unrecorded_trials(SimpleNamespace(storage="sqlite:///x.db", study_name="s"), [1], "why")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(RuntimeError: the database went away)" in err and "next run" in err


@pytest.mark.slow
def test_a_command_that_fails_after_starting_its_workers_stops_them_without_a_traceback(tmp_path, monkeypatch):
    """The worker processes start before the command prepares the study: when preparing it fails on the input, the
    error is the command's one (a UsageError), the workers are ended and their logs hold no traceback."""
    from cosearch import UsageError, make_settings
    from cosearch.search import driver

    started = []

    def start(*args, **kwargs):
        started.append(driver_start(*args, **kwargs))
        return started[-1]

    def prepare_fails(*_args, **_kwargs):
        time.sleep(2)  # the workers are importing meanwhile
        raise UsageError("--storage: refused by this test")

    driver_start = driver.start_worker_processes
    monkeypatch.setattr(driver, "start_worker_processes", start)
    monkeypatch.setattr(driver, "prepare_study", prepare_fails)
    settings = make_settings(out=tmp_path / "out", study_name="s", workers=2, trials=2)
    with pytest.raises(UsageError, match="refused by this test"):
        driver.run_search(settings)
    (workers,) = started
    assert [p.returncode is not None for p in workers.procs] == [True, True]
    for log in sorted((tmp_path / "out" / "workers").glob("worker-*.log")):
        assert "Traceback" not in log.read_text(), log.read_text()
    assert not list((tmp_path / "out" / "workers").glob("job-*"))


@pytest.mark.slow
def test_a_worker_keeps_its_long_lived_heap_out_of_the_collector_during_its_trials_only(tmp_path):
    """`run_worker` freezes the objects alive before its first trial (`gc.freeze`) and unfreezes them when it returns;
    a heap its caller froze stays frozen."""
    import cosearch
    from cosearch.search.study import prepare_study
    from cosearch.search.workers import run_worker

    settings = cosearch.make_settings("area=2.5mm2", network="alexnet", trials=2, out=tmp_path / "out",
                                      mapper_evals=32, final_mapper_evals=64, time_limit="none")
    prepare_study(settings)
    assert gc.get_freeze_count() == 0
    during = []
    report = run_worker(settings, 0, quota=1, on_trial=lambda: during.append(gc.get_freeze_count()))
    assert report.trials >= 1 and during and all(n > 0 for n in during)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        run_worker(settings, 0, quota=1)
        assert gc.get_freeze_count() > 0      # not unfrozen (objects freed by reference counts leave the count)
    finally:
        gc.unfreeze()


def test_an_interrupt_inside_a_callback_from_c_leaves_one_line_not_a_traceback(capsys, monkeypatch):
    """A SIGTERM that lands in a Python callback run from C (as numba's compiler runs llvmlite's object cache) cannot
    propagate: a worker's unraisable hook says so in one line; any other unraisable error keeps its traceback."""
    import ctypes
    import ctypes.util

    from cosearch.search.workers import _unraisable

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    compare_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))

    def sort_with(error):
        raised = []

        def compare(a, b):
            if not raised:              # once: qsort calls back several times
                raised.append(error)
                raise error
            return a[0] - b[0]
        values = (ctypes.c_int * 3)(3, 1, 2)
        libc.qsort(values, 3, ctypes.sizeof(ctypes.c_int), compare_type(compare))

    monkeypatch.setattr(sys, "unraisablehook", _unraisable)
    sort_with(KeyboardInterrupt())
    err = capsys.readouterr().err
    assert err.strip() == "interrupted during a compile: stopping at the next check"
    sort_with(ValueError("not an interrupt"))
    err = capsys.readouterr().err
    assert "Traceback" in err and "not an interrupt" in err
