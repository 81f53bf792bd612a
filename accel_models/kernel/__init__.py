"""The compiled cost model: Timeloop's counts in closed form, many mappings of one layer at once.

Public for compiled callers (the mappers' search loop calls `evaluate_range` from numba); Python callers
use `cost_model.evaluate_batch`. Plain arrays in (`geometry.LayerArrays`, `geometry.AcceleratorArrays`, `MappingArrays`), plain arrays
out; `cost_model.evaluate_batch` wraps it. The semantics are those of `reference.evaluate` (the
literal walk of FORMAT.md's rules R1-R7), whose steps the modules follow: `nest` (the checks and the
loop nest, R1), `counts` (fills R2, accesses R3-R4, partitions R6, the bypass fold R5), `links`
(multicast and neighbour links, R3), `energy` (energy and cycles, R7) and `driver` (one mapping, and
the batch drivers). Tests hold the kernel equal to the walk.
"""
from .driver import (evaluate_batch_parallel, evaluate_batch_serial, evaluate_one, evaluate_range, max_children,
                     new_outputs)
from .workspace import MAX_LEVELS, Workspace, make_workspace

__all__ = ["evaluate_batch_parallel", "evaluate_batch_serial", "evaluate_one", "evaluate_range", "new_outputs",
           "max_children", "make_workspace", "Workspace", "MAX_LEVELS"]
