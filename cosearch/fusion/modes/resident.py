"""`resident`: activations stay on chip between the layers that produce and read them, weights across inferences.

Semantics (docs/fusion.md):
- Layers run one after the other, in network order. An activation (`graph.Activation`: the tensor that layers read
  whole as their Inputs or add as a residual shortcut; a concatenation's producers each write a channel slice of it)
  lives in the home level (`view.home_level`, the global buffer) from its first producer's run to its last reader's,
  whole, occupying its words all that time; it is then never written to or read from DRAM. Its producers write
  their outputs there and its readers read their inputs there; a layer whose output is part of several tensors
  writes it on chip only when all of them are there.
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

from accel_models import TENSOR_INDEX

from ..graph import activations
from ..plan import NetworkPlan, NoValidMapping, layer_run, layer_wise, linearised_objective
from ..view import Residency, home_level, rounded_capacity

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


class Resident:
    name = "resident"
    description = "activations stay on chip between layers when they fit, weights across inferences"

    def plan(self, network, accelerator, cache, objective, search_views: bool = False,
             count_dram: bool = True) -> NetworkPlan:
        base = layer_wise(network, accelerator, cache, objective, count_dram)
        home = home_level(accelerator)
        if home is None:
            return NetworkPlan(self.name, base.runs, notes=(f"{accelerator.name} has no single shared on-chip level: "
                                                            "every tensor from DRAM",), baseline=base)
        level = accelerator.levels[home]
        layers = network.layers
        score = linear_score(base, objective)
        chosen: list = []
        pinned = 0
        runs = list(base.runs)
        free = [level.capacity_words] * len(layers)
        acts = activations(network) if {"Inputs", "Outputs"} <= set(level.keeps) else ()
        for act in acts:
            span = range(act.first, act.last + 1)
            if any(free[i] - act.words < 1 for i in span):
                continue
            trial = self._runs(layers, span, chosen + [act], acts, pinned, home, level, accelerator, cache,
                               objective, search_views)
            if trial is not None and score(trial) <= score([runs[i] for i in span]):
                chosen.append(act)
                for i, run in zip(span, trial):
                    runs[i] = run
                    free[i] -= act.words
        weights = sum(layer.param_words for layer in layers)
        if "Weights" in level.keeps and weights and min(free) - weights >= 1:
            every = range(len(layers))
            trial = self._runs(layers, every, chosen, acts, weights, home, level, accelerator, cache, objective,
                               search_views)
            if trial is not None and score(trial) <= score(runs):
                runs, pinned = list(trial), weights
        return NetworkPlan(self.name, tuple(runs), pinned, tuple(chosen), baseline=base)

    @staticmethod
    def _runs(layers, span, chosen, acts, pinned, home, level, accelerator, cache, objective, search_views):
        """The runs of the layers in `span` with the activations `chosen` (of `acts`) on chip and `pinned` weight
        words; None if one of them then has no valid mapping."""
        runs = []
        kept = {id(a) for a in chosen}
        for i in span:
            resident = ([W] if pinned and layers[i].param_words else []) \
                + ([I] if any(i in a.readers for a in chosen) else []) \
                + ([O] if _writes_on_chip(i, kept, acts) else [])
            free = level.capacity_words - pinned - sum(a.words for a in chosen if a.alive_at(i))
            if free < 1:
                return None
            residency = None if not resident and free == level.capacity_words else \
                Residency(home, tuple(sorted(resident)), rounded_capacity(free))
            try:
                runs.append(layer_run(layers[i], accelerator, cache, objective, residency, search_views))
            except NoValidMapping:
                return None
        return runs


def _writes_on_chip(index: int, kept: set[int], acts) -> bool:
    """Whether layer `index` writes its output only to tensors on chip (their ids: `kept`), and to one at least."""
    written = [a for a in acts if index in a.producers]
    return bool(written) and all(id(a) in kept for a in written)


def linear_score(base: NetworkPlan, objective: str):
    """runs -> the objective linearised around `base`'s totals (`plan.linearised_objective`)."""
    linear = linearised_objective(base.cycles, base.energy_pj, objective)

    def score(runs) -> float:
        return linear(sum(r.result.cycles for r in runs), sum(r.result.energy_pj for r in runs))
    return score
