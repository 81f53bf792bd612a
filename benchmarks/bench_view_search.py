"""The view search's budget in the searches (`cosearch.fusion.VIEW_SEARCH_EVALS`), measured at the search's objective.

For each design (presets and designs the default co-search found under its 5 mm2 budget) and each of a set of
ofa-mbv3 subnets (the smallest, the largest, random ones), the resident plan's network objective as a co-search trial
scores it (`network_run`, the trial mapper: the co-search's defaults) with the views priced only (the layer-wise
mapping moved onto each view) and with every view searched at several budgets. Prints, per design and budget, the
network objective over the largest budget's (median and worst subnet) and the CPU time, and checks that searching
views never raises a subnet's network objective above the priced-only plan's.

    python benchmarks/bench_view_search.py                     # EDP, the co-search's objective
    python benchmarks/bench_view_search.py --objective latency --subnets 8

Last line: `view search: at N evaluations the network edp is within xR of B's on every subnet of D designs; above
priced-only on K of M subnet runs` (N: the rule's budget for the objective, `VIEW_SEARCH_EVALS`).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import get_preset  # noqa: E402
from cosearch.config.builder import make_settings  # noqa: E402
from cosearch.fusion import VIEW_SEARCH_EVALS, NoValidMapping, view_search_settings  # noqa: E402
from cosearch.search.evaluate import network_run  # noqa: E402
from cosearch.search.space import Design  # noqa: E402
from mappings import MappingCache  # noqa: E402
from nets import get_space, largest_config, sample_configs, smallest_config, to_network  # noqa: E402

_COMMON = {"glb_shared": True, "dram_bytes_per_cycle": 32.0, "word_bits": 8, "technology_nm": 45, "clock_ghz": 1.0}
COSEARCHED = {
    # designs the default co-search (`python run_cosearch.py --fusion resident`, area <= 5 mm2) returned as its best
    "32x32 K-C, 384 KiB GLB (4.18 mm2)": {"pe_array": [32, 32], "parallel_dims": ["K", "C"], "glb_words": 393216,
                                          "rf_words": {"weights": 1, "inputs": 1, "outputs": 1}, **_COMMON},
    "144x10 K-C, 151.6 KiB GLB (4.99 mm2)": {"pe_array": [144, 10], "parallel_dims": ["K", "C"], "glb_words": 155248,
                                             "rf_words": {"weights": 4, "inputs": 4, "outputs": 7}, **_COMMON},
    "158x8 K-P, 130.8 KiB GLB (4.98 mm2)": {"pe_array": [158, 8], "parallel_dims": ["K", "P"], "glb_words": 133984,
                                            "rf_words": {"weights": 10, "inputs": 4, "outputs": 5}, **_COMMON},
}
PRESETS = ("edge_tpu_like", "nvdla_1024")


def _value(run, objective: str) -> float:
    return {"edp": run.edp_pj_cycles, "latency": run.cycles, "energy": run.energy_pj}[objective]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="edp", choices=("edp", "latency", "energy"))
    parser.add_argument("--subnets", type=int, default=12)
    parser.add_argument("--budgets", default="1,8,16,32,64,128,256")
    parser.add_argument("--only", default="", help="comma-separated design names (substrings) to run")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    settings = make_settings(fusion="resident")
    space = get_space(settings.space)
    configs = [smallest_config(space), largest_config(space)] + \
        sample_configs(space, args.subnets - 2, np.random.default_rng(7))
    networks = [to_network(c) for c in configs]
    designs = [(name, get_preset(name)) for name in PRESETS] + \
        [(name, Design.from_dict(d).accelerator) for name, d in COSEARCHED.items()]
    if args.only:
        designs = [(n, a) for n, a in designs if any(o in n for o in args.only.split(","))]
    worst_at = {b: 1.0 for b in budgets}
    above, compared = 0, 0
    for name, acc in designs:
        cache = MappingCache(settings.mapper)
        for net in networks:            # the layer-wise mappings first, shared by every variant
            network_run(net, acc, cache, args.objective, "none")
        variants = [("priced", False)] + [(b, dataclasses.replace(view_search_settings(settings.mapper, args.objective),
                                                                 budget_evals=b)) for b in budgets]
        values, cpu = {}, {}
        for label, views in variants:
            start = time.process_time()
            found = []
            for net in networks:
                try:
                    found.append(_value(network_run(net, acc, cache, args.objective, "resident",
                                                    search_views=views), args.objective))
                except NoValidMapping:
                    found.append(None)
            values[label], cpu[label] = found, time.process_time() - start
        top = budgets[-1]
        print(f"== {name} ({len(networks)} subnets, objective {args.objective}; value over {top} evaluations')")
        for label, _ in variants:
            ratios = [v / t for v, t in zip(values[label], values[top]) if v is not None and t is not None]
            print(f"  {label!s:>7}: median x{statistics.median(ratios):.4f}  worst x{max(ratios):.4f}  "
                  f"best x{min(ratios):.4f}  CPU {cpu[label]:.1f} s")
            if label in worst_at:
                worst_at[label] = max(worst_at[label], max(ratios))
        for label in budgets:
            for v, p in zip(values[label], values["priced"]):
                if v is not None and p is not None:
                    compared += 1
                    above += v > p * (1 + 1e-12)
    print("worst over designs: " + ", ".join(f"{b}: x{w:.4f}" for b, w in worst_at.items()))
    rule = VIEW_SEARCH_EVALS[args.objective]
    chosen = rule if rule in worst_at else budgets[0]
    print(f"view search: at {chosen} evaluations the network {args.objective} is within x{worst_at[chosen]:.3f} of "
          f"{budgets[-1]}'s on every subnet of {len(designs)} designs; above priced-only on {above} of {compared} "
          "subnet runs")


if __name__ == "__main__":
    main()
