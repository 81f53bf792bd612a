"""Fixtures of the Timeloop interop tests: the corpus's cases read from their YAML inputs, the mapper benchmark."""
import json

import numpy as np
import pytest

from accel_models import load_timeloop
from accel_models.timeloop import default_corpus_path


@pytest.fixture(scope="session")
def cases(corpus):
    """The corpus's cases (the root conftest fails loudly when the corpus is missing)."""
    return corpus


@pytest.fixture(scope="session")
def loaded(cases):
    """case id -> (layer, accelerator, arrays) read from the case's four YAML files."""
    return {c.id: load_timeloop(**{k: c.raw["timeloop_yaml"][k] for k in ("arch", "problem", "mapping", "ert")})
            for c in cases}


@pytest.fixture(scope="session")
def fanned_case(cases):
    """A family-B case whose architecture has a spatial fan-out."""
    return next(c for c in cases if c.family == "B" and c.accelerator.fanout_levels)


@pytest.fixture(scope="session")
def mapper_bench_pairs():
    """The raw JSON of every mapper benchmark pair (its Timeloop YAML includes mapspace constraints)."""
    folder = default_corpus_path().parent / "mapper_bench"
    files = sorted(folder.glob("*.json"))
    if not files:
        pytest.fail(f"the mapper benchmark files are missing: no *.json in {folder} "
                    "(package data of accel_models.timeloop)")
    return [json.loads(f.read_text()) for f in files]


@pytest.fixture(scope="session")
def same_arrays():
    """Whether two `MappingArrays` hold equal arrays."""
    return lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b))
