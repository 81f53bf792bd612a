"""`none`: every layer alone, its inputs, weights and outputs read from and written to DRAM, and each residual add's
shortcut operand read from DRAM too (`plan.layer_wise`)."""
from __future__ import annotations

from mappings import MapperSettings

from ..plan import NetworkPlan, layer_wise


class LayerWise:
    name = "none"
    description = "each layer alone, every tensor from and to DRAM"

    def plan(self, network, accelerator, cache, objective, search_views: bool | MapperSettings = False,
             count_dram: bool = True) -> NetworkPlan:
        return layer_wise(network, accelerator, cache, objective, count_dram)
