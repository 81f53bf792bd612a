"""Accuracy estimators behind one interface (`AccuracyEstimator`): OFA's published predictor, zero-cost proxies
(raw, or calibrated onto top-1), and estimates from published figures.

`import nets.estimators` stays free of torch: the zero-cost proxies (and `CalibratedProxy` with its constants), which
build and run torch models, are imported on first use (PEP 562), because torch costs about 1 s of CPU to import and
the default co-search, scored by OFA's predictor (read and run in numpy), never needs it in any of its processes.
"""
from ..lazy import lazy_exports
from .base import AccuracyEstimator
from .efficientnet_published import EfficientNetPublished
from .ofa_predictor import ENV_VAR, PACKAGED_PREDICTOR, PREDICTOR_URL, OFAAccuracyPredictor, encode, find_predictor
from .transformer_estimates import ParamsInterpolation, ScalingLawEstimate

__getattr__, __dir__ = lazy_exports(__name__, {  # PEP 562: the torch-backed names
    ".calibrated": ("CalibratedProxy", "ANCHOR_TOP1", "DEFAULT_PROXY", "PROXIES"),
    ".zen": ("ZenScore",), ".gradsign": ("GradSign",), ".naswot": ("NASWOT",), ".synflow": ("SynFlow",),
}, globals())

__all__ = ["AccuracyEstimator", "OFAAccuracyPredictor", "find_predictor", "encode", "ENV_VAR", "PREDICTOR_URL",
           "PACKAGED_PREDICTOR", "CalibratedProxy", "ANCHOR_TOP1", "DEFAULT_PROXY", "PROXIES", "ZenScore",
           "GradSign", "NASWOT", "SynFlow", "ParamsInterpolation", "ScalingLawEstimate", "EfficientNetPublished"]
