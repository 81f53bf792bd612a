"""Ctrl-C (SIGINT to the command's process group, as a terminal sends it) gives one line and exit status 130 wherever
it lands: while the libraries load, inside a long compiled mapper call (numba) of a trial, in a worker process, in
the final phase; the interrupted trial is queued to run again on resume. An interrupt whose KeyboardInterrupt a C
callback swallowed (numba's compiler calls one) is not lost: the search raises it after the next layer's mapping."""
import json
import os
import pickle
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import warnings
from types import SimpleNamespace

import optuna
import pytest

from _cosearch_cli import CLI, cli_env, study_trials
from accel_models import get_preset
from cosearch.config import make_settings
from cosearch.search import interrupts, workers
from cosearch.search.storage import claim_trial, fail_trials_of_this_process, open_storage, worker_tag
from cosearch.search.evaluate import network_run
from mappings import MapperSettings, MappingCache
from nets import Layer, Network

LONG_MAPPER = ["--mapper-evals", "200000"]
"""A per-layer mapper budget whose compiled search runs for seconds: a trial spends nearly all its time in numba."""
BASE = ["--trials", "2", "--population", "2", "--generations", "1", "--final-mapper-evals", "32", "--time-limit",
        "none", "--quiet", "--out", "out"]


def _sigint_as_at_a_terminal() -> None:
    """SIGINT back to its default in the child before it runs Python: a test run started in the background of a
    non-interactive shell inherits SIGINT ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _trial_states(db):
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return list(con.execute("SELECT t.number, t.state, (SELECT COUNT(*) FROM trial_params p "
                                    "WHERE p.trial_id = t.trial_id) FROM trials t ORDER BY t.number"))
    except sqlite3.Error:
        return []


class _InATrial:
    """Whether a trial runs its subnet search (its mapper calls): it has drawn every gene (21) and is still RUNNING
    `held_s` after it was first seen so. A design over the area budget is rejected within milliseconds of its
    genes; a trial past that point maps layers for seconds (LONG_MAPPER)."""

    def __init__(self, held_s: float = 0.3):
        self.held_s = held_s
        self.seen: dict[int, float] = {}

    def __call__(self, states) -> bool:
        now = time.monotonic()
        running = {number for number, s, n in states if s == "RUNNING" and n == 21}
        self.seen = {number: self.seen.get(number, now) for number in running}
        return any(now - first >= self.held_s for first in self.seen.values())

    @property
    def running(self) -> set[int]:
        """The trials seen running their subnet search at the last call."""
        return set(self.seen)


def _assert_interrupted_trials_queued(db, in_flight: set[int], reason: str) -> None:
    """Each trial the signal stopped failed with `reason` and is queued to run again (a WAITING trial naming it as
    "failed_trial"), and each trial in flight when the signal came (`in_flight`) either is one of those or finished:
    a signal whose KeyboardInterrupt a C callback swallowed is raised at the search's next check, which for a
    trial past its last layer's mapping comes after the trial is recorded (`cosearch.search.interrupts`)."""
    trials = study_trials(db)
    states = [(t.number, t.state.name, t.user_attrs.get("reason")) for t in trials]
    failed = {t.number for t in trials if t.state.name == "FAIL"}
    assert all(reason in (t.user_attrs.get("reason") or "") for t in trials if t.number in failed), states
    # (the other WAITING trials: the area budget's seed trials not yet run, see cosearch.search.seeds)
    retried = {t.system_attrs["failed_trial"] for t in trials
               if t.state.name == "WAITING" and "failed_trial" in t.system_attrs}
    assert retried == failed, states
    finished = {t.number for t in trials if t.state.name == "COMPLETE"}
    assert in_flight and in_flight <= failed | finished, (sorted(in_flight), states)


def _in_final_phase(states) -> bool:
    """Every trial ended and the study's target (BASE: 2 complete trials) reached: no trial is left to start (a
    queued seed trial past the target stays WAITING, see cosearch.search.seeds)."""
    return bool(states) and all(s in ("COMPLETE", "PRUNED", "WAITING") for _, s, _ in states) and \
        [s for _, s, _ in states].count("COMPLETE") >= 2


