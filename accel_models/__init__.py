"""Accelerator descriptions, technology tables, the cost model, rooflines, Timeloop interop."""
from .accelerator import TENSOR_INDEX, TENSORS, Accelerator, StorageLevel
from .dataflow import Dataflow
from .mapping_arrays import MappingArrays

__all__ = ["TENSORS", "TENSOR_INDEX", "Accelerator", "StorageLevel", "Dataflow", "MappingArrays"]

# Timeloop v0.4 YAML import/export (issue 2, item 7)
from .timeloop_yaml import (  # noqa: E402
    accelerator_from_timeloop, arch_to_timeloop_yaml, constraints_to_timeloop_yaml, ert_to_timeloop_yaml,
    layer_from_timeloop, load_timeloop, mapping_from_timeloop, mapping_to_timeloop_yaml, problem_to_timeloop_yaml)

__all__ += ["accelerator_from_timeloop", "layer_from_timeloop", "mapping_from_timeloop", "load_timeloop",
            "mapping_to_timeloop_yaml", "problem_to_timeloop_yaml", "arch_to_timeloop_yaml", "ert_to_timeloop_yaml",
            "constraints_to_timeloop_yaml"]
