"""What the profilers share on the command line: N, the mappings per layer, checked."""
from __future__ import annotations

import argparse


def mappings_per_layer(description: str, default: int, low: int = 1, high: int = 1_000_000) -> int:
    """N from the command line (`SCRIPT [N]`), a whole number in [low, high]; `default` without one. A bad N is one
    line naming it and its range, exit status 2 (argparse's)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("N", nargs="?", type=int, default=default,
                    help=f"mappings per layer, {low}-{high} (default {default})")
    n = ap.parse_args().N
    if not low <= n <= high:
        ap.error(f"N must be a whole number in [{low}, {high}], got {n}")
    return n
