"""The cost-model benchmarks' workload: the Timeloop corpus's Eyeriss-like architecture (family C), the two layers
that `bench_cost_model.py` times, a ResNet-50 3x3 layer and a depthwise 3x3 one, and its residual mappings.

Imported by `_rate_worker.py` under an older tree too: the module's imports are what every tree since 69568d2 has;
the residual rows import what they need when called."""
from __future__ import annotations

import numpy as np

from accel_models import MappingArrays
from accel_models.timeloop import default_corpus_path, load_cases
from nets import Layer

TEMPORAL_ROWS = 5000
"""Rows of a temporal-class batch (its few distinct mappings repeated, so that a batch takes long enough to time)."""


def corpus_eyeriss():
    """The accelerator of the corpus's family C (Eyeriss-like: DRAM, a shared global buffer, three PE scratchpads)."""
    return next(c for c in load_cases(default_corpus_path()) if c.family == "C").accelerator


LABELS = {"resnet": "resnet50 3x3 (C=K=64, P=Q=56)", "depthwise": "depthwise 3x3 (G=144, P=Q=56)"}
"""How the benchmarks print each of `bench_layers`' layers."""


def bench_layers() -> dict[str, Layer]:
    """The two layers by short name: `resnet` (C=K=64, P=Q=56) and `depthwise` (G=144, P=Q=56)."""
    return {"resnet": Layer.conv(64, 64, 3, 56, name="res2a_3x3"),
            "depthwise": Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3")}


def residual_rows(layer: Layer, acc, n: int) -> MappingArrays:
    """The mappings with residual loops among `n` residual decodes of random genes (seed 0), as
    `bench_cost_model.py --residual n` times them."""
    from mappings import Encoding

    enc = Encoding(layer, acc, factors="residual")
    maps = enc.decode(np.random.default_rng(0).random((n, enc.size)))
    keep = ~maps.is_perfect()
    return MappingArrays(*(a[keep] for a in maps))


def temporal_class_rows(maps: MappingArrays) -> tuple[int, MappingArrays]:
    """(how many, the rows repeated to at least `TEMPORAL_ROWS`, `MAPPING_DTYPE` and contiguous) of the mappings of
    `maps` in Timeloop's temporal class (no residual on or below a spatial loop of its dim); (0, no rows) where none
    is."""
    from accel_models import MAPPING_DTYPE
    from accel_models.reference import uniform_instances

    temporal = np.flatnonzero([uniform_instances(maps, b) for b in range(maps.batch_size)])
    rows = np.resize(temporal, max(TEMPORAL_ROWS, temporal.size)) if temporal.size else temporal
    return temporal.size, MappingArrays(*(np.ascontiguousarray(a[rows], dtype=MAPPING_DTYPE) for a in maps))
