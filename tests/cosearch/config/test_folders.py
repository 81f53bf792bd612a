"""Folders a run writes: checked without creating anything, then created and probed before any work."""
import os

import pytest

import cosearch
from cosearch.config import UsageError, check_folder, ensure_folder, make_settings


def test_checking_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_folder("--out", target) == target and not (tmp_path / "a").exists()
    with pytest.raises(UsageError, match="--storage: folder .* does not exist; create it first"):
        check_folder("--storage", target, must_exist=True)


def test_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match=r"--out: .*/f is a file, not a folder \(so .*/f/sub cannot be a folder\)"):
        check_folder("--out", tmp_path / "f" / "sub")
    with pytest.raises(UsageError, match="--out: cannot create the folder"):
        ensure_folder("--out", tmp_path / "f" / "sub")


def test_an_unwritable_folder(tmp_path):
    """A read-only folder; as root (who writes through permissions) /proc/1, which even root cannot write in."""
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    if os.geteuid() == 0:
        folder = "/proc/1"
    with pytest.raises(UsageError, match=f"--out: cannot write in {folder}"):
        check_folder("--out", f"{folder}/out")


@pytest.mark.slow
def test_the_run_fails_before_any_work_when_out_cannot_be_made(tmp_path, monkeypatch):
    """The folder checked at make_settings became a file before the run: one UsageError, no study, no trial."""
    settings = make_settings(out=tmp_path / "out", trials=1)
    (tmp_path / "out").write_text("now a file")
    started = []
    monkeypatch.setattr(cosearch.search.driver, "prepare_study", lambda s: started.append(s))
    with pytest.raises(UsageError, match="--out: cannot create the folder"):
        cosearch.run(settings)
    assert started == []
