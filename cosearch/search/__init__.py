"""The nested search: the accelerator design space, network evaluation through the mapper, the accuracy source,
the subnet evolution, one Optuna trial and its objective, the study with its storage and workers, the presets,
and the final phase that produces a `CoSearchResult`.

Optuna (with its storage layer), matplotlib and torch are imported inside the functions that use them: on
top of `import cosearch` (0.6 s) they take 0.26 s, 0.44 s and 1.1 s to import (measured on a busy 2-core
machine), which a command line that only reports bad input, or a library user who only decodes designs,
need not pay. The modules' own names (samplers, storage, workers, seeds, ...) are imported from the modules.

The names below are imported from their modules when first used (`nets.lazy`): a worker process, which
imports `cosearch.search.workers`, loads only what its trials use. Two names are also their modules' names
(`objective`, `latency_table`) and are imported at once, so that the function, not the module, stays the package's
attribute whatever is imported later.
"""
from nets.lazy import lazy_exports

from .latency_table import latency_table
from .objective import objective

__getattr__, __dir__ = lazy_exports(__name__, {
    ".accuracy": ("AccuracyModel", "AccuracySource", "load_accuracy_model"),
    ".baselines": ("PresetRun", "preset_runs"),
    ".driver": ("WorkerFailure", "run_search"),
    ".evaluate": ("LayerCost", "NetworkCost", "NoValidMapping", "evaluate_network"),
    ".latency_table": ("export_latency_table",),
    ".messages": ("Notice",),
    ".nas": ("NASRunResult", "run_fixed_device"),
    ".objective": ("Objective",),
    ".progress": ("Progress",),
    ".result": ("CoSearchResult", "TrialPoint"),
    ".seeds": ("seeds_text",),
    ".space": ("AcceleratorSpace", "Design", "DesignCheck"),
    ".storage": ("StorageDamaged", "StorageUnavailable", "storage_failure"),
    ".subnets": ("Candidate", "search_subnet"),
}, globals())

__all__ = ["AccuracyModel", "AccuracySource", "load_accuracy_model", "PresetRun", "preset_runs", "WorkerFailure",
           "run_search", "LayerCost", "NetworkCost", "NoValidMapping", "evaluate_network", "export_latency_table",
           "latency_table", "Notice", "NASRunResult", "run_fixed_device", "Objective", "objective", "Progress",
           "CoSearchResult", "TrialPoint", "seeds_text", "AcceleratorSpace", "Design", "DesignCheck",
           "StorageUnavailable", "StorageDamaged", "storage_failure", "Candidate", "search_subnet"]
