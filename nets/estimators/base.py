"""The accuracy-estimator interface the network search talks to: score one config or a batch."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from ..ofa.config import SubnetConfig


class AccuracyEstimator(ABC):
    """Anything that ranks subnet configs: higher score = expected to be more accurate.

    Scores of different estimators are on different scales (a predicted top-1 fraction, a log-norm,
    a count); only their order within one estimator is meaningful for search.
    """

    name: str = "estimator"

    @abstractmethod
    def score(self, config: SubnetConfig) -> float:
        """Score of one config (higher = better)."""

    def score_batch(self, configs: Iterable[SubnetConfig]) -> np.ndarray:
        """Scores of several configs, float64 array in input order."""
        return np.array([self.score(c) for c in configs], dtype=np.float64)
