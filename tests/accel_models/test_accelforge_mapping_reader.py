"""AccelForge LoopTree mappings read as cosearch mappings: AccelForge's shipped examples, the loop trees a cosearch
mapping cannot be (refused in one line), and the round trip cosearch mapping -> loop tree (the exporter) -> back."""
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel_models import evaluate
from accel_models.accelforge import read_accelforge_arch, read_accelforge_mapping
from accel_models.accelforge.mapping import mapping_document, workload_document
from accel_models.accelforge.mapping_reader import mapping_from_accelforge
from accel_models.mapping_arrays import MappingArrays
from accel_models.timeloop._yaml import ACCELFORGE_TAGS, load
from mappings import Mapping
from nets import DIMS, Layer

DATA = Path(__file__).resolve().parents[1] / "data" / "accelforge"
SIMPLE = DATA / "arches" / "simple.yaml"
NVDLA = DATA / "arches" / "nvdla.yaml"
MATMULS = DATA / "workloads" / "matmuls.yaml"


@cache
def _arch(path: Path):
    return read_accelforge_arch(path)


def _shipped(mapping: str, **variables):
    return read_accelforge_mapping([SIMPLE, MATMULS, DATA / "mappings" / f"{mapping}.yaml"],
                                   {"N_EINSUMS": 1, **variables})


def _moving(arrays, l: int, b: int = 0) -> list[tuple[str, int]]:
    """Level l's temporal loops of factor > 1, outermost first."""
    return [(DIMS[d], int(arrays.temporal[b, l, d])) for d in arrays.order[b, l] if arrays.temporal[b, l, d] > 1]


def test_a_shipped_unfused_matmul_reads_as_every_loop_under_the_global_buffer():
    acc, layer, arrays = _shipped("unfused_matmuls_to_simple", M=64, KN=32)
    assert (layer.N, layer.C, layer.K) == (64, 32, 32)
    assert _moving(arrays, 0) == [] and _moving(arrays, 1) == [("N", 64), ("C", 32), ("K", 32)]
    assert arrays.keep[0].tolist() == [[1, 1, 1], [1, 1, 1]]
    # the energy docs/accelforge.md states for this mapping in cosearch (AccelForge's is 16,384 more: the drain rule)
    result = evaluate(layer, acc, Mapping.from_arrays(arrays, 0))
    assert result.energy_pj / 1e12 == pytest.approx(2_211_840) and result.cycles == 64 * 32 * 32


def test_a_shipped_weight_tile_above_a_loop_that_does_not_index_it_joins_the_level_below_the_loop():
    _, _, arrays = _shipped("fused_matmuls_to_simple")
    # MainMemory [T0, T1], [W0]; GlobalBuffer [W0]; for m; GlobalBuffer [T0, T1]; for n0; for n1
    assert _moving(arrays, 0) == [("N", 128)] and _moving(arrays, 1) == [("C", 128), ("K", 128)]


def test_a_shipped_mapping_of_several_einsums_is_refused_in_one_line():
    with pytest.raises(ValueError, match=r"unfused_matmuls_to_simple.yaml: mapping.nodes\[5\]: !Sequential maps "
                                         "several Einsums") as caught:
        _shipped("unfused_matmuls_to_simple", N_EINSUMS=2)
    assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="!Sequential"):
        read_accelforge_mapping([SIMPLE, DATA / "workloads" / "matvecs.yaml",
                                 DATA / "mappings" / "fused_matvecs_to_simple_tiled.yaml"])


def _tree(*nodes):
    """A `mapping:` of the 2-matmul workload's Matmul0 (m, n0, n1 of 4) from short node specs."""
    out = []
    for spec in nodes:
        if spec[0] == "S":
            out.append(("!Storage", {"component": spec[1], "tensors": list(spec[2])}))
        else:
            out.append(("!Temporal", {"rank_variable": spec[1], "tile_shape": spec[2]}))
    out.append(("!Compute", {"einsum": "Matmul0", "component": "MAC"}))
    text = "mapping:\n  nodes:\n" + "".join(
        f"  - {tag}\n" + "".join(f"    {k}: {v!r}\n".replace("'", "") for k, v in body.items()) for tag, body in out)
    return load(text, "mapping", tags=ACCELFORGE_TAGS)["mapping"]


WORKLOAD = load(MATMULS, "workload", {"N_EINSUMS": 1, "M": 4, "KN": 4}, tags=ACCELFORGE_TAGS)["workload"]
TOP = ("S", "MainMemory", ["T0", "W0", "T1"])


