"""Accuracy estimators behind one interface: OFA's published predictor and zero-cost proxies."""
from .base import AccuracyEstimator
from .gradsign import GradSign
from .naswot import NASWOT
from .ofa_predictor import OFAAccuracyPredictor, encode, find_predictor_path
from .synflow import SynFlow
from .transformer_estimates import TRANSFORMER_ESTIMATES, ParamsInterpolation, ScalingLawEstimate
from .zen import ZenScore

PROXIES = {cls.name: cls for cls in (ZenScore, GradSign, NASWOT, SynFlow)}
"""Zero-cost proxy classes by name."""

__all__ = ["ParamsInterpolation", "ScalingLawEstimate", "TRANSFORMER_ESTIMATES", "AccuracyEstimator", "OFAAccuracyPredictor", "ZenScore", "GradSign", "NASWOT", "SynFlow", "PROXIES",
           "encode", "find_predictor_path"]
