"""How DOSA's FireSim flow ran each of its rows on Gemmini's RTL: the array, the layer and the tiles of the run.

DOSA's rows (Hong et al., MICRO 2023) state a Gemmini configuration, a layer and a mapping; the RTL did not run
exactly that. Its collection scripts (ucb-bar/gemmini-rocc-tests, branch `dosa`, `gemmini-data-collection/`) ran:

- **on the smallest array holding the mapping**: `gemmini_data_collection.py`'s `per_pe_dim` built one FireSim
  Gemmini per array side 2, 4, ..., 128 and ran each training mapping on the smallest side at least its largest
  spatial factor, whatever the row's `arch.*` columns say (`array="smallest"`). Its test flow (`one_file`) ran every
  row on the one array the row states (`array="stated"`).
- **a conv with a square output**: `layers/extract_data_csv.py` gives `tiled_conv` an input side of `prob.P` x
  stride and a padding of R // 2 (`templates/conv_tilings.c`: `PADDING = KERNEL_DIM / 2`), so the output side is
  (`prob.P` x stride - R + 2 (R // 2)) / stride + 1: `prob.P` for an odd kernel, `prob.P` + 1 for an even one. A row
  with Q < P runs as the square layer, its outer Q loop stretched by P / Q; a row of an even kernel runs the output
  side P + 1 by P + 1 with the mapping's tiles, its outer P and Q loops taking ceil((P + 1) / tile) steps
  (`tiled_conv`'s loops step by the tile and clip the last one: the last step's tile is the remainder, and the
  hardware timing times it so, `timing.steps`), as does a row with Q < P that P is not a multiple of.
- **a matrix product for Q = R = S = 1**: the row runs through `tiled_matmul` (I = P, K = C, J = K) with tiles of
  whole arrays (`templates/matmul_tilings.c`: each of the mapping's tile sides t below DRAM, rows P, reduction C,
  columns K, becomes max(1, t // 16) array sides) and outer loops over the matrix padded to the array side.

`dosa_run` gives that run in cosearch's types; `load_dosa_row` gives the row as written (what Timeloop evaluates).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from nets import DIMS

from ..mapping_arrays import MappingArrays
from .gemmini import DosaRow, load_dosa_row

ARRAYS = ("stated", "smallest")
"""The array a row ran on: the one its `arch.meshX` states, or the smallest power of two holding its mapping."""

_MATMUL_TILE_UNIT = 16
"""DOSA's matrix harness divides each tile side by 16 (`TILE_I >> 4`) to count array sides."""


def smallest_array(mapping: str) -> int:
    """The smallest power of two, at least 2, holding the largest spatial factor (`X` loop) of a compact mapping."""
    spatial = [int(word[1:-1]) for word in mapping.split() if word.endswith("X") and word[1:-1].isdigit()]
    side = 2
    while side < max(spatial, default=1):
        side *= 2
    return side


def _square_output(row: dict) -> dict:
    """The row with the square output DOSA's conv harness ran (module docstring), or the row itself."""
    p, q, r, s = (int(row[f"prob.{d}"]) for d in "PQRS")
    if not (q < p and p % q == 0) or (q == 1 and r == s == 1):
        return row
    levels = row["mapping.mapping"].split(" - ")
    name, *loops = levels[0].split()
    stretched = [f"Q{int(w[1:]) * (p // q)}" if w.startswith("Q") else w for w in loops]
    if not any(w.startswith("Q") for w in loops):
        stretched.append(f"Q{p // q}")
    return {**row, "prob.Q": str(p), "mapping.mapping": " - ".join([" ".join([name, *stretched]), *levels[1:]])}


def _harness_output(run: DosaRow) -> DosaRow:
    """The run of a conv row whose harness output side (module docstring) is not the layer's P x Q: the layer of that
    output side, its outer P and Q loops taking as many steps of the mapping's tiles as cover it (the last one
    clipped to what is left); any other run as it is."""
    layer = run.layer
    stride, kernel = layer.stride_w, layer.R
    side = (layer.P * stride - kernel + 2 * (kernel // 2)) // stride + 1
    if side == layer.P == layer.Q:
        return run
    arrays = run.mapping.with_residuals().copy()
    for dim, bound in (("P", layer.P), ("Q", layer.Q)):
        d = DIMS.index(dim)
        tile = bound // int(arrays.temporal[0, 0, d])
        arrays.temporal[0, 0, d] = -(-side // tile)
    return DosaRow(replace(layer, P=side, Q=side), run.accelerator, arrays, run.measured_cycles)


def _matmul_tiles(run: DosaRow) -> MappingArrays:
    """The mapping DOSA's matrix harness runs for a Q = R = S = 1 row (module docstring)."""
    layer, accelerator, arrays = run.layer, run.accelerator, run.mapping.with_residuals()
    fanouts = [i for i, level in enumerate(accelerator.levels) if level.fanout > 1]
    side = max(accelerator.levels[i].fanout for i in fanouts)
    below = arrays.temporal[0, 1:].prod(axis=0) * arrays.spatial_x[0].prod(axis=0) * arrays.spatial_y[0].prod(axis=0)
    tiles = MappingArrays(*(np.array(a, copy=True) for a in arrays))
    for a in (tiles.temporal, tiles.spatial_x, tiles.spatial_y):
        a[0] = 1
    p, c, k = DIMS.index("P"), DIMS.index("C"), DIMS.index("K")
    for d, bound in ((p, layer.P), (c, layer.C), (k, layer.K)):
        padded = -(-bound // side) * side
        tile = min(max(1, int(below[d]) // _MATMUL_TILE_UNIT) * side, padded)
        tiles.temporal[0, 0, d] = -(-padded // tile)
        tiles.temporal[0, -1, d] = tile if d == p else tile // side
    tiles.spatial_x[0, fanouts[-1], c] = side       # the reduction down the array's rows
    tiles.spatial_x[0, fanouts[0], k] = side        # the output columns across it
    return tiles


def dosa_run(row: dict, array: str = "stated") -> DosaRow:
    """The run Gemmini's RTL made of a DOSA row (a dict of its CSV columns): its layer, the accelerator with the
    array `array` names (one of ARRAYS), its mapping as the harness tiled it (module docstring), and the measured
    cycles. The mapping of a matrix row covers the padded matrix: time it with `HardwareTiming.terms`, not the exact
    counts. A ValueError names a bad field or an unknown `array`."""
    if array not in ARRAYS:
        raise ValueError(f"array: must be one of {', '.join(ARRAYS)}, got {array!r}")
    ran = _square_output(row)
    if array == "smallest":
        ran = {**ran, "arch.meshX": str(smallest_array(row.get("mapping.mapping", "")))}
    run = load_dosa_row(ran)
    if run.layer.Q == run.layer.R == run.layer.S == 1:
        return DosaRow(run.layer, run.accelerator, _matmul_tiles(run), run.measured_cycles)
    return _harness_output(DosaRow(run.layer, run.accelerator, run.mapping.with_residuals(), run.measured_cycles))


__all__ = ["ARRAYS", "dosa_run", "smallest_array"]
