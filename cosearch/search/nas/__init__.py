"""Hardware-aware network search on fixed devices (`--accelerator`): the devices and their layer-cost tables, the
search problem, the strategies (OFA's evolution, random, a REINFORCE controller, ProxylessNAS's gradient), the
efficiency predictor, and the run over several devices with its specialisation table."""
from .device import Device, DeviceCosts, LayerTable, load_device
from .efficiency import EfficiencyPredictor
from .lut import LatencyTable
from .problem import BudgetSpent, Evaluated, NASProblem, SubnetCost
from .run import DeviceResult, NASRunResult, run_fixed_device
from .strategies import (Evolution, Gradient, NASStrategy, RandomSearch, Reinforce, get_nas_strategy,
                         nas_strategy_names, register_nas_strategy, unregister_nas_strategy)

__all__ = ["Device", "DeviceCosts", "LayerTable", "load_device", "EfficiencyPredictor", "LatencyTable",
           "BudgetSpent", "Evaluated", "NASProblem", "SubnetCost", "DeviceResult", "NASRunResult", "run_fixed_device",
           "NASStrategy", "Evolution", "RandomSearch", "Reinforce", "Gradient", "get_nas_strategy",
           "nas_strategy_names", "register_nas_strategy", "unregister_nas_strategy"]
