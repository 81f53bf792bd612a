"""Accelerator descriptions, technology tables, the cost model, rooflines, Timeloop interop."""
from .accelerator import TENSOR_INDEX, TENSORS, Accelerator, StorageLevel, check_accelerator
from .dataflow import Dataflow
from .mapping_arrays import MAPPING_DTYPE, MappingArrays
from .mapspace import LevelConstraints, MapspaceConstraints

from .cost_model import BatchResult, evaluate_batch, explain, explain_rehomed
from .limits import NotCountable, check_countable
from .reference import evaluate
from .result import REASONS, EvalResult

# technology tables, area model, builder, presets, roofline, timing models
from . import roofline, tech, timing
from .area import AreaBreakdown, area_breakdown, area_mm2
from .builder import build_accelerator
from .units import format_bytes
from . import presets
from .presets import PRESETS, get_preset

# Timeloop v0.4 YAML import/export (accel_models.timeloop)
from .timeloop import (
    accelerator_from_timeloop, arch_to_timeloop_yaml, constraints_to_timeloop_yaml, ert_to_timeloop_yaml,
    layer_from_timeloop, load_timeloop, mapping_from_timeloop, mapping_to_timeloop_yaml, problem_to_timeloop_yaml)

__all__ = [
    # the accelerator and its mappings' dense form
    "TENSORS", "TENSOR_INDEX", "Accelerator", "StorageLevel", "check_accelerator", "Dataflow", "MappingArrays",
    "MAPPING_DTYPE", "MapspaceConstraints", "LevelConstraints",
    # the cost model: compiled batch, explained single mapping, the pure-Python reference
    "evaluate_batch", "evaluate", "explain", "explain_rehomed", "check_countable", "NotCountable", "BatchResult",
    "EvalResult", "REASONS",
    # technology tables, area model, builder, presets, roofline
    "tech", "presets", "roofline", "timing", "AreaBreakdown", "area_breakdown", "area_mm2", "build_accelerator", "PRESETS",
    "get_preset", "format_bytes",
    # Timeloop v0.4 YAML import/export
    "accelerator_from_timeloop", "layer_from_timeloop", "mapping_from_timeloop", "load_timeloop",
    "mapping_to_timeloop_yaml", "problem_to_timeloop_yaml", "arch_to_timeloop_yaml", "ert_to_timeloop_yaml",
    "constraints_to_timeloop_yaml",
]
