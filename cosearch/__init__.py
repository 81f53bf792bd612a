"""The co-search: budgets, the accelerator design space, network evaluation, the nested Optuna search, reports.

`import cosearch` is light: the names below load their modules on first use, so that checking a
command line never waits for numba, torch or Optuna.

    import cosearch
    settings = cosearch.make_settings("area=5mm2", trials=20)
    result = cosearch.run(settings)          # search, final mapping, presets, report in settings.out
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "UsageError": ".config.validate",
    "Budget": ".config.budget", "parse_budget": ".config.budget",
    "AcceleratorSpace": ".search.space", "Design": ".search.space", "DesignCheck": ".search.space",
    "MapperSettings": ".config.loops", "EvolutionSettings": ".config.loops",
    "NetworkCost": ".search.evaluate", "LayerCost": ".search.evaluate", "evaluate_network": ".search.evaluate",
    "NoValidMapping": ".search.evaluate",
    "AccuracyModel": ".search.accuracy", "AccuracySource": ".search.accuracy", "load_accuracy_model": ".search.accuracy",
    "find_predictor": ".search.accuracy",
    "search_subnet": ".search.subnets", "Candidate": ".search.subnets",
    "NetworkSpec": ".config.workloads", "parse_network": ".config.workloads", "resolve_space": ".config.workloads",
    "SPACE_ALIASES": ".config.workloads",
    "CoSearchSettings": ".config.settings", "make_settings": ".config.settings", "SAMPLERS": ".config.settings",
    "StorageSpec": ".search.storage", "parse_storage": ".search.storage", "open_storage": ".search.storage",
    "prepare_study": ".search.study", "load_study": ".search.study", "trial_counts": ".search.study",
    "TrialObjective": ".search.trial",
    "WorkerReport": ".search.workers", "run_worker": ".search.workers", "run_worker_processes": ".search.workers",
    "PresetRun": ".search.baselines", "preset_runs": ".search.baselines",
    "CoSearchResult": ".search.result",
    "run": ".search.driver", "finalize": ".search.driver", "Progress": ".search.driver",
    "write_report": ".report.writer",
    "summary_rows": ".report.summary",
    "ProgressDisplay": ".report.display", "print_summary": ".report.display",
}


def __getattr__(name: str):
    """PEP 562: load a public name's module on first use."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cosearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["__version__", *_LAZY]
