"""Timeloop's loop-order convention: a permutation lists dims innermost first; cosearch orders them outermost first."""
from __future__ import annotations

from collections.abc import Sequence

from nets import DIMS


def order_outer_first(perm_inner_first: Sequence[str]) -> list[int]:
    """Timeloop permutation ('RPSCKNQ' or a list) -> cosearch's order (indices into DIMS, outermost first).

    Dims the permutation leaves out (G of a cnn_layer) go outermost, where their factor of 1 changes nothing.
    """
    perm = list(perm_inner_first)
    unknown = [d for d in perm if d not in DIMS]
    if unknown or len(set(perm)) != len(perm):
        raise ValueError(f"permutation {''.join(perm)!r}: expected distinct dims of {''.join(DIMS)}")
    return [DIMS.index(d) for d in [d for d in DIMS if d not in perm] + perm[::-1]]


def permutation_inner_first(order: Sequence[int], dims: Sequence[str]) -> list[str]:
    """cosearch's order (indices into DIMS, outermost first) -> Timeloop's permutation of `dims`, innermost first."""
    return [DIMS[d] for d in reversed(order) if DIMS[d] in dims]
