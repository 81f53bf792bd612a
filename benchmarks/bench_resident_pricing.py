"""The resident planner's pricing pass (`cosearch.fusion.pricing`) against its reference (`explain_rehomed`), back to
back in one process: the same calls, the same figures, the CPU of each.

1. Every `Residency.priced` call of three resident plans (mobilenet_v2 on nvdla_1024, googlenet on edge_tpu_like,
   mobilenet_v2 on eyeriss; mapper budget 300), replayed through both: equal to the last bit, then timed.
2. What a resident co-search trial does: `network_run(fusion="resident")` of ofa-mbv3 subnets (seed 7) on a 5 mm2
   design the default co-search found, with the search's mapper, from an empty memo, once with the reference pricing
   patched in and once with the fast one (the mapper's searches are the same in both; their cycles and energies
   must agree).

    python benchmarks/bench_resident_pricing.py [--subnets 16]

Last line: `resident pricing: N pricings A -> B us each; S subnets' resident plans C -> D s CPU (xR)`.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import explain_rehomed, get_preset  # noqa: E402
from cosearch.config import SEARCH_MAPPER  # noqa: E402
from cosearch.fusion import view  # noqa: E402
from cosearch.fusion import memo as fusion_memo, view_search  # noqa: E402
from cosearch.search import evaluate_network  # noqa: E402
from cosearch.search.evaluate import network_run  # noqa: E402
from cosearch.search.space import Design  # noqa: E402
from mappings import MappingCache, MapperSettings  # noqa: E402
from nets import get_network, get_space, sample_configs, to_network  # noqa: E402

DESIGN = {"pe_array": [98, 26], "parallel_dims": ["K", "P"], "glb_words": 173008, "glb_shared": True,
          "rf_words": {"weights": 1, "inputs": 2, "outputs": 2}, "dram_bytes_per_cycle": 22.5, "word_bits": 8,
          "technology_nm": 45, "clock_ghz": 1.0}
"""The best design of `python run_cosearch.py --fusion resident --trials 6 --time-limit none` (4.97 mm2)."""
FAST = view.Residency.priced


def reference_priced(self, layer, accelerator, arrays):
    """`Residency.priced` through `explain_rehomed` (the readable evaluation), as the planner priced before."""
    whole = replace(self, free_words=accelerator.levels[self.home].capacity_words)
    ev = explain_rehomed(layer, accelerator, whole.view(accelerator), arrays, self.home, self.resident)
    if not ev.valid:
        return None
    return (int(ev.cycles), float(ev.energy_pj), float(ev.reads[0].sum() + ev.updates[0].sum()),
            int(sum(max(0, t) for t in ev.tile_words[self.home])))


def _recorded_calls() -> list:
    calls = []

    def record(self, layer, accelerator, arrays):
        calls.append((self, layer, accelerator, arrays))
        return FAST(self, layer, accelerator, arrays)
    view.Residency.priced = record
    try:
        for network, preset in (("mobilenet_v2", "nvdla_1024"), ("googlenet", "edge_tpu_like"),
                                ("mobilenet_v2", "eyeriss")):
            evaluate_network(get_network(network), get_preset(preset), MappingCache(MapperSettings(budget_evals=300)),
                             fusion="resident")
    finally:
        view.Residency.priced = FAST
    return calls


def _cpu(fn) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def _plans(networks, accelerator, priced) -> tuple[float, list]:
    view.Residency.priced = priced
    fusion_memo.PRICED.clear()
    view_search._SEARCHED.clear()
    try:
        cache = MappingCache(SEARCH_MAPPER)
        return _cpu(lambda: [(r.cycles, r.energy_pj) for r in
                             (network_run(n, accelerator, cache, fusion="resident") for n in networks)])
    finally:
        view.Residency.priced = FAST


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subnets", type=int, default=16)
    args = parser.parse_args(argv)
    calls = _recorded_calls()
    fast = [FAST(*c) for c in calls]
    assert fast == [reference_priced(*c) for c in calls], "the fast pricing differs from explain_rehomed"
    ref_s, _ = _cpu(lambda: [reference_priced(*c) for c in calls])
    fast_s, _ = _cpu(lambda: [FAST(*c) for c in calls])
    per_ref, per_fast = ref_s / len(calls) * 1e6, fast_s / len(calls) * 1e6
    print(f"{len(calls)} pricings: reference {per_ref:.0f} us each, fast {per_fast:.0f} us each", flush=True)
    accelerator = Design.from_dict(DESIGN).accelerator
    networks = [to_network(c) for c in sample_configs(get_space("ofa-mbv3"), args.subnets, 7)]
    plan_ref_s, ref_runs = _plans(networks, accelerator, reference_priced)
    plan_fast_s, fast_runs = _plans(networks, accelerator, FAST)
    assert ref_runs == fast_runs, "the plans' cycles or energies differ"
    print(f"{args.subnets} subnets' resident plans: reference {plan_ref_s:.2f} s CPU, fast {plan_fast_s:.2f} s CPU",
          flush=True)
    print(f"resident pricing: {len(calls)} pricings {per_ref:.0f} -> {per_fast:.0f} us each; {args.subnets} subnets' "
          f"resident plans {plan_ref_s:.2f} -> {plan_fast_s:.2f} s CPU (x{plan_fast_s / plan_ref_s:.2f})")


if __name__ == "__main__":
    main()
