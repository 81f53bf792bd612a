"""The paths a run reads and writes (`--out`, a storage file, the latency table, the predictor, a config file):
their text checked first (type, NUL characters, names longer than the file system takes), the folders a run writes
checked up front without touching anything, then created with a write probe when the run starts, so that a path
that cannot be used fails in one line before any work rather than with a traceback after it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .validate import UsageError

NAME_MAX_BYTES = 255
"""Longest file name (one path component, in bytes) when the file system does not say: Linux's and macOS's NAME_MAX."""
PATH_MAX_BYTES = 4096
"""Longest path (bytes) when the file system does not say: Linux's PATH_MAX."""


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (OSError, ValueError, TypeError):
        return default


def check_path(field: str, value, what: str = "a path") -> Path:
    """`value` (text or a path object) as a `Path` (with ~ expanded), if it can name a file here: not empty, no NUL
    character, no name longer than the file system's NAME_MAX and not longer than its PATH_MAX; a `UsageError`
    naming `field` otherwise. Nothing is touched but the existing folder the limits are asked of."""
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise UsageError(f"{field}: expected {what} (text), got {type(value).__name__} {value!r}")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{field}: expected {what}, got {text!r}")
    if "\0" in text:
        raise UsageError(f"{field}: {text!r} holds a NUL character, which no file name may hold")
    path = Path(text).expanduser()
    absolute = path.absolute()
    anchor = _nearest_existing(absolute.parent)
    name_max = _limit(anchor, "PC_NAME_MAX", NAME_MAX_BYTES)
    for part in absolute.parts[1:]:
        if len(os.fsencode(part)) > name_max:
            shown = part if len(part) <= 40 else f"{part[:20]}...{part[-12:]}"
            raise UsageError(f"{field}: the name {shown!r} is {len(os.fsencode(part))} bytes long; accepted: file and "
                             f"folder names of at most {name_max} bytes (the file system's limit)")
    path_max = _limit(anchor, "PC_PATH_MAX", PATH_MAX_BYTES)
    if len(os.fsencode(str(absolute))) >= path_max:
        raise UsageError(f"{field}: the path is {len(os.fsencode(str(absolute)))} bytes long; accepted: a path "
                         f"shorter than {path_max} bytes (the file system's limit)")
    return path


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
    path = check_path(field, path, "a folder path").absolute()
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
