"""What keeping tensors on chip between layers (`--fusion resident`) changes, against each layer alone (`none`).

    python benchmarks/bench_fusion.py [--evals 4000] [--no-cosearch] [-- RUN_COSEARCH_ARGS ...]

1. mobilenet_v2 (224) on edge_tpu_like and vit_b16 on nvdla_1024, through the Python API with the issue's mapper
   budget (`MapperSettings(budget_evals=EVALS)`): latency, energy, DRAM bytes per inference in each mode, and the
   ratios layer-wise / fused (`depth-first`: the better of its depth-first plan and the resident plan). vit_b16's
   attention schedule is the planner's: query blocks with every key, or key blocks (`cosearch.fusion.key_blocks`),
   named in the last line with its block sizes (query tokens x keys).
2. The default co-search (`run_cosearch.py` on its defaults, extra arguments after `--`) once with `--fusion none`
   and once with `--fusion resident` (depth-first's planner maps every candidate group's tiles: too slow for the
   co-search's trials): the best design's EDP, and the resident / layer-wise ratio (each run searches
   its own design). Skipped with --no-cosearch.

Compile time is not excluded from part 2 (warm the numba cache first). Last line:
`fusion: mobilenet_v2 on edge_tpu_like DRAM bytes xA latency xB; vit_b16 attention (SCHEDULE) on nvdla_1024 DRAM
bytes xC; default co-search EDP fused/layer-wise xD`, SCHEDULE being e.g. "query blocks 99" or "key blocks 128x64".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_models import get_preset  # noqa: E402
from cosearch.search import evaluate_network  # noqa: E402
from mappings import MapperSettings, MappingCache  # noqa: E402
from nets import get_network  # noqa: E402


def _pair(network: str, preset: str, evals: int) -> tuple[float, float, str]:
    """(DRAM bytes layer-wise / fused, latency layer-wise / fused, the attention schedule), fused being `depth-first`
    (the better of its depth-first plan and the resident plan), printing every mode."""
    net, acc = get_network(network), get_preset(preset)
    cache = MappingCache(MapperSettings(budget_evals=evals))
    runs = {}
    for mode in ("none", "resident", "depth-first"):
        t0 = time.perf_counter()
        cost = evaluate_network(net, acc, cache, fusion=mode)
        wall = time.perf_counter() - t0
        if mode == "none":
            dram = evaluate_network(net, acc, cache, fusion="resident").meta["fusion"]["layer_wise_dram_bytes"]
        else:
            fused = cost.meta["fusion"]
            dram = fused["dram_bytes"]
        runs[mode] = (cost, dram)
        print(f"{network} on {preset}, --fusion {mode}: {cost.latency_s * 1e3:.3f} ms, {cost.energy_j * 1e3:.4f} mJ, "
              f"DRAM {dram / 1e6:.4g} MB per inference ({wall:.1f} s)", flush=True)
        if mode != "none":
            tiled = [g for g in fused["groups"] if g.get("tiles", 1) > 1 or g.get("key_rows")]
            print(f"  {fused['layers_with_tensors_on_chip']}/{fused['layers']} layers with tensors on chip, "
                  f"{fused['activations_on_chip']} whole activations on chip, weights pinned "
                  f"{fused['pinned_weight_bytes'] / 1e6:.3g} MB; {len(fused['groups'])} groups, {len(tiled)} tiled "
                  f"{[(g['first'], g['last'], g['tile_rows'], g.get('key_rows') or g['halo']) for g in tiled][:6]}; "
                  f"notes: "
                  f"{fused['notes']}", flush=True)
    (none, dram_none), (fused_cost, dram_fused) = runs["none"], runs["depth-first"]
    return dram_none / max(dram_fused, 1.0), none.latency_s / fused_cost.latency_s, _attention_schedule(fused_cost)


def _attention_schedule(cost) -> str:
    """How the plan fuses attention's scores -> context: 'key blocks TQxTK' (with ', H of G heads at a time' when it
    takes the heads in groups) or 'query blocks TQ' (the most frequent among the network's attention groups), or
    'not fused'."""
    layers = cost.network.layers
    found = {}
    for g in cost.meta["fusion"]["groups"]:
        if g["last"] > g["first"] and layers[g["first"]].weights_are_activations and g.get("tiles"):
            heads = layers[g["first"]].G
            name = f"key blocks {g['tile_rows']}x{g['key_rows']}" if g.get("key_rows") else \
                f"query blocks {g['tile_rows']}"
            if g.get("head_rows") and g["head_rows"] < heads:
                name += f", {g['head_rows']} of {heads} heads at a time"
            found[name] = found.get(name, 0) + 1
    return max(found, key=found.get) if found else "not fused"


def _cosearch_edp(mode: str, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, str(ROOT / "run_cosearch.py"), "--fusion", mode, "--out", out, "--quiet", *extra]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"run_cosearch.py failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
        doc = json.loads((Path(out) / "result.json").read_text())
    edp = doc["metrics"]["edp_j_s"]
    print(f"default co-search --fusion {mode}: best EDP {edp:.4g} J*s, latency {doc['metrics']['latency_ms']:.4g} ms, "
          f"{doc['study']['counts'].get('complete')} trials, {wall:.0f} s wall (load {os.getloadavg()[0]:.1f})",
          flush=True)
    return edp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=4000, help="mapper evaluations per layer in part 1")
    parser.add_argument("--no-cosearch", action="store_true", help="skip part 2 (two default co-searches)")
    parser.add_argument("extra", nargs="*", help="arguments for run_cosearch.py (after --)")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f}", flush=True)
    dram_a, latency_b, _ = _pair("mobilenet_v2", "edge_tpu_like", args.evals)
    dram_c, _, attention = _pair("vit_b16", "nvdla_1024", args.evals)
    line = (f"fusion: mobilenet_v2 on edge_tpu_like DRAM bytes x{dram_a:.3g} latency x{latency_b:.3g}; vit_b16 "
            f"attention ({attention}) on nvdla_1024 DRAM bytes x{dram_c:.3g}")
    if not args.no_cosearch:
        ratio = _cosearch_edp("resident", args.extra) / _cosearch_edp("none", args.extra)
        line += f"; default co-search EDP fused/layer-wise x{ratio:.3g}"
    else:
        line += "; default co-search not run (--no-cosearch)"
    print(line)


if __name__ == "__main__":
    main()
