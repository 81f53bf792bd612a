"""The cost-model benchmarks' workload: the Timeloop corpus's Eyeriss-like architecture (family C) and the two layers
that `bench_cost_model.py` times, a ResNet-50 3x3 layer and a depthwise 3x3 one."""
from __future__ import annotations

from accel_models.timeloop import default_corpus_path, load_cases
from nets import Layer


def corpus_eyeriss():
    """The accelerator of the corpus's family C (Eyeriss-like: DRAM, a shared global buffer, three PE scratchpads)."""
    return next(c for c in load_cases(default_corpus_path()) if c.family == "C").accelerator


LABELS = {"resnet": "resnet50 3x3 (C=K=64, P=Q=56)", "depthwise": "depthwise 3x3 (G=144, P=Q=56)"}
"""How the benchmarks print each of `bench_layers`' layers."""


def bench_layers() -> dict[str, Layer]:
    """The two layers by short name: `resnet` (C=K=64, P=Q=56) and `depthwise` (G=144, P=Q=56)."""
    return {"resnet": Layer.conv(64, 64, 3, 56, name="res2a_3x3"),
            "depthwise": Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3")}
