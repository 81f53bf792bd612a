"""Independent pieces of work run side by side, one process each: the first here, the others each in a process forked
from this one, their results sent back pickled. For the final phase (`finalize`), which would otherwise keep one core
busy while the search's other cores sit idle.

Forked, not spawned: a forked process starts with what this one has loaded (the package, the compiled kernels, the
trials read from the study) in milliseconds, where a spawned one would import the package and load its kernels again
for seconds. A forked process must not wait on a lock another thread of this one held when it was forked, so a
piece run here does computation only: no printing, no logging, no storage. Where fork is not offered or not safe
with the system's libraries (anywhere but Linux), the pieces run one after another in this process. A piece whose
process fails (an exception, a crash, a result that does not pickle) runs again here after the others: its result
is never lost, only later.
"""
from __future__ import annotations

import multiprocessing
import signal
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether `run_side_by_side` forks (Linux): elsewhere it runs its pieces one after another."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def run_side_by_side(pieces: list[Callable[[], T]]) -> list[T]:
    """The results of `pieces`, in order: pieces[0] runs in this process while each other piece runs in a forked
    process of its own (module docstring). An interrupt here ends the forked processes."""
    if len(pieces) < 2 or not can_fork():
        return [piece() for piece in pieces]
    context = multiprocessing.get_context("fork")
    children = []
    try:
        for piece in pieces[1:]:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_run_forked, args=(piece, send), daemon=True)
            with warnings.catch_warnings():
                # Python 3.12+ warns about forking a process with threads (a progress display's); the piece takes no
                # lock those threads use (module docstring)
                warnings.simplefilter("ignore", DeprecationWarning)
                process.start()
            send.close()
            children.append((process, receive))
        results = [pieces[0]()]
        failed = []
        for i, (process, receive) in enumerate(children, start=1):
            try:
                ok, value = receive.recv()
            except (EOFError, OSError):     # the process died before it sent anything
                ok, value = False, None
            process.join()
            results.append(value)
            if not ok:
                failed.append(i)
        for i in failed:
            results[i] = pieces[i]()
        return results
    finally:
        for process, receive in children:
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()


def run_in_lanes(pieces: list[Callable[[], T]], lanes: int) -> list[T]:
    """The results of `pieces`, in order: dealt in turn to at most `lanes` lanes (piece i to lane i mod lanes), each
    lane's pieces run one after another, the lanes side by side (`run_side_by_side`). A lane's later pieces see what
    its earlier ones left in the objects they share (a mapping cache's tables and warm starts), not what another
    lane's did."""
    count = max(1, min(lanes, len(pieces)))
    members = [list(range(j, len(pieces), count)) for j in range(count)]

    def lane(indexes: list[int]) -> list:
        return [pieces[i]() for i in indexes]

    results: list = [None] * len(pieces)
    for indexes, values in zip(members, run_side_by_side([lambda m=m: lane(m) for m in members])):
        for i, value in zip(indexes, values):
            results[i] = value
    return results


def _run_forked(piece: Callable[[], T], send) -> None:
    """A forked process's work: run `piece`, send (True, its result), or (False, None) if it raised or its result
    does not pickle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # an interrupt is the parent's to handle: it ends this process
    try:
        try:
            out = (True, piece())
        except BaseException:                       # noqa: BLE001 (the parent runs the piece again)
            out = (False, None)
        try:
            send.send(out)
        except Exception:                           # noqa: BLE001 (a result that does not pickle)
            send.send((False, None))
    finally:
        send.close()


__all__ = ["can_fork", "run_in_lanes", "run_side_by_side"]
