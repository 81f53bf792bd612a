"""The Once-for-All space families: the architecture facts and gene choices of OFA's MobileNetV3 / ProxylessNAS
spaces (`MBSpace`) and of OFA-ResNet50 (`ResNetSpace`), and what a `SearchSpace` derives from them (layers,
parameters, the configs covering every layer shape). The registered spaces themselves (`ofa-mbv3`,
`ofa-proxyless`, `ofa-resnet50`) are `nets.spaces` members built on these.

Sources: Cai et al., "Once-for-All", ICLR 2020, and the public code mit-han-lab/once-for-all
(ofa/imagenet_classification/elastic_nn/networks/ofa_mbv3.py, ofa_proxyless.py, ofa_resnets.py);
the ResNet-50 space with its NAAS restrictions from Lin, Yang, Han, "NAAS", DAC 2021 (docs/sources.md).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ..channels import make_divisible
from ..network import Network
from ..spaces.genes import GeneTable
from ..spaces.protocol import SearchSpace
from ..spaces.terms import LayerTerm
from .config import MBConfig, ResNetConfig
from .plan import Plan, mb_plan, resnet_plan
from .table_keys import phone_table_keys
from .workload import plan_network, plan_params

def _round_half_even(value: float) -> int:
    """Python's round(): OFA computes expanded widths with it (round(c_in * e))."""
    return int(round(value))


@dataclass(frozen=True)
class MBStage:
    """One elastic stage of MBConv blocks: output width (channels), first stride, activation, SE."""

    width: int
    stride: int
    act: str
    use_se: bool
    max_depth: int


class PlanSpace(SearchSpace):
    """A space whose subnets are OFA-style unit plans (`nets.ofa.plan`): layers, parameters and the PyTorch model
    come from the plan; accuracy, where no predictor exists, from a zero-cost proxy mapped onto top-1
    (`nets.estimators.CalibratedProxy`, labelled as such)."""

    resolution_gene: ClassVar[str | None] = "r"

    def plan(self, config) -> Plan:
        """The subnet's units in execution order."""
        raise NotImplementedError

    def network(self, config, batch: int = 1) -> Network:
        return plan_network(self.plan(self.parse(config)), batch, config)

    def parameters(self, config) -> int:
        return plan_params(self.plan(self.parse(config)))

    def build_torch(self, config, **options):
        """See `nets.torch_build.plan_module` (options: `residual`, `batchnorm`)."""
        from nets.torch_build import plan_module  # torch

        return plan_module(self.plan(self.parse(config)), **options)

    def accuracy_estimator(self, predictor: str | os.PathLike | None = None, seed: int = 0):
        from nets.estimators.calibrated import CalibratedProxy  # torch

        return CalibratedProxy(self, seed=seed, why=f"no trained accuracy predictor ships for {self.name}")


