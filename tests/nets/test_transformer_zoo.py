"""The transformer zoo against published parameter counts and MACs (sources next to each figure).

Sources (docs/sources.md, section Transformers, unless stated):
- ViT-B/16: torchvision ViT_B_16_Weights.IMAGENET1K_V1, GFLOPS 17.564 (multiply-accumulates, like its ResNet-50
  4.089), num_params 86,567,656 (Dosovitskiy et al. report 86 M).
- DeiT-S: Touvron et al., ICML 2021, Table 1: 22 M parameters, 4.6 G FLOPs (multiply-adds); 22.1 M counted exactly.
- BERT-base: Devlin et al., NAACL 2019: 110 M parameters.
- GPT-2 small: Radford et al., 2019 (as released): 124 M parameters.
- Llama 3.2 1B: Meta's model card (meta-llama/Llama-3.2-1B): 1.23 B parameters.
- Language models' MACs: Kaplan et al., 2020, Table 1: a forward pass costs 2N FLOPs per token (N MACs) for the
  non-embedding weights N = 2 d_model n_layer (2 d_attn + d_ff), plus 2 d_model n_vocab for the de-embedding; its
  context term 2 n_layer n_ctx d_attn FLOPs per token is the causal average (each token sees n_ctx/2 keys in the
  two products), which the dense products here compute in full: 2 n_layer n_ctx d_attn MACs per token.
"""
import pytest

from nets import get_network
from nets.transformer import (bert_base_spec, count_params, deit_s_spec, gpt2_spec, llama32_1b_spec,
                              non_embedding_params, transformer_network, vit_b16_spec)

PUBLISHED = {  # name: (spec, published parameters, published MACs or None)
    "vit_b16": (vit_b16_spec(), 86.6e6, 17.564e9),
    "deit_s": (deit_s_spec(), 22.1e6, 4.6e9),
    "bert_base_128": (bert_base_spec(128), 110e6, None),
    "bert_base_512": (bert_base_spec(512), 110e6, None),
    "gpt2_prefill": (gpt2_spec("prefill"), 124e6, None),
    "gpt2_decode": (gpt2_spec("decode"), 124e6, None),
    "llama3_2_1b_prefill": (llama32_1b_spec("prefill"), 1.23e9, None),
    "llama3_2_1b_decode": (llama32_1b_spec("decode"), 1.23e9, None),
}


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameters_within_1_percent_of_published(name):
    spec, params, _ = PUBLISHED[name]
    assert abs(count_params(spec) - params) / params < 0.01
    assert get_network(name).layers == transformer_network(spec).layers


@pytest.mark.parametrize("name", ["vit_b16", "deit_s"])
def test_vision_macs_within_1_percent_of_published(name):
    spec, _, macs = PUBLISHED[name]
    assert abs(get_network(name).macs - macs) / macs < 0.01


def test_vit_b16_parameters_equal_torchvision_count_exactly():
    assert count_params(vit_b16_spec()) == 86_567_656  # torchvision ViT_B_16_Weights num_params


def _kaplan_macs(d_model, n_layer, d_attn, d_ff, n_vocab, tokens, n_ctx, logits_tokens):
    """Kaplan et al. (2020) Table 1's per-token forward cost in MACs, context term dense (see the module docstring)."""
    n = 2 * d_model * n_layer * (2 * d_attn + d_ff)
    return tokens * (n + 2 * n_layer * n_ctx * d_attn) + logits_tokens * d_model * n_vocab


@pytest.mark.parametrize("name, tokens, n_ctx, logits", [("gpt2_prefill", 1024, 1024, 1), ("gpt2_decode", 1, 1024, 1)])
def test_gpt2_macs_follow_kaplan_per_token_cost(name, tokens, n_ctx, logits):
    expected = _kaplan_macs(768, 12, 768, 3072, 50257, tokens, n_ctx, logits)
    assert abs(get_network(name).macs - expected) / expected < 0.01
    assert non_embedding_params(gpt2_spec()) == 2 * 768 * 12 * (2 * 768 + 3072)  # Kaplan's N for GPT-2 small


@pytest.mark.parametrize("seq", [128, 512])
def test_bert_macs_follow_kaplan_per_token_cost(seq):
    # an encoder: the same per-token rule, no de-embedding; the pooler is one 768 x 768 product on [CLS]
    expected = _kaplan_macs(768, 12, 768, 3072, 0, seq, seq, 0) + 768 * 768
    assert abs(get_network(f"bert_base_{seq}").macs - expected) / expected < 0.01


@pytest.mark.parametrize("mode, tokens", [("prefill", 1024), ("decode", 1)])
def test_llama_macs_follow_kaplan_with_gqa_and_swiglu(mode, tokens):
    # non-embedding weights: q and o 2048 x 2048, k and v 2048 x 512 (8 of 32 heads), three SwiGLU matrices
    n = 16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192)
    assert non_embedding_params(llama32_1b_spec(mode)) == n
    expected = tokens * (n + 2 * 16 * 1024 * 2048) + 2048 * 128256
    assert abs(get_network(f"llama3_2_1b_{mode}").macs - expected) / expected < 0.01
    scores = [layer for layer in get_network(f"llama3_2_1b_{mode}") if layer.name.endswith("scores")]
    assert len(scores) == 16 and all((s.G, s.P, s.N, s.K) == (8, 4, tokens, 1024) for s in scores)


def test_decode_reads_the_cache_and_prefill_masks_causally():
    decode, prefill = get_network("gpt2_decode"), get_network("gpt2_prefill")
    d_scores = next(layer for layer in decode if layer.name == "blocks.0.attn.scores")
    p_scores = next(layer for layer in prefill if layer.name == "blocks.0.attn.scores")
    assert (d_scores.N, d_scores.K) == (1, 1024) and (p_scores.N, p_scores.K) == (1024, 1024)
    assert [op.kind for op in d_scores.elementwise] == ["scale", "softmax"]
    assert [op.kind for op in p_scores.elementwise] == ["scale", "mask", "softmax"]
    assert p_scores.elementwise[-1].elements == 12 * 1024 * 1024


def test_every_non_mac_op_of_a_block_is_listed():
    net = get_network("vit_b16")
    kinds = [op.kind for layer in net for op in layer.elementwise]
    # per block: 2 layer norms, scale, softmax, GELU, 2 residual adds; plus position add and the final norm
    assert kinds.count("layernorm") == 2 * 12 + 1 and kinds.count("softmax") == kinds.count("gelu") == 12
    assert kinds.count("add") == 2 * 12 + 1
    fc1 = next(layer for layer in net if layer.name == "blocks.3.mlp.fc1")
    assert [(op.kind, op.elements) for op in fc1.elementwise] == [("gelu", 197 * 3072)]
    llama = get_network("llama3_2_1b_decode")
    assert {op.kind for layer in llama for op in layer.elementwise} == {"rmsnorm", "rope", "scale", "softmax", "add",
                                                                         "silu", "mul"}


def test_bad_mode_and_batch_are_rejected():
    with pytest.raises(ValueError, match="mode must be 'prefill' or 'decode'"):
        gpt2_spec("train")
    with pytest.raises(ValueError, match="batch must be an integer >= 1"):
        transformer_network(gpt2_spec(), batch=0)
    assert get_network("vit_b16", batch=2).macs == 2 * get_network("vit_b16").macs
