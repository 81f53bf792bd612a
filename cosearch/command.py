"""The command line of the co-search: `cosearch`, `python -m cosearch` and `run_cosearch.py` all run `main`.

    cosearch --budget area=5mm2 --network resnet50      # the co-search (every option: cosearch --help)
    cosearch --network model.onnx --trials 20           # a network from an ONNX file
    cosearch --version
    cosearch warm-up                                    # build numba's cache on every core before the first run
    cosearch timeloop model FILE... [-o DIR]            # timeloop-model's counterpart
    cosearch timeloop mapper FILE... [--budget N]       # timeloop-mapper's counterpart
    cosearch timeloop check CASES.json                  # compare with a manifest of Timeloop runs

Bad input ends with a one-line error and exit status 2; Ctrl-C ends with one line and 130 (SIGTERM: 143);
re-running the same command resumes the study.
"""
from __future__ import annotations

import argparse
import runpy
import signal
import sys
from contextlib import contextmanager

from ._load_guard import guarded_load

with guarded_load():  # the package loads the rest when first used: here, still one line on a Ctrl-C
    from rich.console import Console

    from . import search
    from ._version import __version__
    from .command_warm_up import command as warm_up
    from .config import UsageError, add_options, given_options, make_settings, parse_options
    from .pipeline import run
    from .report import ProgressDisplay, print_summary
    from .search import Notice, StorageUnavailable, WorkerFailure, storage_failure

INTERRUPTED = "interrupted; finished trials are kept: re-run the same command to resume"
TERMINATED = "terminated (SIGTERM); finished trials are kept: re-run the same command to resume"
WARM_UP_INTERRUPTED = ("warm-up interrupted; its workers were stopped; what they compiled stays in numba's cache, "
                       "and a run compiles the rest itself")
WARM_UP_TERMINATED = ("warm-up terminated (SIGTERM); its workers were stopped; what they compiled stays in numba's "
                      "cache, and a run compiles the rest itself")
SIGTERM_STATUS = 128 + 15
"""The shell's status of a command ended by SIGTERM."""

TIMELOOP_COMMANDS = {"model": "accel_models.timeloop", "mapper": "mappings.timeloop", "check": "mappings.timeloop"}
"""`cosearch timeloop <command>`: the module whose command line runs it (`check` from mappings: it adds the mapper
comparison on mapper cases)."""

SIGNALS: list[int] = []
"""Signals received (SIGINT, SIGTERM), in order: the search checks this list after each layer's mapping."""


def fail(prog: str, message: str, status: int = 2) -> None:
    """Print `prog: error: message` on one line and exit with `status`."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(status)


def stopped(prog: str, interrupted: str = INTERRUPTED, terminated: str = TERMINATED) -> None:
    """The one line of a command stopped by Ctrl-C (130) or SIGTERM (143)."""
    if signal.SIGTERM in SIGNALS:
        fail(prog, terminated, status=SIGTERM_STATUS)
    fail(prog, interrupted, status=130)


def on_signal(signum, frame) -> None:
    """Python's own Ctrl-C handling, remembered (SIGTERM too): a library that turns the KeyboardInterrupt into its
    own error (a database driver interrupted in a commit) still ends the command as interrupted."""
    SIGNALS.append(signum)
    raise KeyboardInterrupt


_HOOKS: list = []
"""The unraisable-exception hook `_unraisable` replaced (it hands every other exception to it)."""


def _unraisable(unraisable) -> None:
    """Python's hook for exceptions it cannot raise (in a weakref callback, a finalizer, a C callback), silent for
    the KeyboardInterrupt of a recorded signal: the search sees the signal in `SIGNALS` at its next layer, and the
    command's one line says it was stopped (printed, Python's 'Exception ignored in ...' would be a traceback)."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and SIGNALS:
        return
    (_HOOKS[-1] if _HOOKS else sys.__unraisablehook__)(unraisable)


