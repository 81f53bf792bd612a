"""Depth-first tiling (`tiling.schedule`) against its literal reference (`_walker.walk_rows`), and its rules."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosearch.fusion import activations
from cosearch.fusion.tiling import schedule, tile_layer
from nets import Layer, Network

from _walker import walk_rows


@st.composite
def chains(draw):
    """A chain of 1-4 convs (1x1, 3x3, 5x5, depthwise, strides 1-2, dilation 1-2), sized from the last layer back:
    each producer's rows are the consumer's input box less its padding (same or valid), plus a stride's floor."""
    n = draw(st.integers(1, 4))
    q = draw(st.integers(1, 24))
    layers = []
    channels = draw(st.sampled_from([2, 4, 8]))
    for _ in range(n):
        k = draw(st.sampled_from([1, 3, 5]))
        s = draw(st.sampled_from([1, 1, 2]))
        d = draw(st.sampled_from([1, 1, 1, 2])) if k > 1 else 1
        depthwise = draw(st.booleans())
        layer = Layer(R=k, S=k, P=q, Q=q, C=1 if depthwise else channels, K=1 if depthwise else channels,
                      G=channels if depthwise else 1, stride_w=s, stride_h=s, dilation_w=d, dilation_h=d)
        layers.append(layer)
        box = (q - 1) * s + (k - 1) * d + 1
        pad = draw(st.sampled_from([0, ((k - 1) * d) // 2]))
        q = max(1, box - 2 * pad + draw(st.integers(0, s - 1)))
    layers.reverse()
    tile = draw(st.integers(1, layers[-1].Q))
    halo = draw(st.sampled_from(["recompute", "cache"]))
    return tuple(layers), tile, halo


def _check(case):
    layers, tile, halo = case
    fast, literal = schedule(layers, tile, halo), walk_rows(layers, tile, halo)
    assert fast == literal
    assert sum(rows[-1] for rows in fast.computed) == layers[-1].Q      # every output row once
    again = schedule(layers, tile, "recompute" if halo == "cache" else "cache")
    for j in range(len(layers) - 1):        # a row nobody reads is not computed; a cached row once
        total = sum(rows[j] for rows in fast.computed)
        other = sum(rows[j] for rows in again.computed)
        assert total <= layers[j].Q if halo == "cache" else total >= other


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(chains())
def test_schedule_equals_the_row_by_row_walk(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(chains())
def test_schedule_equals_the_row_by_row_walk_long(case):
    _check(case)


def test_a_worked_example():
    """docs/fusion.md's example: 3x3 conv (16 rows) -> 3x3 depthwise stride 2 (8 rows) -> 1x1, tiles of 3 rows."""
    layers = (Layer.conv(8, 16, 3, 16), Layer.conv(16, 16, 3, 8, stride=2, groups=16), Layer.conv(16, 8, 1, 8))
    again = schedule(layers, 3, "recompute")
    assert again.computed == ((7, 3, 3), (7, 3, 3), (4, 2, 2))
    assert again.input_rows == (9, 9, 6)
    kept = schedule(layers, 3, "cache")
    assert kept.computed == ((7, 3, 3), (6, 3, 3), (3, 2, 2))       # 16 conv rows once: the halo row kept
    assert kept.alive == again.alive
    assert again.held == kept.held == ((7, 3), (7, 3), (5, 2))    # the last tile: conv rows 12-15 and a padding row
    words = kept.peak_intermediate_words(layers)
    assert words == 7 * 17 * 16 + 3 * 8 * 16     # the depthwise's input box is 17 columns wide


def test_an_intermediate_tensor_in_one_tile_takes_what_the_resident_plan_gives_it():
    """A same-padded 3x3 reads a box two rows and two columns larger than its producer's output: in the home level
    the tensor occupies that box whether a one-tile group or the resident plan keeps it (`Activation.words`)."""
    expand, dw = Layer.conv(8, 16, 1, 12), Layer.conv(16, 16, 3, 12, groups=16)
    net = Network("pair", [expand, dw])
    (tensor,) = activations(net)
    assert tensor.words == 14 * 14 * 16
    assert schedule((expand, dw), 12, "recompute").peak_intermediate_words((expand, dw)) == tensor.words


def test_one_tile_is_the_layers_themselves():
    layers = (Layer.conv(8, 16, 3, 16), Layer.conv(16, 8, 1, 16))
    whole = schedule(layers, 16, "recompute")
    assert whole.computed == ((16, 16),) and tile_layer(layers[0], 16) is layers[0]


def test_bad_tile_rows_and_halo_name_the_field():
    layers = (Layer.conv(8, 16, 3, 16),)
    with pytest.raises(ValueError, match="tile_rows must be an integer in \\[1, 16\\]"):
        schedule(layers, 17, "cache")
    with pytest.raises(ValueError, match="halo must be one of recompute, cache"):
        schedule(layers, 4, "keep")


def test_a_transformers_rows_are_its_tokens():
    """Attention's scores -> context -> projection, tiled by query tokens: the scores of a tile stay on chip."""
    scores = Layer.attention_scores(10, 10, 4, heads=2)
    context = Layer.attention_context(10, 10, 4, heads=2)
    proj = Layer.fc(8, 8, batch=10)
    layers = (scores, context, proj)
    for halo in ("recompute", "cache"):
        fast = schedule(layers, 4, halo)
        assert fast == walk_rows(layers, 4, halo)
        assert fast.computed == ((4, 4, 4), (4, 4, 4), (2, 2, 2)) and fast.input_rows == (4, 4, 2)
    assert tile_layer(scores, 4).N == 4 and tile_layer(scores, 4).K == 10
    assert schedule(layers, 4, "cache").peak_intermediate_words(layers) == 4 * 10 * 2 + 4 * 4 * 2


@pytest.mark.parametrize("tokens, tile", [(12, 5), (16, 4), (7, 7), (9, 1)])
def test_a_chain_by_tokens_holds_each_tiles_tokens(tokens, tile):
    """A chain of linear layers and attention products over the same tokens: every tile computes its tokens in every
    layer and holds them of every intermediate tensor, as the interval walk of cached halos (which has none here)
    finds too."""
    from dataclasses import astuple

    layers = (Layer.attention_scores(tokens, tokens, 4, heads=2), Layer.attention_context(tokens, tokens, 4, heads=2),
              Layer.fc(8, 8, batch=tokens), Layer.fc(8, 16, batch=tokens))
    fast, walked = schedule(layers, tile, "recompute"), schedule(layers, tile, "cache")
    assert astuple(fast)[2:] == astuple(walked)[2:]
    sizes = [min(tokens, lo + tile) - lo for lo in range(0, tokens, tile)]
    assert fast.computed == tuple((s,) * 4 for s in sizes) and fast.held == tuple((s,) * 3 for s in sizes)
