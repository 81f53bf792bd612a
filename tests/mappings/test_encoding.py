"""The importance-based encoding: decode(x) is always a valid-shape mapping; encode inverts decode."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accel_models import TENSORS, Accelerator, Dataflow, presets
from accel_models.cost_model import evaluate_batch
from accel_models.result import BAD_BYPASS, BAD_FACTORS, SPATIAL_OVERFLOW
from mappings import Encoding, Mapping
from nets import DIMS, Layer
from nets.problem_shape import tensor_dims

LAYERS = [Layer.conv(64, 64, 3, 56, name="res2a_3x3"), Layer.conv(256, 64, 1, 56, name="res2a_1x1"),
          Layer.fc(2048, 1000, name="fc"), Layer.conv(144, 144, 3, 56, groups=144, name="dw3x3"),
          Layer.conv(32, 64, 3, 28, stride=2, name="stride2"), Layer.conv(16, 16, 3, 14, dilation=2, name="dil2")]

layer_shapes = st.builds(
    lambda r, s, p, q, c, k, n, g, sw, dw: Layer(R=r, S=s, P=p, Q=q, C=c, K=k, N=n, G=g, stride_w=sw,
                                                 stride_h=sw, dilation_w=dw, dilation_h=dw),
    st.sampled_from([1, 3, 5]), st.sampled_from([1, 3, 7]), st.integers(1, 56), st.integers(1, 30),
    st.sampled_from([1, 3, 16, 96, 128]), st.sampled_from([1, 2, 64, 256, 1000]), st.sampled_from([1, 2, 4]),
    st.sampled_from([1, 1, 144]), st.sampled_from([1, 2]), st.sampled_from([1, 2]))


def assert_valid_shape(enc: Encoding, m) -> None:
    """Factors multiply to the bounds, fan-outs hold, one axis per dim, orders are permutations,
    keep/bypass and the dataflow are honoured."""
    acc, layer = enc.accelerator, enc.layer
    total = (m.temporal * m.spatial_x * m.spatial_y).prod(axis=1)
    assert (total == np.array(layer.bounds)).all()
    assert (m.temporal >= 1).all() and (m.spatial_x >= 1).all() and (m.spatial_y >= 1).all()
    fan = np.array([[lv.fanout_x, lv.fanout_y] for lv in acc.levels])
    assert (m.spatial_x.prod(axis=2) <= fan[:, 0]).all() and (m.spatial_y.prod(axis=2) <= fan[:, 1]).all()
    assert not ((m.spatial_x > 1) & (m.spatial_y > 1)).any()
    assert (np.sort(m.order, axis=2) == np.arange(8)).all()
    assert (np.sort(m.spatial_order, axis=2) == np.arange(8)).all()
    assert (m.keep[:, 0] == 1).all()
    allowed = np.array([[t in lv.keeps for t in TENSORS] for lv in acc.levels])
    assert not (m.keep.astype(bool) & ~allowed).any()
    df = acc.dataflow
    if df is not None:
        for l, lv in enumerate(acc.levels):
            for axis, names in ((m.spatial_x, df.axis_dims("X", lv.name)), (m.spatial_y, df.axis_dims("Y", lv.name))):
                if names:
                    banned = [i for i, d in enumerate(DIMS) if d not in names]
                    assert (axis[:, l, banned] == 1).all()
    res = evaluate_batch(layer, acc, m)
    assert not np.isin(res.reason, [BAD_FACTORS, SPATIAL_OVERFLOW, BAD_BYPASS]).any()


def decode_both(enc: Encoding, x: np.ndarray):
    fast, ref = enc.decode(x), enc.decode(x, fast=False)
    for name, a, b in zip(fast._fields, fast, ref):
        assert np.array_equal(a, b), f"numba and numpy decoders differ in {name}"
    return fast


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), layer=layer_shapes)
def test_decode_valid_shape_on_every_corpus_architecture(corpus_archs, data, layer):
    name = data.draw(st.sampled_from(sorted(corpus_archs)))
    for lay in (corpus_archs[name].layer, layer):
        enc = Encoding(lay, corpus_archs[name].accelerator, bypass=data.draw(st.sampled_from(["auto", "search"])))
        x = data.draw(arrays(np.float64, (6, enc.size), elements=st.floats(0.0, 1.0)))
        assert_valid_shape(enc, decode_both(enc, x))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), layer=layer_shapes)
def test_decode_valid_shape_with_several_fanouts(odd_accelerators, data, layer):
    acc = data.draw(st.sampled_from(odd_accelerators))
    enc = Encoding(layer, acc, bypass="search")
    x = data.draw(arrays(np.float64, (6, enc.size), elements=st.floats(0.0, 1.0)))
    assert_valid_shape(enc, decode_both(enc, x))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), layer=layer_shapes)
def test_decode_valid_shape_on_every_preset(data, layer):
    acc = presets.get_preset(data.draw(st.sampled_from(sorted(presets.PRESETS))))
    for lay in (data.draw(st.sampled_from(LAYERS)), layer):
        enc = Encoding(lay, acc)
        x = data.draw(arrays(np.float64, (6, enc.size), elements=st.floats(0.0, 1.0)))
        assert_valid_shape(enc, decode_both(enc, x))


def test_random_x_decodes_to_mappings_that_fit(corpus_archs):
    """The capacity repair: random genes give mappings the cost model accepts."""
    rng = np.random.default_rng(0)
    for case in corpus_archs.values():
        enc = Encoding(case.layer, case.accelerator)
        res = evaluate_batch(case.layer, case.accelerator, enc.decode(rng.random((256, enc.size))))
        assert res.valid.mean() > 0.95, case.accelerator.name


def _loops(m, b=0):
    """The mapping as what the cost model sees: per level the loops that exist, in order, and keep."""
    out = []
    for l in range(m.num_levels):
        out.append((tuple((d, m.temporal[b, l, d]) for d in m.order[b, l] if m.temporal[b, l, d] > 1),
                    tuple((d, m.spatial_y[b, l, d]) for d in m.spatial_order[b, l] if m.spatial_y[b, l, d] > 1),
                    tuple((d, m.spatial_x[b, l, d]) for d in m.spatial_order[b, l] if m.spatial_x[b, l, d] > 1),
                    tuple(m.keep[b, l])))
    return out


def test_encode_inverts_decode_on_the_corpus(corpus_cases):
    """Every valid corpus mapping is reachable: decode(encode(m)) has m's loops, hence m's costs."""
    checked = 0
    for case in corpus_cases:
        if not case.timeloop["valid"]:
            continue
        enc = Encoding(case.layer, case.accelerator, bypass="search")
        back = enc.decode(enc.encode(case.mapping))
        assert _loops(back) == _loops(case.mapping), case.id
        checked += 1
    assert checked > 200


def test_encode_accepts_a_mapping_object(mapper_bench):
    case, _ = mapper_bench["eyeriss_alexnet_conv2"]
    enc = Encoding(case.layer, case.accelerator)
    x = enc.encode(Mapping.from_arrays(case.mapping))
    a = evaluate_batch(case.layer, case.accelerator, enc.decode(x))
    b = evaluate_batch(case.layer, case.accelerator, case.mapping)
    assert a.cycles[0] == b.cycles[0] == case.timeloop["cycles"]
    assert a.energy_pj[0] == pytest.approx(b.energy_pj[0], rel=1e-12)


def test_genes_follow_the_space(mapper_bench):
    case, _ = mapper_bench["eyeriss_alexnet_conv2"]    # 5 levels, 6 dims > 1, one 14x12 fan-out
    enc = Encoding(case.layer, case.accelerator)
    assert enc.size == 5 * 6 + 4 * 6 + 3 * 6 + 2 == len(enc.names)   # + one fill gene per array axis
    assert {"spatial_fill[shared_glb,X]", "spatial_fill[shared_glb,Y]"} <= set(enc.names)
    assert not any(n.startswith("keep") for n in enc.names)   # every level keeps a fixed subset
    assert "tile[psum_spad,K]" in enc.names and "order[DRAM,N]" not in enc.names
    dw, _ = mapper_bench["mesh16_mbv2_dw3x3"]                # GLB and RF may keep anything: searched
    keeps = [n for n in Encoding(dw.layer, dw.accelerator).names if n.startswith("keep")]
    assert len(keeps) == 6
    assert not any(n.startswith("keep") for n in Encoding(dw.layer, dw.accelerator, bypass="none").names)


def test_importance_order_and_ratios():
    """Highest importance = outermost loop; a ratio of 1 takes the whole dim, 0 leaves it to the level above."""
    from accel_models import Accelerator, StorageLevel

    acc = Accelerator("two", (StorageLevel("DRAM"), StorageLevel("Buf", capacity_words=10**6)), 1.0)
    layer = Layer(P=8, C=4, K=6)
    enc = Encoding(layer, acc, bypass="none")
    x = np.zeros(enc.size)
    order = {n: i for i, n in enumerate(enc.names)}
    x[order["order[Buf,K]"]], x[order["order[Buf,P]"]], x[order["order[Buf,C]"]] = 0.9, 0.5, 0.1
    x[order["tile[Buf,P]"]], x[order["tile[Buf,C]"]], x[order["tile[Buf,K]"]] = 1.0, 0.0, 0.5
    m = enc.decode(x)
    assert [DIMS[d] for d in m.order[0, 1][:3]] == ["K", "P", "C"]
    assert m.temporal[0, 1, DIMS.index("P")] == 8 and m.temporal[0, 1, DIMS.index("C")] == 1
    assert m.temporal[0, 1, DIMS.index("K")] in (2, 3)       # nearest divisor of 6 to sqrt(6)
    assert m.temporal[0, 0, DIMS.index("C")] == 4


def test_capacity_repair_clips_to_the_largest_fitting_tile():
    from accel_models import Accelerator, StorageLevel

    acc = Accelerator("tiny", (StorageLevel("DRAM"), StorageLevel("RF", keeps=("Weights",), capacity_words=12)), 1.0)
    enc = Encoding(Layer(C=16, K=16), acc)
    m = enc.decode(np.ones(enc.size))            # wants all of C and K in the 12-word RF
    w = m.temporal[0, 1, DIMS.index("C")] * m.temporal[0, 1, DIMS.index("K")]
    assert w <= 12 and evaluate_batch(enc.layer, acc, m).valid[0]


def test_auto_keep_keeps_the_reused_tensors_that_fit():
    """Keep genes in the auto band: a level keeps a tensor whose tile it rereads (a loop over a dim the tensor does not
    depend on, where nothing below catches the reuse) if it still fits, and the auto tensors leave the tiles alone."""
    from accel_models import Accelerator, StorageLevel

    acc = Accelerator("pw", (StorageLevel("DRAM"), StorageLevel("Buf", capacity_words=1000),
                             StorageLevel("RF", capacity_words=20)), 1.0)
    enc = Encoding(Layer(P=7, C=4, K=8), acc)
    genes = {"order[RF,C]": 0.9, "order[RF,K]": 0.5, "order[RF,P]": 0.1, "tile[RF,C]": 0.5, "tile[RF,K]": 1.0,
             "tile[RF,P]": 0.0, "order[Buf,C]": 0.9, "order[Buf,P]": 0.5, "order[Buf,K]": 0.1, "tile[Buf,C]": 1.0,
             "tile[Buf,P]": 1.0}
    x = np.full(enc.size, 0.5)                  # every keep gene in the auto band
    for name, v in genes.items():
        x[enc.names.index(name)] = v
    m = decode_both(enc, x)
    C, K = DIMS.index("C"), DIMS.index("K")
    assert (m.temporal[0, 2, C], m.temporal[0, 2, K]) == (2, 8)      # RF: C2 K8, as the tile genes ask
    kept = {lv: {t for t, k in zip(TENSORS, m.keep[0, l]) if k} for l, lv in ((1, "Buf"), (2, "RF"))}
    # RF: weights reused across the Buf's inner P loop, inputs across K; outputs (across C) would not fit: 16 + 2 + 8
    # Buf: outputs reread across its C loop; the weights' reuse across P is the RF's; inputs have no K loop there
    assert kept == {"Buf": {"Outputs"}, "RF": {"Weights", "Inputs"}}
    x[[enc.names.index(f"keep[{lv},{t}]") for lv in ("Buf", "RF") for t in TENSORS]] = 0.75
    m = decode_both(enc, x)                     # all kept: the repair makes the RF room for the outputs
    assert m.keep[0, 1:].all() and (m.temporal[0, 2, C], m.temporal[0, 2, K]) == (1, 8)


def test_dataflow_constrains_spatial_dims_and_order():
    rng = np.random.default_rng(1)
    layer = LAYERS[1]
    for name in ("eyeriss", "nvdla_256", "shidiannao"):
        acc = presets.get_preset(name)
        enc = Encoding(layer, acc)
        m = enc.decode(rng.random((200, enc.size)))
        assert_valid_shape(enc, m)
        stationary = acc.dataflow.stationary
        if stationary not in TENSORS:
            continue
        idx = {DIMS.index(d) for d in tensor_dims(stationary)}
        for l in enc.pe_levels():
            for b in range(len(m.order)):
                loops = [d for d in m.order[b, l] if m.temporal[b, l, d] > 1]
                inside = [d in idx for d in loops]
                assert inside == sorted(inside, reverse=True), (name, l, loops)


def test_decode_rejects_bad_shapes(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    enc = Encoding(case.layer, case.accelerator)
    with pytest.raises(ValueError, match=r"shape \[B, 48\]"):
        enc.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="bypass must be one of"):
        Encoding(case.layer, case.accelerator, bypass="maybe")


def test_fixed_keep_pins_levels(mapper_bench):
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    enc = Encoding(case.layer, case.accelerator, fixed_keep={"GLB": ("Weights",), "DRAM": TENSORS})
    assert [n for n in enc.names if n.startswith("keep")] == [f"keep[RF,{t}]" for t in TENSORS]
    m = decode_both(enc, np.random.default_rng(0).random((50, enc.size)))
    assert (m.keep[:, 1] == [1, 0, 0]).all() and (m.keep[:, 0] == 1).all()
    with pytest.raises(ValueError, match="no storage level named"):
        Encoding(case.layer, case.accelerator, fixed_keep={"L9": ()})


def _mesh16_mapping(enc, spatial_x, spatial_y):
    """A mesh16 depthwise mapping with the given spatial factors on GLB's fan-out ({dim: factor}), the rest of each
    dim at DRAM."""
    m = Mapping.from_arrays(enc.decode(np.full((1, enc.size), 0.5)), 0).to_arrays(enc.accelerator)
    glb = enc.accelerator.level_index("GLB")
    m.spatial_x[0, glb] = 1
    m.spatial_y[0, glb] = 1
    m.temporal[0] = 1
    for axis, factors in ((m.spatial_x, spatial_x), (m.spatial_y, spatial_y)):
        for d, f in factors.items():
            axis[0, glb, DIMS.index(d)] = f
    m.temporal[0, 0] = np.array(enc.layer.bounds) // (m.spatial_x[0] * m.spatial_y[0]).prod(axis=0)
    return m, glb


def test_axis_fill_uses_the_whole_axis_with_the_nearest_factors(mapper_bench):
    """16 = 2 x 8 = 4 x 4 = 8 x 2 from P and Q (56 each): decoded one dim at a time P takes 14; with the fill gene on,
    the axis gets 16, from the factors nearest P14 x Q1 (P8 x Q2: |log 8/14| + |log 2|, the least change)."""
    case, _ = mapper_bench["mesh16_mbv2_dw3x3"]
    enc = Encoding(case.layer, case.accelerator)
    m, glb = _mesh16_mapping(enc, {"P": 14}, {"G": 16})
    x = enc.encode(m)
    fill_x = enc.names.index("spatial_fill[GLB,X]")
    assert x[fill_x] == pytest.approx(0.45) and x[enc.names.index("spatial_fill[GLB,Y]")] == pytest.approx(0.75)
    plain = decode_both(enc, x[None])                     # off: the plain decode, which encode inverts
    assert plain.spatial_x[0, glb, DIMS.index("P")] == 14 and plain.spatial_x[0, glb].prod() == 14
    x[fill_x] = 0.75
    filled = decode_both(enc, x[None])
    assert filled.spatial_x[0, glb].prod() == 16 and filled.spatial_y[0, glb].prod() == 16
    assert filled.spatial_x[0, glb, DIMS.index("P")] == 8 and filled.spatial_x[0, glb, DIMS.index("Q")] == 2
    assert_valid_shape(enc, filled)
    full, _ = _mesh16_mapping(enc, {"P": 2, "Q": 8}, {"G": 16})
    y = enc.encode(full)                                  # a full axis: the gene on (filling changes nothing)
    assert y[fill_x] == pytest.approx(0.75)
    assert _loops(decode_both(enc, y[None])) == _loops(full)


def test_groups_go_on_the_axes_that_carry_a_channel_dim():
    """`Dataflow.axis_dims`: G joins an axis listing C or K (unless `groups_on_channels=False`); the decode then
    unrolls a depthwise layer's channels there, and only there."""
    ws = presets.WEIGHT_STATIONARY_CK
    assert (ws.axis_dims("X"), ws.axis_dims("Y")) == (("K", "G"), ("C", "G"))
    assert presets.OUTPUT_STATIONARY_2D.axis_dims("X") == ("P",)
    assert presets.ROW_STATIONARY.axis_dims("X") == ("Q",) and "G" in presets.ROW_STATIONARY.axis_dims("Y")
    off = Dataflow("ws_off", ("K",), ("C",), "Weights", groups_on_channels=False)
    assert (off.axis_dims("X"), off.axis_dims("Y")) == (("K",), ("C",))
    with pytest.raises(ValueError, match="groups_on_channels"):
        Dataflow("bad", ("K",), groups_on_channels="yes")
    dw = Layer(R=3, S=3, P=14, Q=14, G=64)
    g = DIMS.index("G")
    rng = np.random.default_rng(3)
    for name, unrolled in (("nvdla_256", True), ("shidiannao", False)):
        acc = presets.get_preset(name)
        enc = Encoding(dw, acc)
        m = enc.decode(rng.random((300, enc.size)))
        assert_valid_shape(enc, m)
        assert ((m.spatial_x[:, :, g] * m.spatial_y[:, :, g]).max() > 1) == unrolled, name
    acc = presets.get_preset("nvdla_256")
    acc_off = Accelerator(acc.name, acc.levels, acc.mac_energy_pj, acc.clock_ghz, acc.technology_nm, acc.mac_bits, off)
    enc = Encoding(dw, acc_off)
    m = enc.decode(rng.random((300, enc.size)))
    assert (m.spatial_x[:, :, g] * m.spatial_y[:, :, g]).max() == 1