@pytest.mark.parametrize("nodes, message", [
    # W0 (n0, n1) kept above `for n0` while T0's tile starts below it: one level, two tile extents of n0
    ((TOP, ("S", "GlobalBuffer", ["W0"]), ("T", "n0", 1), ("S", "GlobalBuffer", ["T0", "T1"]), ("T", "m", 1),
      ("T", "n1", 1)), r"nodes\[1\]: W0 is stored in GlobalBuffer above a loop over n0, which indexes it, \(mapping"
                       r".nodes\[2\]\)"),
    ((TOP, ("T", "m", 3), ("T", "n0", 1), ("T", "n1", 1)), r"nodes\[1\].tile_shape: expected an integer dividing "
                                                           r"m's tile above \(4\), got 3"),
    ((TOP, ("T", "m", 1), ("T", "n0", 1)), "the loops leave tiles of n1 = 4"),
    ((("S", "MainMemory", ["T0", "W0"]), ("T", "m", 1), ("T", "n0", 1), ("T", "n1", 1)),
     "outermost memory MainMemory holds no node of T1"),
    ((TOP, ("S", "Cache", ["T0"]), ("T", "m", 1), ("T", "n0", 1), ("T", "n1", 1)),
     r"nodes\[1\].component: 'Cache' is no memory"),
    ((TOP, ("T", "q", 1)), r"nodes\[1\].rank_variable: 'q' is no rank variable"),
    ((("S", "GlobalBuffer", ["T0"]), TOP, ("T", "m", 1), ("T", "n0", 1), ("T", "n1", 1)),
     "T0 in MainMemory is above its node in GlobalBuffer"),
    ((TOP, ("S", "GlobalBuffer", ["T0", "W0", "T1"]), ("T", "m", 2), ("T", "n0", 1), ("T", "m", 1),
      ("T", "n1", 1)), r"nodes\[4\]: a second temporal loop over m \(cosearch's N\) in GlobalBuffer's loops"),
])
def test_loop_trees_that_are_no_cosearch_mapping_are_refused_naming_the_node(nodes, message):
    acc = read_accelforge_arch(SIMPLE)
    with pytest.raises(ValueError, match=message) as caught:
        mapping_from_accelforge(_tree(*nodes), WORKLOAD, acc)
    assert "\n" not in str(caught.value)


# ---- round trip: a cosearch mapping written as a loop tree and read back ----------------------------------------
def _split(draw, bound: int, parts: int) -> list[int]:
    """`bound`'s prime factors dealt to `parts` levels."""
    factors = [1] * parts
    n, p = bound, 2
    while n > 1:
        while n % p:
            p += 1
        n //= p
        factors[draw(st.integers(0, parts - 1))] *= p
    return factors


@st.composite
def _mappings(draw, acc, layer: Layer, bypass: bool):
    """A perfect mapping of `layer` on `acc`: each dim's bound dealt among the levels' temporal loops (and, under
    a fan-out, its spatial X / Y loops, within the fan-out), random orders, and (with `bypass`) random bypasses at
    the inner levels."""
    levels = acc.num_levels
    slots = [(l, "t") for l in range(levels)] + [(l, a) for l, lv in enumerate(acc.levels) for a in "xy"
                                                  if (lv.fanout_x if a == "x" else lv.fanout_y) > 1]
    arrays = MappingArrays.empty(1, levels)
    room = {s: (acc.levels[s[0]].fanout_x if s[1] == "x" else acc.levels[s[0]].fanout_y) for s in slots if s[1] != "t"}
    for d, dim in enumerate(DIMS):
        for slot, f in zip(slots, _split(draw, getattr(layer, dim), len(slots))):
            if slot[1] != "t" and f > room[slot]:
                slot = (slot[0], "t")
            if slot[1] != "t":
                room[slot] //= f
            target = {"t": arrays.temporal, "x": arrays.spatial_x, "y": arrays.spatial_y}[slot[1]]
            target[0, slot[0], d] *= f
    for l in range(levels):
        arrays.order[0, l] = draw(st.permutations(list(range(len(DIMS)))))
        arrays.spatial_order[0, l] = draw(st.permutations(list(range(len(DIMS)))))
        must = acc.meta["accelforge"]["must_keep"].get(acc.levels[l].name, ())
        for t, tensor in enumerate(("Weights", "Inputs", "Outputs")):
            allowed = tensor in acc.levels[l].keeps
            arrays.keep[0, l, t] = int(allowed and (l == 0 or tensor in must or not bypass or draw(st.booleans())))
    return arrays


def _round_trip(acc, layer, arrays):
    document = {**workload_document(layer), **mapping_document(arrays, acc, layer)}
    read_layer, back = mapping_from_accelforge(document["mapping"], document["workload"], acc)
    return document, read_layer, back


