"""Matrix products of activations on the eight dims: attention's two products, grouped-query sharing, element-wise work."""
import pytest

from nets import Layer, Network
from nets.elementwise import ElementwiseOp
from nets.elementwise import OPS_PER_ELEMENT, elementwise_ops, elementwise_words


def test_attention_products_dims_and_macs():
    scores = Layer.attention_scores(q_len=197, kv_len=197, head_dim=64, heads=12)
    context = Layer.attention_context(q_len=197, kv_len=197, head_dim=64, heads=12)
    assert (scores.N, scores.C, scores.K, scores.G, scores.P) == (197, 64, 197, 12, 1)
    assert (context.N, context.C, context.K, context.G, context.P) == (197, 197, 64, 12, 1)
    assert scores.macs == context.macs == 12 * 197 * 197 * 64
    assert scores.kind == context.kind == "matmul" and scores.weights_are_activations


def test_grouped_query_attention_reads_each_kv_head_once():
    # Llama 3.2 1B decode: 32 query heads share 8 K/V heads; 1024 keys of 64 dims
    gqa = Layer.attention_scores(q_len=1, kv_len=1024, head_dim=64, heads=32, kv_heads=8)
    mha = Layer.attention_scores(q_len=1, kv_len=1024, head_dim=64, heads=32)
    assert gqa.macs == mha.macs == 32 * 1024 * 64
    assert gqa.weight_words == 8 * 1024 * 64        # the K cache: one tensor per K/V head, not per query head
    assert mha.weight_words == 32 * 1024 * 64
    assert gqa.input_words == 32 * 64 and gqa.output_words == 32 * 1024   # every query head's Q and scores
    ctx = Layer.attention_context(q_len=1, kv_len=1024, head_dim=64, heads=32, kv_heads=8)
    assert ctx.weight_words == 8 * 1024 * 64 and ctx.output_words == 32 * 64
    with pytest.raises(ValueError, match="kv_heads=5 must be an integer >= 1 dividing heads=32"):
        Layer.attention_scores(1, 8, 64, 32, kv_heads=5)


def test_activation_operand_holds_no_parameters_and_is_its_own_group():
    linear = Layer.fc(64, 197, batch=12)              # same loop bounds as a 12-head score product, G = 1
    scores = Layer.matmul(rows=12, inner=64, cols=197)
    assert linear.shape_key == scores.shape_key       # the same cost: one mapping serves both
    assert linear != scores and linear.group_key != scores.group_key
    net = Network("mix", (linear, scores, scores))
    assert net.weight_words == 64 * 197               # the activation operand is not a parameter
    assert [(layer.kind, n) for layer, n in net.unique_layers()] == [("fc", 1), ("matmul", 2)]
    assert linear.param_words == linear.weight_words and scores.param_words == 0


def test_elementwise_work_is_not_part_of_the_layer_identity_and_is_validated():
    softmax = ElementwiseOp("softmax", 100)
    a = Layer.fc(8, 8, name="a", elementwise=(softmax,))
    assert a == Layer.fc(8, 8) and a.with_name("b").elementwise == (softmax,)
    assert softmax.ops == 100 * OPS_PER_ELEMENT["softmax"] and softmax.words == 200
    add = ElementwiseOp("add", 10)
    assert add.words == 30 and elementwise_ops([softmax, add]) == 510 and elementwise_words([softmax, add]) == 230
    net = Network("n", (a, Layer.fc(8, 8, elementwise=(add,)), Layer.fc(8, 9)))
    assert net.group_elementwise(a) == (softmax, add)
    with pytest.raises(ValueError, match="ElementwiseOp.kind must be one of"):
        ElementwiseOp("cosine", 3)
    with pytest.raises(ValueError, match="ElementwiseOp.elements must be an integer >= 1"):
        ElementwiseOp("add", 0)
    with pytest.raises(ValueError, match="Layer.elementwise must hold"):
        Layer(C=2, elementwise=("softmax",))
    with pytest.raises(ValueError, match="Layer.weights_are_activations must be True or False"):
        Layer(C=2, weights_are_activations=1)
