"""Where the accuracy of a subnet comes from: OFA's predictor when its file is found, else a zero-cost proxy; for
the elastic transformer spaces, a published-figure estimate (`nets.estimators.TRANSFORMER_ESTIMATES`).

The predictor (`nets.OFAAccuracyPredictor`) covers the MobileNetV3 w1.2 space and is looked for at
--predictor, then $COSEARCH_OFA_PREDICTOR, then the copy installed with `nets.estimators` (the order is
`nets.estimators.find_predictor_path`'s). Without it (or for another space) a zero-cost proxy
scores the subnets and a notice says so. A proxy is not a top-1 accuracy: it is mapped onto one
linearly, anchored at the space's smallest and largest subnets, whose top-1 are taken from OFA's
predictor (0.7667 and 0.8359 for MBv3 w1.2, its README's sanity values); the same anchors stand in
for the other spaces, for which no predictor exists. The proxies run at 64 px and never see the
resolution gene, so under a proxy the search is blind to resolution's effect on accuracy.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nets import (EFFICIENTNET, TRANSFORMER_SPACES, EfficientNetAccuracy, SubnetConfig, get_space, largest_config,
                  smallest_config)

from .._files import write_text_atomic
from ..config import CoSearchSettings, UsageError

PREDICTOR_SPACE = "ofa_mbv3_w1.2"
ANCHOR_TOP1 = (0.7667, 0.8359)
"""Top-1 of MBv3 w1.2's smallest (ks 3, e 3, d 2, r 128) and largest (ks 7, e 6, d 4, r 224) subnets by
OFA's predictor (nets/estimators/data/README.md): the ends of the proxy calibration."""
DEFAULT_PROXY = "zen"
"""Zen-score: the proxy best rank-correlated with the predictor on MBv3 (benchmarks/proxy_correlation.py,
40 subnets: Spearman 0.49, 0.83 with the resolution fixed; SynFlow 0.48 but degenerate on Proxyless
w1.3, where its smallest and largest subnets score the same), about 0.2 s per subnet on one core."""


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


def find_predictor(path: str | os.PathLike | None = None) -> Path | None:
    """The predictor file: `path` (--predictor), $COSEARCH_OFA_PREDICTOR, the packaged copy; None if absent.

    A path given explicitly (argument or environment) that does not exist is a usage error, not a fallback.
    """
    from nets.estimators import find_predictor_path  # nets.estimators imports torch

    try:
        return find_predictor_path(path, field="--predictor")
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def _predictor_origin(predictor) -> str:
    """Where the predictor's path came from, as the field an error names."""
    from nets.estimators.ofa_predictor import ENV_VAR

    if predictor is not None:
        return "--predictor"
    return f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "accuracy predictor"


class AccuracyModel:
    """Estimated ImageNet top-1 (a fraction) of subnets of one OFA space, with its source."""

    def __init__(self, space: str, source: AccuracySource, estimator, calibration: tuple[float, float] | None,
                 memo_path: Path | None = None) -> None:
        self.space = get_space(space).name
        self.source = source
        self._estimator = estimator
        self._calibration = calibration
        self._memo: dict[str, float] = {}
        self._memo_path = memo_path
        if memo_path is not None and memo_path.is_file():
            try:
                self._memo.update(json.loads(memo_path.read_text()))
            except (OSError, ValueError):
                pass  # a damaged memo is only a lost speed-up

    def _key(self, config: SubnetConfig) -> str:
        c = config.canonical().to_dict()
        if self.source.kind == "proxy":
            c.pop("r", None)  # the proxies never see the resolution
        return json.dumps(c, sort_keys=True)

    def score_batch(self, configs: Iterable[SubnetConfig]) -> np.ndarray:
        """Top-1 estimates (fractions), in input order."""
        configs = list(configs)
        if self._calibration is None:  # the predictor or an estimate: its scores are the accuracy
            return np.asarray(self._estimator.score_batch(configs), dtype=float) if configs else np.zeros(0)
        keys = [self._key(c) for c in configs]
        for key, config in zip(keys, configs):
            if key not in self._memo:
                self._memo[key] = float(self._estimator.score(config))
        raw = np.array([self._memo[k] for k in keys], dtype=float)
        lo, hi = self._calibration
        a_lo, a_hi = ANCHOR_TOP1
        return a_lo + (a_hi - a_lo) * (raw - lo) / (hi - lo)

    def score(self, config: SubnetConfig) -> float:
        return float(self.score_batch([config])[0])

    def best_possible(self) -> float:
        """The estimate of the space's largest subnet: a floor above it cannot be met."""
        return self.score(largest_config(self.space))

    def save_memo(self) -> None:
        """Merge the proxy scores into the memo file (so that later runs and other workers reuse them)."""
        if self._memo_path is None or self.source.kind != "proxy":
            return
        merged = {}
        if self._memo_path.is_file():
            try:
                merged = json.loads(self._memo_path.read_text())
            except (OSError, ValueError):
                merged = {}
        merged.update(self._memo)
        write_text_atomic(self._memo_path, json.dumps(merged))


