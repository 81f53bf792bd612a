"""How a network's layers share the chip: tensors that stay on chip between layers (`resident`), or each layer
alone (`none`). A mode plans a network on an accelerator (`NetworkPlan`: every layer's run and what lives on
chip), from the per-layer mapper's best mappings on the views the plan gives each layer (`view.Residency`)."""
from .graph import Activation, activations
from .modes import FUSION_MODES, FusionMode, get_fusion_mode
from .plan import LayerRun, NetworkPlan, NoValidMapping, explain_run, layer_run, layer_wise
from .view import Residency, home_level

__all__ = ["Activation", "activations", "FUSION_MODES", "FusionMode", "get_fusion_mode", "LayerRun",
           "NetworkPlan", "NoValidMapping", "explain_run", "layer_run", "layer_wise", "Residency", "home_level"]
