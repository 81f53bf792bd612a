"""from_torch over torch.fx on transformers: the zoo's ViT-B/16, a GPT-style module written here, the elastic
spaces' modules, and the capture rules (linear vs two activations, broadcast batch dims, SDPA with GQA, MHA)."""
import sys
import types
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nets import Layer, build_torch, from_torch, get_network, sample_configs, to_network
from nets.transformer import count_params, gpt2_spec, transformer_network, vit_b16_spec
from nets.transformer.torch_model import build_transformer, example_input


def _same(got, want):
    """Layer for layer: shapes, the activation flag, the name and the element-wise work."""
    assert len(got) == len(want)
    for g, w in zip(got.layers, want.layers):
        assert (g, g.name, g.elementwise) == (w, w.name, w.elementwise)


@pytest.mark.slow
def test_vit_b16_module_equals_the_zoo():
    spec = vit_b16_spec()
    model = build_transformer(spec)
    net = from_torch(model, example_input(spec))
    assert net.meta["capture"] == "fx"
    _same(net, get_network("vit_b16"))
    assert sum(p.numel() for p in model.parameters()) == count_params(spec) == 86_567_656


def _torchvision_models():
    """torchvision.models, pinned in the test extra (torchvision==0.28.0, the release for torch 2.13.0). Its PyPI
    wheel is a CUDA build: beside the CPU build of torch its compiled operators do not load, and importing it
    raises in torchvision._meta_registrations (meta kernels of nms / roi_align). Its models are plain Python and
    need neither, so that one module is left out when the import fails that way."""
    try:
        import torchvision
    except RuntimeError as err:
        if "torchvision::" not in str(err):
            raise
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
        import torchvision
    return torchvision.models


@pytest.mark.slow
def test_torchvision_vit_b_16_equals_the_zoo_and_its_published_macs():
    model = _torchvision_models().vit_b_16().eval()
    net = from_torch(model, torch.randn(1, 3, 224, 224))
    assert net.meta["capture"] == "fx"  # nn.MultiheadAttention inside torchvision's EncoderBlock, traced
    zoo = get_network("vit_b16")
    assert len(net) == len(zoo) == 74
    for g, w in zip(net.layers, zoo.layers):  # torchvision's names differ (encoder_layer_3.mlp.0 vs blocks.3.mlp.fc1)
        assert (g, g.elementwise) == (w, w.elementwise), (g.name, w.name)
    # torchvision's docs, ViT_B_16_Weights.IMAGENET1K_V1: 17.564 GFLOPS (multiply-accumulates), 86,567,656 parameters
    assert sum(p.numel() for p in model.parameters()) == 86_567_656
    assert abs(net.macs / 1e9 - 17.564) / 17.564 < 0.005


class _GPT(nn.Module):
    """A small GPT written out by hand: fused QKV, explicit matmuls, causal mask, softmax, GELU MLP, tied head."""

    def __init__(self, vocab=100, width=64, heads=4, depth=2, context=16):
        super().__init__()
        self.heads = heads
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(nn.ModuleDict({
            "ln1": nn.LayerNorm(width), "qkv": nn.Linear(width, 3 * width), "proj": nn.Linear(width, width),
            "ln2": nn.LayerNorm(width), "fc1": nn.Linear(width, 4 * width), "fc2": nn.Linear(4 * width, width)})
            for _ in range(depth))
        self.ln_f = nn.LayerNorm(width)
        self.register_buffer("mask", torch.tril(torch.ones(context, context, dtype=torch.bool)))

    def forward(self, ids):
        b, t = ids.shape
        x = self.wte(ids) + self.wpe.weight[:t]
        for blk in self.blocks:
            q, k, v = blk["qkv"](blk["ln1"](x)).split(x.shape[-1], dim=-1)
            q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / 4.0)
            att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
            x = x + blk["proj"]((att @ v).transpose(1, 2).reshape(b, t, -1))
            x = x + blk["fc2"](F.gelu(blk["fc1"](blk["ln2"](x))))
        return F.linear(self.ln_f(x)[:, -1:], self.wte.weight)  # tied head, last token


@pytest.mark.slow
def test_handwritten_gpt_equals_the_zoo_plan():
    model = _GPT()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # traced, not the hooks fallback
        net = from_torch(model, torch.randint(0, 100, (1, 16)))
    spec = gpt2_spec("prefill", context=16, width=64, depth=2, heads=4)
    want = transformer_network(spec.__class__(**{**spec.__dict__, "vocab": 100, "positions": 16}))
    assert len(net) == len(want) == 2 * 6 + 1
    for g, w in zip(net.layers, want.layers):
        assert (g, g.elementwise) == (w, w.elementwise), (g.name, w.name)
    assert [layer.kind for layer in net.layers[:6]] == ["fc", "matmul", "matmul", "fc", "fc", "fc"]


