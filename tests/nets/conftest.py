"""Shared fixtures of the nets tests."""
from pathlib import Path

import pytest
import torch

# Two cores shared with other jobs: one intra-op thread is many times faster than two that spin.
torch.set_num_threads(1)

PREDICTOR_PATH = Path(__file__).parents[2].parent / "shared" / "data" / "ofa" / "acc_predictor_mbv3_w1.2.pth"


@pytest.fixture(scope="session")
def predictor_path() -> Path:
    return PREDICTOR_PATH
