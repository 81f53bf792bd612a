"""A run that ends without a result because of its input, or because its storage fails under it, says the cause in
one line with exit status 2."""
import errno
import shutil
import subprocess
from contextlib import contextmanager

import pytest

from _cosearch_cli import TINY as SMALL, cli_module, run_cli
from cosearch.search.storage import storage_failure

TINY = ["--trials", "1", "--population", "4", "--generations", "1", "--mapper-evals", "16", "--final-mapper-evals", "16",
        "--polish-evals", "0", "--quiet", "--out", "out"]
"""A one-trial run whose searches are small: these tests read how a run ends, not what it found."""


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_floor_no_subnet_meets_is_one_line_and_status_2(tmp_path, workers):
    proc = run_cli([*TINY, "--accuracy", "0.835", "--workers", workers], cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "meets the accuracy floor 0.835" in lines[0] and "--accuracy" in lines[0], lines


@pytest.mark.slow
def test_a_limit_no_design_meets_is_named_with_the_nearest_design(tmp_path):
    proc = run_cli([*TINY, "--budget", "area=5mm2,power<=1e-30W", "--workers", "1"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and ("no trial produced a design within the budget: no design met power<=1e-27mW (the "
                                "lowest of 1 design: ") in lines[0], lines


@pytest.mark.slow
def test_a_time_limit_that_passes_before_any_trial_starts_says_so(tmp_path):
    """A time limit spent before the first trial starts (the workers' start-up is counted) leaves no trial at all:
    the line says that, not that no design met the budget, and the same command with a longer limit resumes."""
    proc = run_cli([*TINY, "--time-limit", "1ms", "--workers", "1"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "no trial ran: the time limit (0.001 s" in lines[0], lines
    assert "a longer --time-limit" in lines[0] and "within the budget" not in lines[0]
    proc = run_cli([*TINY, "--time-limit", "none", "--workers", "1", "--trials", "1"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 0 and "1 complete" in proc.stdout, proc.stderr[-3000:]


@pytest.mark.slow
def test_a_floor_above_the_space_on_fixed_devices_is_refused_before_anything_runs(tmp_path):
    proc = run_cli(["--accelerator", "eyeriss", "--accuracy", "0.99", "--nas-evals", "4", "--out", "out"],
                   cwd=tmp_path, timeout=300)
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr[-3000:]
    assert proc.stderr.splitlines() == [
        "run_cosearch.py: error: accuracy floor 0.99 is above the space's largest subnet (0.8359 by OFA accuracy "
        "predictor (ImageNet top-1)); accepted: a floor at most 0.8359 (--accuracy or accuracy>= in --budget)"]
    assert not (tmp_path / "out").exists()  # no study, no folder: nothing started


def test_quiet_keeps_the_notices(tmp_path, monkeypatch, capsys):
    """--quiet drops the progress lines, not the notices (a wait for a lock, a repaired storage)."""
    import cosearch

    cli = cli_module()

    def run(settings, on_message=None, **_kwargs):
        on_message("a progress line")
        on_message(cosearch.Notice("--storage: x.db is locked by another process: waiting up to 15 s for it"))
        raise cosearch.UsageError("stop here")

    monkeypatch.setattr(cli.command, "run", run)  # what the command line calls
    with pytest.raises(SystemExit):
        cli.main(["--out", str(tmp_path / "out"), "--quiet", "--trials", "1"])
    assert capsys.readouterr().err.splitlines() == [
        "--storage: x.db is locked by another process: waiting up to 15 s for it", "run_cosearch.py: error: stop here"]


def _raised(exc):
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001
        return caught


def test_storage_failures_are_recognised_through_the_chain():
    full = _raised(OSError(errno.ENOSPC, "No space left on device", "/x/cosearch.db"))
    try:
        raise RuntimeError("wrapped") from full
    except RuntimeError as wrapped:
        assert "no space left" in storage_failure(wrapped) and "/x/cosearch.db" in storage_failure(wrapped)
    import optuna

    assert "StorageInternalError" in storage_failure(_raised(optuna.exceptions.StorageInternalError("x")))
    assert storage_failure(_raised(ValueError("a bug"))) is None
    assert storage_failure(_raised(AssertionError("a bug outside the storage"))) is None


def test_a_storage_failure_ends_the_command_in_one_line(tmp_path, monkeypatch, capsys):
    cli = cli_module()

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "cosearch.db"))

    monkeypatch.setattr(cli.command, "run", disk_full)
    with pytest.raises(SystemExit) as info:
        cli.main(["--out", str(tmp_path / "out"), "--quiet", "--trials", "1"])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "no space left on the device" in lines[0] and "finished trials are kept" in lines[0]


@contextmanager
def _small_disk(path, size: str):
    """A tmpfs of `size` mounted at `path` for the test (root only); the test is skipped, saying why, where the
    machine refuses the mount."""
    path.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small file system")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a {size} tmpfs here ({' '.join(proc.stderr.split()) or proc.returncode}); "
                    "the full-disk path is then tested with a faked error only")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(folder) -> int:
    """Fill the file system of `folder` to its last byte with one file; the bytes written."""
    written = 0
    with open(folder / "filler", "wb", buffering=0) as f:
        for block in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    written += f.write(b"\0" * block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


def _finished(storage: str):
    """(number, state, params, value) of the complete trials of the study in `storage` (an SQLite or journal path)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if storage.endswith(".log"):
        backend = JournalStorage(JournalFileBackend(storage))
    else:
        backend = optuna.storages.RDBStorage(f"sqlite:///{storage}")
    (summary,) = optuna.get_all_study_summaries(backend)
    trials = optuna.load_study(study_name=summary.study_name, storage=backend).get_trials(deepcopy=False)
    if not storage.endswith(".log"):
        backend.engine.dispose()  # closed, as after a run: the next run's SQLite makes its -wal and -shm files again
    return [(t.number, t.state.name, t.params, t.value) for t in trials if t.state.name == "COMPLETE"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_full_disk_for_real_ends_in_one_line_and_loses_no_finished_trial(tmp_path, kind):
    """On a real full file system (a small tmpfs, filled to its last byte) a resumed run stops with the one line of
    a full disk; every trial that had finished is still in the storage, which passes the storage check, and once
    space is freed the same command resumes from them."""
    from cosearch.config import make_settings
    from cosearch.search.storage import check_storage

    with _small_disk(tmp_path / "disk", "16m") as disk:
        storage = str(disk / "out" / ("cosearch.db" if kind == "sqlite" else "journal.log"))
        args = [*SMALL, "--workers", "1", "--time-limit", "none", "--quiet", "--out", str(disk / "out"),
                "--storage", storage]
        first = run_cli([*args, "--trials", "2"], cwd=tmp_path, timeout=600)
        assert first.returncode == 0, first.stderr[-3000:]
        finished = _finished(storage)
        assert len(finished) == 2
        _fill(disk)
        full = run_cli([*args, "--trials", "4"], cwd=tmp_path, timeout=600)
        assert full.returncode == 2, full.stderr[-3000:]
        lines = full.stderr.splitlines()
        assert len(lines) == 1 and "no space left on the device" in lines[0], lines
        assert "finished trials are kept" in lines[0]
        (disk / "filler").unlink()
        said = []
        check_storage(make_settings(out=disk / "out", storage=storage, trials=4).storage, said.append)
        assert _finished(storage) == finished   # (a journal record the full disk cut is dropped, and said)
        resumed = run_cli([*args, "--trials", "3"], cwd=tmp_path, timeout=600)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        after = _finished(storage)
        assert after[:2] == finished and len(after) == 3


@pytest.mark.slow
def test_a_limit_missed_on_several_networks_names_each_network(tmp_path):
    proc = run_cli([*TINY, "--networks", "squeezenet1_0,alexnet", "--budget", "area=5mm2,latency<=1e-9ms",
                    "--workers", "1"], cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = proc.stderr.splitlines()
    assert "no design met latency<=1e-09ms (the lowest of 1 design: " in line
    assert " on squeezenet1_0; nor latency<=1e-09ms (the lowest of 1 design: " in line and " on alexnet" in line


def _study_of(runs_per_trial):
    """An in-memory study whose complete trials ran the networks as given: [{name: [ms, mJ]}, ...]."""
    import optuna

    study = optuna.create_study()
    for runs in runs_per_trial:
        first = next(iter(runs.values()))
        study.add_trial(optuna.trial.create_trial(value=1.0, user_attrs={
            "latency_ms": first[0], "energy_mj": first[1], "runs_per_network": runs}))
    return study


def test_the_unmet_budget_of_several_networks_looks_at_each_network():
    """The first network meeting a limit says nothing of the others: each network that no design ran within it is
    named, and networks that each met it on some design, but never on the same one, are said to."""
    from cosearch import make_settings
    from cosearch.search.finalize import _unmet

    settings = make_settings("area=5mm2,latency<=2ms", networks="squeezenet1_0,alexnet")
    missed = _unmet(settings, _study_of([{"squeezenet1_0": [1.0, 1.0], "alexnet": [3.0, 1.0]},
                                         {"squeezenet1_0": [1.5, 1.0], "alexnet": [2.5, 1.0]}]), {})
    assert missed == ": no design met latency<=2ms (the lowest of 2 designs: 2.5 ms) on alexnet"
    apart = _unmet(settings, _study_of([{"squeezenet1_0": [1.0, 1.0], "alexnet": [3.0, 1.0]},
                                        {"squeezenet1_0": [2.5, 1.0], "alexnet": [1.5, 1.0]}]), {})
    assert apart == (": each network met the budget on some design, but no design met it on all of squeezenet1_0, "
                     "alexnet")


def test_designs_all_rejected_are_counted_by_why_not_named_by_the_last():
    """Every design rejected before it ran: the sentence counts them by why, most first, with the first trial of
    the commonest kind as the example, so the trials' order (which worker finished last) does not change it."""
    from types import SimpleNamespace

    from cosearch.search.finalize import _rejections

    def trial(number, kind, reason):
        return SimpleNamespace(number=number, user_attrs={"reason": reason, "reason_kind": kind})

    trials = [trial(0, "fused group", "fusion_groups: group 1-3 needs 9000 words on chip"),
              trial(1, "area", "area 6.100 mm2 > budget 5 mm2"),
              trial(2, "fused group", "fusion_groups: group 1-3 needs 9000 words on chip"),
              trial(3, "area", "area 5.900 mm2 > budget 5 mm2"),
              trial(4, "fused group", "fusion_groups: group 1-3 needs 9000 words on chip")]
    said = _rejections(trials)
    assert said == _rejections(trials[::-1]) == _rejections(trials[2:] + trials[:2])
    assert said == ("3 could not hold a fused group, 2 over the area budget or the resources (e.g. trial 0: "
                    "fusion_groups: group 1-3 needs 9000 words on chip)")
    older = [SimpleNamespace(number=7, user_attrs={"reason": "area 9 mm2 > budget 5 mm2"})]   # a study of before
    assert _rejections(older) == "1 for another reason (e.g. trial 7: area 9 mm2 > budget 5 mm2)"
