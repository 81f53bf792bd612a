"""`resident`: activations stay on chip between the layers that produce and read them, weights across inferences.

Semantics (docs/fusion.md):
- Layers run one after the other, in network order. An activation (`graph.Activation`: a layer's output that the
  next layer reads, or a residual shortcut adds later) lives in the home level (`view.home_level`, the global
  buffer) from its producer's run to its last reader's, whole, occupying its words all that time; it is then never
  written to or read from DRAM. The producer writes its output there and the reader reads its inputs there.
- Weights: in the steady state of back-to-back inferences, the weights of every layer stay in the home level when
  they fit beside the activations at every layer: they are loaded once (`NetworkPlan.pinned_weight_words`, not
  charged per inference) and each layer reads its own from there. All of them or none.
- Capacity: at every layer, the words of everything living in the home level (resident activations alive then,
  pinned weights) plus the tiles the layer's mapping keeps there fit its capacity. The mapper sees only the free
  capacity (`view.Residency`), so this holds for every mapping it returns.
- Which: greedily in network order, each activation that fits at every layer it lives through and lowers the
  objective (linearised around the layer-wise plan: `linear_score`) of the layers it lives through, given those
  chosen before (a smaller free capacity can cost a layer more than the DRAM traffic saved); then the weights, if
  they fit and lower the whole network's. Each step never raises the network's objective, so the plan is never worse
  than the layer-wise one.
"""
from __future__ import annotations

from collections import OrderedDict

from accel_models import TENSOR_INDEX
from mappings import accelerator_key

from ..graph import activations
from ..plan import LayerRun, NetworkPlan, NoValidMapping, layer_run, linearised_objective
from ..view import Residency, home_level, rounded_capacity

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


class Resident:
    name = "resident"
    description = "activations stay on chip between layers when they fit, weights across inferences"

    def plan(self, network, accelerator, cache, objective, search_views: bool = False,
             count_dram: bool = True) -> NetworkPlan:
        runs_of = _RunTable(accelerator, cache, objective, search_views)
        layers = network.layers
        base = NetworkPlan("none", tuple(runs_of(layer, None, count_dram) for layer in layers))
        home = home_level(accelerator)
        if home is None:
            return NetworkPlan(self.name, base.runs, notes=(f"{accelerator.name} has no single shared on-chip level: "
                                                            "every tensor from DRAM",))
        level = accelerator.levels[home]
        capacity = level.capacity_words
        score = linear_score(base, objective)
        chosen: list = []
        pinned = 0
        runs = list(base.runs)
        free = [capacity] * len(layers)          # capacity less the chosen activations alive at each layer
        reads = [False] * len(layers)            # the layer reads its Inputs from a chosen activation
        writes = [False] * len(layers)           # the layer writes its Outputs into a chosen activation
        acts = activations(network) if {"Inputs", "Outputs"} <= set(level.keeps) else ()
        for act in acts:
            span = range(act.producer, act.last + 1)
            if any(free[i] - act.words < 1 for i in span):
                continue
            trial = self._runs(layers, span, runs_of, home, capacity,
                               [free[i] - act.words for i in span],
                               [reads[i] or act.reader == i for i in span],
                               [writes[i] or act.producer == i for i in span], 0)
            if trial is not None and score(trial) <= score([runs[i] for i in span]):
                chosen.append(act)
                for i, run in zip(span, trial):
                    runs[i] = run
                    free[i] -= act.words
                if act.reader is not None:
                    reads[act.reader] = True
                writes[act.producer] = True
        weights = sum(layer.param_words for layer in layers)
        if "Weights" in level.keeps and weights and min(free) - weights >= 1:
            every = range(len(layers))
            trial = self._runs(layers, every, runs_of, home, capacity, [f - weights for f in free], reads, writes,
                               weights)
            if trial is not None and score(trial) <= score(runs):
                runs, pinned = list(trial), weights
        return NetworkPlan(self.name, tuple(runs), pinned, tuple(chosen))

    @staticmethod
    def _runs(layers, span, runs_of, home, capacity, free, reads, writes, pinned):
        """The runs of the layers in `span` given, per layer of the span, the words left `free` in the home level,
        whether it reads its Inputs from and writes its Outputs to an activation on chip, and `pinned` weight words;
        None if one of them then has no valid mapping."""
        runs = []
        for i, left, on_chip_in, on_chip_out in zip(span, free, reads, writes):
            resident = ((W,) if pinned and layers[i].param_words else ()) + ((I,) if on_chip_in else ()) \
                + ((O,) if on_chip_out else ())
            if left < 1:
                return None
            residency = None if not resident and left == capacity else \
                Residency(home, tuple(sorted(resident)), rounded_capacity(left))
            try:
                runs.append(runs_of(layers[i], residency))
            except NoValidMapping:
                return None
        return runs


_RUNS: "OrderedDict[tuple, tuple]" = OrderedDict()
RUNS_KEPT = 1 << 15
"""Layer runs remembered (per process) by `_RunTable`, least recently used dropped first."""


class _RunTable:
    """`plan.layer_run` for one accelerator, mapping cache, objective and view search, remembered across plans per
    (layer shape, residency): a network search plans thousands of networks made of the same few thousand layer
    shapes in the same few contexts (tensors on chip, free capacity class), so after the first plans a network costs
    a look-up per layer and context. An entry stands while the cache's mapping of its shape is the one it was made
    from (a cache cleared and searched again gives new mappings, hence new runs). A run found for another layer of
    the same shape is given back as this layer's run (its `result` may name that other layer, as `MappingCache.result`
    does)."""

    def __init__(self, accelerator, cache, objective: str, search_views: bool) -> None:
        self.accelerator, self.cache, self.objective = accelerator, cache, objective
        self.prefix = (id(cache), accelerator_key(accelerator), objective, search_views)
        self.search_views = search_views

    def __call__(self, layer, residency, count_dram: bool = True) -> LayerRun:
        key = (self.prefix, layer.shape_key, layer.weights_are_activations, residency,
               count_dram if residency is None else None)
        base = self.cache.result(layer, self.accelerator, self.objective)
        hit = _RUNS.get(key)
        if hit is not None and hit[0] is base:
            _RUNS.move_to_end(key)
            run = hit[1]
            return run if run.layer is layer else LayerRun(layer, run.result, run.residency, run.dram_words)
        run = layer_run(layer, self.accelerator, self.cache, self.objective, residency, self.search_views, count_dram)
        _RUNS[key] = (base, run)
        while len(_RUNS) > RUNS_KEPT:
            _RUNS.popitem(last=False)
        return run


def linear_score(base: NetworkPlan, objective: str):
    """runs -> the objective linearised around `base`'s totals (`plan.linearised_objective`)."""
    linear = linearised_objective(base.cycles, base.energy_pj, objective)

    def score(runs) -> float:
        return linear(sum(r.result.cycles for r in runs), sum(r.result.energy_pj for r in runs))
    return score
