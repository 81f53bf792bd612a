"""Workloads: layers, networks, subnet search spaces, reference networks, accuracy estimators.

Knows nothing about hardware. `import nets` stays light: the PyTorch-backed parts (`build_torch`,
`from_torch`, the accuracy estimators) and the ONNX reader (`from_onnx`) are imported on first use, because `accel_models` and the
command line import `nets` and torch alone takes about 2 s to import.
"""
from importlib import import_module

from .elementwise import OPS_PER_ELEMENT, ElementwiseOp, describe_elementwise, elementwise_ops, elementwise_words
from .layer import MAX_BOUND, Layer, check_layer
from .problem_shape import (COEFFICIENTS, DIM_INDEX, DIMS, N_AXES, PROJECTION, TENSOR_INDEX, TENSORS,
                            axis_terms, box_words, tensor_dims)
from .network import Network
from .spaces import (DEFAULT_SPACE, EFFICIENTNET, GPT_ELASTIC, GPT_ELASTIC_DECODE, MBV3_W12, PROXYLESS_W13, RESNET50,
                     VIT_ELASTIC, EfficientNetConfig, EfficientNetSpace, GeneTable, SearchSpace, SubnetConfig,
                     count_macs, count_params, crossover_configs, get_space, largest_config, mutate_config,
                     parse_config, register_space, sample_config, sample_configs, slot_choices, smallest_config,
                     space_layers, space_names, registered_spaces, to_network, unregister_space)
from .ofa import MBConfig, MBSpace, ResNetConfig, ResNetSpace, make_divisible
from .transformer import (TRANSFORMER_ZOO, Block, DecoderConfig, DecoderSpace, TransformerSpec, ViTConfig, ViTSpace,
                          transformer_network)
from .efficientnet import estimated_top1
from .zoo import (ZOO, alexnet, efficientnet_edgetpu_s, get_network, googlenet, mnasnet1_0, mobilenet_v1, mobilenet_v2,
                  resnet50, squeezenet1_0, unet, vgg16)

_LAZY = {
    "build_torch": ".torch_build",
    "build_transformer": ".transformer.torch_model",
    "from_torch": ".torch_import",
    "from_onnx": ".onnx_import",
    "AccuracyEstimator": ".estimators",
    "OFAAccuracyPredictor": ".estimators",
    "CalibratedProxy": ".estimators",
    "ZenScore": ".estimators",
    "GradSign": ".estimators",
    "NASWOT": ".estimators",
    "SynFlow": ".estimators",
    "PROXIES": ".estimators",
}


def __getattr__(name: str):
    """PEP 562 lazy import of the torch-backed names."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DIMS", "DIM_INDEX", "TENSORS", "TENSOR_INDEX", "COEFFICIENTS", "PROJECTION", "N_AXES", "tensor_dims", "axis_terms", "box_words",
    "Layer", "MAX_BOUND", "check_layer", "Network", "ElementwiseOp", "OPS_PER_ELEMENT", "elementwise_ops",
    "elementwise_words",
    "describe_elementwise",
    "SearchSpace", "SubnetConfig", "GeneTable", "slot_choices", "register_space", "unregister_space", "get_space",
    "space_names", "registered_spaces", "DEFAULT_SPACE", "parse_config", "to_network", "count_macs", "count_params",
    "space_layers", "sample_config", "sample_configs", "mutate_config", "crossover_configs", "largest_config",
    "smallest_config",
    "MBV3_W12", "PROXYLESS_W13", "RESNET50", "EFFICIENTNET", "VIT_ELASTIC", "GPT_ELASTIC", "GPT_ELASTIC_DECODE",
    "MBConfig", "ResNetConfig", "MBSpace", "ResNetSpace", "make_divisible", "EfficientNetSpace",
    "EfficientNetConfig", "estimated_top1",
    "TransformerSpec", "Block", "transformer_network", "TRANSFORMER_ZOO", "ViTConfig", "DecoderConfig", "ViTSpace",
    "DecoderSpace",
    "ZOO", "get_network", "alexnet", "vgg16", "resnet50", "mobilenet_v1", "mobilenet_v2", "mnasnet1_0", "squeezenet1_0",
    "googlenet", "efficientnet_edgetpu_s", "unet",
    *_LAZY,
]
