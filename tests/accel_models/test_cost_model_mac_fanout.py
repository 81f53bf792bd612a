"""The MACs' operands under a fan-out that feeds them directly, as Timeloop counts them.

Timeloop's nest analysis treats the MACs under the innermost storage level's fan-out like any children of a
fan-out (R3), with a MAC's delta its whole one-word operand at every step: equal operands share one read,
and a MAC whose operand equals what a grid neighbour used in the previous step takes it over the link. So
an operand that did not move is read again unless a neighbour used the same word; where every MAC has such
a neighbour the parent reads it only when it changes. A storage level between the fan-out and the MACs,
even one that bypasses the operand and has no loop, makes the MACs read it every step (R4, R5's fold).

The expected counts below are worked out by hand from that logic (Timeloop's `ComputeNetworkLinkTransfers`,
`ComputeAccurateMulticastedAccesses` and `MaskTiles`, NVlabs/timeloop `src/loop-analysis/`), each in the
test's docstring; every case is also checked kernel against walk.
"""
import numpy as np
import pytest

from accel_models import Accelerator, StorageLevel
from accel_models.cost_model import evaluate_batch
from accel_models.reference import evaluate, loop_nest, tensor_axes
from mappings import LevelMapping, Mapping, random_mappings
from nets import DIMS, Layer

W, I, O = range(3)


def _level(name, fanout_x=1, fanout_y=1, **kw):
    return StorageLevel(name, read_energy_pj=1.0, write_energy_pj=1.5, update_energy_pj=2.0, fanout_x=fanout_x,
                        fanout_y=fanout_y, **kw)


def _acc(*levels):
    return Accelerator("mac_fanout", (_level("DRAM"),) + tuple(levels), mac_energy_pj=0.5)


def _same(layer, acc, mapping):
    """The walk's result, after checking that the kernel gives the same counts, cycles and energy."""
    arrays = mapping.to_arrays(acc)
    fast = evaluate_batch(layer, acc, arrays)
    ref = evaluate(layer, acc, arrays)
    assert bool(fast.valid[0]) and ref.valid, ref.reason_text
    assert int(fast.cycles[0]) == ref.cycles
    assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
    for got, want in ((fast.reads, ref.reads), (fast.fills, ref.fills), (fast.updates, ref.updates)):
        np.testing.assert_allclose(got[0], want, rtol=1e-12, atol=1e-9)
    return ref


def _glb_macs(**glb):
    """DRAM -> GLB (fan-out 4 on X) -> 4 MACs."""
    return _acc(_level("GLB", **{"fanout_x": 4, **glb}))


def _map(*levels):
    return Mapping((LevelMapping({}),) + tuple(levels))


# Fan-out at the level that keeps the operand, no level below it.

def test_an_unmoved_operand_comes_from_a_neighbour_that_used_the_same_word():
    """K4 across the 4 MACs, P4 then K2 in time. All MACs use the same input; after each K step (4 of the 8)
    every MAC's neighbours used that word in the previous step, so the GLB reads Inputs once per change (4)
    and the 4 MACs take it over links at those 4 steps (16). Weights move at every step (K) and differ across
    the MACs: 4 reads x 8 steps."""
    layer, acc = Layer(P=4, K=8), _glb_macs()
    ref = _same(layer, acc, _map(LevelMapping({"P": 4, "K": 2}, permutation=("P", "K"), spatial_x={"K": 4})))
    assert ref.reads[1, I] == 4 and ref.link_transfers[1, I] == 16
    assert ref.reads[1, W] == 32 and ref.link_transfers[1, W] == 0


def test_an_unmoved_operand_no_neighbour_uses_is_read_every_step():
    """P4 across the MACs, K8 in time: each MAC keeps its own input through the 8 steps, but no neighbour used
    it, so the GLB reads the 4 inputs at every step (32); an 'only when it changes' rule would give 4."""
    layer, acc = Layer(P=4, K=8), _glb_macs()
    ref = _same(layer, acc, _map(LevelMapping({"K": 8}, spatial_x={"P": 4})))
    assert ref.reads[1, I] == 32 and ref.link_transfers[1, I] == 0
    assert ref.reads[1, W] == 8       # one weight for all 4 MACs per step (multicast)


@pytest.mark.parametrize("spatial, fanout, reads, links", [
    ({"spatial_x": {"P": 2, "K": 2}, "spatial_permutation": ("P", "K")}, (4, 1), 2, 12),   # MAC k = 2p + k
    ({"spatial_x": {"P": 2, "K": 2}, "spatial_permutation": ("K", "P")}, (4, 1), 8, 0),    # MAC k = 2k + p
    ({"spatial_x": {"P": 2}, "spatial_y": {"K": 2}}, (2, 2), 2, 12),                       # vertical pairs
])
def test_only_grid_neighbours_pass_an_operand(spatial, fanout, reads, links):
    """P2 x K2 over 4 MACs, K4 in time, so the inputs never move: 2 distinct words, each used by 2 MACs. When
    the two MACs of a word sit side by side on the grid (or one above the other), the word is read once and
    then passed on (3 still steps x 4 MACs = 12 links); when they sit two apart, both words are read at all
    4 steps (8)."""
    layer = Layer(P=2, K=8)
    acc = _glb_macs(fanout_x=fanout[0], fanout_y=fanout[1])
    ref = _same(layer, acc, _map(LevelMapping({"K": 4}, **spatial)))
    assert ref.reads[1, I] == reads and ref.link_transfers[1, I] == links


