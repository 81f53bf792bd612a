"""How often the residual decode (`Encoding(..., factors="residual")`) gives a residual mapping, for random genes.

    python benchmarks/residual_fraction.py [--rows 2000] [--seed 0]

Per layer and accelerator: the share of decoded mappings with a residual loop, the share of those in Timeloop's
spatial class (a residual on a spatial loop or below a spatial loop of its dim, `reference.uniform_instances`;
the compiled kernel refuses the class with reason 7 until it counts it), and the mean share of the MACs that the
spatial ends use (product of the spatial ends over the product of the fan-outs), perfect and residual decode of the
same genes. Last line: `residual mappings: a% (spatial class b% of them) over the N pairs`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import get_preset  # noqa: E402
from accel_models.reference import uniform_instances  # noqa: E402
from mappings import Encoding  # noqa: E402
from nets import get_network  # noqa: E402

PAIRS = (  # (preset, network, layer name)
    ("eyeriss", "resnet50", "layer1.0.conv2"),
    ("nvdla_1024", "vit_b16", "blocks.0.attn.qkv"),
    ("shidiannao", "resnet50", "fc"),
    ("edge_tpu_like", "mobilenet_v2", "features.4.depthwise"),
)


def _mac_share(arrays, fanout_product: int) -> float:
    spatial = (arrays.spatial_x * arrays.spatial_y).prod(axis=(1, 2))
    return float(np.mean(spatial / fanout_product))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2000, help="random gene vectors per pair (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    total = residual = spatial = 0
    print("pair                                               residual  spatial class  MAC share perfect -> residual")
    for preset, network, name in PAIRS:
        acc = get_preset(preset)
        layer = {lay.name: lay for lay in get_network(network).layers}[name]
        enc = Encoding(layer, acc, factors="residual")
        x = np.random.default_rng(args.seed).random((args.rows, enc.size))
        arrays = enc.decode(x)
        perfect = Encoding(layer, acc).decode(x)
        res = ~arrays.is_perfect()
        cls = np.array([not uniform_instances(arrays, b) for b in np.flatnonzero(res)], dtype=bool)
        fan = int(np.prod([lv.fanout_x * lv.fanout_y for lv in acc.levels]))
        total += args.rows
        residual += int(res.sum())
        spatial += int(cls.sum())
        print(f"{preset + ' ' + network + ' ' + name:50s} {res.mean():8.1%}  {cls.mean() if len(cls) else 0.0:13.1%}"
              f"  {_mac_share(perfect, fan):6.1%} -> {_mac_share(arrays, fan):6.1%}")
    print(f"residual mappings: {residual / total:.1%} (spatial class {spatial / max(residual, 1):.1%} of them) over "
          f"the {len(PAIRS)} pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
