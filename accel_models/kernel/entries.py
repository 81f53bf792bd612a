"""The kernel's entry points for Python callers: the compiled batch drivers and `first_with_classes` with their
residual counts bound (`paths.residual_paths`), under the names Python code calls them by."""
from __future__ import annotations

from ..numba_cache import ensure_fresh_kernel_cache
from .driver import first_with_classes, parallel_batch, serial_batch
from .paths import residual_paths


def evaluate_batch_parallel(layer, acc, maps):
    """`driver.parallel_batch`: B mappings on all threads, (reason, cycles, energy_pj, utilization,
    compute_cycles, reads, fills, updates); counts are totals over instances."""
    ensure_fresh_kernel_cache()
    return parallel_batch(layer, acc, maps, residual_paths(layer, acc))


def evaluate_batch_serial(layer, acc, maps):
    """`driver.serial_batch`: the same on the calling thread."""
    ensure_fresh_kernel_cache()
    return serial_batch(layer, acc, maps, residual_paths(layer, acc))


def instance_classes(layer, acc, maps):
    """`driver.first_with_classes`: mapping 0 of `maps` with what its instance classes hold (reason, class starts
    per level, instances per class, reads / fills / updates per class [n, 3, 3])."""
    ensure_fresh_kernel_cache()
    return first_with_classes(layer, acc, maps, residual_paths(layer, acc))
