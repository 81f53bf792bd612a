"""The kernel's batch entry points (`kernel.evaluate_batch_serial`, `kernel.evaluate_batch_parallel`): both give
`evaluate_range`'s counts, into outputs that numpy allocated (which it backs with huge pages where they are large),
not the compiled code's runtime."""
from __future__ import annotations

import numpy as np
import pytest

from accel_models import Accelerator, MappingArrays, StorageLevel, get_preset, jit, kernel
from accel_models.geometry import accelerator_arrays, layer_arrays
from mappings import Encoding, LevelMapping, Mapping
from nets import Layer

UNIT = {"read_energy_pj": 1.0, "write_energy_pj": 1.0, "update_energy_pj": 1.0}


@pytest.mark.parametrize("entry", ["evaluate_batch_serial", "evaluate_batch_parallel"])
def test_entries_count_as_the_driver_into_numpy_owned_outputs(entry):
    layer, acc = Layer.conv(16, 32, 3, 8, name="conv"), get_preset("eyeriss")
    enc = Encoding(layer, acc, factors="residual")
    maps = enc.decode(np.random.default_rng(3).random((64, enc.size))).with_residuals()
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    B, L = maps.temporal.shape[0], acc.num_levels
    expected = kernel.new_outputs.py_func(B, L)
    ws = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, expected, ws, jit.residual_paths(la, aa))
    assert (expected[0] == 0).sum() > 0       # some valid mappings, so that the counts are compared
    out = getattr(kernel, entry)(la, aa, maps)
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got, want)
        assert got.flags.owndata               # numpy's own allocation, not a view of the runtime's memory


def _counts_in_a_new_workspace(la, aa, maps):
    B, L = maps.temporal.shape[0], aa.fanout.shape[0]
    out = kernel.new_outputs.py_func(B, L)
    ws = kernel.make_workspace(L, kernel.max_children(aa.fanout))
    kernel.evaluate_range(np.int64(0), np.int64(B), la, aa, maps, out, ws, jit.residual_paths(la, aa))
    return out


def test_the_serial_entry_counts_alike_in_the_workspace_it_keeps():
    """`evaluate_batch_serial` keeps its thread's last workspace for the next call of the same shape (levels, largest
    fan-out), reset rather than rebuilt: batches on three designs in turn, two of the same levels and different
    fan-outs (eyeriss, shidiannao), each give the counts they give in a new workspace."""
    layer = Layer.conv(16, 32, 3, 8, name="conv")
    rng = np.random.default_rng(5)
    for name in ("eyeriss", "shidiannao", "eyeriss", "eyeriss"):
        acc = get_preset(name)
        enc = Encoding(layer, acc, factors="residual")
        maps = enc.decode(rng.random((48, enc.size))).with_residuals()
        la, aa = layer_arrays(layer), accelerator_arrays(acc)
        expected = _counts_in_a_new_workspace(la, aa, maps)
        assert (expected[0] == 0).sum() > 0
        for got, want in zip(kernel.evaluate_batch_serial(la, aa, maps), expected):
            np.testing.assert_array_equal(got, want)


def test_the_instance_classes_of_a_mapping_do_not_depend_on_the_calls_before():
    """`instance_classes` of mappings whose instances do unequal work (FORMAT.md F9's P=13 on a 4x4 PE array, as in
    `test_residual.py`), each alone in a new process's state and again after the others in the workspace the entry
    keeps: the same reason, class starts, instances per class and counts (zeros for the MACs' classes, which the
    kernel leaves unwritten)."""
    acc = Accelerator("pe4x4", (
        StorageLevel("DRAM", kind="DRAM", **UNIT),
        StorageLevel("GLB", capacity_words=8192, fanout_x=4, fanout_y=4, **UNIT),
        StorageLevel("RF", capacity_words=32, **UNIT)), mac_energy_pj=1.0)
    layer = Layer(P=13, K=7)
    mappings = [Mapping((LevelMapping({}), LevelMapping({"P": 4}, spatial_x={"P": 4}, spatial_x_residual={"P": 1}),
                         LevelMapping({"K": 7}))),
                Mapping((LevelMapping({"P": 2}), LevelMapping({}, spatial_x={"P": 4}, spatial_x_residual={"P": 3}),
                         LevelMapping({"P": 2, "K": 7}, temporal_residual={"P": 1}))),
                Mapping((LevelMapping({"P": 13}), LevelMapping({"K": 2}, spatial_x={"K": 4},
                                                               spatial_x_residual={"K": 3}), LevelMapping({})))]
    la, aa = layer_arrays(layer), accelerator_arrays(acc)
    rows = [m.to_arrays(acc).with_residuals() for m in mappings]
    other = get_preset("eyeriss")            # another shape (levels, fan-out): the next call builds a new workspace
    elsewhere = (layer_arrays(layer), accelerator_arrays(other), MappingArrays.empty(1, other.num_levels))
    alone = []
    for row in rows:
        kernel.evaluate_batch_serial(*elsewhere)
        alone.append(kernel.instance_classes(la, aa, row))
    assert all(r[0] == 0 and len(r[2]) > 1 for r in alone), [(r[0], len(r[2])) for r in alone]
    for row, first in zip(rows[::-1] + rows, alone[::-1] + alone):
        again = kernel.instance_classes(la, aa, row)
        assert again[0] == first[0]
        for x, y in zip(again[1:], first[1:]):
            np.testing.assert_array_equal(x, y)
