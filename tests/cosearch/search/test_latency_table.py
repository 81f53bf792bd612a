"""The layer-wise latency table (`--export-latency-table`): one row per layer shape, and a network's latency on the
accelerator is the sum of its layers' rows, as a NAS tool reading the table would compute it."""
import csv
from dataclasses import replace

import pytest

from accel_models import evaluate_batch, get_preset
from cosearch.config import SEARCH_MAPPER
from cosearch.search import evaluate_network
from cosearch.search.latency_table import COLUMNS, latency_table
from mappings import MappingCache
from nets import DIMS, get_network


def test_rows_sum_to_the_network_latency(tmp_path):
    network = get_network("mobilenet_v2")
    acc = get_preset("nvdla_256")
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=64))
    layers = [layer for layer, _ in network.unique_layers()]
    rows = latency_table(layers, acc, cache, "latency")
    assert len(rows) == len(layers) and all(r["valid"] for r in rows) and set(rows[0]) <= set(COLUMNS)
    assert {r["timing"] for r in rows} == {"timeloop"}
    by_shape = {layer.shape_key: row for layer, row in zip(layers, rows)}
    total_ms = sum(by_shape[layer.shape_key]["latency_ms"] * count for layer, count in network.unique_layers())
    total_uj = sum(by_shape[layer.shape_key]["energy_uj"] * count for layer, count in network.unique_layers())
    cost = evaluate_network(network, acc, cache, "latency")
    assert abs(total_ms - cost.latency_s * 1e3) < 1e-9 and abs(total_uj - cost.energy_j * 1e6) < 1e-6
    path = tmp_path / "t.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    assert len(list(csv.DictReader(path.open()))) == len(layers)


def test_under_the_hardware_timing_the_rows_are_the_hardware_models(tmp_path):
    """`--timing hardware`: each row's mapping is the one chosen under the hardware model (its mapper's cache) and
    its cycles, latency and utilization are that model's, not the cost model's (which differ on some row); the rows
    still sum to the network's latency under that timing, and the written file names the timing."""
    from types import SimpleNamespace

    import cosearch
    from cosearch.search import export_latency_table

    network = get_network("alexnet")
    acc = get_preset("nvdla_256")
    cache = MappingCache(replace(SEARCH_MAPPER, budget_evals=64))
    layers = [layer for layer, _ in network.unique_layers()]
    rows = latency_table(layers, acc, cache, "latency", "hardware")
    chosen = cache.for_timing("hardware")
    assert len(cache) == 0 and len(chosen) == len(layers)          # mapped under the hardware model only
    differ = 0
    for layer, row in zip(layers, rows):
        result = chosen.result(layer, acc, "latency")
        timed = evaluate_batch(layer, acc, result.arrays, timing="hardware")
        assert row["timing"] == "hardware" and row["cycles"] == int(timed.cycles[0])
        assert row["latency_ms"] == pytest.approx(row["cycles"] / (acc.clock_ghz * 1e6), rel=1e-12)
        assert row["utilization"] == pytest.approx(float(timed.utilization[0]), rel=1e-9)
        differ += row["cycles"] != result.cycles
    assert differ > 0
    total_ms = sum(row["latency_ms"] * count for row, (_, count) in zip(rows, network.unique_layers()))
    cost = evaluate_network(network, acc, cache, "latency", timing="hardware")
    assert total_ms == pytest.approx(cost.latency_s * 1e3, rel=1e-12)

    path = tmp_path / "table.csv"
    settings = cosearch.make_settings("area=5mm2", network="alexnet", mapper_evals=16, timing="hardware",
                                      export_latency_table=str(path), out=tmp_path / "out")
    assert export_latency_table(SimpleNamespace(settings=settings, design=SimpleNamespace(accelerator=acc))) == path
    written = list(csv.DictReader(path.open()))
    assert len(written) == len(layers) and {r["timing"] for r in written} == {"hardware"}


@pytest.mark.slow
def test_a_run_exports_the_table_of_its_accelerator(tmp_path):
    import cosearch

    path = tmp_path / "table.csv"
    settings = cosearch.make_settings("area=2.5mm2", network="alexnet", trials=1, out=tmp_path / "out", workers=1,
                                      mapper_evals=32, final_mapper_evals=64, time_limit="none",
                                      export_latency_table=str(path), objective="latency")
    result = cosearch.run(settings)
    rows = list(csv.DictReader(path.open()))
    assert [r["layer"] for r in rows] == [f"alexnet:{layer.name}" for layer, _ in result.best.network.unique_layers()]
    assert {r["mapper_objective"] for r in rows} == {"latency"} and all(float(r["latency_ms"]) > 0 for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("space", ["vit-elastic", "decoder-elastic", "decoder-elastic-decode", "efficientnet"])
def test_every_space_exports_a_table_covering_its_subnets(space, tmp_path):
    """The transformer and EfficientNet spaces cover their layer shapes too (the table of a search in them is written,
    not a traceback after the search); every layer of a random subnet has its row."""
    from types import SimpleNamespace

    import cosearch
    from cosearch.search import export_latency_table
    from nets import sample_configs, to_network

    path = tmp_path / "table.csv"
    settings = cosearch.make_settings("area=5mm2", space=space, mapper_evals=16, export_latency_table=str(path),
                                      out=tmp_path / "out")
    result = SimpleNamespace(settings=settings, design=SimpleNamespace(accelerator=get_preset("nvdla_1024")))
    assert export_latency_table(result) == path
    rows = list(csv.DictReader(path.open()))
    shapes = {tuple(int(r[d]) for d in DIMS) + (int(r["stride_w"]), int(r["stride_h"])) for r in rows}
    for config in sample_configs(settings.space, 3, rng=1):
        for layer in to_network(config).layers:
            assert layer.bounds + (layer.stride_w, layer.stride_h) in shapes, layer
