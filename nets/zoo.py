"""Reference networks as `Network`s (batch 1, ImageNet 224x224 unless stated), layer for layer.

Each follows the layout of its torchvision implementation (the models whose MAC counts torchvision's
documentation publishes) or, for UNet, the original paper. Conv, linear and pool layers are listed (a max or
average pool, global ones included, as a depthwise-shaped `Layer.pool`: real chips run them, e.g. the Edge TPU
compiler maps MAX_POOL_2D to the chip); activations, normalisation and additions are free in the cost model. The transformers
(`nets.transformer.zoo`) also list their element-wise work per layer.
"""
from __future__ import annotations

from collections.abc import Callable

from ._shapes import adaptive_window, conv_out, pool_out
from .efficientnet import EFFICIENTNET_ZOO
from .layer import Layer
from .network import Network
from .transformer import TRANSFORMER_ZOO


class _Builder:
    """Tracks the feature-map size (h, w) while appending layers in execution order."""

    def __init__(self, name: str, hw: int | tuple[int, int], batch: int) -> None:
        if batch < 1:
            raise ValueError(f"{name}: batch must be >= 1, got {batch}")
        self.name = name
        self.hw = (hw, hw) if isinstance(hw, int) else hw
        self.batch = batch
        self.layers: list[Layer] = []
        self.skips: list[tuple[int, int]] = []
        self.sources: list[tuple[int, ...]] = []
        self.path: tuple[int, ...] = (-1,)
        """Producers of the main path's tensor (concatenated along channels): what the next `conv` reads."""

    @property
    def last(self) -> int:
        return len(self.layers) - 1

    def _append(self, layer: Layer, reads: tuple[int, ...]) -> None:
        """Record `layer` reading `reads` (recorded only where the channels agree: a flattened tensor is not
        followed)."""
        channels = sum(self.layers[p].K * self.layers[p].G for p in reads) if reads != (-1,) else None
        self.sources.append(reads if channels in (None, layer.C * layer.G) else ())
        self.layers.append(layer)

    def conv(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int | None = None,
             groups: int = 1, name: str = "") -> "_Builder":
        """Conv2d on the main path; padding defaults to k//2 ('same' for odd kernels at stride 1)."""
        pad = kernel // 2 if padding is None else padding
        self.hw = tuple(conv_out(s, kernel, stride, pad) for s in self.hw)
        self._append(Layer.conv(c_in, c_out, kernel, self.hw, stride, groups, self.batch, name=name), self.path)
        self.path = (self.last,)
        return self

    def conv_at(self, c_in: int, c_out: int, kernel: int, hw: tuple[int, int], reads: tuple[int, ...],
                stride: int = 1, padding: int | None = None, name: str = "") -> None:
        """A conv on a side branch reading `reads` (producers), whose input is `hw` (does not move the main path)."""
        pad = kernel // 2 if padding is None else padding
        out = tuple(conv_out(s, kernel, stride, pad) for s in hw)
        self._append(Layer.conv(c_in, c_out, kernel, out, stride, 1, self.batch, name=name), reads)

    def pool(self, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False, name: str = "") -> "_Builder":
        """A max / average pool on the main path (torch's output-size rule): a `Layer.pool` reading the path."""
        out = tuple(pool_out(s, kernel, stride, padding, ceil_mode) for s in self.hw)
        return self._pool((kernel, kernel), (stride, stride), out, name)

    def global_pool(self, to: int = 1, name: str = "avgpool") -> "_Builder":
        """An adaptive average pool to `to` x `to` (1: global), as a fixed window and stride (`adaptive_window`);
        no layer when the size is already `to` x `to`."""
        (kh, sh), (kw, sw) = (adaptive_window(s, to) for s in self.hw)
        return self._pool((kh, kw), (sh, sw), (to, to), name)

    def _pool(self, kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int], name: str) -> "_Builder":
        """Append the pool layer unless it is the identity (a 1x1 window, stride 1)."""
        if kernel != (1, 1) or stride != (1, 1):
            if self.path == (-1,):
                raise ValueError(f"{self.name}: a pool on the network's input is not supported by the zoo builder")
            channels = sum(self.layers[p].K * self.layers[p].G for p in self.path)
            self._append(Layer.pool(channels, kernel, out, stride, self.batch, name=name), self.path)
            self.path = (self.last,)
        self.hw = out
        return self

    def fc(self, c_in: int, c_out: int, name: str = "") -> "_Builder":
        self._append(Layer.fc(c_in, c_out, self.batch, name=name), self.path)
        self.path = (self.last,)
        return self

    def network(self, **meta) -> Network:
        return Network(self.name, self.layers, {"batch": self.batch, **meta}, tuple(self.skips), tuple(self.sources))


