"""A Ctrl-C while `cosearch` loads its libraries (numba, the cost model, rich: about a second) ends the command
`cosearch` or `python -m cosearch` with one line and status 130, as `run_cosearch.py` does, not with a traceback.

The package's `__init__` runs before either entry's own code (`python -m` imports the package first, and the console
script imports `cosearch.command`), so the guard wraps the package's imports. It acts only when the process is one
of those commands: `import cosearch` in a program or a notebook keeps Python's own KeyboardInterrupt. Standard
library only: it loads before everything else.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

MESSAGE = "error: interrupted; finished trials are kept: re-run the same command to resume"
"""`cosearch.command.INTERRUPTED` (not loaded yet when this one is printed)."""


def caused_by_interrupt(exc: BaseException | None) -> bool:
    """Whether `exc` is, or was raised while handling, a KeyboardInterrupt. A Ctrl-C that lands in a C extension
    surfaces as another error chained to it: numba reports one in its imports as "numba._devicearray failed to
    import" and one inside a kernel as a SystemError ("returned a result with an exception set"). The trial workers
    (`cosearch.search.workers`) use the same rule."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def command_prog() -> str | None:
    """The command this process runs, as its messages name it: "python -m cosearch" or "cosearch" (the console
    script, whose file is named so); None for anything else."""
    if sys.orig_argv[1:3] == ["-m", "cosearch"]:
        return "python -m cosearch"
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("cosearch", "cosearch-script.py", "cosearch.exe"):
        return "cosearch"
    return None


@contextmanager
def guarded_load():
    """The package's imports; in the commands, an interrupt among them is one line on stderr and exit 130."""
    prog = command_prog()
    try:
        yield
    except (KeyboardInterrupt, ImportError) as exc:
        if prog is None or not caused_by_interrupt(exc):
            raise
        print(f"{prog}: {MESSAGE}", file=sys.stderr)
        sys.exit(130)