def _sequence(arrays, acc):
    """The loops outermost first as the loop tree orders them, and what each level keeps."""
    loops = []
    for l in range(acc.num_levels):
        for name, table in (("y", arrays.spatial_y), ("x", arrays.spatial_x)):
            loops += [(name, l, DIMS[d], int(table[0, l, d])) for d in arrays.spatial_order[0, l]
                      if table[0, l, d] > 1]
        loops += [("t", dim, f) for dim, f in _moving(arrays, l)]
    return loops, arrays.keep[0].tolist()


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.data())
def test_a_mapping_keeping_every_tensor_comes_back_the_same(data):
    acc = _arch(SIMPLE)
    layer = Layer(N=12, C=8, K=6)
    arrays = data.draw(_mappings(acc, layer, bypass=False))
    _, read_layer, back = _round_trip(acc, layer, arrays)
    assert read_layer.bounds == layer.bounds
    for name in ("temporal", "spatial_x", "spatial_y", "keep"):
        assert np.array_equal(getattr(back, name), getattr(arrays, name)), name
    assert [_moving(back, l) for l in range(2)] == [_moving(arrays, l) for l in range(2)]


@FAST
@given(st.data())
def test_any_mapping_comes_back_as_the_same_loop_tree(data):
    """With bypasses, a loop at the bottom of a level's run that indexes nothing the level below keeps may come back
    as that level's (the two readings are one loop tree); the tree, and what each level keeps, come back the same."""
    acc = _arch(NVDLA)
    layer = Layer.conv(8, 6, 3, 4)
    arrays = data.draw(_mappings(acc, layer, bypass=True))
    document, read_layer, back = _round_trip(acc, layer, arrays)
    assert read_layer.bounds == layer.bounds
    tree = [(n.tag, dict(n)) for n in document["mapping"]["nodes"]]
    assert [(n.tag, dict(n)) for n in mapping_document(back, acc, layer)["mapping"]["nodes"]] == tree
    assert _sequence(back, acc) == _sequence(arrays, acc)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mapping_read_back_has_the_same_counts(data):
    acc = _arch(NVDLA)
    layer = Layer.conv(4, 6, 3, 4)
    arrays = data.draw(_mappings(acc, layer, bypass=True))
    _, _, back = _round_trip(acc, layer, arrays)
    ours, again = evaluate(layer, acc, arrays), evaluate(layer, acc, back)
    assert ours.valid == again.valid
    for name in ("reads", "fills", "updates"):
        assert np.array_equal(getattr(ours, name), getattr(again, name)), name
    assert (ours.energy_pj, ours.cycles) == pytest.approx((again.energy_pj, again.cycles))


def test_adjacent_loops_over_one_rank_variable_read_as_one_loop():
    acc = read_accelforge_arch(SIMPLE)
    nodes = (TOP, ("S", "GlobalBuffer", ["T0", "W0", "T1"]), ("T", "n0", 1), ("T", "m", 2), ("T", "m", 1),
             ("T", "n1", 1))
    _, arrays = mapping_from_accelforge(_tree(*nodes), WORKLOAD, acc)
    assert _moving(arrays, 1) == [("C", 4), ("N", 4), ("K", 4)]


def test_a_level_holding_nothing_leaves_its_loops_to_a_level_that_has_one_loop_per_dim():
    acc = read_accelforge_arch(SIMPLE)
    _, arrays = mapping_from_accelforge(_tree(TOP, ("T", "m", 2), ("T", "n0", 1), ("T", "m", 1), ("T", "n1", 1)),
                                        WORKLOAD, acc)
    assert arrays.keep[0, 1].tolist() == [0, 0, 0]
    assert _moving(arrays, 0) + _moving(arrays, 1) == [("N", 2), ("C", 4), ("N", 2), ("K", 4)]


@pytest.mark.slow
def test_the_model_command_evaluates_a_shipped_mapping(tmp_path, capsys):
    from accel_models.accelforge.__main__ import main

    assert main(["model", *_FILES, "--jinja", "N_EINSUMS=1", "--jinja", "M=64", "--jinja", "KN=32",
                 "-o", str(tmp_path)]) == 0
    assert "cycles 65,536 " in capsys.readouterr().out and (tmp_path / "cosearch-model.json").is_file()


def test_the_model_command_refuses_a_mapping_it_cannot_read_in_one_line(tmp_path, capsys):
    from accel_models.accelforge.__main__ import main

    assert main(["model", *_FILES, "--jinja", "N_EINSUMS=2", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unfused_matmuls_to_simple.yaml: mapping.nodes[5]: !Sequential" in err
    assert main(["model", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err


_FILES = [str(SIMPLE), str(MATMULS), str(DATA / "mappings" / "unfused_matmuls_to_simple.yaml")]


def test_files_without_a_mapping_or_with_two_are_refused_naming_them():
    with pytest.raises(ValueError, match=r"no mapping: section"):
        read_accelforge_mapping([SIMPLE, MATMULS], {"N_EINSUMS": 1})
    mapping = DATA / "mappings" / "fused_matmuls_to_simple.yaml"
    with pytest.raises(ValueError, match=r"fused_matmuls_to_simple.yaml: a second mapping: section \(the first is in "):
        read_accelforge_mapping([SIMPLE, MATMULS, mapping, mapping], {"N_EINSUMS": 1})
