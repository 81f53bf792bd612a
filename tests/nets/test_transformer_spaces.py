"""The elastic transformer spaces: configs validated like OFA's, sampling / mutation / crossover, their layers."""
import numpy as np
import pytest

from nets import (count_params, crossover_configs, get_space, largest_config,
                  mutate_config, parse_config, sample_configs, smallest_config, to_network)
from nets.spaces import GPT_ELASTIC
from nets.transformer import DecoderConfig, DecoderSpace, ViTConfig
from nets.transformer import gpt2_spec, transformer_network

SPACES = ["vit_elastic", "gpt_elastic", "gpt_elastic_decode"]


@pytest.mark.parametrize("space", SPACES)
def test_sampling_mutation_crossover_stay_in_the_space(space):
    configs = sample_configs(space, 20, 0)
    assert configs == sample_configs(space, 20, 0) and len({repr(c) for c in configs}) == 20
    rng = np.random.default_rng(1)
    scalars = configs[0].space_def.scalar_genes
    for a, b in zip(configs, configs[1:]):
        child = crossover_configs(a, b, rng)
        for f in child.keys():  # every gene from one parent or the other
            got, pa, pb = getattr(child, f), getattr(a, f), getattr(b, f)
            assert got in (pa, pb) if f in scalars else all(g in (x, y) for g, x, y in zip(got, pa, pb))
        mutant = mutate_config(child, rng, 0.3)
        assert parse_config(mutant.to_dict(), space) == mutant  # valid, round-trips through its dict form
    assert mutate_config(configs[0], rng, 0.0) == configs[0] != mutate_config(configs[0], rng, 1.0)


def test_vit_genes_and_layers_follow_autoformer_small():
    config = ViTConfig(d=12, e=384, h=(6,) * 14, m=(4.0,) * 14)
    net = to_network(config)
    assert net.macs == transformer_network(config.to_spec()).macs
    qkv = next(layer for layer in net if layer.name == "blocks.0.attn.qkv")
    fc1 = next(layer for layer in net if layer.name == "blocks.0.mlp.fc1")
    assert (qkv.C, qkv.K, qkv.N) == (384, 3 * 6 * 64, 197) and (fc1.C, fc1.K) == (384, 1536)
    assert len([layer for layer in net if layer.name.endswith("scores")]) == 12  # slots 12, 13 inactive
    assert config.canonical() == config.replace(h=(6,) * 12 + (5, 5), m=(4.0,) * 12 + (3.0, 3.0))
    small, large = smallest_config("vit_elastic"), largest_config("vit_elastic")
    assert 12e6 < count_params(small) < count_params(large) < 36e6   # AutoFormer-S: 22.9 M in between


def test_decoder_space_largest_subnet_is_gpt2_small():
    large = largest_config("gpt_elastic")
    assert large == DecoderConfig(d=12, w=768, h=(12,) * 12, f=(3072,) * 12)
    assert to_network(large).layers == transformer_network(gpt2_spec("prefill")).layers
    decode = to_network(DecoderConfig(**large.to_dict(), space="gpt_elastic_decode"))
    assert decode.layers == transformer_network(gpt2_spec("decode")).layers


def test_sequence_length_and_mode_are_settings_of_the_space():
    space = DecoderSpace(name="gpt_512_decode", mode="decode", context=512)
    config = DecoderConfig(**largest_config(GPT_ELASTIC).to_dict(), space=GPT_ELASTIC.name)
    spec = space.to_spec(config)
    assert (spec.tokens, spec.context) == (1, 512)
    with pytest.raises(ValueError, match="DecoderSpace.mode must be 'prefill' or 'decode'"):
        DecoderSpace(mode="train")
    with pytest.raises(ValueError, match="DecoderSpace.context must be in 2..1024"):
        DecoderSpace(context=4096)


def test_bad_configs_name_the_field():
    with pytest.raises(ValueError, match=r"vit_elastic: config field h\[3\] = 9 is not accepted"):
        ViTConfig(d=12, e=384, h=(6, 6, 6, 9) + (6,) * 10, m=(4.0,) * 14)
    with pytest.raises(ValueError, match="'d' = 5 is not accepted; accepted values for 'd': 6, 7, ..., 12"):
        parse_config({"d": 5, "w": 512, "h": [8] * 12, "f": [1024] * 12}, "gpt_elastic")
    with pytest.raises(ValueError, match="missing key"):
        parse_config({"d": 12, "e": 384}, "vit_elastic")
    with pytest.raises(ValueError, match="ViTConfig.space: 'gpt_elastic' takes DecoderConfig configs"):
        ViTConfig(d=12, e=384, h=(6,) * 14, m=(4.0,) * 14, space="gpt_elastic")
    with pytest.raises(ValueError, match="unknown search space 'bert'.*vit_elastic"):
        get_space("bert")
