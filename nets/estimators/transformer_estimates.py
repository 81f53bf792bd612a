"""Accuracy estimates of the elastic transformer spaces: no trained predictor exists for them here, so these are
estimates from published figures, not measurements (and labelled so wherever cosearch shows them).

- `ParamsInterpolation` (vision): ImageNet top-1 interpolated, linearly in log(parameters), between published
  (parameters, top-1) points of models from one training recipe: AutoFormer-T / S / B (Chen et al., ICCV 2021:
  5.7 / 22.9 / 54 M parameters, 74.7 / 81.7 / 82.4 % top-1), held flat beyond the ends.
- `ScalingLawEstimate` (decoder): Kaplan et al. (2020)'s loss law over non-embedding parameters N,
  L(N) = (N_c / N)^0.076 nats per token with N_c = 8.8e13 (models trained to convergence on WebText2),
  reported as exp(-L), the geometric-mean probability of the next token (higher is better, as a top-1).

The spaces return them as their accuracy source (`SearchSpace.accuracy_estimator`); a space subclass that
returns a trained predictor (any `AccuracyEstimator`) replaces them.
"""
from __future__ import annotations

import math

import numpy as np

from ..spaces.config import SubnetConfig
from ..spaces.registry import get_space
from ..transformer.workload import non_embedding_params
from .base import AccuracyEstimator

AUTOFORMER_POINTS: tuple[tuple[float, float], ...] = ((5.7e6, 0.747), (22.9e6, 0.817), (54e6, 0.824))
"""(parameters, ImageNet top-1) of AutoFormer-T / S / B (Chen et al., ICCV 2021; docs/sources.md)."""
DEIT_POINTS: tuple[tuple[float, float], ...] = ((5.7e6, 0.722), (22.1e6, 0.798), (86.6e6, 0.818))
"""DeiT-Ti / S / B (Touvron et al., ICML 2021; docs/sources.md): the same architecture family trained without a search,
for comparison with the interpolation (below it at equal size, as AutoFormer reports)."""
KAPLAN_N_C = 8.8e13
KAPLAN_ALPHA_N = 0.076
"""L(N) = (N_c / N)^alpha_N (Kaplan et al., 2020, eq. 1.1; docs/sources.md)."""


class ParamsInterpolation(AccuracyEstimator):
    """Estimated ImageNet top-1 (a fraction) from the parameter count, interpolated between published points."""

    name = "params_interpolation"
    notice = ("NOTICE: accuracy of the elastic ViT's subnets is an ESTIMATE from published figures (top-1 "
              "interpolated in parameters between AutoFormer-T/S/B), not a trained model's: no trained accuracy "
              "predictor ships for this space.")
    label = ("ESTIMATE: ImageNet top-1 interpolated in log(parameters) between AutoFormer-T/S/B's published "
             "(5.7 M, 74.7 %), (22.9 M, 81.7 %), (54 M, 82.4 %) (Chen et al., ICCV 2021), not a trained model's")

    def __init__(self, points: tuple[tuple[float, float], ...] = AUTOFORMER_POINTS) -> None:
        xs = [p for p, _ in points]
        if len(points) < 2 or sorted(xs) != xs or len(set(xs)) != len(xs):
            raise ValueError("ParamsInterpolation.points: need at least 2 (parameters, top-1) points in increasing "
                             "order of parameters")
        self._log_params = np.log([p for p, _ in points])
        self._top1 = np.array([a for _, a in points])

    def top1(self, params: float) -> float:
        return float(np.interp(math.log(params), self._log_params, self._top1))

    def score(self, config: SubnetConfig) -> float:
        config = _parsed(config, "vit_elastic")
        return self.top1(config.space_def.parameters(config))


def _parsed(config, space: str) -> SubnetConfig:
    """A config as it is, or a dict read in `space`."""
    return config if isinstance(config, SubnetConfig) else get_space(space).parse(config)


class ScalingLawEstimate(AccuracyEstimator):
    """exp(-L(N)) with L Kaplan et al.'s loss law over the subnet's non-embedding parameters."""

    name = "kaplan_loss_law"
    notice = ("NOTICE: accuracy of the decoder's subnets is an ESTIMATE, exp(-loss) of Kaplan et al.'s scaling law over "
              "their parameters, not a trained model's: no trained accuracy predictor ships for this space.")
    label = ("ESTIMATE: exp(-L), L = (8.8e13 / N)^0.076 nats per token over non-embedding parameters N "
             "(Kaplan et al., 2020, trained to convergence on WebText2), not a trained model's")

    @staticmethod
    def loss(non_embedding: float) -> float:
        """Test loss (nats per token) of a converged model with `non_embedding` parameters."""
        return (KAPLAN_N_C / non_embedding) ** KAPLAN_ALPHA_N

    def score(self, config: SubnetConfig) -> float:
        config = _parsed(config, "gpt_elastic")
        return math.exp(-self.loss(non_embedding_params(config.to_spec())))
