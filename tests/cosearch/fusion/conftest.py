"""The fusion tests' shared fixture: one small mapper cache per test module (`_fusion_tiny.tiny_cache`)."""
import pytest

from _fusion_tiny import tiny_cache


@pytest.fixture(scope="module")
def cache():
    return tiny_cache()
