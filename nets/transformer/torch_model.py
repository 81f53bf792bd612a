"""A runnable PyTorch module of a `TransformerSpec` (randomly initialised), whose layers `from_torch` reads back
equal to `transformer_network(spec)`: same products, same element-wise work on the same layers.

Attention runs through `F.scaled_dot_product_attention` (grouped-query attention with `enable_gqa`); a
decode-mode module keeps its key/value cache in buffers of `context - tokens` earlier tokens (batch 1).
Rotary positions (Llama) are not built: such a spec is a layer list only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .spec import Block, TransformerSpec


def _norm(spec: TransformerSpec) -> nn.Module:
    if spec.norm == "rmsnorm":
        return nn.RMSNorm(spec.width, eps=spec.norm_eps)
    return nn.LayerNorm(spec.width, eps=spec.norm_eps)


class Attention(nn.Module):
    """Q/K/V projections (fused or not), scaled dot-product attention over the cache and the new tokens, output
    projection."""

    def __init__(self, spec: TransformerSpec, block: Block) -> None:
        super().__init__()
        d, bias = spec.width, spec.bias
        self.heads, self.kv_heads, self.head_dim = block.heads, block.kv_heads, block.head_dim
        self.fused = spec.fused_qkv
        if self.fused:
            self.qkv = nn.Linear(d, block.attn_width + 2 * block.kv_width, bias=bias)
        else:
            self.q = nn.Linear(d, block.attn_width, bias=bias)
            self.k = nn.Linear(d, block.kv_width, bias=bias)
            self.v = nn.Linear(d, block.kv_width, bias=bias)
        self.proj = nn.Linear(block.attn_width, d, bias=bias)
        self.causal = spec.causal and spec.tokens > 1
        self.cached = spec.context - spec.tokens
        if self.cached:
            shape = (1, block.kv_heads, self.cached, block.head_dim)
            self.register_buffer("k_cache", torch.randn(shape), persistent=False)
            self.register_buffer("v_cache", torch.randn(shape), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        if self.fused:
            q, k, v = self.qkv(x).split([self.heads * self.head_dim, self.kv_heads * self.head_dim,
                                         self.kv_heads * self.head_dim], dim=-1)
        else:
            q, k, v = self.q(x), self.k(x), self.v(x)
        q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        if self.cached:
            k = torch.cat([self.k_cache, k], dim=2)
            v = torch.cat([self.v_cache, v], dim=2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal, enable_gqa=self.kv_heads != self.heads)
        return self.proj(y.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class FeedForward(nn.Module):
    def __init__(self, spec: TransformerSpec, block: Block) -> None:
        super().__init__()
        d, bias = spec.width, spec.bias
        self.swiglu = spec.ffn_kind == "swiglu"
        if self.swiglu:
            self.gate = nn.Linear(d, block.ffn, bias=bias)
            self.up = nn.Linear(d, block.ffn, bias=bias)
            self.down = nn.Linear(block.ffn, d, bias=bias)
        else:
            self.fc1 = nn.Linear(d, block.ffn, bias=bias)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(block.ffn, d, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.swiglu:
            return self.down(F.silu(self.gate(x)) * self.up(x))
        return self.fc2(self.act(self.fc1(x)))


class TransformerBlock(nn.Module):
    """Pre-norm (x + f(norm(x))) or post-norm (norm(x + f(x))) attention and feed-forward."""

    def __init__(self, spec: TransformerSpec, block: Block) -> None:
        super().__init__()
        self.pre_norm = spec.pre_norm
        self.norm1, self.attn, self.norm2, self.mlp = _norm(spec), Attention(spec, block), _norm(spec), \
            FeedForward(spec, block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


class VisionTransformer(nn.Module):
    """Patch embedding (a strided conv), class token, learned positions, blocks, norm, classifier on the class
    token. Input: images [N, channels, image, image]."""

    def __init__(self, spec: TransformerSpec) -> None:
        super().__init__()
        d = spec.width
        self.patch_embed = nn.Conv2d(spec.channels, d, spec.patch, spec.patch, bias=spec.bias)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, spec.tokens, d) * 0.02)
        self.blocks = nn.Sequential(*(TransformerBlock(spec, b) for b in spec.blocks))
        self.norm = _norm(spec)
        self.head = nn.Linear(d, spec.classes, bias=spec.bias)
        self.spec = spec

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


class LanguageModel(nn.Module):
    """Token (+ position, + segment) embeddings, blocks, and a pooler (encoder) or a language-model head
    (decoder) on the last token. Input: token ids [N, tokens]."""

    def __init__(self, spec: TransformerSpec) -> None:
        super().__init__()
        if spec.rope:
            raise NotImplementedError(f"build_transformer: {spec.name} uses rotary positions, which this module "
                                      "builder does not implement (its layers: transformer_network)")
        d = spec.width
        self.spec = spec
        self.start = spec.context - spec.tokens  # position of the first new token
        self.wte = nn.Embedding(spec.vocab, d)
        self.wpe = nn.Embedding(spec.positions, d) if spec.positions else None
        self.wtt = nn.Embedding(spec.token_types, d) if spec.token_types else None
        self.emb_norm = _norm(spec) if not spec.pre_norm else None
        self.blocks = nn.Sequential(*(TransformerBlock(spec, b) for b in spec.blocks))
        self.norm = _norm(spec) if spec.pre_norm and spec.final_norm else None
        self.pooler = nn.Linear(d, d, bias=spec.bias) if spec.pooler else None
        self.lm_head = nn.Linear(d, spec.vocab, bias=False) if spec.lm_head else None
        if self.lm_head is not None and spec.tied_embeddings:
            self.lm_head.weight = self.wte.weight  # one parameter: counted once

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        x = self.wte(ids)
        if self.wpe is not None:
            x = x + self.wpe.weight[self.start:self.start + t]
        if self.wtt is not None:
            x = x + self.wtt.weight[0]  # every token in segment 0
        if self.emb_norm is not None:
            x = self.emb_norm(x)
        x = self.blocks(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.pooler is not None:
            return torch.tanh(self.pooler(x[:, 0]))
        if self.lm_head is None:
            return x
        return self.lm_head(x[:, -1:] if self.spec.logits_last_only else x)


def build_transformer(spec: TransformerSpec) -> nn.Module:
    """A randomly initialised module of `spec` (a ViT for family 'vit', else a language model)."""
    return VisionTransformer(spec) if spec.family == "vit" else LanguageModel(spec)


def example_input(spec: TransformerSpec, batch: int = 1) -> torch.Tensor:
    """An input the module of `spec` accepts: random images or token ids."""
    if spec.family == "vit":
        return torch.randn(batch, spec.channels, spec.image, spec.image)
    return torch.randint(0, spec.vocab, (batch, spec.tokens))
