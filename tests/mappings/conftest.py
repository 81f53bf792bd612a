"""Shared fixtures of the mappings tests: corpus architectures and the mapper benchmark pairs."""
import json

import pytest

from accel_models.timeloop import case_from_dict, default_corpus_path

MAPPER_BENCH = default_corpus_path().parent / "mapper_bench"


@pytest.fixture(scope="session")
def corpus_cases(corpus):
    """The project's Timeloop corpus (the root conftest's fixture fails loudly when it is missing)."""
    return corpus


@pytest.fixture(scope="session")
def corpus_archs(corpus_cases):
    """One case per corpus architecture variant, {arch name: case}."""
    archs = {}
    for c in corpus_cases:
        archs.setdefault(c.accelerator.name, c)
    return archs


@pytest.fixture(scope="session")
def mapper_bench():
    """{name: (case with the design-default architecture, raw JSON)} of the mapper benchmark pairs."""
    if not sorted(MAPPER_BENCH.glob("*.json")):
        pytest.fail(f"the mapper benchmark pairs are missing: {MAPPER_BENCH}/*.json (package data of "
                    "accel_models.timeloop)")
    out = {}
    for f in sorted(MAPPER_BENCH.glob("*.json")):
        raw = json.loads(f.read_text())
        out[raw["name"]] = (case_from_dict({**raw["best_case"], "arch": raw["arch"]}), raw)
    return out


@pytest.fixture(scope="session")
def odd_accelerators():
    """Fan-outs at two levels (with a weight-stationary dataflow), and one at the outermost level."""
    from accel_models import Accelerator, Dataflow, StorageLevel

    two = Accelerator("two_fanouts", (
        StorageLevel("DRAM"), StorageLevel("GLB", capacity_words=4096, fanout_x=4, fanout_y=2),
        StorageLevel("L2", keeps=("Inputs", "Outputs"), capacity_words=256, fanout_x=2, fanout_y=2),
        StorageLevel("RF", capacity_words=16)), 1.0,
        dataflow=Dataflow("ws", spatial_x=("K", "C"), spatial_y=("C", "P"), stationary="Weights"))
    top = Accelerator("top_fanout", (StorageLevel("DRAM", fanout_x=3), StorageLevel("Buf", capacity_words=64)), 1.0)
    return [two, top]
