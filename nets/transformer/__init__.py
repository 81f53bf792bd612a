"""Transformers: their architecture as data (`TransformerSpec`), layers with element-wise work, parameter
counts, reference models, and the elastic space families (registered as `nets.spaces` members)."""
from .config import DecoderConfig, ViTConfig
from .spaces import DecoderSpace, ViTSpace
from .spec import Block, TransformerSpec
from .workload import block_params, count_params, non_embedding_params, transformer_layers, transformer_network
from .zoo import (TRANSFORMER_ZOO, bert_base_128, bert_base_512, bert_base_spec, deit_s, deit_s_spec, gpt2_decode,
                  gpt2_prefill, gpt2_spec, llama32_1b_decode, llama32_1b_prefill, llama32_1b_spec, vit_b16,
                  vit_b16_spec, vit_spec)

__all__ = [
    "Block", "TransformerSpec", "ViTConfig", "DecoderConfig", "ViTSpace", "DecoderSpace",
    "transformer_layers", "transformer_network", "count_params", "block_params", "non_embedding_params",
    "TRANSFORMER_ZOO", "vit_spec", "vit_b16_spec", "deit_s_spec", "bert_base_spec", "gpt2_spec", "llama32_1b_spec",
    "vit_b16", "deit_s", "bert_base_128", "bert_base_512", "gpt2_prefill", "gpt2_decode", "llama32_1b_prefill",
    "llama32_1b_decode",
]
