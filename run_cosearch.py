#!/usr/bin/env python
"""Co-search an accelerator, the mapping of every layer and an OFA subnet under a budget.

    python run_cosearch.py                                  # --budget area=5mm2, OFA MBv3 w1.2, 300 trials
    python run_cosearch.py --budget area=5mm2,latency<=10ms --space ofa-proxyless --trials 100
    python run_cosearch.py --budget area=5mm2 --network resnet50 --workers 2

The same command as `cosearch` (installed with the package) and `python -m cosearch`: `cosearch.command.main`.
Bad input ends with a one-line error and exit status 2; re-running the same command resumes the study.
The options and their defaults: `cosearch.OPTIONS` (or --help).
"""
from __future__ import annotations

import signal
import sys

PROG = "run_cosearch.py"
_EARLY: list[int] = []


def _early_signal(signum, frame) -> None:
    _EARLY.append(signum)
    raise KeyboardInterrupt


def interrupted_import(exc: BaseException) -> bool:
    """Whether `exc`, raised while the libraries load, is an interrupt: a KeyboardInterrupt, or an ImportError that a
    C extension's module set-up raised while handling one (`cosearch._load_guard.caused_by_interrupt`, the rule's
    owner). The package loads that module (standard library only) before any C extension, and it stays loaded when
    the package's import fails, so an ImportError of that kind always finds it; an interrupt that lands before it
    loaded is a plain KeyboardInterrupt."""
    guard = sys.modules.get("cosearch._load_guard")
    return isinstance(exc, KeyboardInterrupt) or (guard is not None and guard.caused_by_interrupt(exc))


if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # from the start: while the libraries load too
    signal.signal(signal.SIGTERM, _early_signal)
try:  # a Ctrl-C while the libraries load (seconds: torch, numba) is one line too
    from cosearch import command
except (KeyboardInterrupt, ImportError) as exc:
    if not interrupted_import(exc):
        raise
    terminated = signal.SIGTERM in _EARLY  # the texts of cosearch.command, which did not load
    print(f"{PROG}: error: {'terminated (SIGTERM)' if terminated else 'interrupted'}; finished trials are kept: "
          "re-run the same command to resume", file=sys.stderr)
    sys.exit(128 + 15 if terminated else 130)


def main(argv: list[str] | None = None) -> int:
    return command.main(argv, prog=PROG, replace_sigterm=(_early_signal,))


if __name__ == "__main__":
    sys.exit(main())