def test_a_step_that_undoes_the_inner_reset_moves_nothing():
    """R3 outside P2 (Inputs at p + r): a step of R with P going back to 0 leaves each MAC's input in place
    (2 of the 6 steps), although the innermost loop indexes Inputs. With K4 across the MACs they all share the
    word, so those steps are served by links: the GLB reads each of the 4 input words once."""
    layer, acc = Layer(R=3, P=2, K=4), _glb_macs()
    ref = _same(layer, acc, _map(LevelMapping({"R": 3, "P": 2}, permutation=("R", "P"), spatial_x={"K": 4})))
    assert ref.reads[1, I] == 4 and ref.link_transfers[1, I] == 2 * 4


def test_outputs_under_a_direct_fanout_follow_the_same_rule():
    """C4 across the MACs (one output each step, reduced across them), K2 then C2 in time: at the 2 C steps
    the output stays and every MAC's neighbour worked on it, so those steps are link transfers (2 x 4), and
    the GLB takes 2 updates instead of 4."""
    layer, acc = Layer(C=8, K=2), _glb_macs()
    ref = _same(layer, acc, _map(LevelMapping({"K": 2, "C": 2}, permutation=("K", "C"), spatial_x={"C": 4})))
    assert ref.updates[1, O] == 2 and ref.link_transfers[1, O] == 8


# A level between the fan-out and the MACs.

def test_a_level_between_the_fanout_and_the_macs_makes_them_read_every_step():
    """The first test's mapping with an RF under each MAC that bypasses Inputs and has no loop: the MACs read
    the input from the RF level every step (8 per RF), the RF's one-word tile changes 4 times and is multicast
    to the 4 RFs (GLB reads 4, multicast-weighted 16), so the fold gives 8 x 4 x 4/16 = 8 GLB reads, one per
    step, where the MACs directly under the GLB read 4."""
    layer = Layer(P=4, K=8)
    acc = _acc(_level("GLB", fanout_x=4), _level("RF", keeps=("Weights", "Outputs")))
    glb = LevelMapping({"P": 4, "K": 2}, permutation=("P", "K"), spatial_x={"K": 4})
    ref = _same(layer, acc, Mapping((LevelMapping({}), glb, LevelMapping({}))))
    assert ref.reads[1, I] == 8 and ref.link_transfers[1, I] == 0


@pytest.mark.parametrize("sp_spatial, bounds, reads", [({}, {"C": 4, "K": 8}, 32), ({"K": 2}, {"C": 4, "K": 16}, 32)])
def test_two_bypassing_levels_below_the_keeper(sp_spatial, bounds, reads):
    """Gemmini's shape: a scratchpad keeping Weights and Inputs (fan-out 2), accumulators keeping Outputs
    (fan-out 2), registers keeping Weights, no loop at the registers. C2 in DRAM, K8 at the accumulator, C2
    across its fan-out. Inputs are read from the scratchpad at every MAC: C x K = 32 words for one
    accumulator; with K2 across the scratchpad's fan-out the two accumulators share each word, 64 / 2 = 32.
    (Timeloop master on DOSA's case0030, this shape at full size, reads 4096 x 4096 Inputs words.)"""
    layer = Layer(**bounds)
    acc = _acc(_level("SP", fanout_x=2, keeps=("Weights", "Inputs")), _level("ACC", fanout_x=2, keeps=("Outputs",)),
               _level("REG", keeps=("Weights",)))
    mapping = Mapping((LevelMapping({"C": 2}), LevelMapping({}, spatial_x=sp_spatial),
                       LevelMapping({"K": 8}, spatial_x={"C": 2}), LevelMapping({})))
    ref = _same(layer, acc, mapping)
    assert ref.reads[1, I] == reads


# The fan-out below the level that keeps the operand.

@pytest.mark.parametrize("glb_t, pe_spatial, reads", [({"P": 4}, {"K": 4}, 4), ({"K": 4}, {"P": 4}, 32)])
def test_fanout_below_the_keeper_with_a_loop_between(glb_t, pe_spatial, reads):
    """GLB keeps Inputs; a PE level below it (bypassing Inputs, K2 in time) fans out to the MACs. The PE's
    loop sits above its fan-out, so the MACs are still its direct children: K4 across them shares each input
    (read once per change: 4), P4 across them reads 4 inputs at each of the 8 steps (32), and the fold
    carries those counts up unchanged (the PE tile, one or four words, is filled once per change and not
    multicast)."""
    layer = Layer(P=4, K=8)
    acc = _acc(_level("GLB"), _level("PE", fanout_x=4, keeps=("Weights", "Outputs")))
    mapping = Mapping((LevelMapping({}), LevelMapping(glb_t), LevelMapping({"K": 2}, spatial_x=pe_spatial)))
    assert _same(layer, acc, mapping).reads[1, I] == reads