_ALEXNET_FILTERS = {1: (64, 192, 384, 256, 256), 2: (96, 256, 384, 384, 256)}
"""Filters of AlexNet's five conv layers: torchvision's single tower (Krizhevsky, "One weird trick...", arXiv
1404.5997), and the two-tower network of Krizhevsky, Sutskever and Hinton (NIPS 2012, Figure 2), whose second,
fourth and fifth conv layers each read only their own tower's half of the channels (two groups)."""


def alexnet(resolution: int = 224, batch: int = 1, towers: int = 1) -> Network:
    """AlexNet, torchvision's single-tower variant (`towers=1`, Krizhevsky, "One weird trick...", arXiv 1404.5997),
    or the original two-tower network (`towers=2`, Krizhevsky et al., NIPS 2012: 96, 256, 384, 384 and 256 filters,
    conv2, conv4 and conv5 in two groups; the network Eyeriss's published AlexNet figures ran), with torchvision's
    paddings and pools: the same feature-map sizes (55, 27, 13) and classifier."""
    if towers not in _ALEXNET_FILTERS:
        raise ValueError(f"alexnet: towers must be 1 or 2, got {towers!r}")
    f1, f2, f3, f4, f5 = _ALEXNET_FILTERS[towers]
    b = _Builder("alexnet" if towers == 1 else "alexnet_two_tower", resolution, batch)
    b.conv(3, f1, 11, 4, 2, name="features.0").pool(3, 2, name="features.2")
    b.conv(f1, f2, 5, 1, 2, groups=towers, name="features.3").pool(3, 2, name="features.5")
    b.conv(f2, f3, 3, name="features.6").conv(f3, f4, 3, groups=towers, name="features.8")
    b.conv(f4, f5, 3, groups=towers, name="features.10")
    b.pool(3, 2, name="features.12").global_pool(6)  # AdaptiveAvgPool2d((6, 6)): the identity at 224
    b.fc(256 * 6 * 6, 4096, "classifier.1").fc(4096, 4096, "classifier.4").fc(4096, 1000, "classifier.6")
    return b.network(resolution=resolution)


_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
"""Configuration D of Simonyan & Zisserman, ICLR 2015 (Table 1)."""


def vgg16(resolution: int = 224, batch: int = 1) -> Network:
    """VGG16 (Simonyan & Zisserman, ICLR 2015, config D): 13 3x3 convs, 3 FC layers."""
    b = _Builder("vgg16", resolution, batch)
    c_in = 3
    for i, item in enumerate(_VGG16):
        if item == "M":
            b.pool(2, 2, name=f"features.{i}")
        else:
            b.conv(c_in, item, 3, name=f"features.{i}")
            c_in = item
    b.global_pool(7)  # AdaptiveAvgPool2d((7, 7)): the identity at 224
    b.fc(512 * 7 * 7, 4096, "classifier.0").fc(4096, 4096, "classifier.3").fc(4096, 1000, "classifier.6")
    return b.network(resolution=resolution)


def resnet50(resolution: int = 224, batch: int = 1) -> Network:
    """ResNet-50 (He et al., CVPR 2016) as torchvision builds it (v1.5: stride on the 3x3 conv)."""
    b = _Builder("resnet50", resolution, batch)
    b.conv(3, 64, 7, 2, 3, name="conv1").pool(3, 2, 1, name="maxpool")
    c_in = 64
    for stage, (blocks, width, stride) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), (1, 2, 2, 2))):
        for j in range(blocks):
            s = stride if j == 0 else 1
            name = f"layer{stage + 1}.{j}"
            block_in, x = b.hw, b.path
            b.conv(c_in, width, 1, name=f"{name}.conv1").conv(width, width, 3, s, name=f"{name}.conv2")
            b.conv(width, 4 * width, 1, name=f"{name}.conv3")
            if j == 0:  # torchvision runs the projection shortcut after conv3; conv3's output is added to it
                b.conv_at(c_in, 4 * width, 1, block_in, x, s, 0, name=f"{name}.downsample.0")
                b.skips.append((b.last - 1, b.last))
                b.path = (b.last,)
            else:       # the identity shortcut adds the block's input to conv3's output
                b.skips.append((x[0], b.last))
            c_in = 4 * width
    b.global_pool().fc(2048, 1000, "fc")
    return b.network(resolution=resolution)


