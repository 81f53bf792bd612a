"""OFA's published ImageNet top-1 predictor for the MobileNetV3 w1.2 space (an MLP on one-hot genes).

Source: Cai et al., "Once-for-All", ICLR 2020; the weights are `tutorial/checkpoints/acc_predictor.pth`
of mit-han-lab/once-for-all (MIT License), shipped with this package in `data/` (its README there names the
commit, the download URLs, the licence, the format and the check values).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..ofa.config import MBConfig
from ..spaces.config import SubnetConfig
from ..spaces.registry import get_space
from .base import AccuracyEstimator

PREDICTOR_URL = "https://raw.githubusercontent.com/han-cai/files/master/ofa/acc_predictor.pth"
"""Where OFA's tutorial code downloads the predictor from (ofa/tutorial/accuracy_predictor.py)."""
ENV_VAR = "COSEARCH_OFA_PREDICTOR"
FILE_NAME = "acc_predictor_mbv3_w1.2.pth"
PACKAGED_PREDICTOR = Path(__file__).resolve().parent / "data" / FILE_NAME
"""The copy of OFA's predictor installed with the package (package data of `nets.estimators`)."""

_SHAPES = {"0.weight": (400, 128), "0.bias": (400,), "2.weight": (400, 400), "2.bias": (400,),
           "4.weight": (400, 400), "4.bias": (400,), "6.weight": (1, 400), "6.bias": (1,)}
_N_RES_BUCKETS = 8  # resolution one-hot: index (r - 112) // 16


def find_predictor(path: str | os.PathLike | None = None) -> Path | None:
    """OFA's predictor file, looked up in one order: `path` if given, else $COSEARCH_OFA_PREDICTOR if set, else the
    packaged copy; None when neither is given and the packaged copy is missing. A file named explicitly (the
    argument or the variable) that is not a file is a FileNotFoundError naming where the name came from, never a
    silent fallback."""
    for given, origin in ((path, "the path given"), (os.environ.get(ENV_VAR) or None, f"${ENV_VAR}")):
        if given is not None:
            candidate = Path(given).expanduser()
            if not candidate.is_file():
                raise FileNotFoundError(f"{origin}: no file at {candidate}")
            return candidate
    return PACKAGED_PREDICTOR if PACKAGED_PREDICTOR.is_file() else None


PREDICTOR_SPACE = "ofa_mbv3_w1.2"
"""The space OFA's predictor was trained on: OFA's MobileNetV3 w1.2 (a `nets.spaces` name)."""


