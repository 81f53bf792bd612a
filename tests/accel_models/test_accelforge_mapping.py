"""cosearch mappings written as AccelForge loop trees: storage nodes placed where Timeloop's reuse needs them, the
layer's workload, and the mappings a loop tree cannot hold refused. (AccelForge's own model evaluates these files in
benchmarks/bench_accelforge.py, which needs a Python with AccelForge.)"""
from pathlib import Path

import pytest
import yaml

from accel_models.accelforge import read_accelforge_arch
from accel_models.accelforge.mapping import mapping_document, workload_document
from mappings import LevelMapping, Mapping
from nets import DIMS, Layer

ARCHES = Path(__file__).resolve().parents[1] / "data" / "accelforge" / "arches"
ONES = {d: 1 for d in DIMS}


def _level(temporal=None, order=DIMS, bypass=(), **spatial):
    return LevelMapping(temporal={**ONES, **(temporal or {})}, permutation=tuple(order) + tuple(
        d for d in DIMS if d not in order), spatial_x={**ONES, **spatial.get("x", {})},
        spatial_y={**ONES, **spatial.get("y", {})}, bypass=bypass)


def _nodes(acc, layer, mapping):
    return [(n.tag, dict(n)) for n in mapping_document(mapping.to_arrays(acc), acc, layer)["mapping"]["nodes"]]


def test_a_tile_kept_across_loops_that_do_not_index_it_is_stored_above_them():
    acc = read_accelforge_arch(ARCHES / "simple.yaml", {"GlobalBufferSize": 2**20})
    layer = Layer(N=8, C=4, K=2)
    # MainMemory: for k (2), for n (8); GlobalBuffer: for c (4). Weights (k, c) do not vary with n.
    mapping = Mapping((_level({"K": 2, "N": 8}, ("K", "N")), _level({"C": 4}, ("C",))))
    nodes = _nodes(acc, layer, mapping)
    shape = [(tag, body.get("rank_variable"), tuple(body.get("tensors", ())), body.get("tile_shape"))
             for tag, body in nodes]
    assert shape == [("!Storage", None, ("W", "I", "O"), None), ("!Temporal", "k", (), 1),
                     ("!Storage", None, ("W",), None),              # above `for n`: one fill per k, not per (k, n)
                     ("!Temporal", "n", (), 1), ("!Storage", None, ("I", "O"), None),
                     ("!Temporal", "c", (), 1), ("!Compute", None, (), None)]
    assert [body["component"] for tag, body in nodes if tag == "!Storage"] == ["MainMemory", "GlobalBuffer",
                                                                              "GlobalBuffer"]


def test_a_spatial_loop_names_the_fan_out_and_stays_above_the_storage_below_it():
    acc = read_accelforge_arch(ARCHES / "nvdla.yaml")
    layer = Layer(N=4, C=32, K=8)
    mapping = Mapping((_level({"N": 4}, ("N",)), _level({"K": 8}, ("K",), x={"C": 32}), _level()))
    nodes = _nodes(acc, layer, mapping)
    spatial = [body for tag, body in nodes if tag == "!Spatial"]
    assert spatial == [{"rank_variable": "c", "tile_shape": 1, "name": "reuse_input", "component": "ProcessingElement"}]
    tags = [tag for tag, _ in nodes]
    register = next(i for i, (tag, body) in enumerate(nodes) if body.get("component") == "Register")
    assert tags.index("!Spatial") < register                    # the register's weights are per PE


def test_the_workload_writes_the_window_and_leaves_out_unit_dims():
    layer = Layer.conv(16, 32, 3, 8, stride=2)
    doc = workload_document(layer, 8)["workload"]
    einsum = doc["einsums"][0]
    assert einsum["tensor_accesses"][0]["projection"] == {"C": "c", "W": "2*p + r", "H": "2*q + s"}
    assert "n" not in doc["iteration_space_shape"] and doc["iteration_space_shape"]["k"] == "0 <= k < 32"
    assert yaml.safe_dump(doc)  # plain data


def test_bypassing_what_the_architecture_requires_is_refused():
    acc = read_accelforge_arch(ARCHES / "nvdla.yaml")
    layer = Layer(N=4, C=4, K=4)
    mapping = Mapping((_level({"N": 4, "C": 4, "K": 4}), _level(bypass=("Weights",)), _level()))
    with pytest.raises(ValueError, match=r"GlobalBuffer: bypasses \['Weights'\], which the AccelForge architecture's "
                                         "keep requires"):
        mapping_document(mapping.to_arrays(acc), acc, layer)


def test_an_imperfect_factor_is_refused():
    acc = read_accelforge_arch(ARCHES / "simple.yaml")
    layer = Layer(N=7)
    level = LevelMapping(temporal={**ONES, "N": 4}, temporal_residual={"N": 3})
    mapping = Mapping((level, _level()))
    with pytest.raises(ValueError, match="imperfect factor"):
        mapping_document(mapping.to_arrays(acc), acc, layer)