@dataclass(frozen=True)
class MBSpace(PlanSpace):
    """An OFA space of MobileNetV3 / ProxylessNAS-style networks (configs {"ks", "e", "d", "r"}).

    Block slot 4*i + j is block j of elastic stage i; a stage of depth d uses its first d slots.
    """

    config_type: ClassVar[type] = MBConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("r",)

    name: str
    cli_name: str
    family: str  # "mbv3" or "proxyless": the network OFA's code builds (its name in OFA's model zoo)
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
    resolutions: tuple[int, ...] = tuple(range(128, 225, 4))  # OFA's elastic resolution: multiples of 4, 128..224
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

    @property
    def mobilenet_v3_head(self) -> bool:
        """MobileNetV3's head (a final expand conv before the global pool, the feature-mix conv after it) rather
        than ProxylessNAS's (the feature-mix conv before the pool)."""
        return self.final_expand_width is not None

    def latency_table_keys(self, config) -> list[tuple[str, str]]:
        """The keys of the phone latency tables ProxylessNAS and OFA publish (`nets.ofa.table_keys`), in the format
        of this space's network (MobileNetV3's or ProxylessNAS's)."""
        return phone_table_keys(self.plan(self.parse(config)), self.mobilenet_v3_head)

    def mid_channels(self, c_in: int, expand: int) -> int:
        """Expanded width of an MBConv block: make_divisible(round(c_in * e), 8) (OFA DynamicMBConvLayer)."""
        return make_divisible(_round_half_even(c_in * expand))

    @staticmethod
    def se_channels(mid: int) -> int:
        """Squeeze-excite bottleneck width: make_divisible(mid // 4, 8) (OFA SEModule, reduction 4)."""
        return make_divisible(mid // 4)

    def plan(self, config) -> Plan:
        return mb_plan(self, config)

    def layer_terms(self) -> tuple[LayerTerm, ...]:
        """A block's layers depend on the resolution (its feature map), whether its stage's depth reaches it, and its
        own kernel size and expand ratio (its input width is its stage's, or the previous stage's for a stage's first
        block: fixed either way); the stem, the first fixed block and the head on the resolution alone."""
        terms = [LayerTerm((("r", 0), ("d", i), ("ks", slot), ("e", slot)), f"blocks.{slot + 1}.")
                 for i in range(len(self.stages)) for slot in self.stage_slots(i)]
        return (*terms, LayerTerm((("r", 0),), None))

    def covering_configs(self) -> Iterator[MBConfig]:
        """The stages' widths are fixed, so for every resolution, kernel size and expand ratio, one config with that
        kernel and ratio in every slot and every stage at its maximum depth covers every position a block can take
        (a stage's first block and its later ones)."""
        depths = tuple(max(c) for c in self.genes()["d"])
        for r in self.resolutions:
            for k in self.ks_choices:
                for e in self.e_choices:
                    yield MBConfig(ks=(k,) * self.n_slots, e=(e,) * self.n_slots, d=depths, r=r, space=self.name)


@dataclass(frozen=True)
class ResNetSpace(PlanSpace):
    """OFA-ResNet50 (configs {"d", "e", "w", "r"} as OFAResNets.sample_active_subnet returns them).

    d[0] in {0, 2}: 2 keeps the residual 3x3 conv of the stem; d[1..4]: extra blocks per stage on top of
    the base depths. e: one bottleneck ratio per block slot. w: an index into `width_mults` for the stem
    convs 0-1, the stem conv 2, and each of the four stages.
    """

    config_type: ClassVar[type] = ResNetConfig
    scalar_genes: ClassVar[tuple[str, ...]] = ("r",)

    name: str = "ofa_resnet50"
    cli_name: str = "ofa-resnet50"
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

    def plan(self, config) -> Plan:
        return resnet_plan(self, config)

    def layer_terms(self) -> tuple[LayerTerm, ...]:
        """A bottleneck's layers depend on the resolution, whether its stage's extra depth reaches it, its own ratio,
        its stage's width index, and the previous stage's (the stem's second conv for stage 0: w[1]), which a
        stage's first block reads; the stem on the resolution, its depth gene and w[0], w[1]; the classifier on the
        last stage's width."""
        n = len(self.base_depths)
        terms = [LayerTerm((("r", 0), ("d", i + 1), ("e", slot), ("w", i + 2), ("w", i + 1)), f"blocks.{slot}.")
                 for i in range(n) for slot in self.stage_slots(i)]
        return (*terms, LayerTerm((("r", 0), ("d", 0), ("w", 0), ("w", 1), ("w", n + 1)), None))

    def covering_configs(self) -> Iterator[ResNetConfig]:
        """A stage's first block reads the previous stage's width, so the width indices follow w[k] = (a + b k) mod 3,
        which over (a, b) puts every pair of indices at every pair of neighbours, for every resolution and
        bottleneck ratio, at maximum depths."""
        genes = self.genes()
        depths = tuple(max(c) for c in genes["d"])
        n_w = len(self.width_mults)
        for r in self.resolutions:
            for e in self.e_choices:
                for a in range(n_w):
                    for b in range(n_w):
                        w = tuple((a + b * k) % n_w for k in range(len(genes["w"])))
                        yield ResNetConfig(d=depths, e=(e,) * self.n_slots, w=w, r=r, space=self.name)


def _mb_widths(base: tuple[int, ...], width_mult: float) -> list[int]:
    return [make_divisible(b * width_mult) for b in base]


def mbv3_facts(width_mult: float) -> dict:
    """OFAMobileNetV3's fields at `width_mult`: base widths [16, 16, 24, 40, 80, 112, 160, 960, 1280] x width_mult."""
    w = _mb_widths((16, 16, 24, 40, 80, 112, 160, 960, 1280), width_mult)
    acts = ("relu", "relu", "h_swish", "h_swish", "h_swish")
    se = (False, True, False, True, True)
    strides = (2, 2, 2, 1, 2)
    stages = tuple(MBStage(width, s, a, e, 4) for width, s, a, e in zip(w[2:7], strides, acts, se))
    return dict(name=f"ofa_mbv3_w{width_mult:g}", family="mbv3", width_mult=width_mult,
                stem_width=w[0], stem_act="h_swish", first_block_width=w[1], first_block_act="relu",
                stages=stages, final_expand_width=w[7], last_channel=w[8], head_act="h_swish", bn_eps=1e-5)


def proxyless_facts(width_mult: float) -> dict:
    """OFAProxylessNASNets' fields at `width_mult`: base widths [32, 16, 24, 40, 80, 96, 192, 320, 1280] x
    width_mult, ReLU6."""
    w = _mb_widths((32, 16, 24, 40, 80, 96, 192, 320, 1280), width_mult)
    strides = (2, 2, 2, 1, 2, 1)
    depths = (4, 4, 4, 4, 4, 1)
    stages = tuple(MBStage(width, s, "relu6", False, d) for width, s, d in zip(w[2:8], strides, depths))
    return dict(name=f"ofa_proxyless_w{width_mult:g}", family="proxyless", width_mult=width_mult,
                stem_width=w[0], stem_act="relu6", first_block_width=w[1], first_block_act="relu6",
                stages=stages, final_expand_width=None, last_channel=w[8], head_act="relu6",
                bn_eps=1e-3)  # OFA proxyless bn_param (0.1, 1e-3)


__all__ = ["MBStage", "PlanSpace", "MBSpace", "ResNetSpace", "mbv3_facts",
           "proxyless_facts"]