@pytest.mark.parametrize("glb_spatial, pe_spatial, reads", [({"P": 2}, {"K": 2}, 2), ({"K": 2}, {"P": 2}, 8)])
def test_fanouts_at_the_keeper_and_below(glb_spatial, pe_spatial, reads):
    """Fan-out 2 at the GLB (keeps Inputs) and 2 at a PE level that bypasses them, K4 in time at the GLB,
    inputs never moving. K2 under each PE: its two MACs share the word, read once (then links), 1 per PE,
    2 in all. P2 under each PE: both words read at all 4 steps, 8 per PE, shared by the 2 PEs (K2 at the
    GLB): 8 GLB reads."""
    layer = Layer(P=2, K=8)
    acc = _acc(_level("GLB", fanout_x=2), _level("PE", fanout_x=2, keeps=("Weights", "Outputs")))
    mapping = Mapping((LevelMapping({}), LevelMapping({"K": 4}, spatial_x=glb_spatial),
                       LevelMapping({}, spatial_x=pe_spatial)))
    assert _same(layer, acc, mapping).reads[1, I] == reads


# Random mappings where the innermost level feeds the MACs: kernel against walk.

def _shared_and_still(arrays, b, layer, L, t):
    """Must the MACs pass operand t over links? Yes when the innermost level fans out to 2 MACs or more along
    dims that do not index t (every MAC's neighbours use its word) and the innermost temporal loop does not
    index t either (its steps leave the word in place)."""
    nest = loop_nest(arrays, b)
    dims_t = {d for axis in tensor_axes(layer)[t] for d, _ in axis}
    fan = [lp for lp in nest if lp.level == L - 1 and lp.kind != "T"]
    temporal = [lp for lp in nest if lp.kind == "T"]
    return bool(fan) and bool(temporal) and temporal[-1].dim not in dims_t and not any(lp.dim in dims_t for lp in fan)


@pytest.mark.slow
@pytest.mark.parametrize("pe_level, fanout, layer", [
    (True, (4, 1), Layer(R=3, P=4, C=4, K=8)),
    (True, (4, 2), Layer(R=3, P=4, C=4, K=8)),
    (True, (3, 3), Layer(R=3, P=4, C=4, K=8)),
    (False, (4, 4), Layer(R=3, S=2, P=4, Q=2, C=2, K=2)),
    (False, (5, 1), Layer(R=2, S=1, P=3, Q=2, C=2, K=3, N=2, dilation_w=2)),
])
def test_kernel_matches_walk_with_the_macs_under_the_innermost_fanout(pe_level, fanout, layer):
    """DRAM -> GLB [-> PE level] with the innermost level fanning out to the MACs, random mappings and random
    bypass below DRAM: the kernel's closed-form links (still steps included, grids that the loops fill or
    not) against the walk, and links wherever an unmoved operand is shared by every MAC."""
    fan = {"fanout_x": fanout[0], "fanout_y": fanout[1]}
    if pe_level:
        acc = _acc(_level("GLB", capacity_words=4096), _level("PE", capacity_words=64, leak_energy_pj=0.01, **fan))
    else:
        acc = _acc(_level("GLB", capacity_words=4096, leak_energy_pj=0.01, **fan))
    seed = sum(fanout) + len(acc.levels)
    maps = random_mappings(layer, acc, 400, rng=seed, spatial_bias=6.0)
    rng = np.random.default_rng(seed)
    maps.keep[:, 1:] = rng.random(size=maps.keep[:, 1:].shape) < 0.75
    L = acc.num_levels
    valid = shared = 0
    for b in range(maps.batch_size):
        fast = evaluate_batch(layer, acc, maps.row(b))
        ref = evaluate(layer, acc, maps, b)
        assert bool(fast.valid[0]) == ref.valid
        if not ref.valid:
            continue
        valid += 1
        assert int(fast.cycles[0]) == ref.cycles
        assert fast.energy_pj[0] == pytest.approx(ref.energy_pj, rel=1e-12)
        for got, want in ((fast.reads, ref.reads), (fast.fills, ref.fills), (fast.updates, ref.updates)):
            np.testing.assert_allclose(got[0], want, rtol=1e-12, atol=1e-9)
        for t in (W, I, O):
            if maps.keep[b, L - 1, t] and _shared_and_still(maps, b, layer, L, t):
                shared += 1
                assert ref.link_transfers[L - 1, t] > 0, (b, t)
    assert valid >= 150 and shared >= 2, (valid, shared)


def test_the_spatial_order_names_dims():
    """The spatial permutations above name P before K or K before P, as the grid tests need."""
    m = _map(LevelMapping({"K": 4}, spatial_x={"P": 2, "K": 2}, spatial_permutation=("K", "P"))).to_arrays(_glb_macs())
    loops = [(lp.kind, DIMS[lp.dim]) for lp in loop_nest(m) if lp.kind != "T"]
    assert loops == [("X", "K"), ("X", "P")]
