"""The fused model's network-level accounting held to its literal reference (`group_walker`): what a depth-first
group (`groups.group_cost`) and a resident plan (`modes.resident`) move across the chip's boundary and keep on chip.

The per-layer model is replaced here by a run that moves each word of a tensor that is not resident once (what the
walker counts at the boundary): the fast model's aggregation (which tile layers run how often, which tensors each
finds on chip, what stays in the home level, the capacity left to the mapping, the weights' load) is what is held
to the walk. The per-layer model itself is the Timeloop corpus's business (a group of one layer is that model)."""
from dataclasses import dataclass
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel_models import TENSOR_INDEX
from cosearch.fusion import groups
from cosearch.fusion.graph import activations
from cosearch.fusion.key_blocks import key_block_schedule
from cosearch.fusion.modes import get_fusion_mode
from cosearch.fusion.modes import resident as resident_mode
from cosearch.fusion.plan import LayerRun, NoValidMapping
from cosearch.fusion.tiling import output_rows, schedule
from cosearch.fusion.view import rounded_capacity
from nets import Layer, Network

from _fusion_tiny import NO_CACHE, tiny_accelerator, tiny_cache
from _group_walker import walk_attention, walk_group, walk_resident
from test_graph import _inception
from test_resident import _net
from test_tiling import chains

W, I, O = (TENSOR_INDEX[t] for t in ("Weights", "Inputs", "Outputs"))
MIN_FREE_WORDS = 8
"""The compulsory runs' stand-in for a mapping that does not fit: fewer free words than this."""


@dataclass(frozen=True)
class _Priced:
    """A compulsory run's price (what `LayerRun.result` offers the planners)."""

    cycles: int
    energy_pj: float


def _compulsory_words(layer: Layer, residency) -> int:
    """Words a run moves at DRAM when it reads and writes each word of its tensors off chip once."""
    resident = () if residency is None else residency.resident
    return sum(words for t, words in zip((W, I, O), (layer.weight_words, layer.input_words, layer.output_words))
               if t not in resident)