@contextmanager
def signal_handlers(replace_sigterm=()):
    """Within the block: `on_signal` for SIGINT (unless started with SIGINT ignored) and SIGTERM (unless someone else
    handles it; the handlers in `replace_sigterm` are replaced), the unraisable-exception hook `_unraisable`, and the
    search told to watch `SIGNALS`. The handlers and the hook are put back at its end, so that `main` called from
    Python (a test, a notebook) leaves its process's Ctrl-C as it found it."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    hook = sys.unraisablehook
    if handlers[signal.SIGTERM] in (signal.SIG_DFL, *replace_sigterm):
        signal.signal(signal.SIGTERM, on_signal)
    if handlers[signal.SIGINT] is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_signal)
    if hook is not _unraisable:
        _HOOKS[:] = [hook]
        sys.unraisablehook = _unraisable
    search.interrupts.watch(SIGNALS)
    try:
        yield
    finally:
        for s, handler in handlers.items():
            if handler is not None:     # None: a handler set outside Python, which cannot be put back from here
                signal.signal(s, handler)
        sys.unraisablehook = hook


class OneLineParser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith(("unrecognized arguments", "ambiguous option")):
            message += f"; accepted: the options {self.prog} --help lists"
        fail(self.prog, message)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description=__doc__.split("\n\n")[0],
                           epilog=f"Before the first run: {prog} warm-up (numba's cache, built on every core). "
                                  f"Timeloop's commands: {prog} timeloop {{model,mapper,check}} --help",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cosearch {__version__}")
    return add_options(parser)


def timeloop(argv: list[str], prog: str) -> int:
    """`prog timeloop <command> ARGS`: the Timeloop command's own command line (run as `python -m` runs it)."""
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {prog} timeloop {{{','.join(TIMELOOP_COMMANDS)}}} ...\n\n"
              "  model   evaluate the mapping of Timeloop input files (as timeloop-model)\n"
              "  mapper  find the best mapping under the files' constraints (as timeloop-mapper)\n"
              "  check   compare with the Timeloop runs of a case manifest\n\n"
              f"{prog} timeloop COMMAND --help lists a command's arguments.", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    module = TIMELOOP_COMMANDS.get(argv[0])
    if module is None:
        fail(prog, f"timeloop: unknown command {argv[0]!r}; accepted: {', '.join(TIMELOOP_COMMANDS)}")
    saved = sys.argv
    sys.argv = [f"python -m {module}", *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None, prog: str = "cosearch", replace_sigterm=()) -> int:
    """The command line (`argv` without the program name; sys.argv's by default) under the name `prog`: a
    co-search, or `timeloop ...`. Returns the exit status, or exits with a one-line error."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["timeloop"]:
        return timeloop(argv[1:], prog)
    with signal_handlers(replace_sigterm):
        if argv[:1] == ["warm-up"]:
            try:
                return warm_up(argv[1:], prog, _parser(f"{prog} warm-up"))
            except UsageError as exc:
                fail(prog, str(exc))
            except KeyboardInterrupt:  # its workers stopped and waited for (`command_warm_up.warm_up`)
                stopped(prog, WARM_UP_INTERRUPTED, WARM_UP_TERMINATED)
        try:
            return _cosearch(argv, prog)
        except KeyboardInterrupt:  # outside the search: parsing, printing the summary
            stopped(prog)


def _cosearch(argv: list[str], prog: str) -> int:
    args = parse_options(_parser(prog), argv)
    try:
        settings = make_settings(**given_options(args))
    except UsageError as exc:
        fail(prog, str(exc))
    out = Console(width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

    def message(text: str) -> None:  # progress lines, off with --quiet; notices (a wait, a repair) always
        if not args.quiet or isinstance(text, Notice):
            err.print(text, highlight=False, soft_wrap=True)

    try:
        if args.quiet:
            result = run(settings, on_message=message)
        else:
            with ProgressDisplay(err) as display:
                result = run(settings, on_progress=display.update, on_message=message)
    except UsageError as exc:
        fail(prog, str(exc))
    except (StorageUnavailable, WorkerFailure) as exc:
        fail(prog, str(exc), status=1)
    except KeyboardInterrupt:
        stopped(prog)
    except Exception as exc:
        if SIGNALS:  # an error the interrupt caused inside a library
            stopped(prog)
        failure = storage_failure(exc)
        if failure is None:
            raise
        fail(prog, failure)
    if result.best is None:  # the input admits no result: the cause once (the report says it too)
        fail(prog, f"no result: {'; '.join(result.notes) or 'no trial completed'}; report: {settings.out / 'report.md'}")
    print_summary(result, out)
    return 0


def console() -> None:
    """The `cosearch` console script."""
    sys.exit(main())


__all__ = ["main", "console", "fail", "stopped", "on_signal", "signal_handlers", "SIGNALS", "INTERRUPTED",
           "TERMINATED", "SIGTERM_STATUS"]
