"""Zero-cost proxies: finite, seeded, and sensitive to network size where their papers say so."""
import math

import numpy as np
import pytest
import torch

from nets import build_torch
from nets.estimators import NASWOT, PROXIES, GradSign, SynFlow, ZenScore
from nets import largest_config, sample_configs, smallest_config

SMALL = smallest_config("ofa_mbv3_w1.2")
LARGE = largest_config("ofa_mbv3_w1.2")
FAST = {"zen": dict(resolution=32, batch_size=4), "gradsign": dict(resolution=64, batch_size=3),
        "naswot": dict(resolution=32, batch_size=8), "synflow": dict(resolution=32)}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROXIES))
def test_proxy_is_finite_and_deterministic_under_a_seed(name):
    config = sample_configs("ofa_mbv3_w1.2", 1, 3)[0]
    proxy = PROXIES[name](**FAST[name], seed=1)
    torch.manual_seed(123)
    before = torch.rand(1)
    first = proxy.score(config)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), before)  # the caller's RNG is left alone
    assert isinstance(first, float) and math.isfinite(first)
    assert proxy.score(config) == first
    assert PROXIES[name](**FAST[name], seed=2).score(config) != first


@pytest.mark.parametrize("cls", [ZenScore, SynFlow])
def test_largest_subnet_outscores_smallest(cls):
    proxy = cls(**FAST[cls.name])
    assert proxy.score(LARGE) > proxy.score(SMALL) + 1.0  # log scale: e times larger at least


def test_gradsign_counts_sign_agreement_of_per_sample_gradients():
    proxy = GradSign(**FAST["gradsign"])
    n_weights = sum(m.weight.numel() for m in build_torch(SMALL).modules()
                    if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)))
    score = proxy.score(SMALL)
    # each weight contributes |sum of batch_size signs| <= batch_size
    assert 0 < score <= proxy.batch_size * n_weights
    assert proxy.score(LARGE) > score


def test_naswot_kernel_logdet_is_bounded_by_hadamard():
    proxy = NASWOT(**FAST["naswot"])
    score = proxy.score(SMALL)
    # K_H is positive semi-definite with diagonal N_A (units coded); log det <= batch * log N_A
    assert 0 < score < proxy.batch_size * math.log(50e6)


def test_proxies_share_the_estimator_interface():
    configs = sample_configs("ofa_mbv3_w1.2", 2, 0)
    scores = SynFlow(**FAST["synflow"]).score_batch(configs)
    assert scores.shape == (2,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("kwargs, field", [(dict(resolution=16), "resolution"), (dict(batch_size=1), "batch_size")])
def test_bad_proxy_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ZenScore(**kwargs)
    with pytest.raises(ValueError, match="resolution"):
        GradSign(resolution=32)
