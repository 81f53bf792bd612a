"""The kernel's entry points for Python callers, under the names Python code calls them by: the batch drivers with
their residual counts bound (`paths.residual_paths`), and one mapping with what its instance classes hold.

The serial batch and the instance classes call the compiled driver `driver.evaluate_range` from Python, with the
arguments a search passes it (`paths.kernel_arrays`' types: `paths.driver_signature`), so they load the compilation
the search's plan made. A compiled entry point that called the driver by name would link the driver's code into its
own module and have LLVM optimize and emit it all again: ~4-5 s of CPU each on an empty cache, for a call that
Python makes a few hundred times in a co-search's final phase and report. The parallel batch stays compiled: numba's
threads run its loop.
"""
from __future__ import annotations

import threading

import numpy as np

from ..result import OK
from .driver import evaluate_range, max_children, new_outputs, parallel_batch
from .paths import residual_paths
from .workspace import make_workspace, reset_workspace


def _outputs_for(maps):
    """The outputs of a batch, allocated by numpy (`new_outputs`' Python body), not in compiled code: numpy asks the
    operating system to back an array of 4 MB or more with huge pages and hands back freed blocks that are already
    mapped, where arrays allocated in compiled code (numba's runtime) are new pages that the system maps and zeroes at
    their first write, ~85-155 ns a mapping against an evaluation's ~1 us."""
    return new_outputs.py_func(maps.temporal.shape[0], maps.temporal.shape[1])


class _HeldWorkspace(threading.local):
    """This thread's last workspace and its shape (levels, largest fan-out), kept for the next call: `reset_workspace`
    puts a used one back in a new one's state in ~3 us, where building one with numpy takes ~35 us, as much as the
    rest of a call on one mapping. One shape is kept: a co-search's designs each have their own fan-out."""

    shape: tuple = ()
    workspace = None


_HELD = _HeldWorkspace()


def _workspace_for(acc, maps):
    """A workspace in the state `make_workspace` leaves a new one in, for `maps`' levels on `acc` (`make_workspace`'s
    Python body: numpy's arrays, the types a search passes the driver): this thread's last one where the shape is the
    same."""
    shape = (maps.temporal.shape[1], max_children.py_func(acc.fanout))
    if _HELD.shape == shape:
        reset_workspace(_HELD.workspace)
    else:
        _HELD.shape, _HELD.workspace = shape, make_workspace.py_func(*shape)
    return _HELD.workspace


def evaluate_batch_parallel(layer, acc, maps):
    """`driver.parallel_batch`: B mappings on all threads, (reason, cycles, energy_pj, utilization,
    compute_cycles, reads, fills, updates); counts are totals over instances."""
    out = _outputs_for(maps)
    parallel_batch(layer, acc, maps, residual_paths(layer, acc), out)
    return out


def evaluate_batch_serial(layer, acc, maps):
    """The same on the calling thread (`driver.evaluate_range` over every row): small batches, where waking worker
    threads costs more."""
    out = _outputs_for(maps)
    evaluate_range(np.int64(0), np.int64(maps.temporal.shape[0]), layer, acc, maps, out, _workspace_for(acc, maps),
                   residual_paths(layer, acc))
    return out


def instance_classes(layer, acc, maps):
    """Mapping 0 of `maps` evaluated alone, with what its instance classes hold (`instances`): (reason, per level
    and the MACs its first class and, last, their end [L + 2], per class its instances [n] and its reads, fills and
    updates per tensor [n, 3, 3], zeros for the MACs' classes). Classes exist where instances under a fan-out do
    unequal work; elsewhere n is 0 and the starts are zeros. For readable results (`cost_model.explain`), not for
    searches."""
    L = maps.temporal.shape[1]
    out = new_outputs.py_func(1, L)
    ws = _workspace_for(acc, maps)
    ws.joint[0]["level_start"][L + 1] = 0        # no classes unless the driver builds them
    evaluate_range(np.int64(0), np.int64(1), layer, acc, maps, out, ws, residual_paths(layer, acc))
    reason = int(out.reason[0])
    n = int(ws.joint[0]["level_start"][L + 1]) if reason == OK else 0
    start = ws.joint[0]["level_start"][:L + 2].copy() if n else np.zeros(L + 2, dtype=np.int64)
    rfu = ws.classes["rfu"][:n].copy()
    rfu[start[L]:] = 0.0       # the MACs' classes: no storage, no counts (the kernel leaves their words unwritten)
    return reason, start, ws.classes["count"][:n].copy(), rfu
