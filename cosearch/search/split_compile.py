"""The co-search's worker processes share a cold numba compile (`mappings.split_compile`, the schedule): the plan
is their mapper's (`compile_plan`), built on one layer and design of the run (`plan_inputs`).

On a fresh clone every worker process would compile the same numba tree, the mapper's search over the cost kernel
and the decoder (~70 s CPU each, on both cores at once). With the shared plan, on two workers one compiles the
kernel's longest callee while the other compiles the rest beside it, and the search is compiled once, with its
callees loaded from the cache. `cosearch warm-up` runs the same schedule ahead of the first run.
"""
from __future__ import annotations

from accel_models import Accelerator
from accel_models.kernel import CompileStep
from mappings import MappingCache
from mappings.split_compile import MAX_WAIT_S, POLL_S, SplitCompile, chain_cost_s, schedule_s
from nets import Layer, get_space, largest_config, to_network

from ..config import CoSearchSettings
from .space import AcceleratorSpace


def plan_inputs(settings: CoSearchSettings) -> tuple[Layer, Accelerator]:
    """The layer and design a compile plan is built on: the first layer of the trial's network and the middle
    design of the accelerator space (types, not values, decide what numba compiles)."""
    space = AcceleratorSpace.for_settings(settings)
    design = space.decode({g: 0.5 for g in space.genes}, name="compile-plan")
    network = (to_network(largest_config(get_space(settings.space))) if settings.searches_subnet
               else settings.network.build())
    return network.layers[0], design.accelerator


def compile_plan(settings: CoSearchSettings) -> list[CompileStep]:
    """The compile plan of a trial's mapper searches, as the mapper strategy gives it (`MapperStrategy.compile_plan`),
    on `plan_inputs`."""
    layer, accelerator = plan_inputs(settings)
    return settings.mapper.strategy.compile_plan(layer, accelerator, MappingCache(settings.mapper),
                                                 settings.mapper_objective)


__all__ = ["plan_inputs", "compile_plan", "SplitCompile", "chain_cost_s", "schedule_s", "MAX_WAIT_S", "POLL_S"]
