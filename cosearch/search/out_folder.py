"""Who owns an `--out` folder: one run at a time writes its report there.

The first run that uses a folder writes `OWNER_FILE` naming it (its study and storage, and the command). A run with
the same study in the same storage (a resumed run, a second command adding workers) shares the folder; a different
run is refused with one line (a run refused for its input gives the folder up again, `release_out`), or, with
`--start-over`, takes the folder over: the outputs the replaced run wrote
(its report, plots, Timeloop files, worker logs; an earlier start of the same run's too) are removed first, so
that none of them is left beside the new run's. The storage is not touched here: `claim_out` returns the replaced
run's record, and `storage.start_over` deletes its study where it shares the new run's storage.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from ..config import CoSearchSettings, UsageError, command_line, ensure_folder
from .messages import Notice

OWNER_FILE = "cosearch-owner.json"
"""The file in `--out` naming the run that owns the folder."""
RUN_OUTPUTS = ("report.md", "result.json", "subnet.json", "roofline.png", "pareto_front.png", "best_edp_vs_trial.png",
               "pareto_edp_accuracy.png", "nas_fronts.png", "timeloop", "workers")
"""What a run writes in `--out` that belongs to that run alone (`cosearch.report` and the worker logs); the storage,
the accuracy memo and the devices' layer-cost tables are keyed by what they hold and are kept."""


def owner_record(settings: CoSearchSettings) -> dict:
    """What names a run: its study and storage (what a resumed run shares), and its command for the reader."""
    return {**_run_key(settings), "command": command_line(settings), "pid": os.getpid(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def _run_key(settings: CoSearchSettings) -> dict:
    return {"study_name": settings.study_name, "storage": settings.storage.display}


def _same_run(a: dict, b: dict) -> bool:
    return a.get("study_name") == b.get("study_name") and a.get("storage") == b.get("storage")


def _read_owner(path: Path) -> dict | None:
    """The owner record at `path`, None if there is none; an unreadable record counts as another run's."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"study_name": None, "storage": None, "command": f"unreadable {path.name}"}
    return data if isinstance(data, dict) else {"study_name": None, "storage": None, "command": "unknown"}


def _legacy_owner(out: Path) -> dict | None:
    """The run of a `result.json` written before the folder had an owner file, None if there is none."""
    try:
        doc = json.loads((out / "result.json").read_text())
        settings = doc.get("settings") or {}
        storage = settings.get("storage")
        return {"study_name": settings.get("study_name"),
                "storage": storage.get("display") if isinstance(storage, dict) else storage,
                "command": doc.get("command", "an earlier run")}
    except (OSError, ValueError, AttributeError):
        return None


def remove_outputs(out: Path) -> list[str]:
    """Remove the outputs of the run that owned `out` (`RUN_OUTPUTS`); returns the names removed."""
    removed = []
    for name in RUN_OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def _write_owner(path: Path, record: dict, exclusive: bool) -> bool:
    """Write the record (atomically; with `exclusive`, only if no owner file exists); False if one appeared."""
    text = json.dumps(record, indent=1) + "\n"
    if exclusive:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return True
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def release_out(settings: CoSearchSettings) -> bool:
    """Give the folder up if this process claimed it and the run wrote none of its outputs there (a run refused for
    its input owns nothing: another target on the same device, say, may use the folder next); True if released."""
    path = Path(settings.out).expanduser() / OWNER_FILE
    owner = _read_owner(path)
    if owner is None or not _same_run(owner, _run_key(settings)) or owner.get("pid") != os.getpid():
        return False
    if any((path.parent / name).exists() for name in RUN_OUTPUTS):
        return False
    try:
        path.unlink()
    except OSError:
        return False
    return True


def claim_out(settings: CoSearchSettings, say: Callable[[str], None] | None = None) -> dict | None:
    """Create `settings.out` (writable, see `ensure_folder`) and make this run its owner, or refuse (a `UsageError`)
    when another run owns it and `settings.start_over` is not set; see the module docstring. Returns the owner
    record of the run taken over with `--start-over` (its study and storage, for `storage.start_over`), else None."""
    say = say or (lambda _text: None)
    out = ensure_folder("--out", settings.out)
    path = out / OWNER_FILE
    mine = owner_record(settings)
    try:
        for _ in range(3):  # another command may write its record between our read and our exclusive create
            owner = _read_owner(path)
            if owner is None:
                owner = _legacy_owner(out)
                if owner is None or _same_run(owner, mine):
                    if _write_owner(path, mine, exclusive=True):
                        return None
                    continue
            if _same_run(owner, mine) and not settings.start_over:
                return None
            if not settings.start_over:
                raise UsageError(f"--out: {out} holds another run (study {owner.get('study_name')!r} in "
                                 f"{owner.get('storage')}; {OWNER_FILE}); accepted: another --out, the same command "
                                 "as that run (to resume it), or --start-over to replace it")
            removed = remove_outputs(out)
            if removed:
                whose = "this run's earlier" if _same_run(owner, mine) else f"study {owner.get('study_name')!r}'s"
                say(Notice(f"--start-over: {whose} outputs in {out} removed ({', '.join(removed)})"))
            _write_owner(path, mine, exclusive=False)
            return None if _same_run(owner, mine) else owner
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
    raise UsageError(f"--out: {out} is being claimed by another command at the same time; accepted: one command per "
                     "--out at a time (or the same command, to share a run)")


__all__ = ["OWNER_FILE", "RUN_OUTPUTS", "claim_out", "release_out", "owner_record", "remove_outputs"]
