"""ResNet-50 (or any zoo network) on a preset (Eyeriss by default): each distinct layer at the mapper's best mapping,
its roofline table and PNG.

    python benchmarks/roofline_resnet50.py [out.png] [--preset eyeriss] [--mapper-evals 2000] [--network resnet50]

Every distinct layer shape is mapped by `mappings.best_mapping` (CMA-ES over the importance encoding,
EDP) and placed on the preset's roofline with its DRAM traffic from the cost model.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from accel_models import presets, roofline  # noqa: E402
from accel_models.cost_model import explain  # noqa: E402
from mappings import best_mapping  # noqa: E402
from nets import ZOO, get_network  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("png", nargs="?", default=None, help="default: out/roofline_NETWORK_PRESET.png")
    ap.add_argument("--preset", default="eyeriss", choices=list(presets.PRESETS))
    ap.add_argument("--mapper-evals", type=int, default=2000, help="mapper evaluations per distinct layer")
    ap.add_argument("--network", default="resnet50", choices=list(ZOO), help="a zoo network (batch 1)")
    args = ap.parse_args(argv)
    args.png = args.png or f"out/roofline_{args.network}_{args.preset}.png"
    if args.mapper_evals < 16:
        ap.error(f"--mapper-evals must be >= 16, got {args.mapper_evals}")
    acc = presets.get_preset(args.preset)
    net = get_network(args.network)
    t0 = time.perf_counter()
    points = []
    for layer, count in net.unique_layers():
        res = best_mapping(layer, acc, budget_evals=args.mapper_evals, seed=0)
        if not res.valid:
            raise SystemExit(f"no valid mapping of {layer.name} on {acc.name}")
        points.append(roofline.layer_roofline(layer, acc, explain(layer, acc, res.arrays), count=count))
    total = roofline.network_roofline(points, name=net.name)
    os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
    roofline.plot_roofline(points, args.png, total=total,
                           title=f"{net.name} ({len(net.layers)} layers, {len(points)} shapes) on {acc.name}, "
                                 f"{acc.technology_nm} nm, {acc.clock_ghz * 1e3:.0f} MHz; mapper "
                                 f"{args.mapper_evals} evaluations per layer")
    print(f"{net.name} on {acc.name} ({acc.num_macs} PEs, levels {' -> '.join(acc.level_names)})")
    print(roofline.format_table(points, total))
    print(f"wrote {args.png} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
