"""Perfect vs residual tiling factors on transformer networks: attention utilization, network latency and EDP.

    python benchmarks/bench_residual_factors.py [--networks vit_b16,deit_s] [--preset nvdla_1024]
                                                [--evals 1024] [--residual-evals 32] [--seed 0]

Per distinct layer shape of each network, the mapper (`best_mapping`, the compiled evolution strategy) runs with
`factors="perfect"` for `--evals` evaluations; then with `factors="residual"` for `--residual-evals`, started from
the perfect best (its genes decode to the same mapping in both modes, so the residual result is never worse).
The residual budget defaults lower because a mapping with residual loops costs the kernel 16-19 times a perfect one
(`kernel/sweep.py`, docs/imperfect.md; the per-evaluation times are printed). Network latency is the sum of the layers'
cycles (each shape times its count), energy the sum of their energies, EDP their product; attention is the
`attn.scores` and `attn.context` products. Elementwise work is left out (the same in both modes).
Last line: `residual vs perfect: EDP x..., latency x..., attention utilization a% -> b%` (the first network).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel_models import get_preset  # noqa: E402
from mappings import Encoding, best_mapping  # noqa: E402
from nets import get_network  # noqa: E402


def _network(name: str, preset: str, evals: int, residual_evals: int, seed: int) -> dict:
    acc = get_preset(preset)
    totals = {"perfect": [0, 0.0], "residual": [0, 0.0]}
    attn = {"perfect": [0, 0], "residual": [0, 0]}          # MACs, MAC-cycles of the array
    print(f"{name} on {preset}: layer, count, perfect util / cycles, residual util / cycles, residual s/eval")
    for layer, count in get_network(name).unique_layers():
        perfect = best_mapping(layer, acc, budget_evals=evals, seed=seed, factors="perfect")
        enc = Encoding(layer, acc, factors="residual")
        t0 = time.process_time()
        residual = best_mapping(layer, acc, budget_evals=residual_evals, seed=seed, factors="residual",
                                seeds=enc.encode(perfect.arrays)[None])
        per_eval = (time.process_time() - t0) / max(residual.evaluations, 1)
        for kind, r in (("perfect", perfect), ("residual", residual)):
            totals[kind][0] += count * r.cycles
            totals[kind][1] += count * r.energy_pj
            if "attn.scores" in layer.name or "attn.context" in layer.name:
                attn[kind][0] += count * layer.macs
                attn[kind][1] += count * acc.num_macs * r.cycles
        print(f"  {layer.name:24s} x{count:<3d} {perfect.utilization:6.1%} {perfect.cycles:>11,}   "
              f"{residual.utilization:6.1%} {residual.cycles:>11,}   {per_eval:.3f}"
              f"{'' if residual.arrays.is_perfect()[0] else '  (residual loops)'}")
    out = {}
    for kind, (cycles, energy) in totals.items():
        util = attn[kind][0] / attn[kind][1] if attn[kind][1] else float("nan")
        out[kind] = (cycles, energy, energy * cycles, util)
        print(f"  {kind:8s}: latency {cycles:,} cycles, energy {energy / 1e6:,.3f} uJ, EDP {energy * cycles:.4e} "
              f"pJ*cycles, attention utilization {util:.2%}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--networks", default="vit_b16,deit_s")
    ap.add_argument("--preset", default="nvdla_1024")
    ap.add_argument("--evals", type=int, default=1024, help="perfect mapper evaluations per layer shape")
    ap.add_argument("--residual-evals", type=int, default=32, help="residual mapper evaluations per layer shape")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    results = [_network(n, args.preset, args.evals, args.residual_evals, args.seed) for n in args.networks.split(",")]
    p, r = results[0]["perfect"], results[0]["residual"]
    print(f"residual vs perfect: EDP x{r[2] / p[2]:.4f}, latency x{r[0] / p[0]:.4f}, "
          f"attention utilization {p[3]:.2%} -> {r[3]:.2%}")


if __name__ == "__main__":
    main()
