"""Shared test fixtures: the Timeloop reference corpus beside the checkout."""
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "reference" / "timeloop" / "cases_dev.jsonl"


def pytest_sessionstart(session):
    """Tests call kernels directly too: numba's cache guard runs before any of them (`accel_models.numba_cache`)."""
    from accel_models.numba_cache import ensure_fresh_kernel_cache
    ensure_fresh_kernel_cache()


@pytest.fixture(scope="session")
def corpus():
    from accel_models.timeloop import load_cases
    if not CORPUS.is_file():
        pytest.fail(f"the reference corpus is missing: {CORPUS} (../shared must sit beside the checkout)")
    return load_cases(CORPUS)


@pytest.fixture(scope="session")
def corpus_architectures(corpus):
    """One accelerator per distinct corpus architecture (33 variants across families A-D)."""
    seen = {}
    for case in corpus:
        seen.setdefault(case.accelerator.name, case.accelerator)
    return seen
