"""`RandomStrategy` ("random"): uniform genes in batches, every mapping decoded and scored: the baseline."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..encoding import Encoding
from .base import check_integer
from .tracker import Tracker, TrackedStrategy


@dataclass(frozen=True)
class RandomStrategy(TrackedStrategy):
    """Seeds first, then uniform genes in batches of `batch_size` until the budget or the time limit."""

    name = "random"

    batch_size: int = 1024

    def __post_init__(self) -> None:
        check_integer(type(self).__name__, "batch_size", self.batch_size, 1)

    def explore(self, enc: Encoding, tracker: Tracker, seed: int, seeds: np.ndarray) -> None:
        rng = np.random.default_rng(seed)
        if len(seeds):
            tracker.score(enc.decode(np.clip(np.asarray(seeds, dtype=float), 0.0, 1.0)))
        while not tracker.done():
            n = self.batch_size if tracker.remaining() is None else min(self.batch_size, tracker.remaining())
            tracker.score(enc.decode(rng.random((n, enc.size))))


__all__ = ["RandomStrategy"]