def _inverted_residual(b: _Builder, name: str, c_in: int, c_out: int, kernel: int, stride: int,
                       expand: int) -> None:
    """MobileNetV2 / MNasNet block: [1x1 expand] -> depthwise kxk -> 1x1 project."""
    mid = c_in * expand
    block_input = b.path[0]
    if expand != 1:
        b.conv(c_in, mid, 1, name=f"{name}.expand")
    b.conv(mid, mid, kernel, stride, groups=mid, name=f"{name}.depthwise")
    b.conv(mid, c_out, 1, name=f"{name}.project")
    if stride == 1 and c_in == c_out:   # the shortcut adds the block's input
        b.skips.append((block_input, len(b.layers) - 1))


def mobilenet_v2(resolution: int = 224, batch: int = 1) -> Network:
    """MobileNetV2 1.0 (Sandler et al., CVPR 2018, Table 2: t, c, n, s per bottleneck sequence)."""
    b = _Builder("mobilenet_v2", resolution, batch)
    b.conv(3, 32, 3, 2, name="features.0")
    c_in, index = 32, 1
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)):
        for j in range(n):
            _inverted_residual(b, f"features.{index}", c_in, c, 3, s if j == 0 else 1, t)
            c_in, index = c, index + 1
    b.conv(320, 1280, 1, name=f"features.{index}").global_pool().fc(1280, 1000, "classifier.1")
    return b.network(resolution=resolution)


_MOBILENET_V1 = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
                 (512, 1), (1024, 2), (1024, 1))
"""(output channels, stride) of the 13 depthwise-separable blocks: Howard et al., arXiv 1704.04861, Table 1."""


def mobilenet_v1(resolution: int = 224, batch: int = 1) -> Network:
    """MobileNet v1 1.0 (Howard et al., arXiv 1704.04861, Table 1): a 3x3 stem, 13 depthwise-separable blocks, FC."""
    b = _Builder("mobilenet_v1", resolution, batch)
    b.conv(3, 32, 3, 2, name="conv0")
    c_in = 32
    for i, (c_out, stride) in enumerate(_MOBILENET_V1, start=1):
        b.conv(c_in, c_in, 3, stride, groups=c_in, name=f"block{i}.depthwise")
        b.conv(c_in, c_out, 1, name=f"block{i}.pointwise")
        c_in = c_out
    b.global_pool().fc(1024, 1000, "fc")
    return b.network(resolution=resolution)


_INCEPTION_V1 = {"3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
                 "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
                 "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
                 "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
                 "5b": (832, 384, 192, 384, 48, 128, 128)}
"""Inception modules (in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj): Szegedy et al., CVPR 2015,
Table 1."""


def googlenet(resolution: int = 224, batch: int = 1) -> Network:
    """Inception v1 / GoogLeNet (Szegedy et al., CVPR 2015, Table 1) as torchvision builds it, without the
    auxiliary classifiers (inference). As in torchvision and TF-slim's inception_v1 (the model Coral compiles for
    the Edge TPU), the "5x5" branch is a 3x3 conv; the pool branch opens with a 3x3 max-pool, stride 1."""
    b = _Builder("googlenet", resolution, batch)
    b.conv(3, 64, 7, 2, 3, name="conv1").pool(3, 2, ceil_mode=True, name="maxpool1")
    b.conv(64, 64, 1, name="conv2").conv(64, 192, 3, name="conv3").pool(3, 2, ceil_mode=True, name="maxpool2")
    for module, (c_in, c1, r3, c3, r5, c5, proj) in _INCEPTION_V1.items():
        if module in ("4a", "5a"):
            b.pool(3, 2, ceil_mode=True, name="maxpool3") if module == "4a" else \
                b.pool(2, 2, ceil_mode=True, name="maxpool4")
        name, x, hw, outputs = f"inception{module}", b.path, b.hw, []
        for convs in (((c1, 1, "branch1"),), ((r3, 1, "branch2.0"), (c3, 3, "branch2.1")),
                      ((r5, 1, "branch3.0"), (c5, 3, "branch3.1")), ((None, 3, "branch4.0"), (proj, 1, "branch4.1"))):
            b.path, b.hw, width = x, hw, c_in     # each branch reads the module's input
            for c_out, kernel, label in convs:
                if c_out is None:
                    b.pool(kernel, 1, 1, ceil_mode=True, name=f"{name}.{label}")
                    continue
                b.conv(width, c_out, kernel, name=f"{name}.{label}")
                width = c_out
            outputs.append(b.last)
        b.path = tuple(outputs)     # concatenated along channels
    b.global_pool().fc(1024, 1000, "fc")
    return b.network(resolution=resolution)