def test_level_axes_constrain_each_fan_out_apart():
    """`Dataflow.level_axes`: on edge_tpu_like the tiles (below GLB) unroll only output rows and columns, the cells
    of a tile (below TILE) only channels, and a depthwise layer's groups nowhere."""
    acc = presets.get_preset("edge_tpu_like")
    glb, tile = acc.level_index("GLB"), acc.level_index("TILE")
    rng = np.random.default_rng(5)
    for layer in (Layer(P=14, Q=14, C=256, K=512), Layer(R=3, S=3, P=14, Q=14, G=64)):
        enc = Encoding(layer, acc)
        m = enc.decode(rng.random((300, enc.size)))
        assert_valid_shape(enc, m)
        sx, sy = m.spatial_x, m.spatial_y
        assert (sx[:, glb] > 1).any(axis=0).nonzero()[0].tolist() in ([], [DIMS.index("Q")])
        assert (sy[:, glb] > 1).any(axis=0).nonzero()[0].tolist() in ([], [DIMS.index("P")])
        assert set((sx[:, tile] > 1).any(axis=0).nonzero()[0]) <= {DIMS.index("K")}
        assert set((sy[:, tile] > 1).any(axis=0).nonzero()[0]) <= {DIMS.index("C")}
        assert (sx[:, :, DIMS.index("G")] * sy[:, :, DIMS.index("G")]).max() == 1
    assert presets.EDGE_TPU_TILED.axis_dims("X") == ("K",)            # levels without an entry: spatial_x / y
    with pytest.raises(ValueError, match="level_axes"):
        Dataflow("bad", ("K",), level_axes=(("GLB", ("Z",), ()),))
    with pytest.raises(ValueError, match="named twice"):
        Dataflow("bad", ("K",), level_axes=(("GLB", ("P",), ()), ("GLB", ("Q",), ())))


