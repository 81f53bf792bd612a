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


@pytest.fixture(scope="session")
def shape_ok():
    """shape_ok(layer, accelerator, arrays, b): the cost kernel's shape check (`kernel.nest.check_shape`: F3's bound
    equation, 1 <= r <= e, no residual on a dim's outermost spatial loop, one axis per dim, the fan-outs) passes on
    mapping b of `arrays`."""
    import numpy as np
    from numba import njit

    from accel_models.geometry import accelerator_arrays
    from accel_models.kernel.nest import check_shape
    from accel_models.result import OK

    @njit
    def reason(bounds, fanout, m):
        return check_shape(bounds, fanout, m)[0]

    def ok(layer, accelerator, arrays, b: int) -> bool:
        full = arrays.with_residuals()
        m = type(full)(*(np.ascontiguousarray(a[b]) for a in full))      # read by field, as the driver's row
        return reason(np.array(layer.bounds, dtype=np.int64), accelerator_arrays(accelerator).fanout, m) == OK
    return ok
