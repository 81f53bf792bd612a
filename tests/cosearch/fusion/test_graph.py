"""The network graph the fusion modes read: branches, concatenations and residual adds (`Network.sources`,
`Network.skips`), tensors with several producers and readers, and the capacity they take on chip."""
from dataclasses import replace

import pytest

from accel_models import TENSOR_INDEX
from cosearch.fusion import activations, get_fusion_mode
from cosearch.fusion.graph import consumers
from cosearch.fusion.groups import chainable
from nets import Layer, Network, get_network

from _fusion_tiny import tiny_accelerator

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))


def _inception() -> Network:
    """stem -> three branches reading its output (1x1; 1x1 -> 3x3; 1x1), concatenated -> 1x1, on a 12 x 12 map."""
    layers = [Layer.conv(3, 8, 3, 12, name="stem"), Layer.conv(8, 4, 1, 12, name="b1"),
              Layer.conv(8, 4, 1, 12, name="b2a"), Layer.conv(4, 4, 3, 12, name="b2b"),
              Layer.conv(8, 4, 1, 12, name="b3"), Layer.conv(12, 8, 1, 12, name="last")]
    return Network("inception", layers, sources=((-1,), (0,), (0,), (2,), (0,), (1, 3, 4)))


# the stem's output X (12 x 12 x 8), b2a's output T (its reader's 14 x 14 x 4 box) and the concatenation Y of b1, b2b
# and b3 (12 x 12 x 12), and the words alive while each layer runs
X, T, Y = 1152, 784, 1728
ALIVE = [X, X + Y, X + Y + T, X + Y + T, X + Y, Y]


_acc = tiny_accelerator


def test_a_branch_is_one_tensor_and_a_concatenation_is_one_tensor():
    acts = {a.producers: a for a in activations(_inception())}
    assert sorted(acts) == [(0,), (1, 3, 4), (2,)]
    assert acts[(0,)].readers == (1, 2, 4) and (acts[(0,)].first, acts[(0,)].last, acts[(0,)].words) == (0, 4, X)
    assert acts[(2,)].readers == (3,) and acts[(2,)].words == T
    assert acts[(1, 3, 4)].readers == (5,) and (acts[(1, 3, 4)].first, acts[(1, 3, 4)].last) == (1, 5)
    assert acts[(1, 3, 4)].words == Y
    # without the record, only the edges whose channels agree are read on chip: stem -> b1 and b2a -> b2b
    unrecorded = replace(_inception(), sources=None)
    assert sorted(a.producers for a in activations(unrecorded)) == [(0,), (2,)]


def test_the_resident_plan_keeps_the_branch_and_the_concatenation_with_exact_occupancy(cache):
    net = _inception()
    acc = _acc(65536)
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    assert sorted(a.producers for a in plan.activations) == [(0,), (1, 3, 4), (2,)]
    pinned = sum(layer.param_words for layer in net.layers)
    assert plan.pinned_weight_words == pinned
    for i, alive in enumerate(ALIVE):
        assert sum(a.words for a in plan.activations if a.alive_at(i)) == alive
        assert alive + pinned <= plan.occupancy_words(i) <= acc.levels[1].capacity_words
    on_chip = [set(run.residency.names) for run in plan.runs]
    assert on_chip[0] == {"Weights", "Outputs"} and on_chip[5] == {"Weights", "Inputs"}
    assert all(s == {"Weights", "Inputs", "Outputs"} for s in on_chip[1:5])
    assert all(run.dram_words == 0 for run in plan.runs[1:5])     # the branches and the concatenation stay on chip
    assert max(ALIVE) == X + Y + T == 3664                          # the peak, while b2a and b2b run


@pytest.mark.parametrize("glb_words", [600, 1500, 2048, 3000, 4096, 6000, 65536])
def test_capacity_sweep_never_overfills_the_buffer(cache, glb_words):
    net = _inception()
    acc = _acc(glb_words)
    plan = get_fusion_mode("resident").plan(net, acc, cache, "edp")
    for i in range(len(net.layers)):
        assert plan.occupancy_words(i) <= glb_words
    chosen = plan.activations
    for i, run in enumerate(plan.runs):
        names = set(run.residency.names) if run.residency is not None else set()
        assert ("Inputs" in names) == any(i in a.readers for a in chosen)
        # a concatenation's slices are written on chip only when the whole tensor is there
        assert ("Outputs" in names) == any(i in a.producers for a in chosen)
    if glb_words <= 1500:
        assert not any(len(a.producers) > 1 for a in chosen)    # the 1,728-word concatenation cannot stay


