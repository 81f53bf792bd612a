"""nets.from_onnx: models exported with torch.onnx.export inside the test give the layers (and element-wise work)
of the same model's torch.fx import; an operator that cannot be mapped is one line naming the node and op type."""
import warnings

import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from nets import Layer, from_onnx
from nets.transformer import Block, TransformerSpec
from nets.torch_import import from_torch
from nets.transformer.torch_model import build_transformer, example_input

from _vision_models import FireNet, MobileNetV2, ResNet18


def _export(model: nn.Module, example: torch.Tensor, path, **kwargs):
    """torch.onnx.export as a user calls it (torch 2.13: the torch.export-based exporter, which needs onnxscript)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), **kwargs)
    return path


def _same(onnx_net, torch_net, elementwise: bool = True, names: bool = True) -> None:
    assert len(onnx_net) == len(torch_net)
    for got, want in zip(onnx_net.layers, torch_net.layers):
        assert got == want, (got.name, want.name)
        if elementwise:
            assert got.elementwise == want.elementwise, (got.name, got.elementwise, want.elementwise)
        if names and not (want.kind == "pool" and "." not in want.name):
            # a pool called as a function has no module path; the exporter renames it (ReduceMean: 'node_mean')
            assert got.name == want.name


# torchvision's documented GFLOPS (multiply-accumulates of the convs and linears): resnet18 1.814, mobilenet_v2 0.301;
# plus the pools' window operations (resnet18: the 3x3 max pool to 56x56x64 and the 7x7x512 global pool,
# 1,806,336 + 25,088; mobilenet_v2: the 7x7x1280 global pool, 62,720)
@pytest.mark.parametrize("model_class, macs", [(ResNet18, 1_814_073_344 + 1_831_424),
                                               (MobileNetV2, 300_774_272 + 62_720)])
@pytest.mark.slow
def test_vision_models_equal_their_torch_fx_import(model_class, macs, tmp_path):
    model, x = model_class(), torch.randn(1, 3, 224, 224)
    net = from_onnx(_export(model, x, tmp_path / "model.onnx"))
    _same(net, from_torch(model, x))
    assert net.name == "model" and net.meta["source"] == "onnx"
    assert net.macs == macs
    if model_class is MobileNetV2:
        assert sum(layer.kind == "depthwise" for layer in net.layers) == 17


@pytest.mark.slow
@pytest.mark.parametrize("model_class", [ResNet18, FireNet])
def test_the_graph_equals_the_torch_fx_import(model_class, tmp_path):
    """Branches, concatenations over channels and residual adds (`Network.sources`, `Network.skips`) read from the
    ONNX graph as from the fx graph."""
    model, x = model_class(), torch.randn(1, 3, 64, 64)
    net, traced = from_onnx(_export(model, x, tmp_path / "model.onnx")), from_torch(model, x)
    assert net.sources == traced.sources and net.skips == traced.skips
    if model_class is FireNet:   # stem, max pool; per fire: squeeze, expand1x1, expand3x3 (both read the squeeze);
        # classifier, global pool
        assert net.sources == ((-1,), (0,), (1,), (2,), (2,), (3, 4), (5,), (5,), (6, 7), (8,)) and net.skips == ()
        assert [layer.kind for layer in net.layers].count("pool") == 2
    else:                        # the shortcuts: 8 blocks, the first of each later stage with its downsample
        assert len(net.skips) == 8 and net.layers[6].name == "layer2.0.downsample.0"
        assert net.layers[1].kind == "pool" and net.sources[2] == (1,)
        assert net.sources[6] == net.sources[7] == (5,) and (6, 8) in net.skips


class _Toy(nn.Module):
    """Grouped, dilated, non-square-stride convs, a 1-D conv, a linear on tokens (MatMul + bias), a product of
    two activations."""

    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(8, 16, (3, 5), stride=(1, 2), padding=(1, 2), groups=4)
        self.dilated = nn.Conv2d(16, 16, 3, dilation=2, padding=2)
        self.temporal = nn.Conv1d(16, 32, 3, stride=2)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        y = torch.relu(self.dilated(self.grouped(x)))
        t = self.temporal(y.flatten(2))           # [N, 32, L]
        tokens = self.head(t.transpose(1, 2))     # [N, L, 10]
        return tokens @ tokens.transpose(1, 2)    # [N, L, L]


@pytest.mark.slow
@pytest.mark.parametrize("exporter", ["torch.export", "torchscript"])
def test_convolutions_linears_and_products_of_both_exporters(exporter, tmp_path):
    model, x = _Toy(), torch.randn(2, 8, 10, 20)
    path = _export(model, x, tmp_path / "toy.onnx", dynamo=exporter == "torch.export")
    net = from_onnx(path)
    _same(net, from_torch(model, x), names=False)  # a function's product is named by its node in each
    grouped, dilated, temporal, head, gram = net.layers
    assert grouped == Layer(R=5, S=3, P=10, Q=10, C=2, K=4, N=2, G=4, stride_w=2, stride_h=1)
    assert dilated == Layer(R=3, S=3, P=10, Q=10, C=16, K=16, N=2, dilation_w=2, dilation_h=2)
    assert temporal == Layer(R=3, P=49, C=16, K=32, N=2, stride_w=2)
    assert head == Layer.fc(32, 10, batch=2 * 49)
    assert gram.weights_are_activations and gram == Layer.matmul(49, 10, 49, batch=2)


def _vit():
    return TransformerSpec("tiny-vit", "vit", 64, (Block(4, 128, head_dim=16),) * 2, tokens=17, context=17, image=32,
                           patch=8, classes=10)


@pytest.mark.slow
def test_attention_op_equals_the_transformer_workload(tmp_path):
    """Opset 23 exports scaled_dot_product_attention as one Attention node: its scores and context products and
    their scale and softmax, as the transformer workloads record them."""
    spec = _vit()
    model = build_transformer(spec)
    path = _export(model, example_input(spec), tmp_path / "vit.onnx", opset_version=23)
    assert "Attention" in {n.op_type for n in onnx.load(str(path)).graph.node}
    _same(from_onnx(path), from_torch(model, example_input(spec)))


@pytest.mark.slow
def test_decomposed_attention_gives_the_same_products(tmp_path):
    """Opset 20 spells attention out (MatMul, Softmax, Mul): the same products; its scale is applied to Q and K
    before their product, so that element-wise work is listed where the graph does it."""
    spec = _vit()
    model = build_transformer(spec)
    net = from_onnx(_export(model, example_input(spec), tmp_path / "vit.onnx", opset_version=20))
    _same(net, from_torch(model, example_input(spec)), elementwise=False)
    scores = net.layers[2]
    assert scores.name == "blocks.0.attn.scores" and [op.kind for op in scores.elementwise] == ["softmax"]


def _model(nodes, inputs, outputs, initializers=(), opset=20):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _float(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _weight(name, shape):
    return helper.make_tensor(name, TensorProto.FLOAT, shape, [0.0] * int(torch.tensor(shape).prod()))


def test_an_operator_it_cannot_map_is_one_line_naming_node_and_type(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("ConvTranspose", ["y", "wt"], ["z"], name="up1", kernel_shape=[2, 2], strides=[2, 2])]
    model = _model(nodes, [_float("x", [1, 4, 8, 8])], [_float("z", [1, 4, 16, 16])],
                   [_weight("w", [4, 4, 3, 3]), _weight("wt", [4, 4, 2, 2])])
    onnx.save(model, tmp_path / "up.onnx")
    with pytest.raises(ValueError) as info:
        from_onnx(tmp_path / "up.onnx")
    message = str(info.value)
    assert "\n" not in message and "up.onnx" in message and "'up1'" in message and "ConvTranspose" in message


def test_custom_domain_and_dynamic_shapes_are_refused(tmp_path):
    custom = _model([helper.make_node("FusedConv", ["x"], ["y"], name="fc7", domain="com.microsoft")],
                    [_float("x", [1, 4])], [_float("y", [1, 4])])
    custom.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(custom, tmp_path / "custom.onnx")
    with pytest.raises(ValueError, match=r"'fc7'.*com\.microsoft\.FusedConv"):
        from_onnx(tmp_path / "custom.onnx")
    dynamic = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [_float("x", ["batch", 4])],
                     [_float("y", ["batch", 3])], [_weight("w", [4, 3])])
    onnx.save(dynamic, tmp_path / "dynamic.onnx")
    with pytest.raises(ValueError, match=r"'mm' \(MatMul\): the shape of its input A 'x' is unknown or not fixed"):
        from_onnx(tmp_path / "dynamic.onnx")


def test_not_an_onnx_file(tmp_path):
    (tmp_path / "text.onnx").write_bytes(b"\xff\xfe not protobuf at all \x00\x01")
    with pytest.raises(ValueError, match=r"text\.onnx: not an ONNX model"):
        from_onnx(tmp_path / "text.onnx")
    with pytest.raises(ValueError, match="no ONNX file there"):
        from_onnx(tmp_path / "missing.onnx")
    free = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [_float("x", [1, 4])], [_float("y", [1, 4])])
    onnx.save(free, tmp_path / "free.onnx")
    with pytest.raises(ValueError, match="no Conv, Gemm, MatMul or Attention node"):
        from_onnx(tmp_path / "free.onnx")


def test_gemm_bias_scalar_scale_and_residual_add(tmp_path):
    """Gemm with transB (as torch writes nn.Linear), a scalar Mul (scale), an Add of two activations (add)."""
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc", transB=1),
             helper.make_node("Mul", ["h", "half"], ["s"], name="scale"),
             helper.make_node("Add", ["s", "h"], ["y"], name="residual")]
    model = _model(nodes, [_float("x", [3, 16])], [_float("y", [3, 8])],
                   [_weight("w", [8, 16]), _weight("b", [8]), helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])])
    onnx.save(model, tmp_path / "gemm.onnx")
    (fc,) = from_onnx(tmp_path / "gemm.onnx").layers
    assert fc == Layer.fc(16, 8, batch=3) and fc.name == "fc"
    assert [(op.kind, op.elements) for op in fc.elementwise] == [("scale", 24), ("add", 24)]


def test_attention_node_with_3d_inputs_and_grouped_heads(tmp_path):
    """ONNX Attention (opset 23) on [batch, tokens, heads x width] inputs with 8 query and 2 key/value heads."""
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], name="attn", q_num_heads=8, kv_num_heads=2,
                            is_causal=1)
    model = _model([node], [_float("q", [1, 16, 64]), _float("k", [1, 16, 16]), _float("v", [1, 16, 16])],
                   [_float("y", [1, 16, 64])], opset=23)
    onnx.save(model, tmp_path / "attention.onnx")
    scores, context = from_onnx(tmp_path / "attention.onnx").layers
    assert scores == Layer.attention_scores(16, 16, 8, heads=8, kv_heads=2)
    assert context == Layer.attention_context(16, 16, 8, heads=8, kv_heads=2)
    assert [op.kind for op in scores.elementwise] == ["scale", "mask", "softmax"]


# ---- graphs ONNX itself refuses: refused before anything is read, in one line naming the file and the node -------
def _refused(model, path) -> str:
    onnx.save(model, path)
    with pytest.raises(ValueError) as info:
        from_onnx(path)
    message = str(info.value)
    assert "\n" not in message and path.name in message, message
    return message


@pytest.mark.parametrize("nodes, bad", [
    # a cycle: each node reads the other's output
    ([helper.make_node("MatMul", ["x", "b"], ["a"], name="m1"), helper.make_node("Relu", ["a"], ["b"], name="r1")],
     ("'m1'", "'b'", "later node")),
    # a longer cycle through a weight product
    ([helper.make_node("Add", ["x", "c"], ["a"], name="add"), helper.make_node("MatMul", ["a", "w"], ["b"], name="mm"),
      helper.make_node("Relu", ["b"], ["c"], name="r2")], ("'add'", "'c'", "later node")),
    # a value nothing produces
    ([helper.make_node("MatMul", ["x", "ghost"], ["y"], name="mm"), helper.make_node("Relu", ["y"], ["b"], name="r")],
     ("'mm'", "'ghost'", "produced by no node")),
    # a value produced twice
    ([helper.make_node("MatMul", ["x", "w"], ["b"], name="mm"), helper.make_node("Relu", ["x"], ["b"], name="again")],
     ("'again'", "'b'", "produced once")),
])
def test_graphs_out_of_order_or_reading_nothing_are_refused(nodes, bad, tmp_path):
    model = _model(nodes, [_float("x", [4, 4])], [_float("b", [4, 4])], [_weight("w", [4, 4])])
    message = _refused(model, tmp_path / "graph.onnx")
    assert all(word in message for word in bad), message


@pytest.mark.parametrize("op, attrs", [("Conv", {"kernel_shape": [3, 3], "pads": [-1, -1, -1, -1]}),
                                       ("Conv", {"kernel_shape": [3, 3], "pads": [1, 1, 0, -2]}),
                                       ("MaxPool", {"kernel_shape": [2, 2], "pads": [0, -1, 0, 0]})])
def test_negative_pads_are_refused_naming_the_node_and_field(op, attrs, tmp_path):
    inputs = ["x", "w"] if op == "Conv" else ["x"]
    model = _model([helper.make_node(op, inputs, ["y"], name="padded", **attrs)], [_float("x", [1, 4, 8, 8])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [_weight("w", [4, 4, 3, 3])])
    message = _refused(model, tmp_path / "pads.onnx")
    assert "'padded'" in message and "pads" in message and "accepted: pads >= 0" in message


def test_the_onnx_checker_runs_before_the_read(tmp_path):
    """A value_info without a type: ONNX's checker refuses it; the refusal names the file."""
    model = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [_float("x", [4, 4])],
                   [helper.make_empty_tensor_value_info("y")], [_weight("w", [4, 4])])
    assert "not a valid ONNX model" in _refused(model, tmp_path / "untyped.onnx")


