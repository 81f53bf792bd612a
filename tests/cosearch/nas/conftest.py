"""Fixtures of the fixed-device tests: the layer tables of two presets on OFA MBv3, mapped once per test run with
the tests' mapper budget (`--final-mapper-evals 32`), copied into each run's `--out` so that a run reads them."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from accel_models import get_preset
from cosearch.config import FINAL_MAPPER
from cosearch.search.nas import Device, DeviceCosts, LayerTable
from nets import get_space, smallest_config, space_layers

TABLE_MAPPER = replace(FINAL_MAPPER, budget_evals=32)
"""The final mapper of a run with `--final-mapper-evals 32 --seed 0`: the tables' key matches that run's."""
DEVICES = ("nvdla_256", "shidiannao")


class Tables:
    """The tables folder of the test run and each device's costs on OFA MBv3."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.space = get_space("ofa-mbv3")
        self.costs = {}
        for name in DEVICES:
            table = LayerTable(get_preset(name), TABLE_MAPPER, "latency", folder)
            table.ensure(space_layers(self.space))
            self.costs[name] = DeviceCosts(Device(name, "preset", get_preset(name)), self.space, table)

    def into(self, out: Path) -> Path:
        """`out` with the tables in `out/tables` (where a run looks for them); returns `out`."""
        shutil.copytree(self.folder, out / "tables", dirs_exist_ok=True)
        return out

    def fastest_ms(self, device: str) -> float:
        """The smallest subnet's latency on the device (ms): the tightest limit a run can meet."""
        return self.costs[device].network(smallest_config(self.space)).latency_s * 1e3


@pytest.fixture(scope="session")
def mbv3_tables(tmp_path_factory) -> Tables:
    return Tables(tmp_path_factory.mktemp("mbv3_tables"))
