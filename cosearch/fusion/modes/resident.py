"""`resident`: activations stay on chip between the layers that produce and read them, weights across inferences.

Semantics (docs/fusion.md):
- Layers run one after the other, in network order. An activation (`graph.Activation`: the tensor that layers read
  whole as their Inputs or add as a residual shortcut; a concatenation's producers each write a channel slice of it)
  lives in the home level (`view.home_level`, the global buffer) from its first producer's run to its last reader's,
  whole, occupying its words all that time; it is then never written to or read from DRAM. Its producers write
  their outputs there and its readers read their inputs there; a layer whose output is part of several tensors
  writes it on chip only when all of them are there.
- Weights: in the steady state of back-to-back inferences, a layer's weights either stay in the home level (cached:
  loaded once, `NetworkPlan.pinned_weight_words` counts them, not charged per inference; the layer reads them
  there) or are streamed: read from DRAM by their layer every inference, as layer-wise. Cached weights occupy the
  home level at every layer, so the cached set fits when its words fit the smallest room the activations leave.
  When every layer's weights fit, all are cached; otherwise layers are cached in the order of what caching saves
  per word (the layer's linearised objective streamed less cached, with the whole room taken), each that still
  fits, the rest streamed. Edge TPU's compiler does the same (docs/fusion.md): it caches what fits and streams
  the rest over the host link.
- Capacity: at every layer, the words of everything living in the home level (resident activations alive then,
  pinned weights) plus the tiles the layer's mapping keeps there fit its capacity. The mapper sees only the free
  capacity (`view.Residency`), so this holds for every mapping it returns.
- Which: greedily in network order, each activation (together with those sharing a producer with it: `_units`)
  that fits at every layer it lives through and lowers the objective (linearised around the layer-wise plan:
  `linear_score`) of the layers it lives through, given those chosen before (a smaller free capacity can cost a
  layer more than the DRAM traffic saved); then the weights (above), if caching them lowers the whole network's. Each step never raises the network's objective, so the plan is never worse
  than the layer-wise one.
"""
from __future__ import annotations

from functools import lru_cache

from accel_models import TENSOR_INDEX
from mappings import MapperSettings, accelerator_key

from ..graph import activations
from ..plan import LayerRun, NetworkPlan, NoValidMapping, layer_run, linearised_objective
from ..view import Residency, home_level, rounded_capacity

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


class Resident:
    name = "resident"
    description = "activations stay on chip between layers when they fit, weights across inferences"

    def plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings = False,
             count_dram: bool = True) -> NetworkPlan:
        layers = network.layers
        table = _RunTable(accelerator, cache, objective, search_views)
        slots = [table.slot(layer) for layer in layers]
        base = NetworkPlan("none", tuple(table.run(layer, slot, None, count_dram) for layer, slot in zip(layers, slots)))
        home = home_level(accelerator)
        if home is None:
            return NetworkPlan(self.name, _named(base.runs, layers), notes=(
                f"{accelerator.name} has no single shared on-chip level: every tensor from DRAM",), baseline=base)
        level = accelerator.levels[home]
        capacity = level.capacity_words
        score = linear_score(base, objective)
        chosen: list = []
        pinned = 0
        runs = list(base.runs)
        n = len(layers)
        free = [capacity] * n          # capacity less the chosen activations alive at each layer
        reads = [False] * n            # the layer reads its Inputs from a chosen activation
        acts = activations(network) if {"Inputs", "Outputs"} <= set(level.keeps) else ()
        produced = [0] * n             # the tensors the layer writes (a slice of a concatenation counts as one)
        for act in acts:
            for p in act.producers:
                produced[p] += 1
        kept = [0] * n                 # ... of which chosen: it writes on chip when all of them are
        params = [layer.param_words for layer in layers]
        context = _Context(layers, slots, table, home, capacity, params)
        for unit in _units(acts):
            span = range(min(a.first for a in unit), max(a.last for a in unit) + 1)
            words = [sum(a.words for a in unit if a.alive_at(i)) for i in span]
            if any(free[i] - w < 1 for i, w in zip(span, words)):
                continue
            readers = {r for a in unit for r in a.readers}
            writes = [sum(i in a.producers for a in unit) for i in span]
            trial = context.runs(span, [free[i] - w for i, w in zip(span, words)],
                                 [reads[i] or i in readers for i in span],
                                 [kept[i] + w == produced[i] > 0 for i, w in zip(span, writes)], ())
            if trial is not None and score(trial) <= score([runs[i] for i in span]):
                chosen.extend(unit)
                for i, run, w, slices in zip(span, trial, words, writes):
                    runs[i] = run
                    free[i] -= w
                    kept[i] += slices
                for r in readers:
                    reads[r] = True
        notes = ()
        if "Weights" in level.keeps and sum(params):
            writes = [kept[i] == produced[i] > 0 for i in range(n)]
            cached = _weights_to_cache(context, free, reads, writes, runs, score)
            words = sum(params[i] for i in cached)
            trial = context.runs(range(n), [f - words for f in free], reads, writes, cached) if cached else None
            if trial is not None and score(trial) <= score(runs):
                runs, pinned = trial, words
                streamed = sum(params) - words
                if streamed:
                    notes = (f"weights of {len(cached)} of {sum(p > 0 for p in params)} layers stay on chip "
                             f"({words:,} words); {streamed:,} words streamed from DRAM every inference",)
        return NetworkPlan(self.name, _named(runs, layers), pinned, tuple(chosen), notes, baseline=base)