def load_accuracy_model(space: str, predictor: str | os.PathLike | None = None, proxy: str = DEFAULT_PROXY,
                        memo_path: Path | None = None, seed: int = 0) -> AccuracyModel:
    """OFA's predictor for MBv3 w1.2 when its file is found; otherwise `proxy`, calibrated, with a notice; a
    transformer space's estimate (labelled) for the elastic transformer spaces."""
    space = get_space(space).name
    if space in TRANSFORMER_SPACES:
        from nets.estimators import TRANSFORMER_ESTIMATES  # torch: see cosearch.search

        estimator = TRANSFORMER_ESTIMATES[space]()  # a user's AccuracyEstimator may take the entry's place
        label = getattr(estimator, "label", estimator.name)
        notice = (f"NOTICE: accuracy of {space} subnets: {label} (no trained accuracy predictor ships for this "
                  "space; nets.estimators.TRANSFORMER_ESTIMATES takes one).")
        return AccuracyModel(space, AccuracySource("estimate", label, None, notice), estimator, None)
    if space == EFFICIENTNET.name:
        estimator = EfficientNetAccuracy()
        notice = (f"NOTICE: accuracy of the EfficientNet family is an {estimator.label}, not a trained model's "
                  "top-1 at that phi.")
        return AccuracyModel(space, AccuracySource("estimate", estimator.label, None, notice), estimator, None)
    path = find_predictor(predictor)
    if path is not None and space == PREDICTOR_SPACE:
        from nets.estimators import OFAAccuracyPredictor  # torch: see cosearch.search

        source = AccuracySource("ofa_predictor", "OFA accuracy predictor (ImageNet top-1)", str(path))
        try:
            estimator = OFAAccuracyPredictor(path)
        except ValueError as exc:
            raise UsageError(f"{_predictor_origin(predictor)}: {str(exc).partition(': ')[2]}") from None
        return AccuracyModel(space, source, estimator, None)
    import torch  # see cosearch.search

    from nets.estimators import PROXIES

    torch.set_num_threads(1)  # the proxies' small tensors: extra threads only contend with the mapper (10x slower)
    if proxy not in PROXIES:
        raise UsageError(f"accuracy proxy: unknown {proxy!r}; accepted: {', '.join(PROXIES)}")
    estimator = PROXIES[proxy](seed=seed)
    why = ("OFA's accuracy predictor was not found (looked at --predictor, $COSEARCH_OFA_PREDICTOR and the "
           "copy installed with nets.estimators, nets/estimators/data/)" if path is None else
           f"OFA's accuracy predictor covers {PREDICTOR_SPACE} only, not {space}")
    anchors = "" if space == PREDICTOR_SPACE else " (anchors borrowed from MBv3 w1.2: uncalibrated for this space)"
    notice = (f"NOTICE: accuracy is a zero-cost proxy ({proxy}), not a trained model's top-1: {why}. Proxy scores are "
              f"mapped to top-1 linearly between the space's smallest and largest subnets at "
              f"{ANCHOR_TOP1[0]:.4f} and {ANCHOR_TOP1[1]:.4f}{anchors}; the proxy ignores the input resolution.")
    source = AccuracySource("proxy", f"zero-cost proxy {proxy} (calibrated)", None, notice)
    calibration = (float(estimator.score(smallest_config(space))), float(estimator.score(largest_config(space))))
    if not calibration[1] > calibration[0]:
        raise RuntimeError(f"accuracy proxy {proxy}: the largest subnet does not outscore the smallest "
                           f"({calibration}); cannot calibrate it")
    return AccuracyModel(space, source, estimator, calibration, memo_path)


def accuracy_model(settings: CoSearchSettings) -> AccuracyModel | None:
    """The accuracy source of a subnet search or of a fixed OFA subnet (None for a zoo network)."""
    if settings.network is not None and settings.network.kind != "subnet":
        return None
    space = settings.network.config.space if settings.network is not None else settings.space
    return load_accuracy_model(space, settings.predictor, memo_path=settings.out / "proxy_scores.json",
                               seed=settings.seed)
