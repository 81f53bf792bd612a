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
- Which activations: greedily in network order, each one that fits at every layer it lives through; a layer that
  then finds no valid mapping gives up the activations alive at it (then the weights). The plan is kept only if it
  beats the layer-wise plan on the mapper's objective for the whole network; otherwise the layer-wise plan is used
  and a note says so.
"""
from __future__ import annotations

from accel_models import TENSOR_INDEX

from ..graph import activations
from ..plan import NetworkPlan, NoValidMapping, layer_run, layer_wise, network_objective
from ..view import Residency, home_level, rounded_capacity

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


class Resident:
    name = "resident"
    description = "activations stay on chip between layers when they fit, weights across inferences"

    def plan(self, network, accelerator, cache, objective) -> NetworkPlan:
        base = layer_wise(network, accelerator, cache, objective)
        home = home_level(accelerator)
        if home is None:
            return NetworkPlan(self.name, base.runs, notes=(f"{accelerator.name} has no single shared on-chip level: "
                                                            "every tensor from DRAM",))
        blocked: set[int] = set()
        pin = True
        for _ in range(len(network.layers) + 2):
            residencies, pinned, resident = self._residencies(network, accelerator, home, blocked, pin)
            try:
                runs = tuple(layer_run(layer, accelerator, cache, objective, residency)
                             for layer, residency in zip(network.layers, residencies))
            except NoValidMapping:
                failed = self._first_invalid(network, accelerator, cache, objective, residencies)
                alive = {a.producer for a in activations(network) if a.alive_at(failed)} - blocked
                if alive:
                    blocked |= alive
                elif pin:
                    pin = False
                else:
                    raise
                continue
            plan = NetworkPlan(self.name, runs, pinned, resident)
            if network_objective(plan.cycles, plan.energy_pj, objective) <= \
                    network_objective(base.cycles, base.energy_pj, objective):
                return plan
            return NetworkPlan(self.name, base.runs, notes=("keeping tensors on chip cost more than the layer-wise "
                                                            f"plan's {objective}: every tensor from DRAM",))
        raise NoValidMapping(f"resident: no plan of {network.name} on {accelerator.name} maps every layer")

    @staticmethod
    def _first_invalid(network, accelerator, cache, objective, residencies) -> int:
        for i, (layer, residency) in enumerate(zip(network.layers, residencies)):
            try:
                layer_run(layer, accelerator, cache, objective, residency)
            except NoValidMapping:
                return i
        raise AssertionError("a layer failed, then mapped")  # pragma: no cover

    @staticmethod
    def _residencies(network, accelerator, home, blocked, pin):
        """Per layer its `Residency` (None: as layer-wise), the pinned weight words and the resident activations."""
        level = accelerator.levels[home]
        layers = network.layers
        free = [level.capacity_words] * len(layers)
        resident_out: dict[int, object] = {}
        if "Inputs" in level.keeps and "Outputs" in level.keeps:
            for act in activations(network):
                span = range(act.producer, act.last + 1)
                if act.producer in blocked or any(free[i] - act.words < 1 for i in span):
                    continue
                for i in span:
                    free[i] -= act.words
                resident_out[act.producer] = act
        pinned = 0
        if pin and "Weights" in level.keeps:
            weights = sum(layer.param_words for layer in layers)
            if weights and min(free) - weights >= 1:
                pinned = weights
                free = [f - weights for f in free]
        result = []
        for i, layer in enumerate(layers):
            resident = []
            if pinned and layer.param_words:
                resident.append(W)
            act_in = resident_out.get(i - 1)
            if act_in is not None and act_in.reader == i:
                resident.append(I)
            if i in resident_out:
                resident.append(O)
            if not resident and free[i] == level.capacity_words:
                result.append(None)
            else:
                result.append(Residency(home, tuple(sorted(resident)), rounded_capacity(free[i])))
        return result, pinned, tuple(resident_out.values())
