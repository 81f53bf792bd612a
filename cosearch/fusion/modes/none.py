"""`none`: every layer alone, its inputs, weights and outputs read from and written to DRAM, and each residual add's
shortcut operand read from DRAM too (`layer_wise`)."""
from __future__ import annotations

from accel_models import Accelerator
from mappings import MapperSettings, MappingCache
from nets import Network

from ..plan import NetworkPlan
from ..runs import layer_run


def layer_wise(network: Network, accelerator: Accelerator, cache: MappingCache, objective: str,
               count_dram: bool = True) -> NetworkPlan:
    """Every layer alone, its tensors in DRAM, and each residual add's shortcut operand read from DRAM, where it
    lives between layers (`with_dram_shortcuts`): the `none` mode's plan, and the one the fused modes compare
    themselves with (they charge the same read where the shortcut lives). A layer's element-wise arithmetic is not
    costed (the cost model's own semantics)."""
    plan = NetworkPlan("none", tuple(layer_run(layer, accelerator, cache, objective, count_dram=count_dram)
                                     for layer in network.layers))
    return plan.with_dram_shortcuts(network, accelerator)


class LayerWise:
    name = "none"
    description = "each layer alone, every tensor from and to DRAM"
    ranked_by = "none"

    def plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings = False,
             count_dram: bool = True) -> NetworkPlan:
        return layer_wise(network, accelerator, cache, objective, count_dram)

    def totals(self, network, accelerator, cache, objective) -> tuple[int, float]:
        plan = self.plan(network, accelerator, cache, objective, count_dram=False)
        return plan.cycles, plan.energy_pj
