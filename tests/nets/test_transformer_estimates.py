"""The transformer spaces' accuracy estimates: the published points they rest on, and their behaviour."""
import math

import numpy as np
import pytest

from nets import largest_config, sample_configs, smallest_config
from nets.estimators import AccuracyEstimator, ParamsInterpolation, ScalingLawEstimate
from nets.estimators.transformer_estimates import AUTOFORMER_POINTS, DEIT_POINTS
from nets.transformer import deit_s_spec, count_params


def test_interpolation_passes_through_autoformers_published_points():
    est = ParamsInterpolation()
    for params, top1 in AUTOFORMER_POINTS:  # Chen et al., ICCV 2021: T 5.7 M 74.7 %, S 22.9 M 81.7 %, B 54 M 82.4 %
        assert est.top1(params) == pytest.approx(top1)
    assert est.top1(1e6) == pytest.approx(0.747) and est.top1(1e9) == pytest.approx(0.824)  # flat beyond the ends
    # DeiT-S (Touvron et al.: 22.1 M, 79.8 %) trained without a search sits below AutoFormer's curve, as reported
    deit_s = DEIT_POINTS[1]
    assert count_params(deit_s_spec()) == pytest.approx(deit_s[0], rel=0.01) and est.top1(deit_s[0]) > deit_s[1]
    with pytest.raises(ValueError, match="increasing order of parameters"):
        ParamsInterpolation(((2e7, 0.8), (1e7, 0.7)))


def test_interpolation_ranks_the_vit_space_by_size():
    est = ParamsInterpolation()
    assert isinstance(est, AccuracyEstimator)
    lo, hi = est.score(smallest_config("vit_elastic")), est.score(largest_config("vit_elastic"))
    assert 0.747 < lo < 0.817 < hi < 0.824
    scores = est.score_batch(sample_configs("vit_elastic", 30, 0))
    assert np.all((scores >= lo) & (scores <= hi))


def test_kaplan_loss_law():
    # L(N) = (8.8e13 / N)^0.076 (Kaplan et al., 2020, eq. 1.1): GPT-2 small's 84.9 M non-embedding weights
    est = ScalingLawEstimate()
    n = 2 * 768 * 12 * (2 * 768 + 3072)
    assert est.loss(n) == pytest.approx((8.8e13 / n) ** 0.076) and 2.8 < est.loss(n) < 2.9
    assert est.score(largest_config("gpt_elastic")) == pytest.approx(math.exp(-est.loss(n)))
    assert est.score(smallest_config("gpt_elastic")) < est.score(largest_config("gpt_elastic"))
    assert est.score(largest_config("gpt_elastic_decode")) == est.score(largest_config("gpt_elastic"))
