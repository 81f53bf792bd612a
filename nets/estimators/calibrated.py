"""A zero-cost proxy mapped onto ImageNet top-1, for the spaces that have no trained accuracy predictor.

A proxy's score is not an accuracy; it is mapped linearly onto one, anchored at the space's smallest and largest
subnets, whose top-1 are taken from OFA's predictor on MobileNetV3 w1.2 (`ANCHOR_TOP1`). For other spaces the
same anchors stand in (uncalibrated for them, and said so). The proxies run at 64 px and never see the
resolution gene, so under a proxy a search is blind to resolution's effect on accuracy.
"""
from __future__ import annotations

from ..spaces.evolution import largest_config, smallest_config
from .base import AccuracyEstimator
from .gradsign import GradSign
from .naswot import NASWOT
from .synflow import SynFlow
from .zen import ZenScore

ANCHOR_TOP1 = (0.7667, 0.8359)
"""Top-1 of MBv3 w1.2's smallest (ks 3, e 3, d 2, r 128) and largest (ks 7, e 6, d 4, r 224) subnets by OFA's
predictor (the sanity values of its published checkpoint; docs/sources.md): the ends of the calibration."""
ANCHOR_SPACE = "ofa_mbv3_w1.2"
PROXIES = {cls.name: cls for cls in (ZenScore, GradSign, NASWOT, SynFlow)}
"""Zero-cost proxy classes by name."""
DEFAULT_PROXY = "zen"
"""Zen-score: the proxy best rank-correlated with OFA's predictor on MBv3 (`benchmarks/proxy_correlation.py`, 40
subnets: Spearman 0.49, 0.83 with the resolution fixed; SynFlow 0.48 but degenerate on Proxyless w1.3, where its
smallest and largest subnets score the same), about 0.2 s per subnet on one core."""


class CalibratedProxy(AccuracyEstimator):
    """ESTIMATE of top-1 from a zero-cost proxy (`proxy`, one of `PROXIES`) of a space's subnets, mapped linearly
    between the space's smallest and largest subnets at `ANCHOR_TOP1`. `why`: the reason no predictor is used,
    for the notice."""

    kind = "proxy"

    def __init__(self, space, proxy: str = DEFAULT_PROXY, seed: int = 0, why: str = "") -> None:
        if proxy not in PROXIES:
            raise ValueError(f"accuracy proxy: unknown {proxy!r}; accepted: {', '.join(PROXIES)}")
        self.space = space.name
        self.proxy = PROXIES[proxy](seed=seed)
        self.name = f"calibrated_{proxy}"
        self.label = f"zero-cost proxy {proxy} (calibrated)"
        lo, hi = float(self.proxy.score(smallest_config(space))), float(self.proxy.score(largest_config(space)))
        if not hi > lo:
            raise ValueError(f"accuracy proxy {proxy}: the largest subnet of {space.name} does not outscore the "
                             f"smallest ({lo:g} >= {hi:g}); cannot calibrate it")
        self.calibration = (lo, hi)
        anchors = "" if space.name == ANCHOR_SPACE else \
            f" (anchors borrowed from {ANCHOR_SPACE}: uncalibrated for this space)"
        self.notice = (f"NOTICE: accuracy is a zero-cost proxy ({proxy}), not a trained model's top-1"
                       f"{': ' + why if why else ''}. Proxy scores are mapped to top-1 linearly between the space's "
                       f"smallest and largest subnets at {ANCHOR_TOP1[0]:.4f} and {ANCHOR_TOP1[1]:.4f}{anchors}; "
                       "the proxy ignores the input resolution.")

    def score(self, config) -> float:
        lo, hi = self.calibration
        a_lo, a_hi = ANCHOR_TOP1
        return a_lo + (a_hi - a_lo) * (float(self.proxy.score(config)) - lo) / (hi - lo)


__all__ = ["ANCHOR_TOP1", "PROXIES", "DEFAULT_PROXY", "CalibratedProxy"]