@pytest.mark.slow
@pytest.mark.parametrize("space", ["vit_elastic", "gpt_elastic", "gpt_elastic_decode"])
def test_random_elastic_subnets_import_equal_to_their_networks(space):
    for config in sample_configs(space, 10, 7):
        with torch.device("meta"):  # shapes only: no weights initialised, no arithmetic (the ViT-B/16 test runs real)
            model = build_torch(config)
        spec = config.to_spec()
        net = from_torch(model, example_input(spec).to("meta"))
        assert net.meta["capture"] == "fx"
        _same(net, to_network(config))
        assert sum(p.numel() for p in model.parameters()) == count_params(spec)


def test_sdpa_with_grouped_query_attention_shares_the_kv_heads():
    class GQA(nn.Module):
        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

    q, kv = torch.randn(2, 8, 5, 16), torch.randn(2, 2, 5, 16)
    scores, context = from_torch(GQA(), (q, kv, kv)).layers
    assert scores == Layer.attention_scores(5, 5, 16, heads=8, kv_heads=2, batch=2)
    assert context == Layer.attention_context(5, 5, 16, heads=8, kv_heads=2, batch=2)
    assert [op.kind for op in scores.elementwise] == ["scale", "mask", "softmax"]


def test_matmul_batch_dims_and_weight_operands():
    w = nn.Parameter(torch.randn(8, 6))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = w

        def forward(self, a, b, c):
            return a @ self.w, torch.matmul(a, b), torch.bmm(c, c.transpose(1, 2)), torch.matmul(a[0, 0], b)

    a, b, c = torch.randn(3, 4, 5, 8), torch.randn(3, 1, 8, 7), torch.randn(2, 5, 8)
    lin, shared, bmm, broadcast_b = from_torch(M(), (a, b, c)).layers
    assert lin == Layer.fc(8, 6, batch=3 * 4 * 5)                      # a weight: every row meets it
    assert shared == Layer(C=8, K=7, N=5, P=4, G=3, weights_are_activations=True)  # b shared by a's 4 products
    assert bmm == Layer.matmul(5, 8, 5, batch=2)
    assert broadcast_b == Layer(C=8, K=3 * 7, N=5, weights_are_activations=True)   # a shared: b's batch folds into K


def test_multihead_attention_module():
    mha = nn.MultiheadAttention(32, 4, batch_first=True)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    layers = from_torch(Wrap(), torch.randn(2, 10, 32)).layers
    assert layers == (Layer.fc(32, 96, batch=20), Layer.attention_scores(10, 10, 8, 4, batch=2),
                      Layer.attention_context(10, 10, 8, 4, batch=2), Layer.fc(32, 32, batch=20))
    assert layers[0].name == "mha.in_proj"


def test_multihead_attention_arguments_read_by_position_as_by_keyword():
    """`need_weights` (position 4) is no mask; `key_padding_mask` (3) and `attn_mask` (5) are, by either form."""
    mha = nn.MultiheadAttention(32, 4, batch_first=True)
    padding = torch.zeros(2, 10, dtype=torch.bool)
    causal = torch.triu(torch.ones(10, 10, dtype=torch.bool), diagonal=1)
    calls = {"plain": (lambda x: mha(x, x, x, None, False), lambda x: mha(x, x, x, need_weights=False)),
             "padding": (lambda x: mha(x, x, x, padding), lambda x: mha(x, x, x, key_padding_mask=padding)),
             "attn_mask": (lambda x: mha(x, x, x, None, True, causal), lambda x: mha(x, x, x, attn_mask=causal))}

    class Wrap(nn.Module):
        def __init__(self, call):
            super().__init__()
            self.mha, self.call = mha, call

        def forward(self, x):
            return self.call(x)[0]

    def traced(call):
        return [(layer, layer.elementwise) for layer in from_torch(Wrap(call), torch.randn(2, 10, 32)).layers]
    read = {name: (traced(by_position), traced(by_keyword)) for name, (by_position, by_keyword) in calls.items()}
    for name, (by_position, by_keyword) in read.items():
        assert by_position == by_keyword, name
    assert read["plain"][0] != read["padding"][0] and read["padding"][0] == read["attn_mask"][0]


def test_untraceable_model_falls_back_to_hooks_with_a_warning():
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
                x = x * 2
            return self.fc(x) @ x.transpose(0, 1)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = from_torch(Branchy(), torch.randn(3, 4))
    assert net.meta["capture"] == "hooks" and net.layers == (Layer.fc(4, 4, batch=3),)
    assert any("falling back to forward hooks" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="capture must be 'fx' or 'hooks'"):
        from_torch(Branchy(), torch.randn(3, 4), capture="export")
