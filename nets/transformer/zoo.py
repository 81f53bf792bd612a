"""Reference transformers (batch 1) as `TransformerSpec`s and `Network`s; shapes as published (docs/sources.md).

ViT-B/16 and DeiT-S (Dosovitskiy et al., ICLR 2021; Touvron et al., ICML 2021) at 224 x 224: patch 16,
196 patches + a class token. BERT-base (Devlin et al., NAACL 2019). GPT-2 small (Radford et al., 2019):
context 1024, vocabulary 50,257. Llama 3.2 1B (Meta, 2024): 16 blocks of width 2048, 32 query heads
sharing 8 key/value heads of 64, SwiGLU FFN 8192, RMSNorm, rotary positions, vocabulary 128,256, tied
embeddings. A decoder's prefill runs `tokens` tokens causally; its decode runs one token against a cache,
`context` keys in all (the new token's own included), and both compute the logits of the last token only.
"""
from __future__ import annotations

from .spec import Block, TransformerSpec
from .workload import transformer_network


def vit_spec(name: str, width: int, depth: int, heads: int, mlp: int, image: int = 224, patch: int = 16,
             classes: int = 1000) -> TransformerSpec:
    """A ViT/DeiT: pre-norm blocks, fused QKV, GELU MLP, LayerNorm eps 1e-6, classifier on the class token."""
    tokens = (image // patch) ** 2 + 1
    return TransformerSpec(name, "vit", width, (Block(heads, mlp, head_dim=width // heads),) * depth, tokens, tokens,
                           image=image, patch=patch, classes=classes)


def vit_b16_spec(image: int = 224) -> TransformerSpec:
    return vit_spec("vit_b16", 768, 12, 12, 3072, image)


def deit_s_spec(image: int = 224) -> TransformerSpec:
    return vit_spec("deit_s", 384, 12, 6, 1536, image)


def bert_base_spec(seq: int = 128) -> TransformerSpec:
    """BERT-base: 12 post-norm blocks, separate Q/K/V, vocabulary 30,522, 512 positions, 2 segments, pooler."""
    return TransformerSpec(f"bert_base_{seq}", "encoder", 768, (Block(12, 3072),) * 12, seq, seq, fused_qkv=False,
                           pre_norm=False, norm_eps=1e-12, vocab=30522, positions=512, token_types=2, pooler=True,
                           final_norm=False)


def gpt2_spec(mode: str = "prefill", context: int = 1024, width: int = 768, depth: int = 12, heads: int = 12,
              ffn: int | None = None, name: str | None = None) -> TransformerSpec:
    """GPT-2 (small by default): pre-norm, fused QKV, GELU, learned positions, LM head tied to the embedding."""
    tokens = _tokens(mode, context)
    return TransformerSpec(name or f"gpt2_{mode}", "decoder", width,
                           (Block(heads, ffn or 4 * width, head_dim=width // heads),) * depth, tokens, context,
                           norm_eps=1e-5, vocab=50257, positions=1024, lm_head=True, meta={"mode": mode})


def llama32_1b_spec(mode: str = "prefill", context: int = 1024) -> TransformerSpec:
    """Llama 3.2 1B's shape: GQA 32/8 heads of 64, SwiGLU 8192, RMSNorm, RoPE, no biases, tied embeddings."""
    return TransformerSpec(f"llama3_2_1b_{mode}", "decoder", 2048, (Block(32, 8192, kv_heads=8),) * 16,
                           _tokens(mode, context), context, norm="rmsnorm", ffn_kind="swiglu", fused_qkv=False,
                           bias=False, rope=True, norm_eps=1e-5, vocab=128256, lm_head=True, meta={"mode": mode})


def _tokens(mode: str, context: int) -> int:
    if mode not in ("prefill", "decode"):
        raise ValueError(f"mode must be 'prefill' or 'decode', got {mode!r}")
    return context if mode == "prefill" else 1


def vit_b16(resolution: int = 224, batch: int = 1):
    """ViT-B/16 at `resolution` (17.56 G MACs at 224)."""
    return transformer_network(vit_b16_spec(resolution), batch)


def deit_s(resolution: int = 224, batch: int = 1):
    """DeiT-S (ViT-S/16) at `resolution` (4.6 G MACs at 224)."""
    return transformer_network(deit_s_spec(resolution), batch)


def bert_base_128(batch: int = 1):
    """BERT-base over a 128-token sequence."""
    return transformer_network(bert_base_spec(128), batch)


def bert_base_512(batch: int = 1):
    """BERT-base over a 512-token sequence."""
    return transformer_network(bert_base_spec(512), batch)


def gpt2_prefill(context: int = 1024, batch: int = 1):
    """GPT-2 small reading a `context`-token prompt (causal), logits of the last token."""
    return transformer_network(gpt2_spec("prefill", context), batch)


def gpt2_decode(context: int = 1024, batch: int = 1):
    """GPT-2 small generating one token against a cache: `context` keys in all."""
    return transformer_network(gpt2_spec("decode", context), batch)


def llama32_1b_prefill(context: int = 1024, batch: int = 1):
    """Llama-3.2-1B-shaped decoder reading a `context`-token prompt."""
    return transformer_network(llama32_1b_spec("prefill", context), batch)


def llama32_1b_decode(context: int = 1024, batch: int = 1):
    """Llama-3.2-1B-shaped decoder generating one token against a cache of `context` keys."""
    return transformer_network(llama32_1b_spec("decode", context), batch)


TRANSFORMER_ZOO = {
    "vit_b16": vit_b16,
    "deit_s": deit_s,
    "bert_base_128": bert_base_128,
    "bert_base_512": bert_base_512,
    "gpt2_prefill": gpt2_prefill,
    "gpt2_decode": gpt2_decode,
    "llama3_2_1b_prefill": llama32_1b_prefill,
    "llama3_2_1b_decode": llama32_1b_decode,
}
"""The transformers of `nets.ZOO`, by name."""
