"""A transformer's architecture as data: the single source of its layer list, its parameter count and its
PyTorch module (`nets.transformer.workload`, `nets.transformer.torch_model`), as `nets.ofa.plan` is for OFA.

Three families: 'vit' (patch embedding, class token, classifier on it), 'encoder' (BERT: token, position
and segment embeddings, post-norm blocks, pooler on the first token) and 'decoder' (GPT-2 / Llama: causal,
a language-model head). A run processes `tokens` query tokens that attend to `context` keys: equal for a
ViT, an encoder and a decoder's prefill; in decode, one token attends to the cache of earlier tokens and
itself (`context` keys in all).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

FAMILIES = ("vit", "encoder", "decoder")
NORMS = ("layernorm", "rmsnorm")
FFN_KINDS = ("gelu", "swiglu")


@dataclass(frozen=True)
class Block:
    """One transformer block: query heads, key/value heads (grouped-query attention when fewer), the width of
    one head, and the hidden width of the feed-forward network."""

    heads: int
    ffn: int
    kv_heads: int | None = None
    head_dim: int = 64

    def __post_init__(self) -> None:
        for name in ("heads", "ffn", "head_dim"):
            _check_positive(f"Block.{name}", getattr(self, name))
        kv = self.heads if self.kv_heads is None else self.kv_heads
        _check_positive("Block.kv_heads", kv)
        if self.heads % kv:
            raise ValueError(f"Block.kv_heads={kv} must divide heads={self.heads}")
        object.__setattr__(self, "kv_heads", kv)

    @property
    def attn_width(self) -> int:
        """Width of the concatenated query heads (AutoFormer's Q-K-V dim): heads x head_dim."""
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_dim


@dataclass(frozen=True)
class TransformerSpec:
    """Everything that fixes a transformer's layers, parameters and module (see the module docstring).

    Front end: `image`/`patch` for a ViT; `vocab`, learned `positions` (0: none, as with `rope`) and
    `token_types` for a language model. Head: `classes` (ViT classifier), `pooler` (BERT), `lm_head` (a
    decoder's vocabulary projection, tied to the token embedding when `tied_embeddings`), computed for the
    last token only when `logits_last_only` (serving: only the next token is sampled).
    """

    name: str
    family: str
    width: int
    blocks: tuple[Block, ...]
    tokens: int
    context: int
    norm: str = "layernorm"
    ffn_kind: str = "gelu"
    fused_qkv: bool = True
    pre_norm: bool = True
    bias: bool = True
    rope: bool = False
    norm_eps: float = 1e-6
    image: int = 0
    patch: int = 0
    channels: int = 3
    classes: int = 0
    vocab: int = 0
    positions: int = 0
    token_types: int = 0
    pooler: bool = False
    lm_head: bool = False
    tied_embeddings: bool = True
    logits_last_only: bool = True
    final_norm: bool = True
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        if self.family not in FAMILIES:
            raise ValueError(f"TransformerSpec.family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.norm not in NORMS:
            raise ValueError(f"TransformerSpec.norm must be one of {', '.join(NORMS)}, got {self.norm!r}")
        if self.ffn_kind not in FFN_KINDS:
            raise ValueError(f"TransformerSpec.ffn_kind must be one of {', '.join(FFN_KINDS)}, got {self.ffn_kind!r}")
        for name in ("width", "tokens", "context"):
            _check_positive(f"TransformerSpec.{name}", getattr(self, name))
        if not self.blocks:
            raise ValueError("TransformerSpec.blocks: need at least 1 block")
        if self.tokens > self.context:
            raise ValueError(f"TransformerSpec.tokens={self.tokens} must be <= context={self.context}")
        if self.family == "vit":
            if self.patch < 1 or self.image % self.patch:
                raise ValueError(f"TransformerSpec.patch={self.patch} must divide image={self.image}")
            if self.tokens != self.patches + 1 or self.context != self.tokens:
                raise ValueError(f"TransformerSpec.tokens/context must be {self.patches + 1} (patches + class token)")
        else:
            _check_positive("TransformerSpec.vocab", self.vocab)
            if self.positions and self.context > self.positions:
                raise ValueError(f"TransformerSpec.context={self.context} exceeds positions={self.positions}")
        if self.family != "decoder" and self.tokens != self.context:
            raise ValueError(f"TransformerSpec: a {self.family} attends over its own tokens (tokens == context)")

    @property
    def patches(self) -> int:
        return (self.image // self.patch) ** 2 if self.patch else 0

    @property
    def causal(self) -> bool:
        return self.family == "decoder"

    @property
    def decode(self) -> bool:
        """One new token per run, the others' keys and values read from the cache."""
        return self.family == "decoder" and self.tokens < self.context

    @property
    def depth(self) -> int:
        return len(self.blocks)


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
