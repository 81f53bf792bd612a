"""Fixtures for every test: the project's Timeloop corpus (accel_models/timeloop/data); hypothesis's examples drawn
from a fixed seed."""
import os

import pytest
from hypothesis import settings

# Every property test draws the same examples on every run (a seed from the test's name), so that a run's outcome
# does not depend on chance. `HYPOTHESIS_PROFILE=explore` draws new ones each run, to look for counterexamples.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


def pytest_sessionstart(session):
    """Tests call kernels directly too: numba's cache guard runs before any of them (`accel_models.jit`)."""
    from accel_models.jit import ensure_fresh_kernel_cache
    ensure_fresh_kernel_cache()


@pytest.fixture(scope="session")
def corpus():
    from accel_models.timeloop import default_corpus_path, load_cases
    path = default_corpus_path()
    if not path.is_file():
        pytest.fail(f"the Timeloop corpus is missing: {path} (package data of accel_models.timeloop)")
    return load_cases(path)


@pytest.fixture(scope="session")
def corpus_architectures(corpus):
    """One accelerator per distinct corpus architecture (33 variants across families A-D)."""
    seen = {}
    for case in corpus:
        seen.setdefault(case.accelerator.name, case.accelerator)
    return seen
