"""The compiled evolution strategy's seeded searches are frozen: a digest of what `best_mapping` returns (best genes,
cycles, energy, evaluations, valid evaluations and the improvement history's evaluation counts and values) for fixed
seeds, perfect and residual factors, cold and seeded, on a preset and on a tight chip where residual tiles and the
table of scored residual mappings come into play. A restructuring of `mappings/evolution.py` or of the decoder must
leave it as it is; a deliberate change to the search updates the digest in the same commit, with the reason."""
import hashlib

import numpy as np

from accel_models import get_preset
from mappings import Encoding, best_mapping
from nets import Layer

from _decode_chips import digest_accelerators

LAYERS = (Layer.conv(64, 64, 3, 56, name="res2a_3x3"), Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3"),
          Layer(R=3, S=3, P=13, Q=7, C=5, K=11, name="conv_primes"))
BUDGET = 1500
DIGEST = "3442d7cb72bdc91cdda08b1c1f7238f68822174d84e49436e723f6ec9f6ce1b8"


def _result_bytes(r) -> bytes:
    history = np.array([(e, v) for e, _, v in r.history], dtype=np.float64)   # not the wall times
    return (repr((r.cycles, r.energy_pj, r.evaluations, r.valid_evaluations)).encode() + r.genes.tobytes()
            + history.tobytes())


def test_seeded_searches_are_unchanged():
    h = hashlib.sha256()
    residual_best = 0
    chips = (get_preset("eyeriss"), digest_accelerators()[-1])
    for acc in chips:
        for layer in LAYERS:
            for factors in ("perfect", "residual"):
                r = best_mapping(layer, acc, budget_evals=BUDGET, seed=7, factors=factors)
                h.update(_result_bytes(r))
                residual_best += int(r.arrays.temporal_residual.any())
                seeded = best_mapping(layer, acc, budget_evals=BUDGET // 3, seed=8, factors=factors,
                                      seeds=np.stack([r.genes, Encoding(layer, acc, factors=factors).encode(r.arrays),
                                                      np.full(r.genes.shape, 0.3)]))
                h.update(_result_bytes(seeded))
    assert residual_best >= 1               # a residual best: the residual paths (and the scored table) are in it
    assert h.hexdigest() == DIGEST, h.hexdigest()
