"""The fusion planner's memos: one least-recently-used rule (`LruMemo`) for what a process has priced or searched,
and the keys they share (a mapping as bytes, an accelerator's key)."""
from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from accel_models import Accelerator
from mappings import accelerator_key

_ABSENT = object()


class LruMemo(OrderedDict):
    """Values remembered by key in this process, at most `kept` of them, the least recently used dropped first: the
    one memo rule of the fusion planner (priced runs, view searches, view search settings). A plain `OrderedDict`
    besides, oldest first, so `len` and `clear` work as on a dict."""

    def __init__(self, kept: int) -> None:
        super().__init__()
        self.kept = kept

    def recall(self, key, compute):
        """The value remembered under `key`, now the most recently used; else `compute()`'s, remembered (a None
        result too: it is not computed again)."""
        hit = self.get(key, _ABSENT)
        if hit is _ABSENT:
            return self.remember(key, compute())
        self.move_to_end(key)
        return hit

    def remember(self, key, value):
        """`value` remembered under `key` as the most recently used, the least recently used dropped past `kept`;
        returns `value`."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.kept:
            self.popitem(last=False)
        return value


PRICED_KEPT = 1 << 15
"""Priced layer runs, and view searches, remembered (per process)."""
PRICED = LruMemo(PRICED_KEPT)


def mapping_bytes(arrays) -> bytes:
    """A mapping's arrays as one bytes string: what a remembered pricing of it is keyed by (a shape's best mapping
    depends on the mapper's settings and warm starts, so the shape alone does not name it)."""
    return b"".join(a.tobytes() for a in arrays)


@lru_cache(maxsize=64)
def accelerator_memo_key(accelerator: Accelerator) -> str:
    """`mappings.accelerator_key`, remembered for the accelerators met last (a plan asks it for every layer)."""
    return accelerator_key(accelerator)


__all__ = ["LruMemo", "PRICED", "PRICED_KEPT", "accelerator_memo_key", "mapping_bytes"]
