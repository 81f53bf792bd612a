"""OFA spaces: widths, MAC counts and layer lists against docs/sources.md and OFA's public code."""
import pytest

from nets import Layer
from nets import count_macs, largest_config, smallest_config, to_network
from nets.channels import make_divisible
from nets.spaces import MBV3_W12, PROXYLESS_W13, RESNET50


@pytest.mark.parametrize("value, expected", [(19.2, 24), (28.8, 32), (134.4, 136), (41.6, 40), (249.6, 248),
                                             (3.0, 8), (1152.0, 1152)])
def test_make_divisible_follows_the_tf_slim_rule(value, expected):
    # docs/sources.md: max(8, int(v + 4) // 8 * 8), plus 8 if that is below 0.9 v
    assert make_divisible(value) == expected


def test_mbv3_w12_widths_match_facts():
    # docs/sources.md: widths [24, 24, 32, 48, 96, 136, 192, 1152, 1536], strides 2/2/2/1/2, SE no/yes/no/yes/yes
    s = MBV3_W12
    widths = [s.stem_width, s.first_block_width, *(st.width for st in s.stages), s.final_expand_width,
              s.last_channel]
    assert widths == [24, 24, 32, 48, 96, 136, 192, 1152, 1536]
    assert [st.stride for st in s.stages] == [2, 2, 2, 1, 2]
    assert [st.use_se for st in s.stages] == [False, True, False, True, True]
    assert [st.act for st in s.stages] == ["relu", "relu", "h_swish", "h_swish", "h_swish"]
    assert s.n_slots == 20 and len(s.genes()["d"]) == 5
    assert s.resolutions[0] == 128 and s.resolutions[-1] == 224 and len(s.resolutions) == 25


def test_proxyless_w13_widths_match_facts():
    # docs/sources.md: widths [40, 24, 32, 56, 104, 128, 248, 416, 1664]; up to 4,4,4,4,4,1 blocks
    s = PROXYLESS_W13
    widths = [s.stem_width, s.first_block_width, *(st.width for st in s.stages), s.last_channel]
    assert widths == [40, 24, 32, 56, 104, 128, 248, 416, 1664]
    assert [st.max_depth for st in s.stages] == [4, 4, 4, 4, 4, 1]
    assert s.n_slots == 21


@pytest.mark.parametrize("space, r, picker, expected_macs", [
    ("ofa_mbv3_w1.2", 224, largest_config, 843e6),       # docs/sources.md: about 843 M
    ("ofa_mbv3_w1.2", 128, smallest_config, 65.5e6),     # docs/sources.md: about 65.5 M
    ("ofa_proxyless_w1.3", 224, largest_config, 1005e6),  # docs/sources.md: about 1005 M
    ("ofa_proxyless_w1.3", 128, smallest_config, 88e6),   # docs/sources.md: about 88 M
])
def test_extreme_subnet_macs_within_1_percent_of_facts(space, r, picker, expected_macs):
    macs = count_macs(picker(space, r))
    assert abs(macs - expected_macs) / expected_macs < 0.01


def test_mbv3_largest_layer_list_structure():
    net = to_network(largest_config("ofa_mbv3_w1.2", 224))
    # stem conv + first block (dw, pw) + 20 blocks x (expand, dw, project) + 12 SE blocks x (pool, 2 convs) + head 2
    # convs with the global pool between them + fc
    assert len(net) == 1 + 2 + 20 * 3 + 12 * 3 + 2 + 1 + 1
    assert sum(layer.kind == "pool" for layer in net) == 13
    first = net.layers[0]
    assert (first.R, first.P, first.C, first.K, first.stride_w) == (3, 112, 3, 24, 2)
    dw = net.layers[1]
    assert dw.kind == "depthwise" and (dw.G, dw.C, dw.K, dw.P) == (24, 1, 1, 112)
    # the first SE of stage 1 acts on the 1x1 pooled map: 1x1 convs mid -> make_divisible(mid // 4)
    se = next(layer for layer in net.layers if layer.name.endswith("se.reduce"))
    mid = make_divisible(round(32 * 6))
    assert (se.P, se.Q, se.C, se.K) == (1, 1, mid, make_divisible(mid // 4))
    assert net.layers[-1] == Layer.fc(1536, 1000)
    feature_mix = net.layers[-2]
    assert (feature_mix.P, feature_mix.C, feature_mix.K) == (1, 1152, 1536)
    pool = net.layers[-3]
    assert pool.kind == "pool" and (pool.R, pool.S, pool.P, pool.G) == (7, 7, 1, 1152)
    final_expand = net.layers[-4]
    assert (final_expand.P, final_expand.Q, final_expand.K) == (7, 7, 1152)


def test_depth_switches_blocks_off_and_inactive_slots_are_ignored():
    base = smallest_config("ofa_mbv3_w1.2", 160)
    deeper = base.replace(d=(3, 2, 2, 2, 2))
    assert len(to_network(deeper)) == len(to_network(base)) + 3  # one more expand/dw/project block
    # changing the kernel of an inactive slot (stage 0 slot 3 at depth 2) changes nothing
    ks = list(base.ks)
    ks[3] = 7
    assert to_network(base.replace(ks=ks)).layers == to_network(base).layers
    ks[0] = 7
    assert to_network(base.replace(ks=ks)).macs > to_network(base).macs


def test_resnet50_space_widths_and_depths():
    # OFA ResNets: stem 3x3 convs, 4 stages of bottlenecks on base depths [2, 2, 4, 2] (+0..2 each)
    assert RESNET50.n_slots == 18
    assert [RESNET50.stage_width(3, w) for w in range(3)] == [1328, 1640, 2048]
    largest = to_network(largest_config("ofa_resnet50", 224))
    smallest = to_network(smallest_config("ofa_resnet50", 224))
    n_blocks = lambda net: sum(1 for layer in net if layer.name.endswith("conv2"))
    assert n_blocks(largest) == 18 and n_blocks(smallest) == 10
    assert sum(1 for layer in largest if layer.name.startswith("input_stem")) == 3
    assert sum(1 for layer in smallest if layer.name.startswith("input_stem")) == 2
    # after the stride-2 stem and max-pool, stage 3 runs at 224 / 32 = 7 pixels
    last_conv = [layer for layer in largest if layer.kind == "conv"][-1]
    assert (last_conv.P, last_conv.K) == (7, 2048)
    assert largest.layers[-1] == Layer.fc(2048, 1000)


def test_macs_scale_with_resolution():
    c = largest_config("ofa_proxyless_w1.3")
    ratio = count_macs(c.replace(r=224)) / count_macs(c.replace(r=112 + 16))
    assert 2.5 < ratio < (224 / 128) ** 2 * 1.05