def test_failed_inference_is_not_blamed_on_input_sizes_when_they_are_fixed(tmp_path):
    """Inference that fails (a [4, 4] x [5, 3] product, no declared output shape) is an inference
    failure; a shape computed from data at run time (a Reshape to a shape given as an input) is named as such; only
    a graph input without a fixed size is blamed on the input sizes."""
    no_shape = _float("y", [None, None])
    wrong = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [_float("x", [4, 4])], [no_shape],
                   [_weight("w", [5, 3])])
    message = _refused(wrong, tmp_path / "wrong.onnx")
    assert "shape inference failed" in message and "input sizes" not in message
    reshaped = _model([helper.make_node("Reshape", ["x", "s"], ["r"], name="reshape"),
                       helper.make_node("MatMul", ["r", "w"], ["y"], name="mm")],
                      [_float("x", [4, 4]), helper.make_tensor_value_info("s", TensorProto.INT64, [2])], [no_shape],
                      [_weight("w", [4, 4])])
    message = _refused(reshaped, tmp_path / "reshaped.onnx")
    assert "'mm'" in message and "input sizes are fixed" in message and "static input shape" not in message
    dynamic = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [_float("x", ["batch", 4])],
                     [no_shape], [_weight("w", [4, 4])])
    assert "'x' have no fixed size" in _refused(dynamic, tmp_path / "dynamic.onnx")


@pytest.mark.parametrize("weight, group", [([4, 5, 3, 3], 1), ([8, 2, 3, 3], 4), ([4, 2, 3, 3], 1)])
def test_a_conv_whose_weight_does_not_fit_its_input_is_refused(weight, group, tmp_path):
    """ONNX's shape inference does not compare a Conv's weight with its input's channels: the reader does."""
    kernel = [3] * (len(weight) - 2)
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=kernel, group=group)],
                   [_float("x", [1, 4, 8, 8])], [_float("y", [None] * 4)], [_weight("w", weight)])
    message = _refused(model, tmp_path / "conv.onnx")
    assert "'conv'" in message


@pytest.mark.parametrize("path, name", [(5, None), (None, None), ([b"m.onnx"], None), ("m.onnx", 7), ("m.onnx", "")])
def test_from_onnx_arguments_of_the_wrong_type_are_value_errors_naming_them(path, name):
    with pytest.raises(ValueError, match="^from_onnx: (path|name): expected ") as info:
        from_onnx(path, name)
    assert ("path:" if not isinstance(path, str) else "name:") in str(info.value)
