"""The nested search: the accelerator design space, network evaluation through the mapper, the accuracy source,
the subnet evolution, one Optuna trial and its objective, the study with its storage and workers, the presets,
and the final phase that produces a `CoSearchResult`.

Optuna (with its storage layer), matplotlib and torch are imported inside the functions that use them: on
top of `import cosearch` (0.6 s) they take 0.26 s, 0.44 s and 1.1 s to import (measured on a busy 2-core
machine), which a command line that only reports bad input, or a library user who only decodes designs,
need not pay.
"""
from .accuracy import AccuracyModel, AccuracySource, accuracy_model, find_predictor, load_accuracy_model
from .baselines import PresetRun, fitting_presets, preset_runs
from .driver import WorkerFailure, check_feasible, run_search
from .evaluate import LayerCost, NetworkCost, NoValidMapping, evaluate_network
from .finalize import finalize
from .latency_table import export_latency_table, latency_table
from .objective import PENALTY_J_S, Objective, geomean, mnasnet_reward, objective, run_metric
from .pareto import FrontPoint, non_dominated, study_front
from .progress import Progress, ProgressTracker
from .result import CoSearchResult, TrialPoint
from .seeds import best_seed_params, enqueue_seeds, preset_seeds, seed_summary, seeds_text
from .space import AcceleratorSpace, Design, DesignCheck
from .storage import StorageUnavailable, fail_orphaned_trials, open_storage, worker_tag
from .study import load_study, make_sampler, prepare_study, trial_counts, worker_seed
from .subnets import Candidate, SubnetSearchResult, search_subnet
from .trial import TrialObjective
from .workers import WorkerReport, run_worker, run_worker_processes

__all__ = ["AccuracyModel", "AccuracySource", "accuracy_model", "find_predictor", "load_accuracy_model", "PresetRun",
           "fitting_presets", "preset_runs", "check_feasible", "run_search", "LayerCost", "NetworkCost", "NoValidMapping",
           "evaluate_network", "finalize", "export_latency_table", "latency_table", "PENALTY_J_S", "Objective", "geomean",
           "mnasnet_reward", "objective", "run_metric", "FrontPoint", "non_dominated", "study_front", "Progress",
           "ProgressTracker", "CoSearchResult", "TrialPoint", "AcceleratorSpace", "Design", "DesignCheck",
           "StorageUnavailable", "fail_orphaned_trials", "open_storage", "worker_tag", "load_study", "make_sampler",
           "prepare_study", "trial_counts", "worker_seed", "Candidate", "SubnetSearchResult", "search_subnet",
           "TrialObjective", "best_seed_params", "enqueue_seeds", "preset_seeds", "seed_summary", "seeds_text",
           "WorkerFailure", "WorkerReport", "run_worker", "run_worker_processes"]