_EFFICIENTNET_EDGETPU_S = ((True, 3, 1, 4, 24, 1), (True, 3, 2, 8, 32, 2), (True, 3, 2, 8, 48, 4),
                           (False, 5, 2, 8, 96, 5), (False, 5, 1, 8, 144, 4), (False, 5, 2, 8, 192, 2))
"""(fused, kernel, first stride, expansion, output channels, repeats) per stage of EfficientNet-EdgeTPU-S: the
block strings of the TensorFlow TPU repository's models/official/efficientnet/edgetpu/efficientnet_edgetpu_builder.py
(Gupta & Tan, Google AI blog, August 2019). A fused block is one kxk conv to the expanded width (no depthwise)."""


def efficientnet_edgetpu_s(resolution: int = 224, batch: int = 1) -> Network:
    """EfficientNet-EdgeTPU-S (width = depth = 1.0, 224x224): stem 3x3/2 to 32 channels, six stages, 1x1 head to 1280,
    FC. Fused blocks (the first three stages) expand with a kxk conv, the others with 1x1 + depthwise kxk; no
    squeeze-and-excitation (the Edge TPU variant drops it). The first block expands its 32 input channels to 4 x 24
    = 96: its expansion counts from the block's nominal 24 input channels, as the reference builder does."""
    b = _Builder("efficientnet_edgetpu_s", resolution, batch)
    b.conv(3, 32, 3, 2, name="stem")
    c_in, nominal = 32, 24
    for stage, (fused, k, stride, expand, c_out, repeats) in enumerate(_EFFICIENTNET_EDGETPU_S):
        for j in range(repeats):
            s, name = stride if j == 0 else 1, f"blocks.{stage}.{j}"
            if fused:
                mid, block_input = (nominal if stage == 0 else c_in) * expand, b.path[0]
                b.conv(c_in, mid, k, s, name=f"{name}.conv_exp").conv(mid, c_out, 1, name=f"{name}.project")
                if s == 1 and c_in == c_out:    # the reference builder's id_skip: the block's input is added
                    b.skips.append((block_input, b.last))
            else:
                _inverted_residual(b, name, c_in, c_out, k, s, expand)
            c_in = c_out
    b.conv(c_in, 1280, 1, name="head").global_pool().fc(1280, 1000, "classifier")
    return b.network(resolution=resolution)


def mnasnet1_0(resolution: int = 224, batch: int = 1) -> Network:
    """MNASNet 1.0 as torchvision builds it (Tan et al., CVPR 2019, the B1 variant without SE)."""
    b = _Builder("mnasnet1_0", resolution, batch)
    b.conv(3, 32, 3, 2, name="layers.0").conv(32, 32, 3, groups=32, name="layers.3")
    b.conv(32, 16, 1, name="layers.6")
    c_in = 16
    # (out channels, kernel, first stride, expansion, repeats): torchvision mnasnet.py stacks
    for stack, (c, k, s, e, n) in enumerate(((24, 3, 2, 3, 3), (40, 5, 2, 3, 3), (80, 5, 2, 6, 3),
                                             (96, 3, 1, 6, 2), (192, 5, 2, 6, 4), (320, 3, 1, 6, 1))):
        for j in range(n):
            _inverted_residual(b, f"layers.{stack + 8}.{j}", c_in, c, k, s if j == 0 else 1, e)
            c_in = c
    b.conv(320, 1280, 1, name="layers.14").global_pool().fc(1280, 1000, "classifier.1")
    return b.network(resolution=resolution)


