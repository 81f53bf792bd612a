"""Shared fixtures of the nets tests."""
from pathlib import Path

import pytest
import torch

from nets.estimators.ofa_predictor import PACKAGED_PREDICTOR

# Two cores shared with other jobs: one intra-op thread is many times faster than two that spin.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def predictor_path() -> Path:
    """OFA's predictor as installed with the package; missing, every test using it fails."""
    if not PACKAGED_PREDICTOR.is_file():
        pytest.fail(f"OFA's accuracy predictor is missing: {PACKAGED_PREDICTOR} (package data of nets.estimators)")
    return PACKAGED_PREDICTOR
