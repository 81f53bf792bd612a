"""The perfect decode (`factors="perfect"`, the default) is frozen: a digest of what both decoders and the encoder
give on fixed genes, over the presets and layers with idle axes (the fill), tight buffers (the repair) and prime or
awkward bounds. A change to the residual decode must leave it as it is; a deliberate change to the perfect decode, or
to a preset, updates the digest in the same commit."""
import hashlib

import numpy as np

from mappings import Encoding
from nets import Layer

from _decode_chips import digest_accelerators

LAYERS = (Layer.conv(64, 64, 3, 56, name="res2a_3x3"), Layer.fc(2048, 1000, name="fc"),
          Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3"), Layer(C=768, K=2304, N=197, name="vit_qkv"),
          Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes"), Layer.conv(512, 512, 3, 7, name="res5_3x3"))
DIGEST = "77a62544ffa1053cc1afff9f1014d27ffb9a444f5a94d2bf18d953dd8120403b"


def test_the_perfect_decode_and_encode_are_unchanged():
    h = hashlib.sha256()
    rng = np.random.default_rng(2024)
    for acc in digest_accelerators():
        for layer in LAYERS:
            enc = Encoding(layer, acc)
            x = rng.random((48, enc.size))
            x[:8] = np.round(x[:8])                      # genes at 0 and 1: the repair and the fill bind often
            fast, ref = enc.decode(x), enc.decode(x, fast=False)
            for name, a, b in zip(fast._fields, fast, ref):
                assert np.array_equal(a, b), (acc.name, layer.name, name)
                h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
            for b in range(0, fast.batch_size, 6):
                h.update(np.round(enc.encode(fast, b), 12).tobytes())
    assert h.hexdigest() == DIGEST
