"""The whole co-search in one call: `run(settings)` searches (or resumes), finalizes, writes the report, and the
layer-wise latency table when asked (`--export-latency-table`)."""
from __future__ import annotations

import time
from collections.abc import Callable

from .config import CoSearchSettings
from .report import write_report
from .report.nas import write_nas_report
from .search import CoSearchResult, NASRunResult, Progress, run_fixed_device, run_search
from .search.latency_table import export_latency_table


def run(settings: CoSearchSettings, on_progress: Callable[[Progress], None] | None = None,
        on_message: Callable[[str], None] | None = None) -> CoSearchResult | NASRunResult:
    """Search (or resume), finalize, write the report to `settings.out`; returns the result: a `CoSearchResult`, or
    with fixed devices (`--accelerator`) a `NASRunResult`."""
    t0 = time.time()
    if settings.fixed_devices:
        result = run_fixed_device(settings, on_message)
        write_nas_report(result)
        result.timings_s["total"] = time.time() - t0
        return result
    result = run_search(settings, on_progress, on_message)
    t_report = time.time()
    write_report(result)
    result.timings_s["report"] = time.time() - t_report
    if settings.latency_table is not None:
        t_table = time.time()
        if on_progress is None and on_message is not None:
            on_message(f"latency table: mapping every layer shape on the found accelerator to {settings.latency_table}")
        if export_latency_table(result) is None:
            result.notes.append("no design met the budget: no latency table written")
        result.timings_s["latency_table"] = time.time() - t_table
    result.timings_s["total"] = time.time() - t0
    return result
