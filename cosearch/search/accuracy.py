"""Where the accuracy of a subnet comes from: its search space's accuracy source (`nets.SearchSpace.
accuracy_estimator`): OFA's predictor for MobileNetV3 w1.2, a calibrated zero-cost proxy for the other OFA spaces,
published-figure estimates for EfficientNet and the elastic transformers, each labelled. `AccuracyModel` wraps it
for the search: a per-run memo of the slow proxies' scores, and what the report says of the source.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nets import SubnetConfig, get_space, largest_config

from .._files import write_text_atomic
from ..config import CoSearchSettings, UsageError

MEMO_FILE = "proxy_top1.json"
"""Under --out: the calibrated proxy scores of the subnets scored so far (a proxy takes ~0.2 s a subnet)."""


@dataclass(frozen=True)
class AccuracySource:
    """What scores accuracy: kind 'ofa_predictor', 'proxy' or 'estimate', a label, the file used, and a notice
    (proxy and estimate)."""

    kind: str
    label: str
    path: str | None = None
    notice: str | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "path": self.path, "notice": self.notice}


class AccuracyModel:
    """Estimated accuracy of subnets of one space (top-1 fractions, or the space's own stated scale), with its
    source; a proxy's scores are memoised (and saved to `memo_path` for other workers and later runs)."""

    def __init__(self, space: str, estimator, memo_path: Path | None = None) -> None:
        self.space = get_space(space).name
        self._estimator = estimator
        path = getattr(estimator, "path", None)
        self.source = AccuracySource(estimator.kind, estimator.label, None if path is None else str(path),
                                     estimator.notice)
        self._memo: dict[str, float] | None = {} if estimator.kind == "proxy" else None
        self._memo_path = memo_path if self._memo is not None else None
        if self._memo_path is not None and self._memo_path.is_file():
            try:
                self._memo.update(json.loads(self._memo_path.read_text()))
            except (OSError, ValueError):
                pass  # a damaged memo is only a lost speed-up

    @property
    def estimator(self):
        """The space's accuracy estimator itself (for what the model does not wrap: a differentiable form)."""
        return self._estimator

    @staticmethod
    def _key(config: SubnetConfig) -> str:
        c = config.canonical().to_dict()
        c.pop("r", None)  # the proxies never see the resolution
        return json.dumps(c, sort_keys=True)

    def score_batch(self, configs: Iterable[SubnetConfig]) -> np.ndarray:
        """Accuracy estimates, in input order."""
        configs = list(configs)
        if not configs:
            return np.zeros(0)
        if self._memo is None:
            return np.asarray(self._estimator.score_batch(configs), dtype=float)
        keys = [self._key(c) for c in configs]
        for key, config in zip(keys, configs):
            if key not in self._memo:
                self._memo[key] = float(self._estimator.score(config))
        return np.array([self._memo[k] for k in keys], dtype=float)

    def score(self, config: SubnetConfig) -> float:
        return float(self.score_batch([config])[0])

    def best_possible(self) -> float:
        """The estimate of the space's largest subnet: a floor above it cannot be met."""
        return self.score(largest_config(self.space))

    def save_memo(self) -> None:
        """Merge the proxy scores into the memo file (so that later runs and other workers reuse them)."""
        if self._memo_path is None:
            return
        merged = {}
        if self._memo_path.is_file():
            try:
                merged = json.loads(self._memo_path.read_text())
            except (OSError, ValueError):
                merged = {}
        merged.update(self._memo)
        write_text_atomic(self._memo_path, json.dumps(merged))


def load_accuracy_model(space: str, predictor: str | os.PathLike | None = None, memo_path: Path | None = None,
                        seed: int = 0) -> AccuracyModel:
    """The accuracy source of `space` (`predictor`: a predictor file, where the space has one), as an
    `AccuracyModel`; a bad predictor file is a `UsageError` naming `--predictor` or the environment variable."""
    space_def = get_space(space)
    try:
        estimator = space_def.accuracy_estimator(predictor=predictor, seed=seed)
    except (FileNotFoundError, ValueError) as exc:
        from nets.estimators import ENV_VAR  # torch: see cosearch.search

        origin = "--predictor" if predictor is not None else (f"${ENV_VAR}" if os.environ.get(ENV_VAR)
                                                              else "accuracy predictor")
        raise UsageError(f"{origin}: {str(exc).partition(': ')[2] or exc}") from None
    if estimator.kind == "proxy":
        import torch  # see cosearch.search

        torch.set_num_threads(1)  # the proxies' small tensors: extra threads only contend with the mapper (10x slower)
    return AccuracyModel(space_def.name, estimator, memo_path)


def accuracy_model(settings: CoSearchSettings) -> AccuracyModel | None:
    """The accuracy source of a subnet search or of a fixed subnet (None for a zoo network)."""
    if settings.network is not None and settings.network.kind != "subnet":
        return None
    space = settings.network.config.space if settings.network is not None else settings.space
    return load_accuracy_model(space, settings.predictor, memo_path=settings.out / MEMO_FILE, seed=settings.seed)


def check_floor(settings: CoSearchSettings, accuracy: AccuracyModel | None) -> None:
    """An accuracy floor above the space's largest subnet (by `accuracy`'s estimate) is a `UsageError`: no subnet
    can meet it, so no search starts."""
    floor = settings.budget.accuracy
    if accuracy is None or floor is None:
        return
    best_possible = accuracy.best_possible()
    if floor > best_possible:
        raise UsageError(f"accuracy floor {floor:g} is above the space's largest subnet ({best_possible:.4f} by "
                         f"{accuracy.source.label}); accepted: a floor at most {best_possible:.4f} (--accuracy or "
                         "accuracy>= in --budget)")
