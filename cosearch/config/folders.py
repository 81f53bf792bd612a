"""The folders a run writes (`--out`, a storage file's folder): checked up front without touching anything, then
created with a write probe when the run starts, so that a folder that cannot be written fails in one line before
any work rather than with a traceback after it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .validate import UsageError


def _nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists."""
    while True:
        try:
            if path.exists() or path == path.parent:
                return path
        except OSError:  # e.g. a component that cannot be searched: report the folder above it
            pass
        path = path.parent


def check_folder(field: str, path: str | os.PathLike, must_exist: bool = False) -> Path:
    """`path` as an absolute folder that exists or can be created and written (checked, nothing created); a
    `UsageError` naming `field` otherwise. With `must_exist`, a missing folder is refused too."""
    path = Path(path).expanduser().absolute()
    existing = _nearest_existing(path)
    if not existing.is_dir():
        where = "" if existing == path else f" (so {path} cannot be a folder)"
        raise UsageError(f"{field}: {existing} is a file, not a folder{where}")
    if existing != path and must_exist:
        raise UsageError(f"{field}: folder {path} does not exist; create it first (cosearch creates only --out)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{field}: cannot write in {existing} (permission denied); accepted: a folder you can "
                         "write to, or one that can be created there")
    return path


def ensure_folder(field: str, path: str | os.PathLike) -> Path:
    """Create `path` (with its parents) and prove it writable by creating and removing a file in it."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{field}: cannot create the folder {path}: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".cosearch-write-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"{field}: cannot write in {path}: {exc.strerror or exc}") from None
    return path
