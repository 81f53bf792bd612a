"""The layer-wise latency table (`--export-latency-table`): one row per layer shape, and a network's latency on the
accelerator is the sum of its layers' rows, as a NAS tool reading the table would compute it."""
import csv

from accel_models import get_preset
from cosearch.config import MapperSettings
from cosearch.search import evaluate_network
from cosearch.search.latency_table import COLUMNS, latency_table
from nets import get_network


def test_rows_sum_to_the_network_latency(tmp_path):
    network = get_network("mobilenet_v2")
    acc = get_preset("nvdla_256")
    cache = MapperSettings(budget_evals=64).cache()
    layers = [layer for layer, _ in network.unique_layers()]
    rows = latency_table(layers, acc, cache, "latency")
    assert len(rows) == len(layers) and all(r["valid"] for r in rows) and set(rows[0]) <= set(COLUMNS)
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
