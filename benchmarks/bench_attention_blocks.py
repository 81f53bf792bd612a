"""Attention fused over key blocks against query blocks with every key, where a query block's N x N scores do not fit.

    python benchmarks/bench_attention_blocks.py [--network vit_b16] [--resolution 1024] [--preset nvdla_1024]
                                                [--evals 4000] [--factors F]

A transformer with a long sequence (ViT-B/16 at RESOLUTION: (RESOLUTION / 16)^2 + 1 tokens) on a preset whose home
level cannot hold a query block's scores against every key, planned three ways with one mapping cache (mapper
budget EVALS per layer, objective EDP, each view priced with the layer-wise mapping moved onto it and searched only
where that does not fit): layer-wise (`none`), `depth-first` with query blocks only (every key in one tile), and
`depth-first` with key blocks (`cosearch.fusion.key_blocks`). Prints DRAM bytes and latency per inference and the
attention groups each plan chose. Last line: `attention blocks: NET (N tokens) on PRESET DRAM bytes layer-wise / query
blocks / key blocks A / B / C MB, latency D / E / F ms`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_models import get_preset  # noqa: E402
from cosearch.fusion.modes import get_fusion_mode  # noqa: E402
from cosearch.fusion.modes.depth_first import DepthFirst  # noqa: E402
from mappings import MapperSettings, MappingCache  # noqa: E402
from nets.transformer import deit_s, vit_b16  # noqa: E402

NETWORKS = {"vit_b16": vit_b16, "deit_s": deit_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", choices=sorted(NETWORKS), default="vit_b16")
    parser.add_argument("--resolution", type=int, default=1024, help="image side in pixels (a multiple of 16)")
    parser.add_argument("--preset", default="nvdla_1024")
    parser.add_argument("--evals", type=int, default=4000, help="mapper evaluations per layer")
    parser.add_argument("--factors", choices=("perfect", "residual", "auto"), default=None,
                        help="tiling factors the mapper decodes (default: the API's)")
    args = parser.parse_args()
    if args.resolution < 16 or args.resolution % 16:
        parser.exit(2, f"--resolution must be a multiple of 16 >= 16, got {args.resolution}\n")
    net, acc = NETWORKS[args.network](args.resolution), get_preset(args.preset)
    tokens = net.meta["tokens"]
    settings = MapperSettings(budget_evals=args.evals, **({"factors": args.factors} if args.factors else {}))
    cache = MappingCache(settings)
    word_bytes = acc.levels[0].word_bits / 8
    print(f"load {os.getloadavg()[0]:.1f}; {args.network} at {args.resolution} px: {tokens} tokens; {args.preset}; "
          f"factors {settings.factors}", flush=True)
    figures = []
    for label, mode in (("layer-wise", get_fusion_mode("none")), ("query blocks", DepthFirst(key_blocks=False)),
                        ("key blocks", DepthFirst())):
        t0 = time.perf_counter()
        plan = mode.plan(net, acc, cache, "edp")
        wall = time.perf_counter() - t0
        latency_ms = plan.cycles / (acc.clock_ghz * 1e9) * 1e3
        dram_mb = plan.dram_words * word_bytes / 1e6
        figures.append((dram_mb, latency_ms))
        attention = [g for g in plan.tiling if "scores" in net.layers[g["first"]].name and g["last"] > g["first"]]
        shown = [(net.layers[g["first"]].name.rsplit(".", 1)[0], g["last"] - g["first"] + 1, g["tile_rows"],
                  g.get("key_rows"), g.get("head_rows"), g["peak_intermediate_words"], g.get("rescale_ops", 0))
                 for g in attention]
        print(f"{label}: plan {plan.mode}, DRAM {dram_mb:.4g} MB, latency {latency_ms:.4g} ms, energy "
              f"{plan.energy_pj * 1e-9:.4g} mJ ({wall:.0f} s, load {os.getloadavg()[0]:.1f}); attention groups "
              f"{len(attention)} (block, layers, query rows, key rows, key/value heads at a time, words on chip, "
              f"rescale ops): {shown[:2]}",
              flush=True)
    (d0, l0), (d1, l1), (d2, l2) = figures
    print(f"attention blocks: {args.network} ({tokens} tokens) on {args.preset} DRAM bytes layer-wise / query blocks / "
          f"key blocks {d0:.4g} / {d1:.4g} / {d2:.4g} MB, latency {l0:.4g} / {l1:.4g} / {l2:.4g} ms")


if __name__ == "__main__":
    main()
