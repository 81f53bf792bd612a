"""The accuracy-estimator interface the network search talks to: score one config or a batch, and say what the
scores are."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from ..spaces.config import SubnetConfig


class AccuracyEstimator(ABC):
    """Anything that ranks subnet configs: higher score = expected to be more accurate.

    Scores of different estimators are on different scales (a predicted top-1 fraction, a log-norm, a count); a
    search space's accuracy source (`SearchSpace.accuracy_estimator`) gives top-1 fractions or, for the language
    models, a score on its own stated scale. What the scores are is said by `kind` ('ofa_predictor' for a trained
    predictor, 'proxy' for a zero-cost proxy, 'estimate' for figures derived from published results), `label`
    (shown wherever the accuracy is) and `notice` (a sentence saying why an estimate stands in for a measured
    accuracy, or None); `path` is the file it was read from, if any.
    """

    name: str = "estimator"
    kind: str = "estimate"
    label: str = "accuracy estimator"
    path = None
    notice: str | None = None

    @abstractmethod
    def score(self, config: SubnetConfig) -> float:
        """Score of one config (higher = better)."""

    def score_batch(self, configs: Iterable[SubnetConfig]) -> np.ndarray:
        """Scores of several configs, float64 array in input order."""
        return np.array([self.score(c) for c in configs], dtype=np.float64)