@pytest.mark.parametrize("args, kwargs, message", [
    (("acc", "layer"), {}, "Encoding: layer must be a nets.Layer, got Accelerator"),
    (("conv", "acc"), {}, "Encoding: layer must be a nets.Layer, got str 'conv'"),
    (("layer", "eyeriss"), {}, "Encoding: accelerator must be an accel_models.Accelerator, got str 'eyeriss'"),
    (("layer", "acc"), {"fixed_keep": ["GLB"]}, "Encoding: fixed_keep must be a dict {level name: tensors kept} or "
                                                "None, got list"),
    (("layer", "acc"), {"fixed_keep": {"GLB": "Weights"}}, "Encoding.fixed_keep[GLB]: expected a tuple of tensor "
                                                           "names (of Weights, Inputs, Outputs), got str 'Weights'"),
    (("layer", "acc"), {"constraints": {"GLB": 1}}, "Encoding: constraints must be an "
                                                    "accel_models.MapspaceConstraints or None, got dict"),
])
def test_wrong_argument_types_are_named_where_given(args, kwargs, message):
    """A wrong type fails in the constructor naming the argument, not with an AttributeError deep inside."""
    given = {"layer": LAYERS[0], "acc": presets.get_preset("eyeriss")}
    with pytest.raises(ValueError) as info:
        Encoding(*(given.get(a, a) for a in args), **kwargs)
    assert str(info.value).startswith(message)


