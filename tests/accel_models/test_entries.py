"""The kernel's batch entry points (`kernel.evaluate_batch_serial`, `kernel.evaluate_batch_parallel`): both give
`evaluate_range`'s counts, into outputs that numpy allocated (which it backs with huge pages where they are large),
not the compiled code's runtime."""
from __future__ import annotations

import numpy as np
import pytest

from accel_models import get_preset, kernel
from accel_models.geometry import accelerator_arrays, layer_arrays
from mappings import Encoding
from nets import Layer


@pytest.mark.parametrize("entry", ["evaluate_batch_serial", "evaluate_batch_parallel"])
def test_entries_count_as_the_driver_into_numpy_owned_outputs(entry):
    layer, acc = Layer.conv(16, 32, 3, 8, name="conv"), get_preset("eyeriss")
    enc = Encoding(layer, acc, factors="residual")
    maps = enc.decode(np.random.default_rng(3).random((64, enc.size))).with_residuals()
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    B, L = maps.temporal.shape[0], acc.num_levels
    expected = kernel.new_outputs.py_func(B, L)
    ws = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, expected, ws, kernel.residual_paths(la, aa))
    assert (expected[0] == 0).sum() > 0       # some valid mappings, so that the counts are compared
    out = getattr(kernel, entry)(la, aa, maps)
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got, want)
        assert got.flags.owndata               # numpy's own allocation, not a view of the runtime's memory
