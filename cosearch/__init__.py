"""The co-search: budgets, the accelerator design space, network evaluation, the nested Optuna search, reports.

The flow, one way: `config` (the input, checked) -> `search` (the nested search, producing a
`CoSearchResult`) -> `report` (files and terminal) -> `run` (all three: `cosearch.pipeline`).

    import cosearch
    settings = cosearch.make_settings("area=5mm2", trials=20)
    result = cosearch.run(settings)          # search, final mapping, presets, report in settings.out

`import cosearch` takes about 0.6 s (most of it numba and the cost model); Optuna, torch and matplotlib
load when first used.
"""
from ._version import __version__
from .config import (DEFAULT_ACCURACY, FINAL_MAPPER, OPTIONS, SAMPLERS, SPACE_ALIASES, Budget, CoSearchSettings,
                     EvolutionSettings, MapperSettings, NetworkSpec, Option, ResourceBounds, StorageSpec, UsageError,
                     add_options, command_line, given_options, make_settings, parse_budget, parse_duration,
                     parse_network, parse_options, parse_storage, resolve_space)
from .pipeline import run
from .report import ProgressDisplay, print_summary, summary_rows, write_report
from .search import (AcceleratorSpace, AccuracyModel, AccuracySource, Candidate, CoSearchResult, Design, DesignCheck,
                     LayerCost, NetworkCost, NoValidMapping, Objective, PresetRun, Progress, StorageUnavailable,
                     TrialObjective, WorkerFailure, WorkerReport, evaluate_network, finalize, find_predictor, load_accuracy_model,
                     load_study, objective, open_storage, prepare_study, preset_runs, run_search, run_worker,
                     run_worker_processes, search_subnet, trial_counts)

__all__ = [
    "__version__",
    # config: the input
    "DEFAULT_ACCURACY", "FINAL_MAPPER", "OPTIONS", "SAMPLERS", "SPACE_ALIASES", "Budget", "CoSearchSettings",
    "EvolutionSettings", "MapperSettings", "NetworkSpec", "Option", "ResourceBounds", "StorageSpec", "UsageError",
    "add_options", "command_line", "given_options", "make_settings", "parse_budget", "parse_duration",
    "parse_network", "parse_options", "parse_storage", "resolve_space",
    # search
    "AcceleratorSpace", "AccuracyModel", "AccuracySource", "Candidate", "CoSearchResult", "Design", "DesignCheck",
    "LayerCost", "NetworkCost", "NoValidMapping", "Objective", "PresetRun", "Progress", "StorageUnavailable", "WorkerFailure",
    "TrialObjective", "WorkerReport", "evaluate_network", "finalize", "find_predictor", "load_accuracy_model",
    "load_study", "objective", "open_storage", "prepare_study", "preset_runs", "run_search", "run_worker",
    "run_worker_processes", "search_subnet", "trial_counts",
    # report, and the whole run
    "ProgressDisplay", "print_summary", "summary_rows", "write_report", "run",
]