def encode(config: MBConfig | Mapping, space=PREDICTOR_SPACE) -> np.ndarray:
    """OFA's 128-feature encoding of a config of `space` (an `MBSpace` or its name): per-slot one-hot kernel (60),
    per-slot one-hot expand (60), one-hot resolution bucket (8); slots beyond a stage's depth are all zeros."""
    space = get_space(space)
    if not isinstance(config, SubnetConfig):
        config = space.parse(config)
    if config.space != space.name:
        raise ValueError(f"OFAAccuracyPredictor: config.space must be {space.name!r} (the predictor's space), "
                         f"got {config.space!r}")
    n = space.n_slots
    feats = np.zeros(2 * 3 * n + _N_RES_BUCKETS)
    for slot in config.active_slots():
        feats[3 * slot + space.ks_choices.index(config.ks[slot])] = 1.0
        feats[3 * n + 3 * slot + space.e_choices.index(config.e[slot])] = 1.0
    feats[6 * n + (config.r - 112) // 16] = 1.0
    return feats


class OFAAccuracyPredictor(AccuracyEstimator):
    """Predicted ImageNet top-1 (fraction) of an ofa_mbv3_w1.2 subnet, from OFA's pretrained MLP
    Linear(128,400)-ReLU-Linear(400,400)-ReLU-Linear(400,400)-ReLU-Linear(400,1), run in numpy."""

    name = "ofa_predictor"
    kind = "ofa_predictor"
    label = "OFA accuracy predictor (ImageNet top-1)"

    def __init__(self, path: str | os.PathLike | None = None, space=PREDICTOR_SPACE) -> None:
        """`path`: the predictor file (`find_predictor`'s order); `space`: the `MBSpace` (or its name) whose configs
        it scores, OFA's MobileNetV3 w1.2."""
        import torch  # only needed to read the checkpoint

        self.space = get_space(space)

        found = find_predictor(path)
        if found is None:
            raise FileNotFoundError(f"OFA's accuracy predictor is not installed ({PACKAGED_PREDICTOR} is missing): "
                                    f"reinstall cosearch, or download it from {PREDICTOR_URL} and point ${ENV_VAR} "
                                    "at it")
        self.path = found
        try:  # weights_only: tensors and plain containers, never arbitrary pickled objects
            with warnings.catch_warnings():  # torch warns about foreign pickle protocols: the error below says it
                warnings.simplefilter("ignore")
                state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - torch raises pickle, zip and runtime errors for foreign files
            # torch's own message suggests weights_only=False, which would run the file's code: not repeated
            raise ValueError(f"OFAAccuracyPredictor: {self.path} is not a weights file torch can load safely "
                             f"(weights_only=True: {type(exc).__name__}); expected OFA's predictor, {FILE_NAME}") from None
        if not isinstance(state, dict):
            raise ValueError(f"OFAAccuracyPredictor: {self.path} holds a {type(state).__name__}, not OFA's predictor "
                             f"(a state dict of tensors, {FILE_NAME})")
        for key, shape in _SHAPES.items():
            if key not in state or tuple(getattr(state[key], "shape", ())) != shape:
                found = tuple(getattr(state[key], "shape", ())) if key in state else "missing"
                raise ValueError(f"OFAAccuracyPredictor: {self.path} is not OFA's MBv3 predictor: "
                                 f"tensor {key!r} should have shape {shape}, found {found}")
        self._layers = [(state[f"{i}.weight"].double().numpy(), state[f"{i}.bias"].double().numpy())
                        for i in (0, 2, 4, 6)]
        for i, (weight, bias) in zip((0, 2, 4, 6), self._layers):
            if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
                raise ValueError(f"OFAAccuracyPredictor: {self.path} is damaged: tensor {i}.weight or {i}.bias holds "
                                 f"NaN or infinite values; expected OFA's predictor, {FILE_NAME}")

    def _forward(self, feats: np.ndarray) -> np.ndarray:
        x = feats
        for i, (w, b) in enumerate(self._layers):
            x = x @ w.T + b
            if i < len(self._layers) - 1:
                x = np.maximum(x, 0.0)
        return x[:, 0]

    def score(self, config: SubnetConfig | Mapping) -> float:
        return float(self._forward(encode(config, self.space)[None, :])[0])

    def score_batch(self, configs: Iterable[SubnetConfig | Mapping]) -> np.ndarray:
        feats = [encode(c, self.space) for c in configs]
        if not feats:
            return np.zeros(0)
        return self._forward(np.stack(feats))

    def soft_score(self, probs):
        """The predictor on the expected one-hot features of a factorised distribution over the genes (`probs`: the
        gene (field, position) -> a torch tensor of probabilities over its choices, in gene-table order): a
        differentiable relaxation of the accuracy (ProxylessNAS's and DARTS's relaxation of a categorical choice to
        its probabilities). A slot's kernel and expand features are their probabilities times the probability that
        its stage's depth reaches it; the resolution's bucket feature sums the probabilities of its resolutions. At
        one-hot probabilities it equals `score`."""
        import torch

        space = self.space
        ks, ex = [], []
        for stage in range(len(space.stages)):
            p_d = probs[("d", stage)]
            for j, slot in enumerate(space.stage_slots(stage)):
                active = sum(p_d[k] for k, d in enumerate(space.d_choices) if d > j)
                ks.append(active * probs[("ks", slot)])
                ex.append(active * probs[("e", slot)])
        p_r = probs[("r", 0)]
        buckets = torch.zeros(_N_RES_BUCKETS, dtype=p_r.dtype)
        index = torch.tensor([(r - 112) // 16 for r in space.resolutions])
        buckets = buckets.index_add(0, index, p_r)
        x = torch.cat([torch.cat(ks), torch.cat(ex), buckets])
        for i, (w, b) in enumerate(self._layers):
            x = torch.as_tensor(w, dtype=x.dtype) @ x + torch.as_tensor(b, dtype=x.dtype)
            if i < len(self._layers) - 1:
                x = torch.relu(x)
        return x[0]
