"""The nested search: the accelerator design space, network evaluation through the mapper, the accuracy source,
the subnet evolution, one Optuna trial and its objective, the study with its storage and workers, the presets,
and the final phase that produces a `CoSearchResult`.

Optuna (with its storage layer), matplotlib and torch are imported inside the functions that use them: on
top of `import cosearch` (0.6 s) they take 0.26 s, 0.44 s and 1.1 s to import (measured on a busy 2-core
machine), which a command line that only reports bad input, or a library user who only decodes designs,
need not pay. The modules' own names (samplers, storage, workers, seeds, ...) are imported from the modules.
"""
from .accuracy import AccuracyModel, AccuracySource, load_accuracy_model
from .baselines import PresetRun, preset_runs
from .driver import WorkerFailure, run_search
from .evaluate import LayerCost, NetworkCost, NoValidMapping, evaluate_network
from .latency_table import export_latency_table, latency_table
from .messages import Notice
from .nas import NASRunResult, run_fixed_device
from .objective import Objective, objective
from .progress import Progress
from .result import CoSearchResult, TrialPoint
from .seeds import seeds_text
from .space import AcceleratorSpace, Design, DesignCheck
from .storage import StorageDamaged, StorageUnavailable, storage_failure
from .subnets import Candidate, search_subnet

__all__ = ["AccuracyModel", "AccuracySource", "load_accuracy_model", "PresetRun", "preset_runs", "WorkerFailure",
           "run_search", "LayerCost", "NetworkCost", "NoValidMapping", "evaluate_network", "export_latency_table",
           "latency_table", "Notice", "NASRunResult", "run_fixed_device", "Objective", "objective", "Progress",
           "CoSearchResult", "TrialPoint", "seeds_text", "AcceleratorSpace", "Design", "DesignCheck",
           "StorageUnavailable", "StorageDamaged", "storage_failure", "Candidate", "search_subnet"]
