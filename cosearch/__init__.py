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
    "UsageError": ".errors",
    "Budget": ".budget", "parse_budget": ".budget",
    "AcceleratorSpace": ".space", "Design": ".space", "DesignCheck": ".space",
    "MapperSettings": ".loop_settings", "EvolutionSettings": ".loop_settings",
    "NetworkCost": ".evaluate", "LayerCost": ".evaluate", "evaluate_network": ".evaluate",
    "NoValidMapping": ".evaluate",
    "AccuracyModel": ".accuracy", "AccuracySource": ".accuracy", "load_accuracy_model": ".accuracy",
    "find_predictor": ".accuracy",
    "search_subnet": ".netsearch", "Candidate": ".netsearch",
    "NetworkSpec": ".workloads", "parse_network": ".workloads", "resolve_space": ".workloads",
    "SPACE_ALIASES": ".workloads",
    "CoSearchSettings": ".settings", "make_settings": ".settings", "SAMPLERS": ".settings",
    "StorageSpec": ".storage", "parse_storage": ".storage", "open_storage": ".storage",
    "prepare_study": ".study", "load_study": ".study", "trial_counts": ".study",
    "TrialObjective": ".trial",
    "WorkerReport": ".workers", "run_worker": ".workers", "run_worker_processes": ".workers",
    "PresetRun": ".baselines", "preset_runs": ".baselines",
    "CoSearchResult": ".result",
    "run": ".search", "finalize": ".search", "Progress": ".search",
    "write_report": ".report",
    "summary_rows": ".summary",
    "ProgressDisplay": ".display", "print_summary": ".display",
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
