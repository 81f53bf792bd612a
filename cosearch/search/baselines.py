"""The presets that fit a budget's area, running the same network with their best mappings."""
from __future__ import annotations

from dataclasses import dataclass

from accel_models import NotCountable, area_mm2
from accel_models.presets import PRESETS, buffers_summary, get_preset
from mappings import MappingCache
from nets import Network

from ..fusion import ChosenViews
from .evaluate import NetworkCost, NoValidMapping, evaluate_network


@dataclass(frozen=True)
class PresetRun:
    """One preset at its own node: its area, whether it fits the budget, and its cost on the network if it does."""

    name: str
    area_mm2: float
    fits: bool
    technology_nm: float
    pe_array: tuple[int, int]
    dataflow: str
    buffers: str
    cost: NetworkCost | None = None
    error: str | None = None

    def to_dict(self, best_edp_j_s: float | None = None) -> dict:
        d = {"name": self.name, "area_mm2": self.area_mm2, "fits": self.fits, "technology_nm": self.technology_nm,
             "pe_array": list(self.pe_array), "dataflow": self.dataflow, "buffers": self.buffers,
             "error": self.error, "metrics": None if self.cost is None else self.cost.metrics()}
        if self.cost is not None and best_edp_j_s:
            d["edp_ratio"] = self.cost.edp_j_s / best_edp_j_s
        return d


def fitting_presets(area_budget_mm2: float, names: list[str] | None = None) -> list[str]:
    """The presets (of `names`, default all, in `PRESETS` order) whose modelled area at their own node fits the budget."""
    return [name for name in names or list(PRESETS) if area_mm2(get_preset(name)) <= area_budget_mm2]


def preset_runs(network: Network, area_budget_mm2: float, cache: MappingCache,
                names: list[str] | None = None, objective: str = "edp", fusion: str = "none",
                fusion_groups: str | None = None, timing: str = "timeloop",
                search_views: "bool | ChosenViews" = True) -> list[PresetRun]:
    """Every preset with its area; those within `area_budget_mm2` evaluated on `network` through `cache`, each layer
    at its best mapping for `objective` (the mapper's: "edp", "latency" or "energy"), the layers sharing the chip
    as the `fusion` mode plans (the views its layers run on searched as `search_views` says: `evaluate_network`'s),
    timed by `timing` (`accel_models.timing`). A preset the network cannot run on (a layer
    with no valid mapping, or one whose cycles the model cannot count at the preset's bandwidth) keeps its reason in
    `error`, and the others still run."""
    runs = []
    fitting = fitting_presets(area_budget_mm2, names)
    for name in names or list(PRESETS):
        acc = get_preset(name)
        area = area_mm2(acc)
        fits = name in fitting
        cost, error = None, None
        if fits:
            try:
                cost = evaluate_network(network, acc, cache, objective, fusion=fusion, fusion_groups=fusion_groups,
                                        search_views=search_views, timing=timing)
            except (NoValidMapping, NotCountable) as exc:
                error = " ".join(str(exc).split())
        runs.append(PresetRun(name, area, fits, acc.technology_nm, acc.mesh,
                              acc.dataflow.name if acc.dataflow else "any", buffers_summary(acc), cost, error))
    return runs
