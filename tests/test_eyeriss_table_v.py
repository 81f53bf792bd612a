"""The per-layer Eyeriss figures `benchmarks/bench_real_devices.py` compares with (JSSC 2017, Table V) agree with the
paper's whole-network figures and with the network they were measured on: a typo in the transcription fails here."""
import importlib.util
import sys
from pathlib import Path

import pytest

from nets import Layer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_real_devices", ROOT / "benchmarks" / "bench_real_devices.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_real_devices", module)
    spec.loader.exec_module(module)
    return module


def test_table_v_adds_up_to_the_published_frame_rate(bench):
    latency_ms = sum(row[3] for row in bench.EYERISS_TABLE_V)
    assert latency_ms == pytest.approx(115.3, abs=0.05)
    assert 4 / (latency_ms * 1e-3) == pytest.approx(34.7, abs=0.05)           # frames/s at batch 4
    assert all(row[2] < row[3] for row in bench.EYERISS_TABLE_V)              # processing within the latency
    assert all(row[4] <= 168 for row in bench.EYERISS_TABLE_V)


def test_table_v_macs_are_the_two_group_alexnet_s(bench):
    """Krizhevsky et al.'s AlexNet at batch 4: conv2, conv4 and conv5 in two groups."""
    layers = (Layer.conv(3, 96, 11, 55, stride=4, batch=4), Layer.conv(96, 256, 5, 27, groups=2, batch=4),
              Layer.conv(256, 384, 3, 13, batch=4), Layer.conv(384, 384, 3, 13, groups=2, batch=4),
              Layer.conv(384, 256, 3, 13, groups=2, batch=4))
    for layer, row in zip(layers, bench.EYERISS_TABLE_V):
        assert row[1] == pytest.approx(layer.macs, rel=1e-3), row[0]


def test_the_benchmark_row_runs_the_network_table_v_measured(bench):
    """The Eyeriss row's network (the zoo's two-tower AlexNet, conv layers, batch 4) holds Table V's MACs layer by
    layer, so its per-layer lines compare like with like."""
    row = next(r for r in bench.ROWS if r.preset == "eyeriss")
    convs = row.build().layers
    assert len(convs) == len(bench.EYERISS_TABLE_V)
    for layer, table in zip(convs, bench.EYERISS_TABLE_V):
        assert table[1] == pytest.approx(layer.macs, rel=1e-3), table[0]
