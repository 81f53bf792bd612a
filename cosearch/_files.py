"""Files cosearch writes, and where its checkout is."""
from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]
"""The folder holding the `cosearch` package (a git checkout: the report records its commit)."""


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`: readers (another worker, a
    dashboard) never see half a file, and a killed run leaves the previous version."""
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
