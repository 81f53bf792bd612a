"""Reference networks against published MAC and parameter counts.

Published figures: torchvision's model documentation, https://pytorch.org/vision/stable/models/generated/
torchvision.models.<name>.html, fields "GFLOPS" (which torchvision counts as multiply-accumulates, batch 1,
224x224) and "num_params" (all trainable parameters, BatchNorm and biases included).
"""
import pytest

from nets import Layer
from nets.zoo import ZOO, get_network, mnasnet1_0, resnet50, unet, vgg16

PUBLISHED_GMACS = {
    "alexnet": 0.71,        # torchvision AlexNet_Weights.IMAGENET1K_V1: GFLOPS 0.71
    "vgg16": 15.47,         # torchvision VGG16_Weights.IMAGENET1K_V1: GFLOPS 15.47
    "resnet50": 4.09,       # torchvision ResNet50_Weights.IMAGENET1K_V1: GFLOPS 4.09
    "mobilenet_v2": 0.300,  # Sandler et al., CVPR 2018, Table 4: 300M multiply-adds (torchvision: 0.30)
    "mnasnet1_0": 0.312,    # Tan et al., CVPR 2019, Table 1: 312M multiply-adds (torchvision: 0.31)
    "squeezenet1_0": 0.82,  # torchvision SqueezeNet1_0_Weights.IMAGENET1K_V1: GFLOPS 0.82
    "mobilenet_v1": 0.569,  # Howard et al., arXiv 1704.04861, Table 8: 1.0 MobileNet-224, 569M mult-adds
    "googlenet": 1.50,      # torchvision GoogLeNet_Weights.IMAGENET1K_V1: GFLOPS 1.50 (Szegedy et al.: 1.5 billion)
    "efficientnet_edgetpu_s": 1.8,  # timm model card efficientnet_es.ra_in1k: GMACs 1.8 at 224x224
}


@pytest.mark.parametrize("name, gmacs", PUBLISHED_GMACS.items())
def test_zoo_macs_within_2_percent_of_published(name, gmacs):
    net = get_network(name)
    assert abs(net.macs / 1e9 - gmacs) / gmacs < 0.02


# torchvision "num_params" of the same pages. Every conv of these nets is followed by BatchNorm (2 parameters
# per output channel, no conv bias) and the classifier has a bias, or every layer has a bias and no BatchNorm.
# Pools hold no parameters.
PUBLISHED_PARAMS_BN = {"resnet50": 25_557_032, "mobilenet_v2": 3_504_872, "mnasnet1_0": 4_383_312,
                       "googlenet": 6_624_904}     # torchvision GoogLeNet_Weights.IMAGENET1K_V1 (no aux classifiers)
PUBLISHED_PARAMS_BIAS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "squeezenet1_0": 1_248_424}


@pytest.mark.parametrize("name, params", PUBLISHED_PARAMS_BN.items())
def test_layer_shapes_reproduce_published_parameter_counts_bn_nets(name, params):
    net = get_network(name)
    extra = sum(layer.K if layer.kind == "fc" else 2 * layer.G * layer.K for layer in net if layer.kind != "pool")
    assert net.weight_words + extra == params


@pytest.mark.parametrize("name, params", PUBLISHED_PARAMS_BIAS.items())
def test_layer_shapes_reproduce_published_parameter_counts_bias_nets(name, params):
    net = get_network(name)
    assert net.weight_words + sum(layer.G * layer.K for layer in net if layer.kind != "pool") == params


# Published to fewer digits: Howard et al., Table 8 (4.2 million; Keras's MobileNet reports 4,231,976 trainable);
# timm's model card efficientnet_es.ra_in1k (5.4 million; its table: 5.44). BN nets as above.
PUBLISHED_PARAMS_ROUNDED = {"mobilenet_v1": (4.2e6, 0.01), "efficientnet_edgetpu_s": (5.44e6, 0.002)}


@pytest.mark.parametrize("name, published", PUBLISHED_PARAMS_ROUNDED.items())
def test_device_benchmark_networks_match_their_published_parameter_counts(name, published):
    params, tolerance = published
    net = get_network(name)
    counted = net.weight_words + sum(layer.K if layer.kind == "fc" else 2 * layer.G * layer.K for layer in net
                                     if layer.kind != "pool")
    assert abs(counted - params) / params < tolerance


