"""How a network's layers share the chip: each layer alone (`none`), tensors that stay on chip between layers
(`resident`), or chains of layers computed tile by tile (`depth-first`, `tiling` and `groups`; `walker` is the
tiling's literal reference, `group_walker` that of what a group or a resident plan moves). A mode plans a network
on an accelerator (`NetworkPlan`: every layer's run and what lives on chip), from the per-layer mapper's best
mappings on the views the plan gives each layer (`view.Residency`). docs/fusion.md states the semantics."""
from .graph import Activation, activations
from .modes import FUSION_MODES, FusionMode, get_fusion_mode
from .modes.depth_first import smallest_peak_words
from .plan import (VIEW_SEARCH_EVALS, LayerRun, NetworkPlan, NoValidMapping, ViewSearchFile, explain_run,
                   keep_view_searches, layer_run, layer_wise, view_search_settings)
from .stacks import parse_fusion_groups, resolve_fusion_groups
from .view import Residency, home_level

__all__ = ["Activation", "activations", "FUSION_MODES", "FusionMode", "get_fusion_mode", "LayerRun",
           "NetworkPlan", "NoValidMapping", "explain_run", "layer_run", "layer_wise", "Residency", "home_level",
           "parse_fusion_groups", "resolve_fusion_groups", "VIEW_SEARCH_EVALS", "view_search_settings",
           "ViewSearchFile", "keep_view_searches", "smallest_peak_words"]
