"""The inputs of one timeloop-model run read together.

Issue 12's `model FILE...` (files as timeloop-model takes them, merged) starts here.
"""
from __future__ import annotations

from nets import Layer

from ..accelerator import Accelerator
from ..mapping_arrays import MappingArrays
from ._yaml import YamlSource
from .architecture import accelerator_from_timeloop
from .mapping import mapping_from_timeloop
from .problem import layer_from_timeloop


def load_timeloop(arch: YamlSource, problem: YamlSource, mapping: YamlSource, ert: YamlSource,
                  constraints: YamlSource | None = None) -> tuple[Layer, Accelerator, MappingArrays]:
    """The four timeloop-model inputs -> (layer, accelerator, mapping arrays)."""
    layer = layer_from_timeloop(problem)
    accelerator = accelerator_from_timeloop(arch, ert, constraints_yaml=constraints)
    return layer, accelerator, mapping_from_timeloop(mapping, accelerator, layer)
