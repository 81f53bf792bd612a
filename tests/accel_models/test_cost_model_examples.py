"""The worked examples of docs/cost_model.md, one test per rule: the walk (`reference.evaluate`) and the kernel
(`cost_model.evaluate_batch`) both give the counts the document states."""
import numpy as np
import pytest

from accel_models import Accelerator, StorageLevel
from accel_models.cost_model import evaluate_batch
from accel_models.reference import evaluate
from mappings import LevelMapping, Mapping
from nets import Layer

W, I, O = range(3)
UNIT = {"read_energy_pj": 1.0, "write_energy_pj": 1.0, "update_energy_pj": 1.0}


def _both(layer, acc, mapping):
    """The walk's result, after checking that the kernel gives the same counts, cycles and energy."""
    ref = evaluate(layer, acc, mapping)
    fast = evaluate_batch(layer, acc, mapping.to_arrays(acc))
    assert bool(fast.valid[0]) == ref.valid
    if ref.valid:
        assert int(fast.cycles[0]) == ref.cycles and fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
        for got, want in ((fast.reads, ref.reads), (fast.fills, ref.fills), (fast.updates, ref.updates)):
            np.testing.assert_allclose(got[0], want, rtol=1e-12)
    return ref


def _dram_buf(**buf):
    """DRAM (100 pJ an access) -> Buf (1 pJ, 4096 words; `buf` overrides) -> one MAC (1 pJ)."""
    return Accelerator("dram_buf", (
        StorageLevel("DRAM", kind="DRAM", read_energy_pj=100.0, write_energy_pj=100.0, update_energy_pj=100.0),
        StorageLevel("Buf", **{"capacity_words": 4096, **UNIT, **buf})), mac_energy_pj=1.0)


def _glb_fanout(rf_keeps=None):
    """DRAM -> GLB with a fan-out of 4 on X -> (an RF keeping `rf_keeps` per PE, if given) -> 4 MACs."""
    levels = [StorageLevel("DRAM", kind="DRAM", **UNIT), StorageLevel("GLB", capacity_words=4096, fanout_x=4, **UNIT)]
    if rf_keeps is not None:
        levels.append(StorageLevel("RF", capacity_words=64, keeps=rf_keeps, **UNIT))
    return Accelerator("glb_fanout", tuple(levels), mac_energy_pj=1.0)


def _two(dram: LevelMapping, buf: LevelMapping, *inner: LevelMapping) -> Mapping:
    return Mapping((dram, buf, *inner))


def test_r1_a_tile_is_the_bounding_box_of_its_projection():
    """Stride 2, P = 4, R = 1: the input window spans (4 - 1) x 2 + 1 = 7 words, every one of them filled."""
    ref = _both(Layer(P=4, stride_w=2), _dram_buf(), _two(LevelMapping({}), LevelMapping({"P": 4})))
    assert ref.tile_words[1, I] == 7 and ref.fills[1, I] == 7


def test_r1_validity_capacity_and_fan_out():
    """Buf of 8 words with a fan-out of 2: R3 P4 in the Buf needs 6 input + 3 weight + 4 output words (13 > 8);
    P unrolled 4 ways does not fit 2 children."""
    acc = _dram_buf(capacity_words=8, fanout_x=2)
    layer = Layer(R=3, P=8)
    assert _both(layer, acc, _two(LevelMapping({"P": 8}), LevelMapping({"R": 3}))).valid
    too_big = _both(layer, acc, _two(LevelMapping({"P": 2}), LevelMapping({"R": 3, "P": 4})))
    assert not too_big.valid and "capacity" in too_big.reason_text
    too_wide = _both(layer, acc, _two(LevelMapping({"P": 2}), LevelMapping({"R": 3}, spatial_x={"P": 4})))
    assert not too_wide.valid and "fan-out" in too_wide.reason_text


@pytest.mark.parametrize("stride, fills", [(1, 10), (2, 17)])
def test_r2_a_sliding_window_reuses_its_halo(stride, fills):
    """R3 in the Buf, P8 stepping at DRAM: 3 words first, then `stride` new words a step (3 + 7 x stride)."""
    layer = Layer(R=3, P=8, stride_w=stride)
    ref = _both(layer, _dram_buf(), _two(LevelMapping({"P": 8}), LevelMapping({"R": 3})))
    assert ref.tile_words[1, I] == 3 and ref.fills[1, I] == fills == layer.input_words


@pytest.mark.parametrize("outer, fills", [("P", 24), ("C", 12)])
def test_r2_a_loop_over_another_axis_between_the_steps_breaks_the_reuse(outer, fills):
    """R3 C2 P4 with C and P at DRAM: with C inside P every tile arrives whole (8 x 3); with P inside C each
    channel's window slides (2 x (3 + 3))."""
    inner = "C" if outer == "P" else "P"
    mapping = _two(LevelMapping({"P": 4, "C": 2}, permutation=(outer, inner)), LevelMapping({"R": 3}))
    assert _both(Layer(R=3, P=4, C=2), _dram_buf(), mapping).fills[1, I] == fills


