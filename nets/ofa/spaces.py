"""The Once-for-All search spaces: fixed architecture facts and the choices of every gene.

Sources: Cai et al., "Once-for-All", ICLR 2020, and the public code mit-han-lab/once-for-all
(ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py, ofa_proxyless.py, ofa_resnets.py);
the ResNet-50 space with its NAAS restrictions from Lin, Yang, Han, "NAAS", DAC 2021.
The figures used, with their sources: docs/sources.md.
"""
from __future__ import annotations

from dataclasses import dataclass

CHANNEL_DIVISOR = 8
"""OFA rounds every width to a multiple of 8 (MyNetwork.CHANNEL_DIVISIBLE)."""


def make_divisible(value: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """Round a channel count to a multiple of `divisor` (TF-slim / OFA rule, docs/sources.md).

    max(divisor, int(v + divisor/2) // divisor * divisor), plus one divisor if that lost more than 10 %.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _round_half_even(value: float) -> int:
    """Python's round(): OFA computes expanded widths with it (round(c_in * e))."""
    return int(round(value))


GeneTable = dict[str, tuple[tuple, ...]]
"""For each config field, the accepted values at each position (a scalar field has one position)."""

SCALAR_GENES: tuple[str, ...] = ("r",)
"""Fields of OFA configs that hold one value, not a list (the resolution); a space may name others as its
`scalar_genes`."""


def scalar_genes(space) -> tuple[str, ...]:
    """The config fields of `space` that hold one value rather than a list."""
    return getattr(space, "scalar_genes", SCALAR_GENES)


@dataclass(frozen=True)
class MBStage:
    """One elastic stage of MBConv blocks: output width (channels), first stride, activation, SE."""

    width: int
    stride: int
    act: str
    use_se: bool
    max_depth: int


@dataclass(frozen=True)
class MBSpace:
    """An OFA space of MobileNetV3 / ProxylessNAS-style networks (configs {"ks", "e", "d", "r"}).

    Block slot 4*i + j is block j of elastic stage i; a stage of depth d uses its first d slots.
    """

    name: str
    family: str  # "mbv3" or "proxyless": decides stem and head layout
    width_mult: float
    stem_width: int
    stem_act: str
    first_block_width: int
    first_block_act: str
    stages: tuple[MBStage, ...]
    final_expand_width: int | None  # MBv3 only: 1x1 conv before the global pool
    last_channel: int  # width of the last 1x1 conv (after the pool for MBv3, before it for Proxyless)
    head_act: str
    n_classes: int = 1000
    ks_choices: tuple[int, ...] = (3, 5, 7)
    e_choices: tuple[int, ...] = (3, 4, 6)
    d_choices: tuple[int, ...] = (2, 3, 4)
    resolutions: tuple[int, ...] = tuple(range(128, 225, 4))  # OFA: multiples of 4, 128..224
    bn_eps: float = 1e-5
    slots_per_stage: int = 4

    @property
    def n_slots(self) -> int:
        """Length of the "ks" and "e" lists: 20 for MBv3, 21 for Proxyless (last stage has 1 block)."""
        return self.slots_per_stage * (len(self.stages) - 1) + self.stages[-1].max_depth

    def stage_slots(self, stage: int) -> range:
        """The block slots of one stage (all of them, active or not)."""
        start = self.slots_per_stage * stage
        return range(start, start + self.stages[stage].max_depth)

    def genes(self) -> GeneTable:
        """Accepted values per field and position, in OFA's config format."""
        depth = tuple(self.d_choices if st.max_depth > 1 else (1,) for st in self.stages)
        return {
            "ks": (self.ks_choices,) * self.n_slots,
            "e": (self.e_choices,) * self.n_slots,
            "d": depth,
            "r": (self.resolutions,),
        }

    def mid_channels(self, c_in: int, expand: int) -> int:
        """Expanded width of an MBConv block: make_divisible(round(c_in * e), 8) (OFA DynamicMBConvLayer)."""
        return make_divisible(_round_half_even(c_in * expand))

    @staticmethod
    def se_channels(mid: int) -> int:
        """Squeeze-excite bottleneck width: make_divisible(mid // 4, 8) (OFA SEModule, reduction 4)."""
        return make_divisible(mid // 4)


@dataclass(frozen=True)
class ResNetSpace:
    """OFA-ResNet50 (configs {"d", "e", "w", "r"} as OFAResNets.sample_active_subnet returns them).

    d[0] in {0, 2}: 2 keeps the residual 3x3 conv of the stem; d[1..4]: extra blocks per stage on top of
    the base depths. e: one bottleneck ratio per block slot. w: an index into `width_mults` for the stem
    convs 0-1, the stem conv 2, and each of the four stages.
    """

    name: str = "ofa_resnet50"
    base_depths: tuple[int, ...] = (2, 2, 4, 2)  # OFA ResNets.BASE_DEPTH_LIST
    stage_base_widths: tuple[int, ...] = (256, 512, 1024, 2048)  # OFA ResNets.STAGE_WIDTH_LIST
    stage_strides: tuple[int, ...] = (1, 2, 2, 2)
    stem_base_width: int = 64
    depth_choices: tuple[int, ...] = (0, 1, 2)
    e_choices: tuple[float, ...] = (0.2, 0.25, 0.35)  # NAAS (DAC 2021) / OFA ResNet50 expand ratios
    width_mults: tuple[float, ...] = (0.65, 0.8, 1.0)  # NAAS (DAC 2021) / OFA width multipliers
    resolutions: tuple[int, ...] = tuple(range(128, 257, 16))  # NAAS (DAC 2021): 128..256 step 16
    n_classes: int = 1000
    bn_eps: float = 1e-5

    @property
    def max_extra_depth(self) -> int:
        return max(self.depth_choices)

    @property
    def n_slots(self) -> int:
        """Bottleneck slots: sum of base depths + 2 extra per stage = 18."""
        return sum(self.base_depths) + self.max_extra_depth * len(self.base_depths)

    def stage_slots(self, stage: int) -> range:
        start = sum(b + self.max_extra_depth for b in self.base_depths[:stage])
        return range(start, start + self.base_depths[stage] + self.max_extra_depth)

    def genes(self) -> GeneTable:
        n_stages = len(self.base_depths)
        stem_depth = (min(self.depth_choices), max(self.depth_choices))  # OFA samples only min or max
        return {
            "d": (stem_depth,) + (self.depth_choices,) * n_stages,
            "e": (self.e_choices,) * self.n_slots,
            "w": (tuple(range(len(self.width_mults))),) * (n_stages + 2),
            "r": (self.resolutions,),
        }

    def stem_widths(self, w_index: int) -> tuple[int, int]:
        """(width of stem convs 0-1, width of stem conv 2) at width index `w_index`; a config takes the
        first at index w[0] and the second at index w[1]."""
        full = make_divisible(self.stem_base_width * self.width_mults[w_index])
        return make_divisible(full // 2), full

    def stage_width(self, stage: int, w_index: int) -> int:
        return make_divisible(self.stage_base_widths[stage] * self.width_mults[w_index])

    @staticmethod
    def mid_channels(c_out: int, expand: float) -> int:
        """Bottleneck width: make_divisible(round(c_out * e), 8) (OFA DynamicResNetBottleneckBlock)."""
        return make_divisible(_round_half_even(c_out * expand))


def _mb_widths(base: tuple[int, ...], width_mult: float) -> list[int]:
    return [make_divisible(b * width_mult) for b in base]


def _mbv3_space(width_mult: float) -> MBSpace:
    """OFAMobileNetV3: base widths [16, 16, 24, 40, 80, 112, 160, 960, 1280] x width_mult."""
    w = _mb_widths((16, 16, 24, 40, 80, 112, 160, 960, 1280), width_mult)
    acts = ("relu", "relu", "h_swish", "h_swish", "h_swish")
    se = (False, True, False, True, True)
    strides = (2, 2, 2, 1, 2)
    stages = tuple(MBStage(width, s, a, e, 4) for width, s, a, e in zip(w[2:7], strides, acts, se))
    return MBSpace(name=f"ofa_mbv3_w{width_mult:g}", family="mbv3", width_mult=width_mult,
                   stem_width=w[0], stem_act="h_swish", first_block_width=w[1], first_block_act="relu",
                   stages=stages, final_expand_width=w[7], last_channel=w[8], head_act="h_swish",
                   bn_eps=1e-5)


def _proxyless_space(width_mult: float) -> MBSpace:
    """OFAProxylessNASNets: base widths [32, 16, 24, 40, 80, 96, 192, 320, 1280] x width_mult, ReLU6."""
    w = _mb_widths((32, 16, 24, 40, 80, 96, 192, 320, 1280), width_mult)
    strides = (2, 2, 2, 1, 2, 1)
    depths = (4, 4, 4, 4, 4, 1)
    stages = tuple(MBStage(width, s, "relu6", False, d) for width, s, d in zip(w[2:8], strides, depths))
    return MBSpace(name=f"ofa_proxyless_w{width_mult:g}", family="proxyless", width_mult=width_mult,
                   stem_width=w[0], stem_act="relu6", first_block_width=w[1], first_block_act="relu6",
                   stages=stages, final_expand_width=None, last_channel=w[8], head_act="relu6",
                   bn_eps=1e-3)  # OFA proxyless bn_param (0.1, 1e-3)


MBV3_W12 = _mbv3_space(1.2)
"""ofa_mbv3_d234_e346_k357_w1.2: the space of OFA's published accuracy predictor."""
PROXYLESS_W13 = _proxyless_space(1.3)
"""ofa_proxyless_d234_e346_k357_w1.3."""
RESNET50 = ResNetSpace()
"""OFA-ResNet50 as NAAS searched it."""

Space = MBSpace | ResNetSpace

SPACES: dict[str, Space] = {s.name: s for s in (MBV3_W12, PROXYLESS_W13, RESNET50)}


def lookup_space(spaces: dict, name, what: str):
    """`spaces[name]`, or `name` itself if it is a space object (anything with a gene table); a ValueError listing
    the accepted names otherwise (`what`: the kind of space, for the message)."""
    if not isinstance(name, str) and hasattr(name, "genes"):
        return name
    try:
        return spaces[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {what} {name!r}; accepted: {', '.join(spaces)}") from None


def get_space(name: str | Space) -> Space:
    """Look an OFA space up by name (or pass a space object through); the error lists the accepted names."""
    return lookup_space(SPACES, name, "OFA space")
