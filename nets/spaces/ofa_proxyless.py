"""The `ofa-proxyless` search space: OFA's ProxylessNAS w1.3 (ofa_proxyless_d234_e346_k357_w1.3; Cai et al., ICLR
2020). No trained accuracy predictor ships for it: a zero-cost proxy calibrated onto top-1 scores it, labelled so."""
from __future__ import annotations

from ..ofa.spaces import MBSpace, proxyless_facts

PROXYLESS_W13 = MBSpace(**proxyless_facts(1.3), cli_name="ofa-proxyless")

__all__ = ["PROXYLESS_W13"]
