"""How a network's layers share the chip: each layer alone (`none`), tensors that stay on chip between layers
(`resident`), or chains of layers computed tile by tile (`depth-first`, `tiling` and `groups`). A mode (`modes/`)
plans a network on an accelerator (`plan.NetworkPlan`: every layer's run and what lives on chip), from each layer's
candidate runs (`runs`) on the views the plan gives it (`view.Residency`), the views searched by one rule
(`view_search`). docs/fusion.md states the semantics; the literal references the tests hold the planner to are in
tests/cosearch/fusion/ (`_walker.py`, `_group_walker.py`)."""
from .graph import Activation, activations
from .modes import FUSION_MODES, FusionMode, get_fusion_mode
from .modes.depth_first import smallest_peak_words
from .modes.none import layer_wise
from .plan import LayerRun, NetworkPlan, NoValidMapping, explain_run, traffic_energy_pj
from .runs import layer_run
from .view_search import (VIEW_SEARCH_EVALS, VIEW_SEARCH_SHARE, ChosenViews, ViewSearchFile, keep_view_searches,
                          view_search_settings)
from .stacks import parse_fusion_groups, resolve_fusion_groups
from .view import Residency, home_level

__all__ = ["Activation", "activations", "FUSION_MODES", "FusionMode", "get_fusion_mode", "LayerRun",
           "NetworkPlan", "NoValidMapping", "explain_run", "layer_run", "layer_wise", "Residency", "home_level",
           "parse_fusion_groups", "resolve_fusion_groups", "VIEW_SEARCH_EVALS", "VIEW_SEARCH_SHARE", "ChosenViews",
           "view_search_settings", "ViewSearchFile", "keep_view_searches", "smallest_peak_words", "traffic_energy_pj"]
