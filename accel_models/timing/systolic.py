"""SCALE-Sim's compute cycles of a conv layer on a systolic array, with no memory stall (its `CALC` bandwidth mode).

SCALE-Sim (Samajdar et al., "A Systematic Methodology for Characterizing Scalability of DNN Accelerators using
SCALE-Sim", ISPASS 2020) maps a layer as a matrix product onto an R x C array of MACs and runs it in folds: each fold
fills the array with a block of the stationary operand, streams the moving operand through it, and drains the
results. A fold of T streamed vectors takes

    2 R + C + T - 2      (weight and input stationary: R cycles to load the block, R + C - 2 to skew in and out)
    T + R + C - 2        (output stationary: the operands skew in over R + C - 2 cycles while T partial sums build)

cycles, and the folds run one after another; the layer's count is their sum less one (the last fold's final cycle is
not counted). Which matrix dimension lies on the rows, on the columns and in time depends on the dataflow:

| dataflow | rows (R side)        | columns (C side) | streamed (T)         |
|----------|----------------------|------------------|----------------------|
| ws       | filter rows x cols x channels | filters | output pixels x batch |
| is       | filter rows x cols x channels | output pixels x batch | filters |
| os       | output pixels x batch | filters         | filter rows x cols x channels |

`tests/accel_models/test_timing.py` holds this to SCALE-Sim 3.0.0's own cycle counts on two layers, three
dataflows and two array sizes.
"""
from __future__ import annotations

import math

from nets import Layer

DATAFLOWS = ("ws", "is", "os")


def scalesim_cycles(layer: Layer, rows: int, cols: int, dataflow: str) -> int:
    """SCALE-Sim's stall-free compute cycles of `layer` (its groups run one after another) on a `rows` x `cols`
    array with `dataflow` ("ws", "is" or "os")."""
    if dataflow not in DATAFLOWS:
        raise ValueError(f"scalesim_cycles: dataflow must be one of {', '.join(DATAFLOWS)}, got {dataflow!r}")
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"scalesim_cycles: {name} must be an integer >= 1, got {value!r}")
    window = layer.R * layer.S * layer.C
    pixels = layer.P * layer.Q * layer.N
    filters = layer.K
    if dataflow == "ws":
        on_rows, on_cols, streamed = window, filters, pixels
    elif dataflow == "is":
        on_rows, on_cols, streamed = window, pixels, filters
    else:
        on_rows, on_cols, streamed = pixels, filters, window
    folds = math.ceil(on_rows / rows) * math.ceil(on_cols / cols)
    per_fold = streamed + rows + cols - 2 + (rows if dataflow != "os" else 0)
    return layer.G * folds * per_fold - 1
