#!/usr/bin/env python
"""The depth-first planner's CPU time with groups of any length against groups of at most 4 layers, side by side.

    python benchmarks/bench_planner.py                       # mobilenet_v2 and 3 ofa-mbv3 subnets on edge_tpu_like
    python benchmarks/bench_planner.py --networks bert_base_128 --repeats 1 --preset nvdla_1024

Each network is planned as a co-search trial plans it (`fusion.view_search_settings` of the co-search's default
mapper, `count_dram=False`) by `DepthFirst(max_group_layers=4)` and by `DepthFirst()` (the planner's default: no
limit), each run from a fresh mapping cache with the fusion memos emptied and its own mapper settings object (the
view searches' memo is keyed by it), so neither run reuses the other's searches. The subnets are ofa-mbv3's smallest,
largest and one random one (seed 7). Prints per network and run the CPU seconds, the plan's mode and its objective.
Last line: `planner: N networks on PRESET, CPU at most 4 layers A s, any length B s (xR); objective any length / at
most 4 layers: min M, max X`.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import get_preset  # noqa: E402
from cosearch.config.builder import make_settings  # noqa: E402
from cosearch.fusion import view_search_settings  # noqa: E402
from cosearch.fusion.memo import PRICED  # noqa: E402
from cosearch.fusion.modes.depth_first import DepthFirst  # noqa: E402
from cosearch.fusion.plan import network_objective  # noqa: E402
from mappings import MappingCache  # noqa: E402
from nets import get_network, get_space, largest_config, sample_configs, smallest_config, to_network  # noqa: E402


def _networks(names: str) -> list:
    space = get_space("ofa-mbv3")
    configs = [("smallest", smallest_config(space)), ("largest", largest_config(space)),
               ("random", sample_configs(space, 1, np.random.default_rng(7))[0])]
    found = [(name, get_network(name)) for name in names.split(",") if name]
    return found + [(f"ofa-mbv3 {label}", to_network(config)) for label, config in configs]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default="mobilenet_v2", help="comma-separated zoo networks (with the subnets)")
    parser.add_argument("--preset", default="edge_tpu_like")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--objective", default="edp", choices=("edp", "latency", "energy"))
    args = parser.parse_args(argv)
    mapper = make_settings(fusion="depth-first").mapper
    accelerator = get_preset(args.preset)
    networks = _networks(args.networks)
    planners = (("at most 4 layers", DepthFirst(max_group_layers=4)), ("any length", DepthFirst()))
    cpu = {label: 0.0 for label, _ in planners}
    ratios = []
    for repeat in range(args.repeats):
        for name, network in networks:
            values, line = [], []
            for label, planner in planners:
                settings = dataclasses.replace(mapper)       # a new object: no view search remembered for it
                PRICED.clear()
                start = time.process_time()
                plan = planner.plan(network, accelerator, MappingCache(settings), args.objective,
                                    view_search_settings(settings, args.objective), count_dram=False)
                seconds = time.process_time() - start
                cpu[label] += seconds
                values.append(network_objective(plan.cycles, plan.energy_pj, args.objective))
                line.append(f"{label} {seconds:.2f} s ({plan.mode}, {args.objective} {values[-1]:.5g})")
            ratios.append(values[1] / values[0])
            print(f"{repeat} {name}: " + "; ".join(line), flush=True)
    a, b = cpu["at most 4 layers"], cpu["any length"]
    print(f"planner: {len(networks)} networks on {args.preset}, CPU at most 4 layers {a:.2f} s, any length {b:.2f} s "
          f"(x{b / a:.2f}); objective any length / at most 4 layers: min {min(ratios):.4f}, max {max(ratios):.4f}")


if __name__ == "__main__":
    main()
