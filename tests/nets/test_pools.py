"""Max and average pools as layers (`Layer.pool`): their shape against torch's, no parameters, where the zoo and the
importers put them, and their cost: the depthwise layer of the same shape's."""
import pytest
import torch
from torch import nn

from nets import Layer, Network, get_network
from nets.torch_import import from_torch
from nets.zoo import _INCEPTION_V1, _Builder


@pytest.mark.parametrize("size, kernel, stride, padding, ceil_mode", [
    (112, 3, 2, 0, True), (112, 3, 2, 1, False), (56, 3, 2, 0, True), (28, 3, 1, 1, True), (14, 2, 2, 0, True),
    (13, 3, 2, 0, True), (13, 3, 2, 0, False), (27, 2, 2, 0, False), (55, 3, 2, 0, False)])
def test_a_pool_layer_has_the_output_size_and_window_of_torchs_max_pool(size, kernel, stride, padding, ceil_mode):
    b = _Builder("t", size, 1)
    b.conv(3, 8, 1, name="c").pool(kernel, stride, padding, ceil_mode, name="p")
    pool = b.layers[-1]
    out = nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)(torch.zeros(1, 8, size, size)).shape
    assert (pool.Q, pool.P) == tuple(out[-2:]) and b.hw == tuple(out[-2:])
    assert pool.kind == "pool" and (pool.R, pool.S, pool.C, pool.K, pool.G) == (kernel, kernel, 1, 1, 8)
    assert (pool.stride_w, pool.stride_h) == (stride, stride)
    assert pool.macs == out[-1] * out[-2] * 8 * kernel * kernel     # one compare / add per window element


def test_a_pool_holds_no_parameters_and_is_costed_like_a_depthwise_layer():
    pool = Layer.pool(64, 3, 56, 2, name="p")
    depthwise = Layer.conv(64, 64, 3, 56, 2, groups=64, name="d")
    assert pool.shape_key == depthwise.shape_key and pool.group_key != depthwise.group_key
    assert (pool.kind, depthwise.kind) == ("pool", "depthwise")
    assert pool.weight_words == depthwise.weight_words == 9 * 64    # the window, a constant the planners may cache
    net = Network("n", [depthwise, pool])
    assert net.weight_words == 9 * 64                               # the pool's window is not a parameter
    assert [count for _, count in net.unique_layers()] == [1, 1]
    with pytest.raises(ValueError, match="is_pool"):
        Layer(R=3, S=3, P=4, Q=4, C=2, K=2, is_pool=True)
    with pytest.raises(ValueError, match="Layer.pool kernel"):
        Layer.pool(8, (3, 3, 3), 4)


def test_googlenet_runs_its_14_pools_and_their_window_operations():
    """conv1 -> max pool to 56x56x64, conv3 -> max pool to 28x28x192, 9 pool branches (3x3, stride 1, at the
    module's input size and width), max pools before 4a (14x14x480) and 5a (2x2 window, 7x7x832), global pool
    7x7x1024; the convs and the classifier are unchanged."""
    net = get_network("googlenet")
    pools = [layer for layer in net if layer.kind == "pool"]
    sizes = {"3": 28, "4": 14, "5": 7}
    branches = sum(sizes[m[0]] ** 2 * c_in * 9 for m, (c_in, *_) in _INCEPTION_V1.items())
    expected = 56 * 56 * 64 * 9 + 28 * 28 * 192 * 9 + 14 * 14 * 480 * 9 + 7 * 7 * 832 * 4 + 7 * 7 * 1024 + branches
    assert len(pools) == 14 and sum(p.macs for p in pools) == expected == 12_603_584
    assert sum(layer.macs for layer in net if layer.kind != "pool") == 1_498_376_192
    assert all(p.param_words == p.weight_words and p.K == p.C == 1 for p in pools)
    branch = net.layers[[layer.name for layer in net].index("inception3a.branch4.0")]
    conv = [layer.name for layer in net].index("inception3a.branch4.1")
    assert net.input_sources[conv] == (net.layers.index(branch),)   # the projection reads the pool
    assert sum(layer.kind == "pool" for layer in get_network("squeezenet1_0")) == 4
    assert sum(layer.kind == "pool" for layer in get_network("alexnet")) == 3       # AdaptiveAvgPool(6) at 6x6: none
    assert sum(layer.kind == "pool" for layer in get_network("vgg16")) == 5


def test_the_torch_import_reads_pools_and_leaves_out_the_identity():
    class Pools(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.same = nn.MaxPool2d(1, 1)

        def forward(self, x):
            x = self.same(self.conv(x))
            x = nn.functional.avg_pool2d(nn.functional.max_pool2d(x, 2), 3, 1, 1)
            return x.mean((2, 3))

    net = from_torch(Pools(), torch.randn(2, 3, 18, 18))
    assert [layer.kind for layer in net] == ["conv", "pool", "pool", "pool"]
    (_, half, avg, mean) = net.layers
    assert (half.R, half.P, half.stride_w, half.G, half.N) == (2, 8, 2, 8, 2)
    assert (avg.R, avg.P, avg.stride_w) == (3, 8, 1)
    assert (mean.R, mean.S, mean.P, mean.Q) == (8, 8, 1, 1)
    assert net.input_sources == ((-1,), (0,), (1,), (2,)) and net.weight_words == 8 * 3 * 9


@pytest.mark.parametrize("fusion", ["none", "resident"])
def test_a_pool_costs_what_the_depthwise_layer_of_its_shape_costs(fusion):
    from accel_models import get_preset
    from cosearch import MapperSettings, evaluate_network
    from mappings import MappingCache

    preset = get_preset("edge_tpu_like")
    costs = []
    for layer in (Layer.pool(192, 3, 28, 2, name="p"), Layer.conv(192, 192, 3, 28, 2, groups=192, name="d")):
        conv = Layer.conv(64, 192, 1, 57, name="c")
        cost = evaluate_network(Network("n", [conv, layer]), preset, MappingCache(MapperSettings(budget_evals=300)),
                                fusion=fusion)
        costs.append((cost.cycles, round(cost.energy_pj, 3)))
    assert costs[0] == costs[1] and costs[0][0] > 0
