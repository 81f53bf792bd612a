"""The `ofa-mbv3` search space: OFA's MobileNetV3 w1.2 (ofa_mbv3_d234_e346_k357_w1.2; Cai et al., ICLR 2020), the
space of OFA's published accuracy predictor, which scores its subnets (ImageNet top-1)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from ..ofa.spaces import MBSpace, mbv3_facts


@dataclass(frozen=True)
class OFAMobileNetV3Space(MBSpace):
    """OFA's MobileNetV3 space whose accuracy comes from OFA's predictor (a calibrated zero-cost proxy, labelled so,
    only if the predictor file cannot be found)."""

    takes_predictor: ClassVar[bool] = True

    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        from nets.estimators.ofa_predictor import OFAAccuracyPredictor, find_predictor

        path = find_predictor(predictor)
        if path is None:
            from nets.estimators.calibrated import CalibratedProxy  # torch: only when the predictor is missing

            return CalibratedProxy(self, seed=seed, why="OFA's accuracy predictor file was not found")
        return OFAAccuracyPredictor(path, self)


MBV3_W12 = OFAMobileNetV3Space(**mbv3_facts(1.2), cli_name="ofa-mbv3")

__all__ = ["OFAMobileNetV3Space", "MBV3_W12"]
