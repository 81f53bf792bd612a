"""build_torch / from_torch: the runnable subnet and the extracted layers agree with to_network."""
import warnings
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nets import Layer
from nets import count_params, largest_config, sample_configs, smallest_config, to_network
from nets.torch_build import build_torch
from nets.torch_import import from_torch


def _random_small_configs():
    # 20 random configs of both MobileNet spaces at the smallest resolutions to keep the test fast
    configs = sample_configs("ofa_mbv3_w1.2", 10, 2024) + sample_configs("ofa_proxyless_w1.3", 10, 2025)
    return [c.replace(r=128 + 4 * (i % 5)) for i, c in enumerate(configs)]


@pytest.mark.slow
@pytest.mark.parametrize("config", _random_small_configs(), ids=lambda c: f"{c.space}-r{c.r}")
def test_from_torch_of_build_torch_equals_to_network(config):
    model = build_torch(config)
    extracted = from_torch(model, torch.randn(1, 3, config.r, config.r))
    expected = to_network(config)
    assert len(extracted) == len(expected)
    for got, want in zip(extracted.layers, expected.layers):
        assert got == want, (got.name, want.name)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resnet_subnets_agree_and_count_params(seed):
    config = sample_configs("ofa_resnet50", 1, seed)[0].replace(r=128 + 16 * seed)
    model = build_torch(config)
    assert from_torch(model, torch.randn(1, 3, config.r, config.r)).layers == to_network(config).layers
    assert sum(p.numel() for p in model.parameters()) == count_params(config)


@pytest.mark.parametrize("space", ["ofa_mbv3_w1.2", "ofa_proxyless_w1.3"])
def test_count_params_equals_torch_parameters(space):
    for config in (largest_config(space), smallest_config(space)):
        assert sum(p.numel() for p in build_torch(config).parameters()) == count_params(config)


@pytest.mark.slow
def test_build_torch_runs_and_options_drop_residuals_and_bn():
    config = largest_config("ofa_mbv3_w1.2")
    model = build_torch(config)
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 1000)
    assert model.forward_pre_gap(torch.randn(1, 3, 64, 64)).shape == (1, 1152, 2, 2)
    plain = build_torch(config, batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    # same weights with and without residuals: outputs differ only if skips are really removed
    no_skip = build_torch(config, residual=False)
    no_skip.load_state_dict(model.state_dict())
    model.eval(), no_skip.eval()
    x = torch.randn(1, 3, 64, 64)
    assert not torch.allclose(model(x), no_skip(x))
    assert from_torch(no_skip, x).layers == from_torch(model, x).layers


class _Toy(nn.Module):
    """Grouped, dilated, non-square-stride convs, a shared conv called twice, a linear on tokens."""

    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(8, 16, (3, 5), stride=(1, 2), padding=(1, 2), groups=4)
        self.dilated = nn.Conv2d(16, 16, 3, dilation=2, padding="same")
        self.shared = nn.Conv2d(16, 16, 1)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        y = self.shared(self.shared(self.dilated(self.grouped(x))))
        tokens = y.flatten(2).transpose(1, 2)  # [N, H*W, C]
        return self.head(tokens)


def test_from_torch_reads_real_shapes_groups_strides_dilations():
    net = from_torch(_Toy(), torch.randn(2, 8, 10, 20))
    grouped, dilated, shared1, shared2, head = net.layers
    assert grouped == Layer(R=5, S=3, P=10, Q=10, C=2, K=4, N=2, G=4, stride_w=2, stride_h=1)
    assert dilated == Layer(R=3, S=3, P=10, Q=10, C=16, K=16, N=2, dilation_w=2, dilation_h=2)
    assert shared1 == shared2 and shared1.name == shared2.name == "shared"
    assert head == Layer.fc(16, 10, batch=2 * 10 * 10)


def test_from_torch_restores_mode_and_warns_on_unsupported_layers():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(4, 4, 2, stride=2), nn.BatchNorm2d(4))
    model.train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = from_torch(model, torch.randn(1, 3, 8, 8))
    assert len(net) == 1 and model.training
    assert any("ConvTranspose2d" in str(w.message) for w in caught)
    assert model[2].num_batches_tracked.item() == 0  # the pass did not touch BN statistics
    with pytest.raises(ValueError, match="no nn.Conv2d or nn.Linear"):
        from_torch(nn.ReLU(), torch.randn(1, 3))


class _Conv(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.w = nn.Parameter(weight)

    def forward(self, x):
        return F.conv2d(x, weight=self.w, stride=2, groups=2)


class _EitherForm(nn.Module):
    """A call written by keyword (`by_keyword`) or in its positional form."""

    def __init__(self, by_keyword: bool):
        super().__init__()
        self.by_keyword = by_keyword


class _Products(_EitherForm):
    def forward(self, a, b):
        return F.linear(a, weight=b) if self.by_keyword else torch.matmul(a, b.transpose(0, 1))


class _Attention(_EitherForm):
    def forward(self, q, k, v, mask):
        if self.by_keyword:
            return F.scaled_dot_product_attention(query=q, key=k, value=v, attn_mask=mask)
        return F.scaled_dot_product_attention(q, k, v, mask)


def _unnamed(module, inputs):
    return [replace(layer, name="") for layer in from_torch(module, inputs).layers]


def test_functional_calls_by_keyword_read_as_their_module_or_positional_forms():
    """F.conv2d with its weight, stride and groups by keyword is the nn.Conv2d it computes; F.linear with an activation
    as its weight (by keyword) is the product x @ w^T; F.scaled_dot_product_attention with its operands and mask by
    keyword is the positional call (scores, mask, context)."""
    x = torch.randn(1, 4, 9, 9)
    assert _unnamed(_Conv(torch.randn(6, 2, 3, 3)), x) == _unnamed(nn.Conv2d(4, 6, 3, stride=2, groups=2), x)
    a, b = torch.randn(3, 5, 8), torch.randn(7, 8)
    assert _unnamed(_Products(True), (a, b)) == _unnamed(_Products(False), (a, b))
    q, k, v, mask = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 6, 8), torch.randn(2, 4, 6, 8), torch.ones(5, 6).bool()
    by_keyword = _unnamed(_Attention(True), (q, k, v, mask))
    assert by_keyword == _unnamed(_Attention(False), (q, k, v, mask)) and len(by_keyword) == 2
    assert [op.kind for op in by_keyword[0].elementwise] == ["scale", "mask", "softmax"]