@pytest.mark.parametrize("outer, fills", [("P", 16), ("R", 10)])
def test_r2_the_last_stride_memory(outer, fills):
    """R = 4 split 2 x 2 (the Buf's R2 and a DRAM loop of step 2) with P4 at DRAM: a 2-word tile. With R's DRAM
    loop inside P, each P step moves the window back by one (1 - 2), a translation other than the remembered
    one: the whole tile (8 x 2). With P inside, P's steps slide by one: 2 + 3 x 1 per R step (2 x 5)."""
    inner = "R" if outer == "P" else "P"
    mapping = _two(LevelMapping({"P": 4, "R": 2}, permutation=(outer, inner)), LevelMapping({"R": 2}))
    assert _both(Layer(R=4, P=4), _dram_buf(), mapping).fills[1, I] == fills


def test_r3_multicast_and_r4_the_macs_read_every_step():
    """P unrolled on 4 MACs under the GLB, K8 looped in the GLB. Weights: each step one new weight for all four
    MACs, read once (8). Inputs: each MAC's input stays, but a MAC holds nothing and no neighbour uses the same
    word, so each is read every step (4 x 8 = 32)."""
    ref = _both(Layer(P=4, K=8), _glb_fanout(), _two(LevelMapping({}), LevelMapping({"K": 8}, spatial_x={"P": 4})))
    assert (ref.reads[1, W], ref.reads[1, I]) == (8, 32)


def test_r4_macs_sharing_a_word_take_it_over_links():
    """K4 on the 4 MACs, K2 then P4 looped in the GLB (K innermost): all MACs use input p. At a K step the input
    stays and each MAC's neighbour used that word, so the step costs no GLB read: Inputs are read at the first step
    and at each of the 3 P steps (4); Weights, which K indexes, every step (4 per step x 8 steps = 32)."""
    mapping = _two(LevelMapping({}), LevelMapping({"P": 4, "K": 2}, permutation=("P", "K"), spatial_x={"K": 4}))
    ref = _both(Layer(P=4, K=8), _glb_fanout(), mapping)
    assert ref.reads[1, I] == 4 and ref.reads[1, W] == 32


def test_r4_and_r5_a_loop_below_the_fan_out_reads_every_step():
    """The first example with K split 4 (GLB) x 2 (an RF below the fan-out). An RF keeping Inputs: the RF reads
    them for each MAC (32) and the GLB sends each PE its input once (4). An RF bypassing Inputs: the GLB serves
    the MACs itself, every step (32), as without the RF."""
    mapping = _two(LevelMapping({}), LevelMapping({"K": 4}, spatial_x={"P": 4}), LevelMapping({"K": 2}))
    kept = _both(Layer(P=4, K=8), _glb_fanout(rf_keeps=("Weights", "Inputs", "Outputs")), mapping)
    assert (kept.reads[2, I], kept.fills[2, I], kept.reads[1, I]) == (32, 4, 4)
    bypassed = _both(Layer(P=4, K=8), _glb_fanout(rf_keeps=("Weights", "Outputs")), mapping)
    assert bypassed.reads[1, I] == 32 and bypassed.tile_words[2, I] < 0


def test_r3_links_forward_a_neighbours_word():
    """P unrolled on 4 PEs with one-word RFs, R3 looped in the GLB: at each R step PE k needs the word PE k+1 held
    (w = k + r), so only the last PE reads the GLB: 4 + 1 + 1 = 6 reads, 2 x 3 = 6 link transfers. Each RF still
    fills 3 words and sends 6 / 4 words to a neighbour on top of its 3 MAC reads."""
    acc = _glb_fanout(rf_keeps=("Weights", "Inputs", "Outputs"))
    mapping = _two(LevelMapping({}), LevelMapping({"R": 3}, spatial_x={"P": 4}), LevelMapping({}))
    ref = _both(Layer(R=3, P=4), acc, mapping)
    assert (ref.reads[1, I], ref.link_transfers[1, I], ref.fills[2, I], ref.reads[2, I]) == (6, 6, 12, 18)


def test_r5_a_bypassed_level_passes_its_childs_accesses_up():
    """The halo example with Weights bypassing the Buf: DRAM serves each MAC's weight, 24 reads instead of 3."""
    kept = _both(Layer(R=3, P=8), _dram_buf(), _two(LevelMapping({"P": 8}), LevelMapping({"R": 3})))
    bypassed = _both(Layer(R=3, P=8), _dram_buf(keeps=("Inputs", "Outputs")),
                     _two(LevelMapping({"P": 8}), LevelMapping({"R": 3})))
    assert (kept.reads[0, W], bypassed.reads[0, W]) == (3, 24)


