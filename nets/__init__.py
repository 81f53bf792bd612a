"""Workloads: layers, networks, subnet search spaces, reference networks, accuracy estimators.

Knows nothing about hardware. `import nets` stays light: the PyTorch-backed parts (`build_torch`, `from_torch`,
the zero-cost proxies of `nets.estimators`) and the ONNX reader (`from_onnx`) are imported on first use, because
`accel_models` and the command line import `nets` and torch alone takes about 1 s of CPU to import.

The rest lives in the subpackages, each with its own `__all__`: `nets.problem_shape` (the dimensions, tensors and
their projections), `nets.elementwise`, `nets.spaces` (each registered space by name, such as `MBV3_W12`),
`nets.ofa` and `nets.transformer` (the families' types), `nets.zoo` (one builder per reference network),
`nets.estimators` (accuracy sources), `nets.registry` (the `Registry` every family of members uses).
"""
from .lazy import lazy_exports
from .layer import Layer, check_layer
from .network import Network
from .problem_shape import DIMS, N_AXES, TENSORS
from .spaces import (SPACES, GeneTable, SearchSpace, SubnetConfig, count_macs, count_params, crossover_configs,
                     get_space, largest_config, mutate_config, parse_config, register_space, sample_config,
                     sample_configs, slot_choices, smallest_config, space_layers, space_names, to_network)
from .zoo import ZOO, get_network

__getattr__, __dir__ = lazy_exports(__name__, {  # PEP 562: the torch- and onnx-backed names
    ".torch_build": ("build_torch",),
    ".torch_import": ("from_torch",),
    ".onnx_import": ("from_onnx",),
}, globals())

__all__ = [
    "DIMS", "TENSORS", "N_AXES", "Layer", "check_layer", "Network",
    "SearchSpace", "SubnetConfig", "GeneTable", "SPACES", "get_space", "register_space", "space_names",
    "parse_config", "to_network", "count_macs", "count_params", "space_layers", "slot_choices", "sample_config",
    "sample_configs", "mutate_config", "crossover_configs", "largest_config", "smallest_config",
    "ZOO", "get_network", "build_torch", "from_torch", "from_onnx",
]
