"""Fixtures for every test: the project's Timeloop corpus (accel_models/timeloop/data); hypothesis's examples drawn
from a fixed seed; the signal handlers each test must leave as it found them."""
import os
import signal

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


_HANDLED = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture(autouse=True)
def _signal_handlers_left_as_found():
    """Each test leaves the process's SIGINT and SIGTERM handlers as it found them: one left behind (SIGINT ignored,
    say) would be inherited by every later test of this test process and by the commands they start. A test that
    changes them errors at its teardown; the handlers are put back so that later tests start as before."""
    before = {s: signal.getsignal(s) for s in _HANDLED}
    yield
    after = {s: signal.getsignal(s) for s in _HANDLED}
    for s, handler in before.items():
        signal.signal(s, handler)
    changed = [f"{signal.Signals(s).name}: {before[s]!r} -> {after[s]!r}" for s in _HANDLED if after[s] != before[s]]
    assert not changed, f"the test left signal handlers changed: {'; '.join(changed)}"


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
