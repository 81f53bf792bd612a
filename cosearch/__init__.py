"""The co-search: budgets, the accelerator design space, network evaluation, the nested Optuna search, reports.

The flow, one way: `config` (the input, checked) -> `search` (the nested search, producing a
`CoSearchResult`) -> `report` (files and terminal) -> `run` (all three: `cosearch.pipeline`).

    import cosearch
    settings = cosearch.make_settings("area=5mm2", trials=20)
    result = cosearch.run(settings)          # search, final mapping, presets, report in settings.out

`import cosearch` loads the input's side (`config`: numba and the cost model, about 0.6 s); the search, the report
and `run` load on first use (`nets.lazy`), so a worker process of the search does not load the report.
Optuna, torch and matplotlib load when first used.
"""
from ._load_guard import guarded_load

with guarded_load():   # `cosearch` / `python -m cosearch`: a Ctrl-C while this loads is one line, status 130
    from nets.lazy import lazy_exports

    from ._version import __version__
    from .config import (OPTIONS, Budget, CoSearchSettings, MapperSettings, Option, UsageError, add_options,
                         command_line, given_options, make_settings, parse_budget, parse_duration, parse_network,
                         parse_options)

__getattr__, __dir__ = lazy_exports(__name__, {
    ".pipeline": ("run",),
    ".report": ("ProgressDisplay", "print_summary", "write_report"),
    ".search": ("AcceleratorSpace", "CoSearchResult", "Design", "NetworkCost", "Notice", "StorageUnavailable",
                "WorkerFailure", "evaluate_network", "preset_runs", "run_search", "storage_failure"),
}, globals())

__all__ = [
    "__version__",
    # config: the input
    "OPTIONS", "Budget", "CoSearchSettings", "MapperSettings", "Option", "UsageError", "add_options", "command_line",
    "given_options", "make_settings", "parse_budget", "parse_duration", "parse_network", "parse_options",
    # search
    "AcceleratorSpace", "CoSearchResult", "Design", "NetworkCost", "Notice", "StorageUnavailable", "WorkerFailure",
    "storage_failure",
    "evaluate_network", "preset_runs", "run_search",
    # report, and the whole run
    "ProgressDisplay", "print_summary", "write_report", "run",
]