def _compulsory_run(layer, accelerator, cache, objective, residency=None, search_view=False, count_dram=True):
    """A layer run that moves each off-chip word once (cycles 1 + DRAM words + the MACs over the array's, energy
    100 pJ per DRAM word, 1 per on-chip word and the MACs' energy: never below the cost model's floors, which the
    depth-first planner's bounds rely on), with no valid mapping below MIN_FREE_WORDS free words."""
    if residency is not None and residency.free_words < MIN_FREE_WORDS:
        raise NoValidMapping("too little room")
    dram = _compulsory_words(layer, residency)
    total = layer.weight_words + layer.input_words + layer.output_words
    return LayerRun(layer, _Priced(1 + dram + -(-layer.macs // accelerator.num_macs),
                                   100.0 * dram + (total - dram) + layer.macs * accelerator.mac_energy_pj),
                    residency, float(dram))


def _compulsory_runs(*args, **kwargs):
    """`_compulsory_run` as the resident planner's candidates (`runs.layer_runs`)."""
    return (_compulsory_run(*args, **kwargs),)


class _NoMapper:
    """A mapping cache stand-in for the resident planner's run tables (the runs come from `_compulsory_run`)."""

    settings = None

    def result(self, layer, accelerator, objective):
        return self

    @property
    def screened_shapes(self) -> "_NoMapper":
        return self


# ---- depth-first groups ---------------------------------------------------------------------------------------------

def _check_group(layers, tile, halo, glb_words):
    acc = tiny_accelerator(glb_words)
    capacity = acc.levels[1].capacity_words
    with mock.patch.object(groups, "layer_runs", _compulsory_runs):
        try:
            cost = groups.group_cost(layers, 0, acc, NO_CACHE, "edp", tile, halo)
        except NoValidMapping:
            cost = "no mapping"
    n, weights = len(layers), sum(layer.param_words for layer in layers)
    tiles = -(-output_rows(layers[-1]) // tile)
    keep = tiles > 1 and weights > 0 and capacity - weights - walk_group(layers, tile, halo, False).peak_intermediate_words >= 1
    walk = walk_group(layers, tile, halo, keep)
    peak = walk.peak_intermediate_words if n > 1 else 0
    free = capacity - peak - (weights if keep else 0)
    if free < 1:
        assert cost is None
        return
    if free < MIN_FREE_WORDS and (n > 1 or keep):
        assert cost == "no mapping"
        return
    assert cost.tiles == tiles and cost.weights_on_chip == keep and cost.peak_intermediate_words == peak
    assert cost.dram_words == walk.dram_words
    assert tuple(tuple((output_rows(run.layer), times) for run, times in parts) for parts in cost.runs) == walk.runs
    assert sum(run.layer.macs * times for parts in cost.runs for run, times in parts) == walk.macs
    assert sum(run.layer.output_words * times for parts in cost.runs[:-1] for run, times in parts) \
        == walk.chip_written_words
    assert sum(run.layer.input_words * times for parts in cost.runs[1:] for run, times in parts) \
        == walk.chip_read_words
    for j, parts in enumerate(cost.runs):
        for run, _ in parts:
            if run.residency is not None:
                assert run.residency.free_words == rounded_capacity(free)
                assert (I in run.residency.resident) == (j > 0) and (O in run.residency.resident) == (j < n - 1)


@st.composite
def group_cases(draw):
    """A chain (`test_tiling.chains`) and a GLB around what it needs: its intermediate rows' peak (the walk's), with
    or without its weights, plus or minus a little, so that groups that fit, fit without their weights, or leave
    a mapping too little room all occur."""
    layers, tile, halo = draw(chains())
    need = walk_group(layers, tile, halo, False).peak_intermediate_words
    if draw(st.booleans()):
        need += sum(layer.param_words for layer in layers)
    return (layers, tile, halo), max(16, need + draw(st.integers(-64, 2048)))


GROUP_CASES = group_cases()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(GROUP_CASES)
def test_a_groups_traffic_equals_the_literal_walk(case):
    (layers, tile, halo), glb_words = case
    _check_group(layers, tile, halo, glb_words)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(GROUP_CASES)
def test_a_groups_traffic_equals_the_literal_walk_long(case):
    (layers, tile, halo), glb_words = case
    _check_group(layers, tile, halo, glb_words)


@pytest.mark.parametrize("halo", ["recompute", "cache"])
def test_attention_by_query_blocks_equals_the_literal_walk(halo):
    """Scores -> context -> projection tiled by 4 query tokens: the context's second operand (V) comes from DRAM
    with every tile, the projection's weights stay on chip once."""
    layers = (Layer.attention_scores(10, 10, 4, heads=2), Layer.attention_context(10, 10, 4, heads=2),
              Layer.fc(8, 8, batch=10))
    _check_group(layers, 4, halo, 4096)
    walk = walk_group(layers, 4, halo, True)
    assert walk.dram_weight_words == 3 * (layers[0].weight_words + layers[1].weight_words) + layers[2].param_words


# ---- attention fused over key blocks --------------------------------------------------------------------------------

def _attention_runs(cost):
    """A key-block group's tile runs as `AttentionWalk.runs` counts them: ((layer j, rows, keys, key/value heads,
    inputs on chip, outputs on chip), runs)."""
    found = {}
    for j, parts in enumerate(cost.runs):
        for run, times in parts:
            keys, heads = ((run.layer.K if j == 0 else run.layer.C), run.layer.G) if j < 2 else (0, 0)
            key = (j, run.layer.N, keys, heads, I in run.residency.resident, O in run.residency.resident)
            found[key] = found.get(key, 0) + times
    return tuple(sorted(found.items()))


def _check_attention(layers, tile, key_rows, glb_words, head_rows=None):
    """`group_cost` with key blocks against `walk_attention`: DRAM words, the home level's peak and words, the tile
    runs with what each finds on chip, MACs, the online softmax's element-wise work and the mappings' free room."""
    acc = tiny_accelerator(glb_words)
    capacity = acc.levels[1].capacity_words
    with mock.patch.object(groups, "layer_runs", _compulsory_runs):
        try:
            cost = groups.group_cost(layers, 0, acc, NO_CACHE, "edp", tile, "recompute", key_rows=key_rows,
                                     head_rows=head_rows)
        except NoValidMapping:
            cost = "no mapping"
    weights = sum(layer.param_words for layer in layers)
    operands = layers[0].weight_words + layers[1].weight_words      # K and V, whole
    tiles = -(-layers[0].N // tile)
    peak = walk_attention(layers, tile, key_rows, False, False, head_rows).peak_words
    keep = tiles > 1 and weights > 0 and capacity - weights - peak >= 1
    keep_kv = tiles > 1 and capacity - peak - (weights if keep else 0) - operands >= 1
    walk = walk_attention(layers, tile, key_rows, keep, keep_kv, head_rows)
    assert walk.peak_words == peak
    free = capacity - peak - (weights if keep else 0) - (operands if keep_kv else 0)
    if free < 1:
        assert cost is None
        return
    if free < MIN_FREE_WORDS:
        assert cost == "no mapping"
        return
    assert cost.tiles == tiles and cost.weights_on_chip == keep and cost.key_rows == key_rows
    assert cost.operands_on_chip == keep_kv and cost.head_rows == (head_rows or layers[0].G)
    assert cost.peak_intermediate_words == peak and cost.dram_words == walk.dram_words
    for j, parts in enumerate(cost.runs):
        for run, _ in parts:
            assert run.residency.free_words == rounded_capacity(free)
            assert (W in run.residency.resident) == ((keep and run.layer.param_words > 0) or (keep_kv and j < 2))
    assert _attention_runs(cost) == walk.runs
    assert sum(run.layer.macs * times for parts in cost.runs for run, times in parts) == walk.macs
    loaded = layers[0].input_words            # every query block loaded into the home level once
    assert sum(run.layer.output_words * times for parts in cost.runs for run, times in parts
               if O in run.residency.resident) + loaded == walk.chip_written_words
    assert sum(run.layer.input_words * times for parts in cost.runs for run, times in parts
               if I in run.residency.resident) == walk.chip_read_words
    ops = {op.kind: op.elements for op in cost.elementwise}
    assert ops == {"correction": walk.correction_elements, "rescale": walk.rescale_elements}


@st.composite
def attention_cases(draw):
    """Scores -> context (grouped-query heads sometimes), then 0-2 linear layers by tokens; query blocks of any size,
    key blocks fewer than the keys, head groups of any divisor of the key/value heads; a GLB around the walk's peak, with or without the later layers' weights and K
    and V."""
    tokens = draw(st.integers(1, 24))
    keys = draw(st.integers(2, 24))
    kv_heads, shared, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 6))
    heads = kv_heads * shared
    layers = [Layer.attention_scores(tokens, keys, d, heads, kv_heads), Layer.attention_context(tokens, keys, d, heads,
                                                                                                kv_heads)]
    width = heads * d
    for _ in range(draw(st.integers(0, 2))):
        out = draw(st.integers(1, 12))
        layers.append(Layer.fc(width, out, batch=tokens))
        width = out
    layers = tuple(layers)
    tile, key_rows = draw(st.integers(1, tokens)), draw(st.integers(1, keys - 1))
    head_rows = draw(st.sampled_from([h for h in range(1, kv_heads + 1) if kv_heads % h == 0]))
    need = walk_attention(layers, tile, key_rows, False, False, head_rows).peak_words
    if draw(st.booleans()):
        need += sum(layer.param_words for layer in layers)
    if draw(st.booleans()):
        need += layers[0].weight_words + layers[1].weight_words
    return (layers, tile, key_rows, head_rows), max(16, need + draw(st.integers(-32, 1024)))


ATTENTION_CASES = attention_cases()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(ATTENTION_CASES)
def test_attention_over_key_blocks_equals_the_literal_walk(case):
    (layers, tile, key_rows, head_rows), glb_words = case
    _check_attention(layers, tile, key_rows, glb_words, head_rows)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(ATTENTION_CASES)
def test_attention_over_key_blocks_equals_the_literal_walk_long(case):
    (layers, tile, key_rows, head_rows), glb_words = case
    _check_attention(layers, tile, key_rows, glb_words, head_rows)


def test_one_key_block_is_the_query_block_schedule_bit_for_bit():
    """key_rows at or above the keys: the group's cost is the query-block schedule's, to the last bit."""
    layers = (Layer.attention_scores(10, 10, 4, heads=2), Layer.attention_context(10, 10, 4, heads=2),
              Layer.fc(8, 8, batch=10))
    with mock.patch.object(groups, "layer_runs", _compulsory_runs):
        plain = groups.group_cost(layers, 0, tiny_accelerator(4096), NO_CACHE, "edp", 4, "recompute")
        for key_rows in (None, 10, 64):
            assert groups.group_cost(layers, 0, tiny_accelerator(4096), NO_CACHE, "edp", 4, "recompute",
                                     key_rows=key_rows) == plain
    assert plain.key_rows is None and plain.elementwise == ()


def test_key_block_tile_runs_with_the_real_mapper_move_at_least_the_walks_words():
    """With the real mapper: the key-block group's tile runs are the walk's, each moves at least the words it must
    (a mapping may fetch a word more than once, never less), and the group's total at least the walk's."""
    layers = (Layer.attention_scores(16, 16, 4, heads=2), Layer.attention_context(16, 16, 4, heads=2),
              Layer.fc(8, 8, batch=16))
    cost = groups.group_cost(layers, 0, tiny_accelerator(4096), tiny_cache(), "edp", 8, "recompute", key_rows=4)
    walk = walk_attention(layers, 8, 4, cost.weights_on_chip, cost.operands_on_chip)
    for parts in cost.runs:
        for run, _ in parts:
            assert run.dram_words >= _compulsory_words(run.layer, run.residency)
    assert _attention_runs(cost) == walk.runs
    assert cost.dram_words >= walk.dram_words and cost.key_rows == 4


def _attention_plan(glb_words):
    """The depth-first planner with compulsory runs on scores -> context -> projection over 256 tokens (one head of
    2 dims)."""
    net = Network("attention", [Layer.attention_scores(256, 256, 2, heads=1),
                                Layer.attention_context(256, 256, 2, heads=1), Layer.fc(2, 2, batch=256)])
    with mock.patch.object(groups, "layer_runs", _compulsory_runs), \
            mock.patch.object(resident_mode, "layer_runs", _compulsory_runs), \
            mock.patch("cosearch.fusion.modes.none.layer_run", _compulsory_run):
        return net, get_fusion_mode("depth-first").plan(net, tiny_accelerator(glb_words), _NoMapper(), "edp")


@pytest.mark.parametrize("glb_words", [3000, 6000])
def test_the_planner_takes_key_blocks_where_query_blocks_do_not_fit(glb_words):
    """A query block against all 256 keys takes at least 32 x 256 words, so only key blocks fuse the scores; the
    plan's DRAM words are the key-block walk's. At 6,000 words K and V (1,024 words) also stay on chip, and every
    word crosses DRAM once (Q, K, V and the output 512 each, the projection's 4 weights); at 3,000 they do not fit
    beside the blocks and each query block reads them again."""
    net, plan = _attention_plan(glb_words)
    fused = [g for g in plan.tiling if g["last"] > g["first"]]
    assert plan.mode == "depth-first" and len(fused) == 1 and fused[0]["first"] == 0 and fused[0]["key_rows"]
    g = fused[0]
    group = tuple(net.layers[g["first"]:g["last"] + 1])
    walk = walk_attention(group, g["tile_rows"], g["key_rows"], g["weights_on_chip"], g["operands_on_chip"],
                          g["head_rows"])
    assert sum(run.dram_words for run in plan.runs[g["first"]:g["last"] + 1]) == walk.dram_words
    assert g["peak_intermediate_words"] == walk.peak_words < glb_words < 32 * 256
    assert g["rescale_ops"] == 3 * walk.correction_elements + 2 * walk.rescale_elements
    assert g["operands_on_chip"] == (glb_words == 6000)
    assert (walk.dram_words == 4 * 512 + 4) == (glb_words == 6000)


def test_key_blocks_worked_example():
    """docs/fusion.md's hand count: 2 heads of 4 dims, 16 query tokens and 16 keys, then an 8 -> 8 projection; query
    blocks of 4 tokens, key blocks of 4 keys."""
    layers = (Layer.attention_scores(16, 16, 4, heads=2), Layer.attention_context(16, 16, 4, heads=2),
              Layer.fc(8, 8, batch=16))
    walk = walk_attention(layers, 4, 4, True)
    assert walk.dram_input_words == 16 * 8                     # Q: 16 tokens x 2 heads x 4 dims, once
    assert walk.dram_operand_words == 4 * 2 * (16 * 4 * 2)      # K and V (16 keys x 4 dims x 2 heads) per query block
    assert walk.dram_weight_words == 64 and walk.dram_output_words == 16 * 8
    assert walk.dram_words == 1344
    assert walk.peak_words == 4 * 8 + 4 * 4 * 2 + 4 * 8 + 4 * 2 * 2 == 112   # Q block, score block, acc, stats
    assert walk.correction_elements == 4 * 4 * 2 * 3                # 4 query blocks x 4 rows x 2 heads x 3 extra
    assert walk.rescale_elements == walk.correction_elements * (4 + 1)
    assert walk.macs == 2 * 16 * 16 * 4 * 2 + 16 * 64
    sched = key_block_schedule(layers, 4, 4)
    assert sched.blocks == (4, 4, 4, 4) and sched.peak_words(layers) == 112
    query_blocks = walk_group(layers, 4, "recompute", True)
    assert query_blocks.dram_words == 1344                              # the same DRAM words
    assert query_blocks.peak_intermediate_words == 4 * 16 * 2 + 4 * 8 == 160   # all 16 keys' scores + context rows


def test_a_worked_example():
    """docs/fusion.md's hand count: 3x3 conv (8 -> 16 channels, 16 x 16) -> 3x3 depthwise stride 2 (8 x 8) -> 1x1
    (16 -> 8), tiles of 3 output rows."""
    layers = (Layer.conv(8, 16, 3, 16), Layer.conv(16, 16, 3, 8, stride=2, groups=16), Layer.conv(16, 8, 1, 8))
    again, kept = walk_group(layers, 3, "recompute", True), walk_group(layers, 3, "cache", True)
    row_in = 18 * 8                                   # the conv's input box row: 18 columns x 8 channels
    assert again.dram_input_words == (9 + 9 + 6) * row_in     # the conv's 7, 7, 4 rows read 9, 9, 6 input rows
    assert kept.dram_input_words == (9 + 8 + 5) * row_in      # its 7, 6, 3 new rows: the input's halo read again
    assert again.dram_weight_words == 16 * 8 * 9 + 16 * 9 + 8 * 16
    assert again.dram_output_words == 8 * 8 * 8
    assert again.macs - kept.macs == 2 * 16 * 16 * 8 * 9       # two conv rows recomputed
    assert again.chip_written_words - kept.chip_written_words == 2 * 16 * 16
    assert again.chip_read_words == kept.chip_read_words == (7 + 7 + 5) * 17 * 16 + 8 * 8 * 16
    assert again.peak_intermediate_words == kept.peak_intermediate_words == 7 * 17 * 16 + 3 * 8 * 16
    with mock.patch.object(groups, "layer_runs", _compulsory_runs):
        fits = {glb: groups.group_cost(layers, 0, tiny_accelerator(glb), NO_CACHE, "edp", 3, "cache")
                for glb in (2288, 2296, 3712, 3720)}
    assert fits[2288] is None and not fits[2296].weights_on_chip and not fits[3712].weights_on_chip
    assert fits[3720].weights_on_chip and fits[3720].dram_words == kept.dram_words == 5104
    assert fits[3712].dram_words == 5104 - 1424 + 3 * 1152 + 3 * 144 + 3 * 128    # each tile reads them again


def test_the_kernels_tile_runs_move_at_least_the_walks_words():
    """With the real mapper: the tile layers are the walk's, and each run's DRAM words are at least the words it
    must move (a mapping may fetch a word more than once, never less)."""
    layers = _net().layers[1:4]            # expand -> depthwise 3x3 -> project, 12 rows
    cost = groups.group_cost(layers, 1, tiny_accelerator(4096), tiny_cache(), "edp", 4, "cache")
    walk = walk_group(layers, 4, "cache", cost.weights_on_chip)
    assert tuple(tuple((run.layer.Q, times) for run, times in parts) for parts in cost.runs) == walk.runs
    for parts in cost.runs:
        for run, _ in parts:
            assert run.dram_words >= _compulsory_words(run.layer, run.residency)
    assert cost.dram_words >= walk.dram_words


# ---- resident plans -------------------------------------------------------------------------------------------------

@st.composite
def graphs(draw):
    """A small network on one map size: each layer reads the network's input, one earlier layer's output, or a
    concatenation of two or three earlier outputs; some add an earlier output of their channels (a shortcut)."""
    hw = draw(st.sampled_from([4, 6, 8]))
    n = draw(st.integers(2, 6))
    layers, sources, skips = [], [], []
    for i in range(n):
        k = draw(st.sampled_from([2, 4, 8]))
        options = ["input"] + (["one"] if i else []) + (["concat"] if i >= 2 else [])
        how = draw(st.sampled_from(options))
        if how == "input":
            producers, channels = (-1,), 3
        elif how == "one":
            producers = (draw(st.integers(0, i - 1)),)
            channels = layers[producers[0]].K * layers[producers[0]].G
        else:
            producers = tuple(sorted(draw(st.sets(st.integers(0, i - 1), min_size=2, max_size=min(3, i)))))
            channels = sum(layers[p].K * layers[p].G for p in producers)
        kernel = draw(st.sampled_from([1, 3]))
        depthwise = how != "concat" and kernel == 3 and draw(st.booleans())
        layers.append(Layer.conv(channels, channels if depthwise else k, kernel, hw,
                                 groups=channels if depthwise else 1, name=f"l{i}"))
        sources.append(producers)
        same = [p for p in range(i) if layers[p].K * layers[p].G == layers[i].K * layers[i].G]
        if same and draw(st.booleans()):
            skips.append((draw(st.sampled_from(same)), i))
    glb = draw(st.sampled_from([256, 1024, 2048, 4096, 16384]))
    return Network("random", layers, skips=tuple(skips), sources=tuple(sources)), glb


def _check_resident(net, glb_words):
    acc = tiny_accelerator(glb_words)
    with mock.patch.object(resident_mode, "layer_runs", _compulsory_runs):
        plan = get_fusion_mode("resident").plan(net, acc, _NoMapper(), "edp")
    capacity = acc.levels[1].capacity_words
    cached = {i for i, run in enumerate(plan.runs) if run.residency is not None and W in run.residency.resident}
    walk = walk_resident(net, {a.producers for a in plan.activations}, cached)
    assert plan.pinned_weight_words == sum(net.layers[i].param_words for i in cached)
    for i, (run, step) in enumerate(zip(plan.runs, walk)):
        resident = () if run.residency is None else run.residency.resident
        assert (I in resident, O in resident, W in resident) == \
            (step.inputs_on_chip, step.outputs_on_chip, step.weights_on_chip), i
        # the plan charges what the mapping does not move (`plan.PlanTraffic`): the residual adds' shortcut reads from
        # where the shortcut lives, and a write of the output into each further tensor on chip it is part of
        assert (run.traffic.dram_read_words, run.traffic.chip_read_words) == \
            (step.shortcut_dram_words, step.shortcut_chip_words), i
        assert run.dram_words == step.dram_read_words + step.dram_written_words + step.shortcut_dram_words, i
        layer = net.layers[i]
        mapped_dram = run.dram_words - run.traffic.dram_read_words
        assert layer.weight_words + layer.input_words + layer.output_words - mapped_dram \
            + run.traffic.chip_written_words == step.chip_read_words + step.chip_written_words, i
        assert plan.held_words(i) == step.on_chip_words < capacity, i
        if run.residency is not None:
            assert run.residency.free_words == rounded_capacity(capacity - step.on_chip_words), i


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(graphs())
def test_a_resident_plans_traffic_equals_the_literal_walk(case):
    _check_resident(*case)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(graphs())
def test_a_resident_plans_traffic_equals_the_literal_walk_long(case):
    _check_resident(*case)


def test_the_inception_module_walks_as_its_hand_count():
    """test_graph's inception-like module with every tensor on chip: the words alive per layer are its hand count
    plus the pinned weights, and only the stem's input and the last layer's output cross DRAM."""
    net = _inception()
    acts = {a.producers for a in activations(net)}
    walk = walk_resident(net, acts, set(range(len(net.layers))))
    pinned = sum(layer.param_words for layer in net.layers)
    assert [step.on_chip_words - pinned for step in walk] == [1152, 2880, 3664, 3664, 2880, 1728]
    assert [step.dram_read_words + step.dram_written_words for step in walk] == \
        [net.layers[0].input_words, 0, 0, 0, 0, net.layers[5].output_words]
    _check_resident(net, 65536)


# ---- whole depth-first plans ----------------------------------------------------------------------------------------

def _check_depth_first_plan(layers, glb_words):
    """The depth-first planner over a chain, with compulsory runs: its DRAM words per inference are the walks' of
    the groups it chose (or of the resident plan it took instead), layer by layer."""
    net = Network("chain", list(layers))
    acc = tiny_accelerator(glb_words)
    with mock.patch.object(groups, "layer_runs", _compulsory_runs), \
            mock.patch.object(resident_mode, "layer_runs", _compulsory_runs), \
            mock.patch("cosearch.fusion.modes.none.layer_run", _compulsory_run):
        plan = get_fusion_mode("depth-first").plan(net, acc, _NoMapper(), "edp")
    _check_plan_against_walks(net, layers, plan)
    return plan


def _check_plan_against_walks(net, layers, plan):
    if plan.mode == "resident":
        cached = {i for i, run in enumerate(plan.runs) if run.residency is not None and W in run.residency.resident}
        walk = walk_resident(net, {a.producers for a in plan.activations}, cached)
        assert plan.dram_words == sum(step.dram_read_words + step.dram_written_words for step in walk)
        return
    assert [(g["first"], g["last"]) for g in plan.tiling] == \
        [(g["first"], g["last"]) for g in sorted(plan.tiling, key=lambda g: g["first"])]
    assert sum(g["last"] - g["first"] + 1 for g in plan.tiling) == len(layers)
    for g in plan.tiling:
        group = tuple(layers[g["first"]:g["last"] + 1])
        walk = walk_group(group, g["tile_rows"], g["halo"], g["weights_on_chip"])
        assert sum(run.dram_words for run in plan.runs[g["first"]:g["last"] + 1]) == walk.dram_words
        assert g["peak_intermediate_words"] == (walk.peak_intermediate_words if len(group) > 1 else 0)
        assert sum(sum(part.layer.macs * times for part, times in run.parts) if run.parts else run.layer.macs
                   for run in plan.runs[g["first"]:g["last"] + 1]) == walk.macs


PLAN_CASES = st.tuples(chains(), st.sampled_from([512, 2048, 8192, 65536]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(PLAN_CASES)
def test_a_depth_first_plans_traffic_equals_the_walks_of_its_groups(case):
    (layers, _, _), glb_words = case
    _check_depth_first_plan(layers, glb_words)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(PLAN_CASES)
def test_a_depth_first_plans_traffic_equals_the_walks_of_its_groups_long(case):
    (layers, _, _), glb_words = case
    _check_depth_first_plan(layers, glb_words)


def test_a_group_that_leaves_its_mappings_too_little_room_is_skipped_not_fatal():
    """Two 1x1 layers (23 x 23, then stride 2) on a 512-word GLB: some tilings of the pair leave fewer free words
    than a (compulsory) mapping needs, and raise `NoValidMapping`; the planner passes those over and plans with a
    tiling that fits (held to the walks like any plan), never one that raised."""
    from cosearch.fusion.modes import depth_first

    layers = (Layer.conv(2, 2, 1, 23), Layer.conv(2, 2, 1, 12, stride=2))
    tried = []

    def recorded(group, first, *args):
        rows, halo = args[4], args[5]
        try:
            tiling = depth_first_group_tiling(group, first, *args)
        except NoValidMapping:
            tried.append((len(group), rows, halo, "no room"))
            raise
        tried.append((len(group), rows, halo, "fits"))
        return tiling

    depth_first_group_tiling = depth_first.group_tiling
    with mock.patch.object(depth_first, "group_tiling", recorded):
        plan = _check_depth_first_plan(layers, 512)
    skipped = {(rows, halo) for n, rows, halo, what in tried if n == 2 and what == "no room"}
    assert skipped, "no tiling of the pair raised: the case no longer exercises the skip"
    assert plan.mode == "depth-first"
    for g in plan.tiling:
        if g["last"] > g["first"]:
            assert (g["tile_rows"], g["halo"]) not in skipped