def test_device_benchmark_networks_follow_their_papers():
    """MobileNet v1: 13 depthwise layers, 7x7x1024 before the pool; GoogLeNet: 9 inception modules of 6 convs and
    a max pool (57 convs + 14 pools + FC), 1024 channels at 7x7; EfficientNet-EdgeTPU-S: 18 blocks (1 + 2 + 4 + 5 + 4 + 2), depthwise only after the fused stages
    (5x5 kernels), the first block expanding 32 channels to 96."""
    v1 = get_network("mobilenet_v1")
    depthwise = [layer for layer in v1 if layer.kind == "depthwise"]
    assert len(depthwise) == 13 and (depthwise[-1].P, depthwise[-1].G) == (7, 1024)
    g = get_network("googlenet")
    assert len(g) == 72 and sum(layer.name.startswith("inception") for layer in g) == 63
    assert sum(layer.kind == "pool" for layer in g) == 14 and sum(layer.kind == "conv" for layer in g) == 57
    last = [layer for layer in g if layer.name.startswith("inception5b")]
    assert {layer.P for layer in last} == {7} and sum(layer.K for layer in last if layer.R == 1 and
                                                       not layer.name.endswith(".0")) + 384 + 128 == 1024
    e = get_network("efficientnet_edgetpu_s")
    first = e.layers[1]
    assert (first.C, first.K, first.R, first.P) == (32, 96, 3, 112)
    assert {layer.R for layer in e if layer.kind == "depthwise"} == {5}
    assert sum(layer.name.endswith(".project") for layer in e) == 18


def test_unet_follows_the_paper():
    # Ronneberger et al., MICCAI 2015, Fig. 1 and Sec. 2: 572x572 input tile, 388x388 output map,
    # 23 convolutional layers, 64 feature channels at the top, 1024 at the bottom; 4 2x2 max pools.
    net = unet()
    assert len(net) == 27 and sum(layer.kind == "pool" for layer in net) == 4
    assert net.meta["output_hw"] == (388, 388)
    first, last = net.layers[0], net.layers[-1]
    assert (first.P, first.C, first.K) == (570, 1, 64)
    assert (last.R, last.P, last.C, last.K) == (1, 388, 64, 2)
    assert max(layer.K for layer in net if layer.R == 3) == 1024
    bottom = [layer for layer in net if layer.name.startswith("down4") and layer.kind == "conv"]
    assert [layer.P for layer in bottom] == [30, 28]
    padded = unet(input_hw=256, padded=True)
    assert padded.meta["output_hw"] == (256, 256) and len(padded) == 27
    with pytest.raises(ValueError, match="input_hw=570"):
        unet(input_hw=570)  # 570 -> 566, pool 283, two valid convs -> 279: odd before the next pool


def test_resnet50_v15_strides_and_shortcuts():
    net = resnet50()
    downsamples = [layer for layer in net if "downsample" in layer.name]
    assert [(d.stride_w, d.P, d.K) for d in downsamples] == [(1, 56, 256), (2, 28, 512), (2, 14, 1024), (2, 7, 2048)]
    conv2 = net.layers[[layer.name for layer in net].index("layer2.0.conv2")]
    assert (conv2.R, conv2.stride_w, conv2.P) == (3, 2, 28)  # v1.5: the stride sits on the 3x3


def test_depthwise_layers_use_groups():
    dws = [layer for layer in mnasnet1_0() if layer.kind == "depthwise"]
    assert len(dws) == 17 and all(layer.C == layer.K == 1 and layer.G > 1 for layer in dws)


def test_zoo_registry_and_options():
    assert set(ZOO) == {"alexnet", "vgg16", "resnet50", "mobilenet_v1", "mobilenet_v2", "mnasnet1_0", "squeezenet1_0",
                        "googlenet", "efficientnet_edgetpu_s", "unet", "vit_b16", "deit_s", "bert_base_128", "bert_base_512", "gpt2_prefill", "gpt2_decode",
                        "llama3_2_1b_prefill", "llama3_2_1b_decode",
                        *(f"efficientnet_b{i}" for i in range(8))}
    assert get_network("vgg16", batch=4).macs == 4 * vgg16().macs
    assert vgg16().layers[-1] == Layer.fc(4096, 1000)
    with pytest.raises(ValueError, match="alexnet.*vgg16.*unet"):
        get_network("vgg19")


def test_the_two_tower_alexnet_splits_conv2_4_5_into_its_towers():
    """`alexnet(towers=2)`: Krizhevsky et al.'s filters (96, 256, 384, 384, 256), conv2, conv4 and conv5 reading their
    own tower's channels (two groups), the feature maps torchvision's (55, 27, 13 a side); the MACs against Eyeriss's
    Table V are tests/test_eyeriss_table_v.py's. Any other towers value is refused by name."""
    convs = [layer for layer in get_network("alexnet", towers=2) if layer.kind == "conv"]
    assert [layer.K * layer.G for layer in convs] == [96, 256, 384, 384, 256]
    assert [layer.G for layer in convs] == [1, 2, 1, 2, 2]
    assert [layer.P for layer in convs] == [55, 27, 13, 13, 13]
    assert [layer.G for layer in get_network("alexnet") if layer.kind == "conv"] == [1] * 5
    with pytest.raises(ValueError, match="alexnet: towers must be 1 or 2, got 3"):
        get_network("alexnet", towers=3)
