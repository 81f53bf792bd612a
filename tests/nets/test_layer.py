"""nets.Layer: bounds, derived sizes and the validation errors users see."""
import pytest

from nets import Layer


def test_macs_is_product_of_bounds():
    layer = Layer(R=3, S=3, P=56, Q=56, C=64, K=64)
    assert layer.macs == 3 * 3 * 56 * 56 * 64 * 64


def test_input_size_uses_the_sliding_window():
    layer = Layer(R=3, S=5, P=4, Q=2, C=2, stride_w=2, stride_h=1, dilation_w=1, dilation_h=2)
    width = (4 - 1) * 2 + (3 - 1) * 1 + 1
    height = (2 - 1) * 1 + (5 - 1) * 2 + 1
    assert layer.input_words == 2 * width * height


def test_depthwise_and_fc_kinds():
    dw = Layer.conv(144, 144, 3, 56, groups=144)
    assert (dw.G, dw.C, dw.K, dw.kind) == (144, 1, 1, "depthwise")
    assert dw.weight_words == 144 * 9
    fc = Layer.fc(4096, 1000, batch=2)
    assert (fc.kind, fc.macs) == ("fc", 2 * 4096 * 1000)


def test_shape_key_ignores_the_name():
    assert Layer(C=4, name="a").shape_key == Layer(C=4, name="b").shape_key
    assert Layer(C=4, name="a") == Layer(C=4, name="b")


@pytest.mark.parametrize("field, value", [("P", 0), ("K", -3), ("stride_w", 0), ("C", 2.5), ("R", "3"),
                                          ("G", True), ("dilation_h", 0), ("C", 10**30), ("N", 2**31)])
def test_bad_bounds_name_the_field(field, value):
    with pytest.raises(ValueError, match=rf"Layer\.{field} must be an integer in \[1, 2147483647\]"):
        Layer(**{field: value})


def test_the_cost_models_integer_range_is_checked():
    with pytest.raises(ValueError, match=r"MACs .* at most 2\*\*62"):
        Layer(C=2**31 - 1, K=2**31 - 1, P=4)
    assert Layer(C=2**31 - 1, K=2**31 - 1).macs == (2**31 - 1) ** 2


@pytest.mark.parametrize("args, words", [((16, 16, 2.5, 8), "kernel"), ((16, 16, 3, (8, 8, 8)), "out_hw"),
                                         ((16.0, 16, 3, 8), "c_in"), ((16, 16, 3, 8, 1, 0), "groups")])
def test_conv_arguments_name_the_argument(args, words):
    with pytest.raises(ValueError, match=rf"Layer\.conv {words}"):
        Layer.conv(*args)


def test_unknown_dimension_is_rejected():
    with pytest.raises(ValueError, match="unknown dimension"):
        Layer.from_dims({"R": 3, "X": 2})


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match="Layer.G"):
        Layer.conv(10, 12, 3, 8, groups=4)
