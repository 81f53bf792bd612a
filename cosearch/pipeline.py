"""The whole co-search in one call: `run(settings)` searches (or resumes), finalizes, and writes the report."""
from __future__ import annotations

import time
from collections.abc import Callable

from .config import CoSearchSettings
from .report import write_report
from .search import CoSearchResult, Progress, run_search


def run(settings: CoSearchSettings, on_progress: Callable[[Progress], None] | None = None,
        on_message: Callable[[str], None] | None = None) -> CoSearchResult:
    """Search (or resume), finalize, write the report to `settings.out`; returns the result."""
    t0 = time.time()
    result = run_search(settings, on_progress, on_message)
    t_report = time.time()
    write_report(result)
    result.timings_s.update({"report": time.time() - t_report, "total": time.time() - t0})
    return result
