"""Shared fixtures of the nets tests."""
from pathlib import Path

import pytest
import torch

# Two cores shared with other jobs: one intra-op thread is many times faster than two that spin.
torch.set_num_threads(1)

from nets.estimators import PACKAGED_PREDICTOR as PREDICTOR_PATH  # noqa: E402  (after the thread setting)


@pytest.fixture(scope="session")
def predictor_path() -> Path:
    return PREDICTOR_PATH
