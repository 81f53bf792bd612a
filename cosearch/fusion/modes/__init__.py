"""Fusion modes: how a network's layers share the chip. A small protocol (`FusionMode`), one module per member,
registered by name (`--fusion`)."""
from __future__ import annotations

from typing import Protocol

from accel_models import Accelerator
from mappings import MapperSettings, MappingCache
from nets import Network
from nets.registry import Registry

from ..plan import NetworkPlan


class FusionMode(Protocol):
    name: str
    description: str
    ranked_by: str
    """The mode whose `totals` rank many networks in a search for this mode (a co-search trial's subnet search):
    this mode's own name, or that of a mode whose plan costs far less and scores at least this one's, so that a
    network ranked by it is never scored better than this mode would score it."""

    def plan(self, network: Network, accelerator: Accelerator, cache: MappingCache, objective: str,
             search_views: bool | MapperSettings = False, count_dram: bool = True) -> NetworkPlan:
        """How every layer of `network` runs on `accelerator` (mappings from `cache` for the mapper `objective`);
        raises `NoValidMapping` when some layer fits no way the mode allows. `search_views`: the mapper searches
        every view a layer runs on (`runs.layer_run`'s `search_view`: with the cache's settings, or with these
        `MapperSettings`), not only those its layer-wise mapping does not fit: better mappings, a mapper search per
        layer shape and view. `count_dram=False`: layer-wise runs' DRAM words
        are not counted (0; what a search's score does without)."""

    def totals(self, network: Network, accelerator: Accelerator, cache: MappingCache,
               objective: str) -> tuple[int, float]:
        """(cycles, energy pJ) of `plan(network, accelerator, cache, objective, search_views=False,
        count_dram=False)`, by the cheapest route the mode has: what a search ranks many networks by."""


from .depth_first import DepthFirst  # noqa: E402
from .none import LayerWise  # noqa: E402
from .resident import Resident  # noqa: E402

FUSION_MODES: Registry[FusionMode] = Registry("fusion mode")
for _mode in (LayerWise(), Resident(), DepthFirst()):
    FUSION_MODES.register(_mode)


def get_fusion_mode(name: str, groups=None, label: str = "fusion_groups") -> FusionMode:
    """The mode called `name`; a `RegistryError` (a ValueError) naming the accepted ones otherwise. `groups`: the
    user's depth-first groups (`stacks`, e.g. "3-5,7-9"; only with "depth-first"), errors naming `label`."""
    mode = FUSION_MODES.get(name, "fusion")
    if groups is None or groups == "":
        return mode
    if mode.name != DepthFirst.name:
        raise ValueError(f"{label}: groups are run depth-first; give them with fusion {DepthFirst.name!r}, not "
                         f"{mode.name!r}")
    return DepthFirst(groups, label)


__all__ = ["FusionMode", "FUSION_MODES", "get_fusion_mode"]
