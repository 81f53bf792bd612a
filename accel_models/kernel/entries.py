"""The kernel's entry points for Python callers: the compiled batch drivers and `first_with_classes` with their
residual counts bound (`paths.residual_paths`), under the names Python code calls them by."""
from __future__ import annotations

from ..numba_cache import ensure_fresh_kernel_cache
from .driver import first_with_classes, new_outputs, parallel_batch, serial_batch
from .paths import residual_paths


def _outputs_for(maps):
    """The outputs of a batch, allocated by numpy (`new_outputs`' Python body), not in compiled code: numpy asks the
    operating system to back an array of 4 MB or more with huge pages and hands back freed blocks that are already
    mapped, where arrays allocated in compiled code (numba's runtime) are new pages that the system maps and zeroes at
    their first write, ~85-155 ns a mapping against an evaluation's ~1 us (docs/performance.md)."""
    return new_outputs.py_func(maps.temporal.shape[0], maps.temporal.shape[1])


def evaluate_batch_parallel(layer, acc, maps):
    """`driver.parallel_batch`: B mappings on all threads, (reason, cycles, energy_pj, utilization,
    compute_cycles, reads, fills, updates); counts are totals over instances."""
    ensure_fresh_kernel_cache()
    out = _outputs_for(maps)
    parallel_batch(layer, acc, maps, residual_paths(layer, acc), out)
    return out


def evaluate_batch_serial(layer, acc, maps):
    """`driver.serial_batch`: the same on the calling thread."""
    ensure_fresh_kernel_cache()
    out = _outputs_for(maps)
    serial_batch(layer, acc, maps, residual_paths(layer, acc), out)
    return out


def instance_classes(layer, acc, maps):
    """`driver.first_with_classes`: mapping 0 of `maps` with what its instance classes hold (reason, class starts
    per level, instances per class, reads / fills / updates per class [n, 3, 3])."""
    ensure_fresh_kernel_cache()
    return first_with_classes(layer, acc, maps, residual_paths(layer, acc))