CASES = {
    "while loading": ([], None, 0.3),
    "inside a compiled mapper call": ([*LONG_MAPPER, "--workers", "1"], _InATrial, 0.5),
    "in a worker process": ([*LONG_MAPPER, "--workers", "2"], _InATrial, 0.5),
    "in the final phase": (["--mapper-evals", "16", "--final-mapper-evals", "200000", "--workers", "1"],
                           _in_final_phase, 0.5),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_ctrl_c_is_one_line_and_status_130(tmp_path, case):
    extra, ready, wait_s = CASES[case]
    in_a_trial = ready is _InATrial
    if in_a_trial:
        ready = _InATrial()
    db = tmp_path / "out" / "cosearch.db"
    proc = subprocess.Popen([sys.executable, str(CLI), *BASE, *extra], cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_sigint_as_at_a_terminal)
    try:
        deadline = time.time() + 180
        while ready is not None and not ready(_trial_states(db) if db.exists() else []):
            assert proc.poll() is None and time.time() < deadline, f"never ready to interrupt {case}"
            time.sleep(0.05)
        time.sleep(wait_s)
        assert proc.poll() is None, f"the run ended before the interrupt {case}"
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    assert proc.returncode == 130, stderr[-3000:]
    assert stderr.splitlines() == ["run_cosearch.py: error: interrupted; finished trials are kept: re-run the same "
                                   "command to resume"], stderr[-3000:]
    if in_a_trial:
        _assert_interrupted_trials_queued(db, ready.running, "interrupted")


@pytest.mark.slow
def test_sigterm_in_a_trial_is_one_line_and_status_143(tmp_path):
    """SIGTERM to the command alone (as `kill PID` sends it) mid-trial: one line, 143; the trial is queued again."""
    db = tmp_path / "out" / "cosearch.db"
    proc = subprocess.Popen([sys.executable, str(CLI), *BASE, *LONG_MAPPER, "--workers", "1"], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 180
        in_a_trial = _InATrial()
        while not in_a_trial(_trial_states(db) if db.exists() else []):
            assert proc.poll() is None and time.time() < deadline, "never reached a trial"
            time.sleep(0.05)
        proc.terminate()
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    assert proc.returncode == 143, stderr[-3000:]
    assert stderr.splitlines() == ["run_cosearch.py: error: terminated (SIGTERM); finished trials are kept: re-run "
                                   "the same command to resume"], stderr[-3000:]
    _assert_interrupted_trials_queued(db, in_a_trial.running, "interrupted")


def test_a_recorded_signal_stops_the_next_network_run(monkeypatch):
    signals: list[int] = []
    monkeypatch.setattr(interrupts, "_requested", signals)
    net = Network("two", [Layer.conv(8, 8, 3, 8, name="a"), Layer.conv(8, 16, 1, 8, name="b")])
    cache = MappingCache(MapperSettings(budget_evals=16))
    acc = get_preset("eyeriss")
    assert network_run(net, acc, cache).latency_s > 0          # nothing recorded: runs
    signals.append(15)                                           # a SIGTERM whose exception was swallowed
    with pytest.raises(KeyboardInterrupt):
        network_run(net, acc, cache)


STUCK_WORKER = """
import os, signal, socket, sys, time
import optuna
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # deaf to its command, as one whose interrupt a numba compile swallowed
optuna.logging.set_verbosity(optuna.logging.ERROR)
db, ready = sys.argv[1:3]
study = optuna.load_study(study_name="s", storage=f"sqlite:///{db}")
trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
trial.set_user_attr("worker", {"host": socket.gethostname(), "pid": os.getpid(), "index": 0})
open(ready, "w").close()
time.sleep(600)
"""


def _interrupt():
    raise KeyboardInterrupt


def _interrupt_chained_in_a_driver():
    """What a database driver interrupted mid-call raises: its own error, raised while handling the interrupt."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise RuntimeError("the driver's error") from None


@pytest.mark.parametrize("stop", [_interrupt, _interrupt_chained_in_a_driver],
                         ids=["KeyboardInterrupt", "an error raised while handling one"])
@pytest.mark.slow
def test_a_stopped_command_leaves_no_trial_of_its_workers_running(tmp_path, monkeypatch, stop):
    """A worker process that never records its trial (it ignores its command's SIGTERM, as one does when a numba
    compile swallowed the KeyboardInterrupt, or it is killed mid-trial): once its command is interrupted, the worker
    is stopped within INTERRUPT_WAIT_S and its trial is FAIL, "interrupted", and queued again, not left RUNNING."""
    settings = make_settings(out=tmp_path / "out", study_name="s", workers=1)
    db = settings.storage.display
    optuna.create_study(storage=open_storage(settings.storage), study_name="s")
    ready = tmp_path / "ready"
    monkeypatch.setattr(workers, "_worker_argv",
                        lambda job, i, tag: [sys.executable, "-c", STUCK_WORKER, db, str(ready)])
    monkeypatch.setattr(workers, "INTERRUPT_WAIT_S", 1)
    started = time.monotonic()

    def poll() -> None:  # the command's poll loop, interrupted once the worker runs its trial
        assert time.monotonic() - started < 120, "the worker never started its trial"
        if ready.exists():
            stop()

    with pytest.raises((KeyboardInterrupt, RuntimeError)):
        workers.run_worker_processes(settings, 1, None, on_poll=poll, poll_s=0.05)
    (trial, *queued) = optuna.load_study(study_name="s", storage=f"sqlite:///{db}").get_trials(deepcopy=False)
    assert trial.state.name == "FAIL" and "interrupted" in trial.user_attrs["reason"]
    assert "killed, after 1 s" in trial.user_attrs["reason"]  # the wait before killing a worker deaf to SIGTERM
    assert trial.user_attrs["worker"]["host"] == socket.gethostname()
    assert [(t.state.name, t.system_attrs["failed_trial"]) for t in queued] == [("WAITING", trial.number)]
    with pytest.raises(ProcessLookupError):  # the worker ended with its command
        os.kill(trial.user_attrs["worker"]["pid"], 0)


def test_a_worker_process_ends_on_a_sigterm_a_compile_swallowed(tmp_path, monkeypatch):
    """A worker process's SIGTERM whose KeyboardInterrupt a C callback swallowed (numba's compiler) is recorded, and
    its search raises it at the next check (`interrupts.raise_if_requested`, after a layer's mapping or before a
    trial): the worker ends as interrupted rather than running on until its command kills it."""
    def a_trial_in_a_compile(*_args, **_kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)   # the handler runs here
        except KeyboardInterrupt:
            pass            # swallowed, as in a C callback
        interrupts.raise_if_requested()  # the next layer
        raise AssertionError("the recorded SIGTERM was not raised")

    monkeypatch.setattr(workers, "run_worker", a_trial_in_a_compile)
    monkeypatch.setattr(workers, "_split_compile", lambda *_args: None)
    monkeypatch.setattr(workers, "_SIGNALS", [])
    monkeypatch.setattr(interrupts, "_requested", [])
    job = tmp_path / "job.pickle"
    job.write_bytes(pickle.dumps((make_settings(out=tmp_path / "out"), None, os.getpid())))
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert workers.worker_process_main(job, 0, "t") == 0
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    report = json.loads((tmp_path / "report-t-0.json").read_text())
    assert report["stop"] == "interrupted", report["stop"]


def test_an_interrupt_while_a_trial_saves_its_cache_queues_the_trial_again(tmp_path, monkeypatch):
    """An interrupt that lands after the objective returned, while the trial's mapping cache is saved (before Optuna
    records the trial): the trial is failed as interrupted and queued again, not recorded FAIL without a retry."""
    settings = make_settings(out=tmp_path / "out", study_name="s", workers=1, trials=1)
    settings.out.mkdir(parents=True)
    study = optuna.create_study(storage=open_storage(settings.storage), study_name="s")

    class Objective:
        cache = SimpleNamespace(hits=0, misses=0)

        def __init__(self, *_args):
            pass

        def __call__(self, trial) -> float:
            claim_trial(trial, worker_tag())
            return trial.suggest_float("x", 0.0, 1.0)

    def save_cache(*_args) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(workers, "TrialObjective", Objective)
    monkeypatch.setattr(workers, "load_study", lambda *_args: study)
    monkeypatch.setattr(workers, "load_cache", lambda *_args: None)
    monkeypatch.setattr(workers, "save_cache", save_cache)
    monkeypatch.setattr(workers._QUIET_INTERRUPT, "interrupted", False)  # set by the interrupt: restored after
    with pytest.raises(KeyboardInterrupt):
        workers.run_worker(settings, 0, 1)
    trial, *queued = optuna.load_study(study_name="s", storage=open_storage(settings.storage)).get_trials()
    assert (trial.state.name, trial.user_attrs.get("reason")) == ("FAIL", workers.INTERRUPTED)
    assert [(t.state.name, t.system_attrs["failed_trial"]) for t in queued] == [("WAITING", trial.number)]


def test_the_running_trials_of_this_process_are_failed_and_queued_again(tmp_path):
    """`fail_trials_of_this_process` (an interrupt that ended a search in the command's own process outside its
    objective): this process's RUNNING trial is failed with the reason and queued again; another process's is not
    touched, nor a finished one."""
    settings = make_settings(out=tmp_path / "out", study_name="s")
    settings.out.mkdir(parents=True)
    storage = open_storage(settings.storage)
    study = optuna.create_study(storage=storage, study_name="s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # Optuna's heartbeat is meant for `optimize`; trials are asked here
        mine, other, done = study.ask(), study.ask(), study.ask()
    for trial in (mine, other, done):
        trial.suggest_float("x", 0.0, 1.0)
    claim_trial(mine, worker_tag())
    claim_trial(other, {**worker_tag(), "pid": os.getpid() + 1})
    claim_trial(done, worker_tag())
    study.tell(done, 1.0)
    assert fail_trials_of_this_process(study, storage, "stopped") == 1
    states = {t.number: (t.state.name, t.user_attrs.get("reason"), t.system_attrs.get("failed_trial"))
              for t in study.get_trials()}
    assert states == {mine.number: ("FAIL", "stopped", None), other.number: ("RUNNING", None, None),
                      done.number: ("COMPLETE", None, None), 3: ("WAITING", None, mine.number)}
