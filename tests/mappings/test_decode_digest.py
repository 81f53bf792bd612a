"""The compiled decoder's mappings are frozen over many genomes, in both factor modes: a digest of every field that
`decode_batch` writes for random genes (some at 0 and 1, where the repair and the fan-out bind; a quarter with the
axis fill on) on layers with idle axes, tight buffers, prime bounds and a pointwise 1x1, over the presets and a tight
chip, perfect and residual. A speed-up of the decoder must leave it as it is; a deliberate change to what a genome
decodes to, or to a preset, updates the digest in the same commit (with `test_perfect_decode_frozen.py`'s)."""
import hashlib

import numpy as np

from mappings import Encoding
from nets import Layer

from _decode_chips import digest_accelerators

LAYERS = (Layer.conv(64, 64, 3, 56, name="res2a_3x3"), Layer.fc(2048, 1000, name="fc"),
          Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3"), Layer(C=768, K=2304, N=197, name="vit_qkv"),
          Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes"), Layer(C=37, K=29, N=13, name="fc_primes"),
          Layer.conv(96, 24, 1, 28, name="pw1x1"))
GENOMES = 320
DIGEST = "f91cf503e6bbc96f13debfa070723215412c0a0a7e3fc91ceddd5c0c55be9150"


def _genes(enc: Encoding, rng: np.random.Generator) -> np.ndarray:
    x = rng.random((GENOMES, enc.size))
    eighth = GENOMES // 8
    x[:eighth] = np.round(x[:eighth])                            # every gene at 0 or 1
    some = x[eighth:2 * eighth]                                  # half of them
    some[:] = np.where(rng.random(some.shape) < 0.5, np.round(some), some)
    x[2 * eighth:4 * eighth, enc._sp_fill[enc._sp_fill >= 0]] = 0.75   # the axis fill on
    return x


def test_the_compiled_decode_is_unchanged_in_both_factor_modes():
    h = hashlib.sha256()
    rng = np.random.default_rng(38)
    residual_rows = 0
    for acc in digest_accelerators():
        for layer in LAYERS:
            for factors in ("perfect", "residual"):
                enc = Encoding(layer, acc, factors=factors)
                out = enc.decode(_genes(enc, rng))
                for a in out:
                    h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
                if factors == "residual":
                    residual_rows += int((out.temporal_residual > 0).any(axis=(1, 2)).sum())
    assert residual_rows > 3000             # the residual mode's own paths are in the digest
    assert h.hexdigest() == DIGEST
