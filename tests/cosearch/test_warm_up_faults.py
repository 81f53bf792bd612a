"""`cosearch warm-up` under faults: Ctrl-C and SIGTERM stop its workers (one line, 130 / 143, no process left), a
cache folder numba cannot write is refused rather than replaced by numba's fallback, and a full disk is named."""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numba
import pytest

from accel_models.jit import CompileStep
from cosearch import command
from cosearch.command_warm_up import DISK_FULL_EXIT, _report
from mappings.split_compile import SplitCompile
from _cosearch_cli import ROOT, cli_env


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_s(pid: int) -> float:
    """The CPU seconds (user and system) process `pid` has used, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs Linux's /proc/PID/task/PID/children to find the workers")
@pytest.mark.parametrize("how, status, word", [("ctrl-c", 130, "warm-up interrupted"),
                                               ("sigterm", 143, "warm-up terminated (SIGTERM)")])
def test_a_stopped_warm_up_stops_its_workers_and_says_so_in_one_line(how, status, word, tmp_path):
    """Ctrl-C at a terminal reaches every process of the group; SIGTERM (a service manager, `kill`) the command
    alone. Either way: one line, the shell's status, and neither worker nor multiprocessing's resource tracker left."""
    env = {**cli_env(), "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    # SIGINT at its default in the command, as a shell starts it: a test process that inherited SIGINT ignored (seen in
    # CI's full suite) would hand the ignore on, and the command would never see the Ctrl-C
    proc = subprocess.Popen([sys.executable, "-m", "cosearch", "warm-up", "--workers", "2"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 3 and time.monotonic() < deadline:   # 2 workers + the resource tracker
            time.sleep(0.1)
        # the workers past their start (the command ignores SIGINT while it starts them: `_start`), compiling: each
        # has spent CPU in its imports, however loaded the machine is
        while sum(_cpu_s(pid) >= 0.5 for pid in _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        started = _children(proc.pid)
        assert len(started) >= 3, started
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=300)  # a worker inside LLVM sees the signal when that call returns
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == status, err
    assert "Traceback" not in err and out == "", err
    assert lines[-1].startswith("python -m cosearch: error: ") and word in lines[-1] and len(lines) == 2, err
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if _alive(pid)]


@pytest.mark.parametrize("folder", ["/proc/1/numba-cache", "{afile}/numba-cache"])
def test_a_cache_folder_numba_cannot_use_is_refused_not_replaced(folder, tmp_path, monkeypatch, capsys):
    """numba, given a NUMBA_CACHE_DIR it cannot create or write, caches elsewhere without a word; the warm-up says so
    and compiles nothing (exit 2, one line naming the variable and the folder numba would use)."""
    (tmp_path / "afile").write_text("a file, not a folder\n")
    monkeypatch.setattr(numba.config, "CACHE_DIR", folder.replace("{afile}", str(tmp_path / "afile")))
    with pytest.raises(SystemExit) as exit_:
        command.main(["warm-up", "--workers", "1"], prog="cosearch")
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1, err
    assert err.startswith("cosearch: error: NUMBA_CACHE_DIR=") and "numba would cache in" in err, err
    assert "accepted: a folder you can write" in err


def test_a_step_that_finds_the_disk_full_is_reported_as_a_full_disk(tmp_path):
    """A compile whose cache write finds no space (ENOSPC) is recorded with its errno, and the warm-up's line says
    the disk holding numba's cache is full, not only that the step failed."""
    def full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "index.nbi")

    split = SplitCompile([CompileStep("kernel", full), CompileStep("fine", lambda: None)], tmp_path,
                         say=lambda text: None)
    split.start()
    split.finish()
    done = json.loads((tmp_path / "kernel.done").read_text())
    assert done["errno"] == errno.ENOSPC and json.loads((tmp_path / "fine.done").read_text())["errno"] is None
    report = _report([{"compiled": {"kernel": 0.1, "fine": 0.0}, "failed": ["kernel"], "errnos": [errno.ENOSPC],
                       "cpu_s": 1.0}], 1, 2, 2.0)
    assert report.disk_full and "is full (no space left on device)" in report.line() and "kernel" in report.line()
    unwritten = _report([], 2, 0, 2.0, [DISK_FULL_EXIT, DISK_FULL_EXIT])   # not even the workers' notes written
    assert unwritten.disk_full and "2 worker(s) ended early" in unwritten.line() and "is full" in unwritten.line()
    other = _report([{"compiled": {"kernel": 0.1}, "failed": ["kernel"], "errnos": [errno.EACCES], "cpu_s": 1.0}],
                    1, 1, 2.0)
    if shutil.disk_usage(other.cache_dir).free >= 1 << 20:     # another error, with space left: not a full disk
        assert not other.disk_full and "is full" not in other.line() and "kernel" in other.line()
