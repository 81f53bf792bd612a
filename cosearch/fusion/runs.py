"""A layer's run in a plan: its candidate runs on the view a residency gives it (`layer_runs`: the layer-wise best
mapping moved onto the view, and the view's own search), each priced on the chip, and the rule that keeps one
(`choose_run`, `choose_runs`)."""
from __future__ import annotations

import dataclasses

from accel_models import Accelerator
from mappings import MapperResult, MapperSettings, MappingCache
from nets import Layer

from .memo import PRICED, accelerator_memo_key, mapping_bytes
from .plan import LayerRun, LinearObjective, NoValidMapping, network_objective
from .pricing import dram_words
from .view import Residency
from .view_search import view_search

def layer_runs(layer: Layer, accelerator: Accelerator, cache: MappingCache, objective: str,
               residency: Residency | None = None, search_view: bool | MapperSettings = False,
               count_dram: bool = True) -> tuple[LayerRun, ...]:
    """The candidate runs of `layer` on the view `residency` gives (on `accelerator` itself if None), each priced on
    the chip: which one a plan keeps is `choose_run`'s rule. Raises `NoValidMapping` when there is none.

    Without a residency: the layer-wise best mapping, alone. With one: the layer-wise best mapping moved onto the
    view (`Residency.transplanted`), first, if it fits the view's free capacity; and the mapper's search of the view
    itself, always with `search_view`; without, where the moved mapping does not fit, the moved mapping keeping no
    tile in the home level (`Residency.bypassed`: its tiles always fit; one evaluation rather than a search), and a
    search only if that is not valid either. A view search starts from the moved
    mapping (its genes are the search's first seed), searches for the mapper `objective` of the layer alone (its
    fitness: a search is shared by every plan that meets the view, whatever the plan's totals), and runs with
    `cache`'s settings, or with `search_view`'s when it is a `MapperSettings` (a cheaper budget: a subnet search
    meets thousands of views). Searching no view maps each shape once, as the layer-wise model does,
    but the moved mapping was chosen for tensors in DRAM: on a chip that keeps a whole network on chip it can be
    several times slower than the view's own best (`benchmarks/bench_real_devices.py` on edge_tpu_like).
    `count_dram=False`: a layer-wise run's DRAM words are left at 0 rather than counted (a readable evaluation per
    shape: the searches' scores do not need them)."""
    base = cache.best_mapping(layer, accelerator, objective)
    if residency is None:
        if not base.valid:
            raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name}")

        def compute():
            return int(base.cycles), float(base.energy_pj), dram_words(layer, accelerator,
                                                                        base.arrays.row(0).with_residuals())
        if not count_dram:
            return (LayerRun(layer, base, None, 0.0),)
        key = (accelerator_memo_key(accelerator), layer.shape_key, None, mapping_bytes(base.arrays))
        return (LayerRun(layer, base, None, PRICED.recall(key, compute)[2]),)
    view = residency.view(accelerator)
    moved = None if base.arrays is None else residency.transplanted(base.arrays)
    found = [run for run in (_priced_run(base, moved, layer, accelerator, view, residency),) if run is not None]
    if not found and not search_view and moved is not None:     # its home-level tiles do not fit: none there
        run = _priced_run(base, residency.bypassed(moved), layer, accelerator, view, residency)
        found = [] if run is None else [run]
    if not found or search_view:
        settings = search_view if isinstance(search_view, MapperSettings) else cache.settings
        searched = view_search(layer, residency.searched_view(accelerator), settings, objective, moved)
        run = _priced_run(searched, searched.arrays, layer, accelerator, view, residency)
        if run is not None:
            found.append(run)
    if not found:
        raise NoValidMapping(f"no valid mapping of layer {layer.name or layer.shape_key} on {accelerator.name} with "
                             f"{', '.join(residency.names) or 'no tensor'} on chip and {residency.free_words} words "
                             "free")
    return tuple(found)


def choose_run(runs, objective: str, linear: "LinearObjective | None" = None) -> LayerRun:
    """The rule by which a plan keeps one of a layer's candidate runs (`layer_runs`): the least by the NETWORK's
    objective linearised around the plan's totals (`linear`; a layer's lower EDP that trades cycles for energy can
    raise the network's, which is total energy x total cycles), or, with no plan at hand, by the layer's own
    `objective`. Ties go to the first (the moved layer-wise mapping)."""
    if len(runs) == 1:
        return runs[0]
    if linear is None:
        return min(runs, key=lambda r: network_objective(r.result.cycles, r.result.energy_pj, objective))
    return min(runs, key=linear.of_run)


REFINE_ROUNDS = 4
"""Most rounds of `choose_runs`'s re-linearisation (each lowers the network objective or ends it)."""


def choose_runs(options, objective: str, linear: "LinearObjective | None" = None) -> list[LayerRun]:
    """A whole plan's runs from each layer's candidates (`options`, in network order, the moved mapping first):
    `choose_run` by `linear` (the planner's linearisation), or every layer's first candidate if that scores better by
    the network `objective`; then, while it lowers the network objective, `choose_run` again linearised around the
    choice's own totals (a lower linear score there never raises the network's EDP: `LinearObjective`). So a plan
    is never worse, by the network's objective, than the same plan on the moved mappings."""
    runs = [choose_run(o, objective, linear) for o in options]
    if all(len(o) == 1 for o in options):
        return runs

    def total(chosen) -> float:
        return network_objective(sum(r.result.cycles for r in chosen), sum(r.result.energy_pj for r in chosen),
                                 objective)
    first = [o[0] for o in options]
    best, value = min(((runs, total(runs)), (first, total(first))), key=lambda pair: pair[1])
    for _ in range(REFINE_ROUNDS):
        around = LinearObjective(sum(r.result.cycles for r in best), sum(r.result.energy_pj for r in best), objective)
        again = [choose_run(o, objective, around) for o in options]
        if total(again) >= value:
            break
        best, value = again, total(again)
    return best


def layer_run(layer: Layer, accelerator: Accelerator, cache: MappingCache, objective: str,
              residency: Residency | None = None, search_view: bool | MapperSettings = False,
              count_dram: bool = True, linear: "LinearObjective | None" = None) -> LayerRun:
    """`layer`'s run as a plan keeps it: `choose_run` of its `layer_runs` (same arguments); raises
    `NoValidMapping`."""
    return choose_run(layer_runs(layer, accelerator, cache, objective, residency, search_view, count_dram),
                      objective, linear)


def _priced_run(result: MapperResult, arrays, layer, accelerator, view, residency) -> LayerRun | None:
    """`arrays` (a mapping of `layer` on `view`, found as `result`) as a run priced on the chip; None if absent or if
    its tiles in the home level do not fit the residency's free capacity."""
    if arrays is None:
        return None
    key = (accelerator_memo_key(accelerator), layer.shape_key, residency.home, residency.resident,
           mapping_bytes(arrays))
    priced = PRICED.recall(key, lambda: residency.priced(layer, accelerator, arrays))
    if priced is None or priced[3] > residency.free_words:
        return None
    cycles, energy, dram, _ = priced
    return LayerRun(layer, dataclasses.replace(result, layer=layer, arrays=arrays, cycles=cycles, energy_pj=energy,
                                               accelerator=view), residency, dram)


__all__ = ["REFINE_ROUNDS", "choose_run", "choose_runs", "layer_run", "layer_runs"]
