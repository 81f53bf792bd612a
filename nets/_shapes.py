"""Output-size arithmetic of convolutions and pools (PyTorch's rules), shared by every builder."""
from __future__ import annotations

import math


def conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output extent (pixels) of a convolution along one axis: floor((n + 2p - d(k-1) - 1) / s) + 1."""
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"input size {size} is too small for kernel {kernel}, stride {stride}, padding {padding}")
    return out


def pool_out(size: int, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> int:
    """Output extent (pixels) of a max/avg pool along one axis, with torch's ceil_mode rule.

    In ceil mode the last window must start inside the input (or its left padding), as in torch.
    """
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"input size {size} is too small for pool kernel {kernel} with padding {padding}")
    if not ceil_mode:
        return span // stride + 1
    out = math.ceil(span / stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def adaptive_window(size: int, out: int) -> tuple[int, int]:
    """(window, stride) of an adaptive pool from `size` to `out` pixels along one axis, as the fixed window torch
    uses when `out` divides `size` (stride = size // out, window = size - (out - 1) x stride; 1, 1 when it does not
    shrink: a copy)."""
    if out >= size:
        return 1, 1
    stride = size // out
    return size - (out - 1) * stride, stride


def same_padding(kernel: int) -> int:
    """'Same' padding of an odd kernel as OFA and torchvision use it: k // 2."""
    return kernel // 2
