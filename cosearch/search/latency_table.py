"""The layer-wise latency table of a found accelerator (`--export-latency-table FILE`): every layer shape of the
search space (or of the fixed networks) with its best mapping's latency and energy, as a CSV that a NAS tool reads
as ProxylessNAS and OFA read their latency look-up tables: a subnet's latency on this accelerator is the sum of
its layers' rows (layers run one after the other; see `cosearch.search.evaluate`).

The mappings are searched with the search's own mapper settings (`--mapper-evals`) for the search's mapper
objective, warm-started from each other as in the search, and chosen and timed under the search's timing model
(`--timing`): a row's cycles, latency, EDP and utilization are that model's for its mapping, and its `timing` column
names the model (a column, not a comment line: a CSV reader that takes the columns it knows by name passes over it).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from accel_models import Accelerator
from accel_models.timing import TimingModel, get_timing
from mappings import MappingCache
from nets import DIMS, Layer, space_layers

from .._files import write_text_atomic
from ..config import CoSearchSettings
from .result import CoSearchResult
from .run_timing import run_timer

COLUMNS = ("layer", "kind", *DIMS, "stride_w", "stride_h", "macs", "valid", "cycles", "latency_ms", "energy_uj",
           "edp_pj_cycles", "utilization", "timing", "mapper_objective", "mapper_evals")


def table_layers(settings: CoSearchSettings) -> list[Layer]:
    """The layer shapes the table covers: every shape of the space of a subnet search, else of the fixed networks."""
    if settings.searches_subnet:
        return space_layers(settings.space)
    seen: dict[tuple, Layer] = {}
    for spec in settings.networks or (settings.network,):
        network = spec.build()
        for layer in network.layers:
            seen.setdefault(layer.shape_key, layer.with_name(f"{network.name}:{layer.name}"))
    return list(seen.values())


def latency_table(layers: list[Layer], accelerator: Accelerator, cache: MappingCache, objective: str,
                  timing: "str | TimingModel" = "timeloop") -> list[dict]:
    """One row per layer: its shape, and its best mapping's cycles, latency (ms), energy (uJ) on `accelerator`, the
    mapping chosen and timed under `timing` (`cache.for_timing(timing)`, as `evaluate_network` maps a network's
    layers; a layer runs alone, nothing of it resident on chip)."""
    model = get_timing(timing, "latency_table: timing")
    cache = cache.for_timing(model)
    cycles_of = run_timer(model, accelerator)
    rows = []
    for layer in layers:
        result = cache.result(layer, accelerator, objective)
        row = {"layer": layer.name, "kind": layer.kind, **dict(zip(DIMS, layer.bounds)), "stride_w": layer.stride_w,
               "stride_h": layer.stride_h, "macs": layer.macs, "valid": bool(result.valid), "timing": model.name,
               "mapper_objective": objective, "mapper_evals": cache.settings.budget_evals}
        if result.valid:
            cycles = cycles_of(layer, result)
            row.update(cycles=cycles, latency_ms=cycles / (accelerator.clock_ghz * 1e6),
                       energy_uj=float(result.energy_pj) * 1e-6, edp_pj_cycles=float(result.energy_pj) * cycles,
                       utilization=layer.macs / (accelerator.num_macs * cycles))
        rows.append(row)
    return rows


def export_latency_table(result: CoSearchResult, path: Path | None = None) -> Path | None:
    """Write the table of the result's accelerator to `path` (default: the settings' `latency_table`); returns the
    path, or None when there is no accelerator (no design met the budget) or no path."""
    settings = result.settings
    path = path if path is not None else settings.latency_table
    if path is None or result.design is None:
        return None
    rows = latency_table(table_layers(settings), result.design.accelerator, MappingCache(settings.mapper),
                         settings.mapper_objective, settings.timing)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(Path(path), text.getvalue())
    return Path(path)


__all__ = ["COLUMNS", "table_layers", "latency_table", "export_latency_table"]