def test_r6_outputs_first_write_is_free():
    """R3 C2 P4, P inside C at DRAM, a 1-word output tile in the Buf: 24 MAC updates; the Buf holds a partition of
    4 words, so it reads 24 - 4 = 20 and is filled 8 - 4 = 4 times (the partial sums of the second channel);
    DRAM takes 8 updates and reads back 8 - 4 = 4."""
    mapping = _two(LevelMapping({"P": 4, "C": 2}, permutation=("C", "P")), LevelMapping({"R": 3}))
    ref = _both(Layer(R=3, P=4, C=2), _dram_buf(), mapping)
    assert (ref.updates[1, O], ref.reads[1, O], ref.fills[1, O]) == (24, 20, 4)
    assert (ref.updates[0, O], ref.reads[0, O], ref.fills[0, O]) == (8, 4, 0)


def test_r6_spatial_reduction():
    """C unrolled on 4 MACs, K8 looped in the GLB: the four products of a step go to one output, one update."""
    ref = _both(Layer(C=4, K=8), _glb_fanout(), _two(LevelMapping({}), LevelMapping({"K": 8}, spatial_x={"C": 4})))
    assert (ref.updates[1, O], ref.reads[1, O]) == (8, 0)


@pytest.mark.parametrize("limit, cycles", [({"read_bandwidth": 1}, 23), ({"shared_bandwidth": 3}, 16), ({}, 8)])
def test_r7_a_level_slower_than_its_demand_stretches_the_run(limit, cycles):
    """C8 on one MAC, 8 compute cycles. The Buf reads 8 + 8 + 7 = 23 words and writes 8 + 8 + 8 = 24: at 1 read
    a cycle it takes 23 cycles; at 3 words a cycle shared, ceil(8 x 47 / 24) = 16."""
    ref = _both(Layer(C=8), _dram_buf(**limit), _two(LevelMapping({}), LevelMapping({"C": 8})))
    assert ref.reads[1].sum() == 23 and ref.fills[1].sum() + ref.updates[1].sum() == 24
    assert ref.cycles == cycles and ref.compute_cycles == 8


def test_r8_energy_counts_whole_blocks_per_instance():
    """The halo example with 4-word blocks in the Buf: Weights ceil(24/4) + ceil(3/4) = 7 accesses, Inputs
    6 + 3 = 9, Outputs 4 + 6 = 10."""
    ref = _both(Layer(R=3, P=8), _dram_buf(block_size_words=4), _two(LevelMapping({"P": 8}), LevelMapping({"R": 3})))
    assert ref.tensor_energy_pj[1].tolist() == [7.0, 9.0, 10.0]


def test_r8_leakage_and_clusters():
    """Leakage: 0.5 pJ a cycle x 1 instance x 24 cycles = 12 pJ. Clusters: 8 RFs in clusters of 4 are charged as 2
    instances (136 pJ of accesses become 34)."""
    ref = _both(Layer(R=3, P=8), _dram_buf(leak_energy_pj=0.5), _two(LevelMapping({"P": 8}), LevelMapping({"R": 3})))
    assert ref.level_leak_pj[1] == 12.0 and ref.level_energy_pj[1] == ref.tensor_energy_pj[1].sum() + 12.0
    acc = Accelerator("rf8", (StorageLevel("DRAM", fanout_x=8, **UNIT), StorageLevel("RF", capacity_words=64, **UNIT)),
                      mac_energy_pj=0.5)
    mapping = Mapping((LevelMapping({}, spatial_x={"P": 8}), LevelMapping({"K": 4})))
    plain = _both(Layer(P=8, K=4), acc, mapping)
    clustered = _both(Layer(P=8, K=4), acc.with_levels(RF={"cluster_size": 4}), mapping)
    assert (plain.level_energy_pj[1], clustered.level_energy_pj[1]) == (136.0, 34.0)
    assert clustered.reads.tolist() == plain.reads.tolist()


@pytest.mark.parametrize("dim, glb_input_reads, glb_output_updates", [("G", 40, 32), ("C", 40, 8), ("K", 10, 32)])
def test_channels_on_the_array_groups_share_nothing(dim, glb_input_reads, glb_output_updates):
    """A 3-tap row filter over 8 outputs on 4 PEs, the 4 taken from G, C or K (the same 96 MACs), RF holding R3 P8.
    Groups (a depthwise layer's channels): each PE its own weights, input row and outputs: 4 x 3 weights, 4 x 10
    inputs and 4 x 8 output updates at the GLB. C: the same reads, but the four products of a step are reduced to
    one output (8 updates). K: the four PEs share the input row (multicast, 10 reads) and keep their own outputs."""
    layer = Layer(R=3, P=8, **{dim: 4})
    mapping = Mapping((LevelMapping({}), LevelMapping({}, spatial_x={dim: 4}),
                       LevelMapping({"P": 8, "R": 3}, permutation=("P", "R"))))
    ref = _both(layer, _glb_fanout(rf_keeps=("Weights", "Inputs", "Outputs")), mapping)
    assert ref.reads[1, W] == 12 and ref.reads[1, I] == glb_input_reads and ref.updates[1, O] == glb_output_updates
    assert ref.fills[2].tolist() == [12, 40, 0] and ref.cycles == 24