def _units(acts) -> list[tuple]:
    """The activations in units that stay on chip together, in network order: those sharing a producer (a layer read
    alone and as a slice of a concatenation, say) are one unit, since the layer writes its output once, on chip
    only when every tensor it is part of is there, and a reader finds a tensor on chip only if it was written
    there."""
    units: list[list] = []
    for act in acts:
        joined = [u for u in units if any(set(a.producers) & set(act.producers) for a in u)]
        merged = [act] + [a for u in joined for a in u]
        units = [u for u in units if all(u is not j for j in joined)] + [merged]
    return sorted((tuple(sorted(u, key=lambda a: (a.first, a.producers))) for u in units),
                  key=lambda u: (u[0].first, u[0].producers))


def _weights_to_cache(context, free, reads, writes, runs, score) -> frozenset:
    """The layers whose weights stay in the home level (module docstring): all of them when their words fit the
    smallest room `free` leaves (less one word); otherwise, by what caching saves per word (each layer's run with its
    weights cached and the whole room taken, against its run in `runs`), each that still fits and saves."""
    params = context.params
    room = min(free) - 1
    weighted = [i for i, p in enumerate(params) if p]
    if sum(params) <= room:
        return frozenset(weighted)
    gains = []
    for i in weighted:
        if params[i] <= room:
            run = context.runs((i,), [free[i] - room], [reads[i]], [writes[i]], (i,))
            if run is not None and score(run) < score([runs[i]]):
                gains.append(((score([runs[i]]) - score(run)) / params[i], i))
    cached, words = [], 0
    for _, i in sorted(gains, key=lambda g: (-g[0], g[1])):
        if words + params[i] <= room:
            cached.append(i)
            words += params[i]
    return frozenset(cached)


class _Context:
    """One network's layers on one accelerator, for the planner's trials: their runs in a given residency context."""

    def __init__(self, layers, slots, table, home, capacity, params) -> None:
        self.layers, self.slots, self.table = layers, slots, table
        self.home, self.capacity, self.params = home, capacity, params

    def runs(self, span, free, reads, writes, cached):
        """The runs of the layers in `span` given, per layer of the span, the words left `free` in the home level,
        whether it reads its Inputs from and writes its Outputs to tensors on chip, and the layers whose weights are
        `cached` in the home level; None if one of them then has no valid mapping."""
        runs = []
        layers, slots, params, capacity = self.layers, self.slots, self.params, self.capacity
        for i, left, on_chip_in, on_chip_out in zip(span, free, reads, writes):
            resident = ((W,) if i in cached and params[i] else ()) + ((I,) if on_chip_in else ()) \
                + ((O,) if on_chip_out else ())
            if left < 1:
                return None
            if not resident and left == capacity:
                context = (None, True)
            else:
                context = (tuple(sorted(resident)), rounded_capacity(left))
            run = slots[i][1].get(context)
            if run is None:
                residency = None if context[0] is None else Residency(self.home, *context)
                try:
                    run = self.table.run(layers[i], slots[i], residency)
                except NoValidMapping:
                    return None
            runs.append(run)
        return runs


def _named(runs, layers) -> tuple[LayerRun, ...]:
    """The runs, each given as its own layer's run (a remembered run may be another layer's of the same shape)."""
    return tuple(run if run.layer is layer else LayerRun(layer, run.result, run.residency, run.dram_words)
                 for run, layer in zip(runs, layers))


_TABLES: dict[tuple, list] = {}
RUNS_KEPT = 1 << 15
"""Layer runs remembered (per process) by `_RunTable`; past this many, all are dropped and remembered afresh."""
_kept = [0]


@lru_cache(maxsize=64)
def _accelerator_key(accelerator) -> str:
    return accelerator_key(accelerator)


class _RunTable:
    """`plan.layer_run` for one accelerator, mapping cache, objective and view search, remembered across plans per
    layer shape and residency context (the tensors on chip, the free capacity class: `view.rounded_capacity`): a
    network search plans thousands of networks made of the same few thousand layer shapes in the same few contexts,
    so after the first plans a network costs a look-up per layer and context. A shape's runs stand while the
    cache's mapping of the shape is the one they were made from (a cache cleared and searched again gives new
    mappings, hence new runs). A run found for another layer of the same shape serves this one (`_named` gives it
    back as this layer's)."""

    def __init__(self, accelerator, cache, objective: str, search_views: bool | MapperSettings) -> None:
        self.accelerator, self.cache, self.objective = accelerator, cache, objective
        self.search_views = search_views
        self.prefix = (id(cache), _accelerator_key(accelerator), objective, search_views)

    def slot(self, layer) -> list:
        """[the cache's mapping of `layer`'s shape, {context: run}] (the runs dropped if the mapping is not theirs);
        maps the shape on a miss, as `layer_run` would."""
        base = self.cache.result(layer, self.accelerator, self.objective)
        key = (self.prefix, layer.shape_key, layer.weights_are_activations)
        slot = _TABLES.get(key)
        if slot is None or slot[0] is not base:
            if _kept[0] > RUNS_KEPT:
                _TABLES.clear()
                _kept[0] = 0
            slot = _TABLES[key] = [base, {}]
        return slot

    def run(self, layer, slot, residency, count_dram: bool = True) -> LayerRun:
        """`layer`'s run with `residency` (None: layer-wise), from `slot` or made and kept there."""
        context = (None, count_dram) if residency is None else (residency.resident, residency.free_words)
        run = slot[1].get(context)
        if run is None:
            run = layer_run(layer, self.accelerator, self.cache, self.objective, residency, self.search_views,
                            count_dram)
            slot[1][context] = run
            _kept[0] += 1
        return run


def linear_score(base: NetworkPlan, objective: str):
    """runs -> the objective linearised around `base`'s totals (`plan.linearised_objective`)."""
    linear = linearised_objective(base.cycles, base.energy_pj, objective)

    def score(runs) -> float:
        return linear(sum(r.result.cycles for r in runs), sum(r.result.energy_pj for r in runs))
    return score