def squeezenet1_0(resolution: int = 224, batch: int = 1) -> Network:
    """SqueezeNet 1.0 (Iandola et al., arXiv 1602.07360, Table 1) as torchvision builds it."""
    b = _Builder("squeezenet1_0", resolution, batch)
    b.conv(3, 96, 7, 2, 0, name="features.0").pool(3, 2, ceil_mode=True, name="features.2")
    fires = {3: (96, 16, 64), 4: (128, 16, 64), 5: (128, 32, 128), 7: (256, 32, 128), 8: (256, 48, 192),
             9: (384, 48, 192), 10: (384, 64, 256), 12: (512, 64, 256)}
    for index in range(3, 13):
        if index in (6, 11):
            b.pool(3, 2, ceil_mode=True, name=f"features.{index}")
            continue
        c_in, squeeze, expand = fires[index]
        name = f"features.{index}"
        b.conv(c_in, squeeze, 1, name=f"{name}.squeeze")
        squeezed = b.hw
        b.conv(squeeze, expand, 1, name=f"{name}.expand1x1")
        b.conv_at(squeeze, expand, 3, squeezed, (b.last - 1,), name=f"{name}.expand3x3")
        b.path = (b.last - 1, b.last)   # both expands read the squeeze's output; their outputs are concatenated
    b.conv(512, 1000, 1, name="classifier.1").global_pool(name="classifier.3")  # final conv classifier, global pool
    return b.network(resolution=resolution)


def unet(input_hw: int = 572, in_channels: int = 1, n_classes: int = 2, padded: bool = False,
         batch: int = 1) -> Network:
    """UNet (Ronneberger et al., MICCAI 2015): 23 conv layers; 572x572 in, 388x388 out with valid convs.

    `padded=True` gives the common 'same'-padded variant (output size = input size). Each 2x2
    up-convolution (transposed conv, stride 2) is listed as the equivalent 1x1 conv at the input
    resolution with 4x the output channels: the same MACs, weights, inputs and outputs.
    """
    pad = 1 if padded else 0
    b = _Builder("unet" if not padded else "unet_padded", input_hw, batch)
    widths = (64, 128, 256, 512, 1024)
    c_in = in_channels
    for level, width in enumerate(widths):
        if level:
            if b.hw[0] % 2 or b.hw[1] % 2:  # the paper picks tiles so that every 2x2 pool sees an even size
                raise ValueError(f"unet: input_hw={input_hw} gives an odd {b.hw} map before a 2x2 max-pool; "
                                 f"use e.g. 572 (valid convs) or a multiple of 16 (padded)")
            b.pool(2, 2, name=f"down{level}.pool")
        b.conv(c_in, width, 3, padding=pad, name=f"down{level}.conv1")
        b.conv(width, width, 3, padding=pad, name=f"down{level}.conv2")
        c_in = width
    for level, width in enumerate(reversed(widths[:-1])):
        b.conv(c_in, 4 * width, 1, name=f"up{level}.upconv")  # 2x2 stride-2 transposed conv
        b.hw = (2 * b.hw[0], 2 * b.hw[1])
        b.conv(2 * width, width, 3, padding=pad, name=f"up{level}.conv1")  # after concatenating the skip
        b.conv(width, width, 3, padding=pad, name=f"up{level}.conv2")
        c_in = width
    b.conv(c_in, n_classes, 1, name="final")
    return b.network(input_hw=input_hw, output_hw=b.hw, padded=padded)


ZOO: dict[str, Callable[..., Network]] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet50": resnet50,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "mnasnet1_0": mnasnet1_0,
    "googlenet": googlenet,
    "efficientnet_edgetpu_s": efficientnet_edgetpu_s,
    "squeezenet1_0": squeezenet1_0,
    "unet": unet,
    **TRANSFORMER_ZOO,
    **EFFICIENTNET_ZOO,
}


def get_network(name: str, **kwargs) -> Network:
    """A zoo network by name (keyword arguments go to its builder); the error lists accepted names."""
    try:
        builder = ZOO[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown network {name!r}; accepted: {', '.join(ZOO)}") from None
    return builder(**kwargs)


__all__ = ["ZOO", "get_network", "alexnet", "vgg16", "resnet50", "mobilenet_v1", "mobilenet_v2", "mnasnet1_0",
           "squeezenet1_0", "googlenet", "efficientnet_edgetpu_s", "unet"]