def test_keep_genes_name_the_keep_genes_read_only():
    """`keep_genes[l, t]` is the index of keep[level l, tensor t] in x (-1 where the keep is not searched), and the
    view cannot be written."""
    acc = presets.get_preset("eyeriss")
    enc = Encoding(LAYERS[1], acc, bypass="search")
    idx = enc.keep_genes
    assert idx.shape == (acc.num_levels, len(TENSORS)) and (idx[0] == -1).all() and (idx >= 0).any()
    for l, level in enumerate(acc.level_names):
        for t, tensor in enumerate(TENSORS):
            name = f"keep[{level},{tensor}]"
            assert idx[l, t] == (enc.names.index(name) if name in enc.names else -1)
    with pytest.raises(ValueError):
        idx[1, 0] = 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 3, 5, 7, 12, 14, 28, 56, 96, 197, 1000]), min_size=8, max_size=8),
       st.booleans())
def test_an_encodings_divisor_table_is_the_table_of_its_bounds(bounds, balanced):
    """Encodings share a table between bounds of the same divisors (balanced tiles): it must equal, array by array,
    the table built from the layer's own bounds."""
    from mappings._factorize import DivisorTable
    from mappings.encoding import _divisor_table
    own, shared = DivisorTable(tuple(bounds), balanced), _divisor_table(tuple(bounds), balanced)
    for name, want in vars(own).items():
        got = getattr(shared, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert _divisor_table((1, 1, 4, 2, 1, 1, 1, 1), balanced) is _divisor_table((1, 1, 4, 1, 1, 1, 1, 1), balanced)
