"""Accuracy estimators behind one interface (`AccuracyEstimator`): OFA's published predictor, zero-cost proxies
(raw, or calibrated onto top-1), and estimates from published figures. Imports torch."""
from .base import AccuracyEstimator
from .calibrated import ANCHOR_TOP1, DEFAULT_PROXY, PROXIES, CalibratedProxy
from .efficientnet_published import EfficientNetPublished
from .gradsign import GradSign
from .naswot import NASWOT
from .ofa_predictor import ENV_VAR, PACKAGED_PREDICTOR, PREDICTOR_URL, OFAAccuracyPredictor, encode, find_predictor
from .synflow import SynFlow
from .transformer_estimates import ParamsInterpolation, ScalingLawEstimate
from .zen import ZenScore

__all__ = ["AccuracyEstimator", "OFAAccuracyPredictor", "find_predictor", "encode", "ENV_VAR", "PREDICTOR_URL",
           "PACKAGED_PREDICTOR", "CalibratedProxy", "ANCHOR_TOP1", "DEFAULT_PROXY", "PROXIES", "ZenScore",
           "GradSign", "NASWOT", "SynFlow", "ParamsInterpolation", "ScalingLawEstimate", "EfficientNetPublished"]
