"""Interrupts (Ctrl-C, SIGTERM) the search must not lose.

Python raises KeyboardInterrupt from a signal handler at the main thread's next bytecode. When that bytecode runs
inside a callback that C code makes into Python (numba's compiler calls one for its object cache while it compiles a
kernel), the exception is printed as "ignored" and the run goes on as if no signal came. The command line records
each signal in a list it hands over here (`watch`); the search checks it after each layer's mapping
(`raise_if_requested`), so an interrupt swallowed there ends the run at the next layer.
"""
from __future__ import annotations

_requested: list[int] = []


def watch(signals: list[int]) -> None:
    """Check `signals` (appended to by the caller's signal handler) from now on."""
    global _requested
    _requested = signals


def raise_if_requested() -> None:
    """KeyboardInterrupt if a signal was recorded: one that was raised already has ended the search before this
    point is reached again, so only a lost one is raised here."""
    if _requested:
        raise KeyboardInterrupt


__all__ = ["watch", "raise_if_requested"]