def test_network_sources_are_checked_with_one_line_naming_the_field():
    layers = _inception().layers
    bad = [((-1,),) * 5, ((-1,), (0,), (0,), (2,), (0,), (1, 3)), ((-1,), (0,), (0,), (5,), (0,), (1, 3, 4)),
           ((-1,), (0,), (0,), (2,), (0,), (1, 1, 3, 4)), ((-1,), (0,), (-1, 0), (2,), (0,), (1, 3, 4)), 7]
    for sources in bad:
        with pytest.raises(ValueError, match=r"^Network\.sources") as err:
            Network("bad", layers, sources=sources)
        assert "\n" not in str(err.value)


def test_zoo_records_branches_concatenations_and_shortcuts():
    g = get_network("googlenet")
    names = [layer.name for layer in g.layers]
    heads = [names.index(f"inception4b.{b}") for b in ("branch1", "branch2.0", "branch3.0", "branch4.0")]
    ends = [names.index(f"inception4a.{b}") for b in ("branch1", "branch2.1", "branch3.1", "branch4.1")]
    assert all(g.sources[h] == tuple(ends) for h in heads)       # 4a's four branches, concatenated, read by 4b's
    assert g.sources[names.index("inception4b.branch4.1")] == (names.index("inception4b.branch4.0"),)  # its pool
    ends = [names.index(f"inception3b.{b}") for b in ("branch1", "branch2.1", "branch3.1", "branch4.1")]
    assert g.sources[names.index("maxpool3")] == tuple(ends)     # the pool between stages reads 3b's concatenation
    s = get_network("squeezenet1_0")
    names = [layer.name for layer in s.layers]
    squeeze = names.index("features.3.squeeze")
    assert s.sources[squeeze + 1] == s.sources[squeeze + 2] == (squeeze,)
    assert s.sources[names.index("features.4.squeeze")] == (squeeze + 1, squeeze + 2)
    r = get_network("resnet50")
    names = [layer.name for layer in r.layers]
    down, conv1 = names.index("layer2.0.downsample.0"), names.index("layer2.0.conv1")
    assert r.sources[down] == r.sources[conv1] and (down - 1, down) in r.skips
    assert (down, names.index("layer2.1.conv3")) in r.skips
    e = get_network("efficientnet_edgetpu_s")
    names = [layer.name for layer in e.layers]
    assert all(c != names.index("blocks.0.0.project") for _, c in e.skips)     # 32 -> 24 channels: no shortcut
    assert (names.index("blocks.1.0.project"), names.index("blocks.1.1.project")) in e.skips


def test_depth_first_chains_only_through_single_edges():
    net = _inception()
    readers = consumers(net)
    assert chainable(net, 2, 4, readers)                 # b2a -> b2b: b2a's output is read by b2b alone
    assert not chainable(net, 0, 2, readers)             # the stem's output is read by three branches
    assert not chainable(net, 4, 6, readers)             # b3 writes a slice of the concatenation
    tiny = Network("skip", [Layer.conv(3, 8, 3, 12), Layer.conv(8, 8, 1, 12), Layer.conv(8, 8, 1, 12)],
                   skips=((0, 2),))
    assert chainable(tiny, 1, 3) and not chainable(tiny, 0, 2)   # the shortcut reads layer 0's output whole


@pytest.mark.parametrize("glb_words", [256, 1024])
def test_a_tensor_is_read_on_chip_only_where_its_producer_wrote_it(cache, glb_words):
    """l0's output is read alone by l1 and, concatenated with l1's, by l2: two tensors sharing a producer. l0 writes
    its output once, on chip only when both tensors stay, so the plan keeps both or neither (256 words hold the
    first, 128 words, but not both, 288)."""
    layers = [Layer.conv(3, 8, 1, 4, name="l0"), Layer.conv(8, 2, 1, 4, name="l1"), Layer.conv(10, 2, 1, 4, name="l2")]
    net = Network("shared", layers, sources=((-1,), (0,), (0, 1)))
    plan = get_fusion_mode("resident").plan(net, _acc(glb_words), cache, "edp")
    kept = sorted(a.producers for a in plan.activations)
    assert kept == ([] if glb_words == 256 else [(0,), (0, 1)])
    for act in plan.activations:
        for r in act.readers:
            assert I in plan.runs[r].residency.resident
        for p in act.producers:
            assert O in plan.runs[p].residency.resident
