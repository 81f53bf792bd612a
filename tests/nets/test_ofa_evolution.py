"""Seeded sampling, mutation and crossover."""
import numpy as np
import pytest

from nets import (crossover_configs, get_space, largest_config, mutate_config, sample_config, sample_configs,
                  smallest_config)

SPACES = ["ofa_mbv3_w1.2", "ofa_proxyless_w1.3", "ofa_resnet50"]


@pytest.mark.parametrize("space", SPACES)
def test_sampling_is_deterministic_under_a_seed_and_varied(space):
    a = sample_configs(space, 30, 7)
    assert a == sample_configs(space, 30, 7)
    assert a != sample_configs(space, 30, 8)
    assert len(set(a)) == 30
    assert sample_config(space, np.random.default_rng(5)) == sample_config(space, 5)


@pytest.mark.parametrize("space", SPACES)
def test_samples_cover_every_choice_of_every_gene(space):
    configs = sample_configs(space, 300, 0)
    for field, per_position in get_space(space).genes().items():
        for i, choices in enumerate(per_position):
            seen = {c.r if field == "r" else getattr(c, field)[i] for c in configs}
            assert seen == set(choices) or (field == "r" and len(seen) > len(choices) // 2), (field, i)


def test_proxyless_last_stage_depth_is_always_one():
    assert {c.d[5] for c in sample_configs("ofa_proxyless_w1.3", 50, 1)} == {1}


@pytest.mark.parametrize("space", SPACES)
def test_mutation_rate(space):
    parent = sample_config(space, 11)
    assert mutate_config(parent, 3, prob=0.0) == parent
    assert mutate_config(parent, 3, prob=0.3) == mutate_config(parent, 3, prob=0.3)
    # with prob 1 every gene is redrawn: roughly (1 - 1/3) of the 3-way genes change
    child = mutate_config(parent, 4, prob=1.0)
    field = "ks" if space != "ofa_resnet50" else "e"
    changed = np.mean([x != y for x, y in zip(getattr(parent, field), getattr(child, field))])
    assert 0.3 < changed < 0.95
    with pytest.raises(ValueError, match="prob"):
        mutate_config(parent, 0, prob=1.5)


@pytest.mark.parametrize("space", SPACES)
def test_crossover_takes_each_gene_from_a_parent(space):
    a, b = smallest_config(space), largest_config(space)
    child = crossover_configs(a, b, 9)
    assert child == crossover_configs(a, b, 9)
    for field in get_space(space).genes():
        va, vb, vc = getattr(a, field), getattr(b, field), getattr(child, field)
        if field == "r":
            assert vc in (va, vb)
        else:
            assert all(x in (y, z) for x, y, z in zip(vc, va, vb))
            if len(vc) >= 18:  # P(all from one parent) <= 2^-17
                assert vc != va and vc != vb
    with pytest.raises(ValueError, match="different spaces"):
        crossover_configs(a, largest_config("ofa_mbv3_w1.2" if space != "ofa_mbv3_w1.2" else "ofa_resnet50"), 0)
