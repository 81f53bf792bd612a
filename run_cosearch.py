#!/usr/bin/env python
"""Co-search an accelerator, the mapping of every layer and an OFA subnet under a budget.

    python run_cosearch.py                                  # --budget area=5mm2, OFA MBv3 w1.2, 300 trials
    python run_cosearch.py --budget area=5mm2,latency<=10ms --space ofa-proxyless --trials 100
    python run_cosearch.py --budget area=5mm2 --network resnet50 --workers 2

Bad input ends with a one-line error and exit status 2; re-running the same command resumes the study.
The options and their defaults: `cosearch.OPTIONS` (or --help).
"""
from __future__ import annotations

import argparse
import signal
import sys

INTERRUPTED = "interrupted; finished trials are kept: re-run the same command to resume"
TERMINATED = "terminated (SIGTERM); finished trials are kept: re-run the same command to resume"
SIGTERM_STATUS = 128 + 15
"""The shell's status of a command ended by SIGTERM."""


def _fail(message: str, status: int = 2) -> None:
    print(f"run_cosearch.py: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(status)


_SIGINTS: list[int] = []


def _on_sigint(signum, frame) -> None:
    """Python's own Ctrl-C handling, remembered (SIGTERM too): a library that turns the KeyboardInterrupt into its
    own error (a database driver interrupted in a commit) still ends the command as interrupted."""
    _SIGINTS.append(signum)
    raise KeyboardInterrupt


if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # from the start: while the libraries load too
    signal.signal(signal.SIGTERM, _on_sigint)
try:  # a Ctrl-C while the libraries load (seconds: torch, numba) is one line too
    from rich.console import Console

    import cosearch
except KeyboardInterrupt:
    if signal.SIGTERM in _SIGINTS:
        _fail(TERMINATED, status=SIGTERM_STATUS)
    _fail(INTERRUPTED, status=130)

if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when started with SIGINT ignored
    signal.signal(signal.SIGINT, _on_sigint)
cosearch.search.interrupts.watch(_SIGINTS)  # a signal whose KeyboardInterrupt a C callback swallowed still stops


def _stopped() -> None:
    """The one line of a run stopped by Ctrl-C (130) or SIGTERM (143)."""
    if signal.SIGTERM in _SIGINTS:
        _fail(TERMINATED, status=SIGTERM_STATUS)
    _fail(INTERRUPTED, status=130)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith(("unrecognized arguments", "ambiguous option")):
            message += "; accepted: the options run_cosearch.py --help lists"
        _fail(message)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="run_cosearch.py", description=__doc__.split("\n\n")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    args = cosearch.parse_options(cosearch.add_options(parser), argv)
    try:
        settings = cosearch.make_settings(**cosearch.given_options(args))
    except cosearch.UsageError as exc:
        _fail(str(exc))
    out = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    def message(text: str) -> None:  # progress lines, off with --quiet; notices (a wait, a repair) always
        if not args.quiet or isinstance(text, cosearch.Notice):
            err.print(text, highlight=False, soft_wrap=True)

    try:
        if args.quiet:
            result = cosearch.run(settings, on_message=message)
        else:
            with cosearch.ProgressDisplay(err) as display:
                result = cosearch.run(settings, on_progress=display.update, on_message=message)
    except cosearch.UsageError as exc:
        _fail(str(exc))
    except (cosearch.StorageUnavailable, cosearch.WorkerFailure) as exc:
        _fail(str(exc), status=1)
    except KeyboardInterrupt:
        _stopped()
    except Exception as exc:
        if _SIGINTS:  # an error the interrupt caused inside a library
            _stopped()
        failure = cosearch.storage_failure(exc)
        if failure is None:
            raise
        _fail(failure)
    if result.best is None:  # the input admits no result: the cause once (the report says it too)
        _fail(f"no result: {'; '.join(result.notes) or 'no trial completed'}; report: {settings.out / 'report.md'}")
    cosearch.print_summary(result, out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # outside the search: parsing, printing the summary
        _stopped()
