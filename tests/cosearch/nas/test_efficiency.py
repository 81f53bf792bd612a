"""The efficiency predictor (an estimate of the table): its term features and its ranking of held-out subnets on a
stand-in device whose latency is a sum over the layers (MACs / 1e11 s)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from cosearch.search.nas import SubnetCost
from cosearch.search.nas.efficiency import EfficiencyPredictor, TermEncoder, draw_configs, encode
from nets import count_macs, get_space

SPACE = get_space("ofa-mbv3")


def _cost(config) -> SubnetCost:
    macs = count_macs(config)
    return SubnetCost(macs / 1e11, macs * 1e-12)


def test_each_layer_term_sets_one_feature_scaled_by_the_squared_resolution():
    genes = SPACE.genes()
    encoder = TermEncoder(SPACE, genes)
    config = draw_configs(SPACE, genes, 1, seed=3)[0]
    x = encoder(config)
    one_hot = encode(SPACE, encoder.decisions, config)
    tail = x[len(one_hot):]
    assert np.array_equal(x[:len(one_hot)], one_hot) and len(encoder.terms) > 0
    assert np.count_nonzero(tail) == len(encoder.terms)
    assert np.allclose(tail[tail != 0], (config.r / max(SPACE.resolutions)) ** 2)


@pytest.mark.slow
def test_the_predictor_ranks_held_out_subnets_as_the_cost_does():
    genes = SPACE.genes()
    predictor = EfficiencyPredictor.fit(SPACE, genes, _cost, 2000, seed=0)
    held = draw_configs(SPACE, genes, 200, seed=7)
    exact = np.array([_cost(c).latency_s for c in held])
    assert kendalltau(predictor.predict(held)[:, 0], exact).statistic >= 0.9
