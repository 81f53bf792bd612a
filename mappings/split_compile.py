"""A first search in a process whose numba cache lacks it compiles beside a helper process
(`compile_first_search`), sharing the steps of its compile plan (`compile_plan.first_search_plan`) through
`accel_models.jit.SplitCompile`."""
from __future__ import annotations

import pickle
import sys
import tempfile
from pathlib import Path

from accel_models import Accelerator
from accel_models.jit import SplitCompile, helper_would_help, open_split, start_helper, stop_helper
from nets import Layer

from .compile_plan import SEARCH, SEARCH_PERFECT, first_search_plan

HELPER_STOP_S = 1.0
"""How long the caller waits for its helper process to end by itself once every step is done, before stopping it."""


def compile_first_search(search, layer: Layer, accelerator: Accelerator, factors: str, objective: str,
                         search_args=None) -> bool:
    """Before the first call of the compiled search `search` (an `evolution.Search`: `evolution.search_kernel(factors)`)
    in this process, if numba's cache holds no compile of it: compile the steps it calls
    (`compile_plan.first_search_plan`, with the search's own code where `search_args`, a picklable callable, gives its
    arguments) in this process and one helper process side by side, so that the search's call then loads them from
    the cache. The longest chain (the kernel's counting, the driver) stays here; the helper takes the search's code,
    the decoder and the small steps beside it. Nothing happens on a warm cache, with one core, without file locks,
    with numba's JIT disabled, or with `COSEARCH_COMPILE_HELPER=0`; what is compiled, and so every result, is the same
    either way. `factors`: the encoding's, "auto" resolved ("perfect" or "residual"). In a worker's trials
    (`SplitCompile.open_for_searches`) the worker's split stands for the helper: a search whose steps are later ones
    completes it (`SplitCompile.complete_for`). Returns whether a helper was started."""
    split = open_split()
    if split is not None:   # a worker's trials: its split holds the plan's steps
        split.complete_for(SEARCH_PERFECT if factors == "perfect" else SEARCH)
        return False
    if not helper_would_help(search, factors):
        return False
    steps = first_search_plan(layer, accelerator, factors, objective, search_args)
    with tempfile.TemporaryDirectory(prefix="cosearch-compile-") as folder:
        try:
            (Path(folder) / "job.pickle").write_bytes(pickle.dumps((layer, accelerator, factors, objective, search_args)))
            helper = start_helper(Path(folder), "import sys; from mappings.split_compile import _helper_main; "
                                                 "_helper_main(sys.argv[1])")
        except (OSError, pickle.PicklingError, TypeError, AttributeError):   # the search compiles alone
            return False
        split = SplitCompile(steps, Path(folder), say=lambda text: None)
        try:
            split.start()
            split.finish()
        finally:   # it ends by itself once no step is left; one still starting up (importing) is stopped
            stop_helper(helper, HELPER_STOP_S)
    return True


def _helper_main(folder: str) -> None:
    """The helper process of `compile_first_search`: take steps of the same plan until none is left to take."""
    layer, accelerator, factors, objective, search_args = pickle.loads((Path(folder) / "job.pickle").read_bytes())
    SplitCompile(first_search_plan(layer, accelerator, factors, objective, search_args), Path(folder),
                 say=lambda text: print(text, file=sys.stderr)).start()


__all__ = ["compile_first_search", "HELPER_STOP_S"]
