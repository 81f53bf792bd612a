"""The `decoder-elastic` and `decoder-elastic-decode` search spaces: a GPT-2-style decoder with HAT's elastic
choices (`nets.transformer.DecoderSpace`), run as the prefill of a 1024-token prompt, or as one generated token
against 1024 keys. Accuracy: a scaling-law estimate, labelled so."""
from __future__ import annotations

from ..transformer.spaces import DecoderSpace

GPT_ELASTIC = DecoderSpace()
"""Prefill of a 1024-token prompt."""
GPT_ELASTIC_DECODE = DecoderSpace(name="gpt_elastic_decode", cli_name="decoder-elastic-decode", mode="decode")
"""One token generated against 1024 keys (the cache and itself)."""

__all__ = ["GPT_ELASTIC", "GPT_ELASTIC_DECODE"]
