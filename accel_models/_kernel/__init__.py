"""The compiled cost model: Timeloop's counts in closed form, many mappings of one layer at once.

Plain arrays in (`geometry.LayerArrays`, `geometry.AcceleratorArrays`, `MappingArrays`), plain arrays
out; `cost_model.evaluate_batch` wraps it. The semantics are those of `reference.evaluate` (the
literal walk of FORMAT.md's rules R1-R7), whose steps the modules follow: `nest` (the checks and the
loop nest, R1), `counts` (fills R2, accesses R3-R4, partitions R6, the bypass fold R5), `links`
(multicast and neighbour links, R3), `energy` (energy and cycles, R7) and `driver` (one mapping, and
the batch drivers). Tests hold the kernel equal to the walk.
"""
from .driver import evaluate_batch_parallel, evaluate_batch_serial, evaluate_one
from .workspace import MAX_LEVELS

__all__ = ["evaluate_batch_parallel", "evaluate_batch_serial", "evaluate_one", "MAX_LEVELS"]
