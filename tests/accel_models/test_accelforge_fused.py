"""A fused group written as one AccelForge loop tree: what each memory holds where, and the groups the tree cannot
state refused. (AccelForge's model evaluates these trees in benchmarks/bench_accelforge.py --mappers: the main-memory
words of cosearch's plan of the group.)"""
from pathlib import Path

import pytest

from accel_models.accelforge import read_accelforge_arch
from accel_models.accelforge.fused import fused_group_document, fused_group_to_accelforge_yaml
from accel_models.timeloop._yaml import ACCELFORGE_TAGS, load

DATA = Path(__file__).resolve().parents[1] / "data" / "accelforge"
SIMPLE = read_accelforge_arch(DATA / "arches" / "simple.yaml", {"GlobalBufferSize": 2**20})
MATMULS = load(DATA / "workloads" / "matmuls.yaml", "w", {"N_EINSUMS": 3, "M": 64, "KN": 32},
               tags=ACCELFORGE_TAGS)["workload"]
MOBILENET = load(DATA / "workloads" / "mobilenet_28.yaml", "w", {}, tags=ACCELFORGE_TAGS)


def _shape(nodes, depth=0):
    out = []
    for n in nodes:
        if n.tag in ("!Sequential", "!Nested"):
            out.append((depth, n.tag, _shape(n["nodes"], depth + 1)))
        else:
            out.append((depth, n.tag, n.get("component"), tuple(n.get("tensors", ())), n.get("rank_variable"),
                        n.get("tile_shape"), n.get("einsum")))
    return out


def test_a_chain_with_weights_on_chip_reads_its_input_and_weights_once_and_keeps_intermediates_on_chip():
    nodes = fused_group_document(MATMULS, ["Matmul0", "Matmul1", "Matmul2"], SIMPLE, "N", 4, True)["mapping"]["nodes"]
    shape = _shape(nodes)
    assert shape[:4] == [
        (0, "!Storage", "MainMemory", ("T0", "T3", "W0", "W1", "W2"), None, None, None),
        (0, "!Storage", "GlobalBuffer", ("W0", "W1", "W2"), None, None, None),      # above the row loop: loaded once
        (0, "!Temporal", None, (), "m", 4, None),
        (0, "!Storage", "GlobalBuffer", ("T1", "T2"), None, None, None)]            # a row tile of each intermediate
    branches = shape[4][2]
    assert [b[2][0][3] for b in branches] == [("T0",), (), ("T3",)]          # group input and output, per row tile
    assert [b[2][-1][6] for b in branches] == ["Matmul0", "Matmul1", "Matmul2"]
    assert [(n[4], n[5]) for n in branches[1][2][:-1]] == [("m", 1), ("n2", 1), ("n1", 1)]


def test_weights_not_kept_on_chip_are_stored_per_einsum_below_the_row_loop():
    nodes = fused_group_document(MATMULS, ["Matmul0", "Matmul1"], SIMPLE, "N", 64, False)["mapping"]["nodes"]
    shape = _shape(nodes)
    assert [n[1] for n in shape] == ["!Storage", "!Storage", "!Sequential"]    # one tile: no row loop
    assert [b[2][0][3] for b in shape[2][2]] == [("T0", "W0"), ("T2", "W1")]


def test_the_written_workload_holds_the_group_einsums_each_naming_its_roles():
    text = fused_group_to_accelforge_yaml(MOBILENET["workload"], ["PiecewiseB0", "PiecewiseA1"], SIMPLE, "Q", 2,
                                          True, renames=MOBILENET["renames"])
    doc = load(text, "written", tags=ACCELFORGE_TAGS)
    assert [e["name"] for e in doc["workload"]["einsums"]] == ["PiecewiseB0", "PiecewiseA1"]
    assert doc["workload"]["einsums"][0]["renames"] == {"input": "TB0", "weight": "WB0", "output": "T1"}
    assert doc["workload"]["rank_sizes"]["P1"] == 28 and "renames" in doc


def test_a_group_that_is_no_chain_is_refused():
    with pytest.raises(ValueError, match="Matmul2 reads T2, not T1"):
        fused_group_document(MATMULS, ["Matmul0", "Matmul2"], SIMPLE, "N", 2, True)


def test_a_group_through_a_windowed_layer_or_onto_required_inner_levels_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"rows \(Q\) are the rank variables \['q0', 'q1'\]; a shared") as caught:
        fused_group_document(MOBILENET["workload"], ["PiecewiseA0", "Depthwise0"], SIMPLE, "Q", 2, True)
    assert "\n" not in str(caught.value)
    nvdla = read_accelforge_arch(DATA / "arches" / "nvdla.yaml")
    with pytest.raises(ValueError, match="Register below the home level must keep tensors"):
        fused_group_document(MATMULS, ["Matmul0", "Matmul1"], nvdla, "N", 2, True)
    with pytest.raises(ValueError, match=r"tile_rows must divide the rows \(64\), got 3"):
        fused_group_document(MATMULS, ["Matmul0", "Matmul1"], SIMPLE, "N", 3, True)
