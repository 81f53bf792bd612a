"""Extract the Conv2d and Linear layers of a PyTorch model as `Layer`s by running it once with hooks.

Forward hooks see every call of a module in execution order, with the real input and output shapes,
so output sizes come from the model's own padding; a module called twice gives two layers.
Functional calls (F.conv2d, torch.matmul) are invisible to hooks and are not reported.
"""
from __future__ import annotations

import warnings
from math import prod

import torch
from torch import nn

from .layer import Layer
from .network import Network

_UNSUPPORTED = (nn.Conv1d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _conv_layer(module: nn.Conv2d, out: torch.Tensor, name: str) -> Layer:
    """P, Q from the real output, so any padding rule ('same', reflect, asymmetric) is accounted for."""
    kh, kw = _pair(module.kernel_size)
    sh, sw = _pair(module.stride)
    dh, dw = _pair(module.dilation)
    batch = prod(out.shape[:-3]) if out.dim() > 3 else 1  # unbatched input is [C, H, W]
    groups = module.groups
    return Layer(R=kw, S=kh, P=int(out.shape[-1]), Q=int(out.shape[-2]),
                 C=module.in_channels // groups, K=module.out_channels // groups, N=int(batch), G=groups,
                 stride_w=sw, stride_h=sh, dilation_w=dw, dilation_h=dh, name=name)


def _linear_layer(module: nn.Linear, inp: torch.Tensor, name: str) -> Layer:
    rows = prod(inp.shape[:-1]) if inp.dim() > 1 else 1  # batch x tokens
    return Layer.fc(module.in_features, module.out_features, batch=int(rows), name=name)


def from_torch(module: nn.Module, example_input: torch.Tensor | tuple, name: str | None = None) -> Network:
    """Run `module` once on `example_input` (a tensor or a tuple of positional args) without gradients
    and return its Conv2d / Linear calls as a `Network`, in execution order.

    The model's train/eval mode is restored afterwards; the pass itself runs in eval mode so that
    BatchNorm statistics are not updated.
    """
    layers: list[Layer] = []
    unsupported: list[str] = []
    handles = []

    def hook_for(qualname: str):
        def hook(mod: nn.Module, args: tuple, out: torch.Tensor) -> None:
            if isinstance(mod, nn.Conv2d):
                layers.append(_conv_layer(mod, out, qualname))
            elif isinstance(mod, nn.Linear):
                layers.append(_linear_layer(mod, args[0], qualname))
            else:
                unsupported.append(f"{qualname} ({type(mod).__name__})")
        return hook

    for qualname, sub in module.named_modules():
        if isinstance(sub, (nn.Conv2d, nn.Linear) + _UNSUPPORTED):
            handles.append(sub.register_forward_hook(hook_for(qualname or type(sub).__name__)))
    was_training = module.training
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    try:
        module.eval()
        with torch.no_grad():
            module(*args)
    finally:
        module.train(was_training)
        for handle in handles:
            handle.remove()
    if unsupported:
        warnings.warn(f"from_torch: layers of unsupported types were left out: {', '.join(unsupported)}",
                      stacklevel=2)
    if not layers:
        raise ValueError(f"from_torch: {type(module).__name__} ran no nn.Conv2d or nn.Linear module")
    meta = {"source": "torch", "input_shapes": [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)],
            "unsupported": unsupported}
    return Network(name or type(module).__name__, layers, meta)
