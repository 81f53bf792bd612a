"""A transformer's compute layers (`transformer_network`), with their element-wise work, and its parameter counts.

Matrix products only: every linear layer over the run's tokens, and per block the two attention products
(`Layer.attention_scores`, `Layer.attention_context`, their second operand an activation). Element-wise work
rides on the layer whose output it consumes (`nets.elementwise`): the scale, causal mask and softmax on the
scores, a residual add and the next norm on the layer before them, the activation on the first FFN layer.
Embedding lookups, the class-token concatenation and the cache append move data without arithmetic.
"""
from __future__ import annotations

from ..layer import Layer
from ..network import LayerRecorder, Network
from .spec import Block, TransformerSpec


class _Layers(LayerRecorder):
    """A `LayerRecorder` whose element counts are per sequence, multiplied by the batch."""

    def __init__(self, batch: int) -> None:
        super().__init__()
        self.batch = batch

    def op(self, kind: str, elements: int) -> None:
        super().op(kind, elements * self.batch)


def _attention(out: _Layers, spec: TransformerSpec, block: Block, name: str) -> None:
    t, n, b, d = spec.tokens, spec.context, out.batch, spec.width
    rows = b * t
    if spec.fused_qkv:
        out.add(Layer.fc(d, block.attn_width + 2 * block.kv_width, rows, f"{name}.qkv"))
    else:
        out.add(Layer.fc(d, block.attn_width, rows, f"{name}.q"))
        if spec.rope:
            out.op("rope", t * block.attn_width)
        out.add(Layer.fc(d, block.kv_width, rows, f"{name}.k"))
        if spec.rope:
            out.op("rope", t * block.kv_width)
        out.add(Layer.fc(d, block.kv_width, rows, f"{name}.v"))
    out.add(Layer.attention_scores(t, n, block.head_dim, block.heads, block.kv_heads, b, f"{name}.scores"))
    scores = t * n * block.heads
    out.op("scale", scores)
    if spec.causal and t > 1:
        out.op("mask", scores)
    out.op("softmax", scores)
    out.add(Layer.attention_context(t, n, block.head_dim, block.heads, block.kv_heads, b, f"{name}.context"))
    out.add(Layer.fc(block.attn_width, d, rows, f"{name}.proj"))


def _ffn(out: _Layers, spec: TransformerSpec, block: Block, name: str) -> None:
    rows, d = out.batch * spec.tokens, spec.width
    if spec.ffn_kind == "swiglu":
        out.add(Layer.fc(d, block.ffn, rows, f"{name}.gate"))
        out.op("silu", spec.tokens * block.ffn)
        out.add(Layer.fc(d, block.ffn, rows, f"{name}.up"))
        out.op("mul", spec.tokens * block.ffn)
        out.add(Layer.fc(block.ffn, d, rows, f"{name}.down"))
    else:
        out.add(Layer.fc(d, block.ffn, rows, f"{name}.fc1"))
        out.op("gelu", spec.tokens * block.ffn)
        out.add(Layer.fc(block.ffn, d, rows, f"{name}.fc2"))


def transformer_layers(spec: TransformerSpec, batch: int = 1) -> list[Layer]:
    """Every matrix-product layer of `spec` in execution order, with its element-wise work (batch `batch`)."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"transformer_layers: batch must be an integer >= 1, got {batch!r}")
    out = _Layers(batch)
    t, d = spec.tokens, spec.width
    if spec.family == "vit":
        side = spec.image // spec.patch
        out.add(Layer.conv(spec.channels, d, spec.patch, side, stride=spec.patch, batch=batch, name="patch_embed"))
        out.op("add", t * d)  # position embedding (the class token is concatenated, no arithmetic)
    else:
        if spec.positions:
            out.op("add", t * d)
        if spec.token_types:
            out.op("add", t * d)
        if not spec.pre_norm:
            out.op(spec.norm, t * d)  # BERT normalises the embeddings
    for i, block in enumerate(spec.blocks):
        name = f"blocks.{i}"
        if spec.pre_norm:
            out.op(spec.norm, t * d)
        _attention(out, spec, block, f"{name}.attn")
        out.op("add", t * d)
        out.op(spec.norm, t * d)  # pre-norm: before the FFN; post-norm: after the residual
        _ffn(out, spec, block, f"{name}.mlp")
        out.op("add", t * d)
        if not spec.pre_norm:
            out.op(spec.norm, t * d)
    if spec.pre_norm and spec.final_norm:
        out.op(spec.norm, t * d)
    if spec.family == "vit" and spec.classes:
        out.add(Layer.fc(d, spec.classes, batch, "head"))
    if spec.pooler:
        out.add(Layer.fc(d, d, batch, "pooler"))
        out.op("tanh", d)
    if spec.lm_head:
        rows = 1 if spec.logits_last_only else t
        out.add(Layer.fc(d, spec.vocab, batch * rows, "lm_head"))
    return out.layers


def transformer_network(spec: TransformerSpec, batch: int = 1) -> Network:
    """`spec`'s layers as a `Network` (meta: the spec's shape settings)."""
    meta = {"family": spec.family, "tokens": spec.tokens, "context": spec.context, "batch": batch,
            "decode": spec.decode, **spec.meta}
    return Network(spec.name, transformer_layers(spec, batch), meta)


def _linear_params(c_in: int, c_out: int, bias: bool) -> int:
    return c_in * c_out + (c_out if bias else 0)


def block_params(spec: TransformerSpec, block: Block) -> int:
    """Parameters of one block: projections (with biases if `spec.bias`), FFN, two norms."""
    d, bias = spec.width, spec.bias
    attn = _linear_params(d, block.attn_width + 2 * block.kv_width, bias) + _linear_params(block.attn_width, d, bias)
    n_ffn = 3 if spec.ffn_kind == "swiglu" else 2
    ffn = n_ffn * d * block.ffn + (block.ffn * (n_ffn - 1) + d if bias else 0)
    return attn + ffn + 2 * _norm_params(spec)


def _norm_params(spec: TransformerSpec) -> int:
    return (2 if spec.norm == "layernorm" else 1) * spec.width


def non_embedding_params(spec: TransformerSpec) -> int:
    """Kaplan et al. (2020)'s N: the weights of the blocks' projections and FFNs, without biases, norms,
    embeddings or the head (2 d_model n_layer (2 d_attn + d_ff) for a uniform GPT block)."""
    d = spec.width
    n_ffn = 3 if spec.ffn_kind == "swiglu" else 2
    return sum(d * (b.attn_width + 2 * b.kv_width) + b.attn_width * d + n_ffn * d * b.ffn for b in spec.blocks)


def count_params(spec: TransformerSpec) -> int:
    """Trainable parameters as PyTorch counts them (tied embeddings once): embeddings, blocks, norms, heads."""
    d = spec.width
    total = sum(block_params(spec, b) for b in spec.blocks)
    if spec.family == "vit":
        total += _linear_params(spec.channels * spec.patch ** 2, d, spec.bias) + d + (spec.tokens * d)  # cls, pos
    else:
        total += (spec.vocab + spec.positions + spec.token_types) * d
        if not spec.pre_norm:
            total += _norm_params(spec)
    if spec.pre_norm and spec.final_norm:
        total += _norm_params(spec)
    if spec.family == "vit" and spec.classes:
        total += _linear_params(d, spec.classes, spec.bias)
    if spec.pooler:
        total += _linear_params(d, d, spec.bias)
    if spec.lm_head and not spec.tied_embeddings:
        total += d * spec.vocab
    return total
