"""Hardware-aware network search on fixed devices (`--accelerator`): the devices and their layer-cost tables, the
search problem, the efficiency predictor, and the run over several devices with its specialisation table. The
strategies that search a problem are `cosearch.nas_strategies`."""
from .device import Device, DeviceCosts, LayerTable, load_device
from .efficiency import EfficiencyPredictor
from .lut import LatencyTable
from .problem import Evaluated, NASProblem, SubnetCost
from .run import DeviceResult, NASRunResult, run_fixed_device

__all__ = ["Device", "DeviceCosts", "LayerTable", "load_device", "EfficiencyPredictor", "LatencyTable",
           "Evaluated", "NASProblem", "SubnetCost", "DeviceResult", "NASRunResult", "run_fixed_device"]
