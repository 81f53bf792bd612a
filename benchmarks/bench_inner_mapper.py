"""The co-search's inner mapper against a long search: EDP at the per-layer budget vs 16k CMA-ES evaluations.

    python benchmarks/bench_inner_mapper.py [PAIR.json ...] [--seeds 20] [--chain 4] [--no-own] [--factors KIND]
    python benchmarks/bench_inner_mapper.py --pointwise        # only the pointwise (1x1) pairs

Pairs: the mapper-benchmark files given (default: accel_models/timeloop/data/mapper_bench/*.json, in
the Timeloop corpus format) and, unless --no-own, layers of the zoo on presets that those pairs do not cover, and
pointwise (1x1) layers of MobileNetV2 and ResNet-50 on three meshes: the 16x16 mesh of the pair file
mesh16_mbv2_dw3x3.json ("mesh16": 8k-word GLB, 32-word RFs), NVDLA's 16x16 and Eyeriss's 14x12.
Per pair, the reference is the best EDP that the `cmaes` package's CMA-ES reaches in 16,384 evaluations
(`best_mapping(strategy="cmaes")`, 4 islands), with the same tiling factors as the inner mapper (`--factors`, default
the co-search's). The inner mapper is the co-search's own per-layer search
(`cosearch.config.SEARCH_MAPPER`: its strategy, budget, islands and restarts, through its `MappingCache`):
- cold: a fresh cache, one search (seeds 0..S-1): the first time a trial meets a layer shape;
- warm: the layer mapped first on `--chain` neighbouring accelerators (each buffer's capacity scaled by
  2^u, u in {-1, 0, 1}, as consecutive trials of the outer CMA-ES propose), then on the pair's own
  accelerator, with one cache: the co-search's usual case, a warm start from recent accelerators.
Ratios are EDP / reference (1.0 = as good as 16k evaluations; below 1 is better), "warm ok" how many warm searches
came within 5%; ms is CPU time of the search on the pair's own accelerator (compile time excluded by a warm-up).
Last line:
`inner mapper: within 5% on k/n pairs (warm median; cold median k'/n), median ms/layer X`.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the cmaes package's linear algebra on one thread

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from accel_models import Accelerator, get_preset  # noqa: E402
from bench_mapper import DEFAULT_DIR, load_pair, timeloop_best  # noqa: E402
from cosearch.config import SEARCH_MAPPER  # noqa: E402
from mappings import FACTOR_MODES, MapperSettings, MappingCache, best_mapping  # noqa: E402
from nets import Layer, get_network  # noqa: E402

REFERENCE_EVALS = 16_384
WITHIN = 1.05
OWN_PAIRS = (  # (name, preset, zoo network, layer name): shapes the co-search meets, on designs the pairs lack
    ("eyeriss_resnet50_res2a_3x3", "eyeriss", "resnet50", "layer1.0.conv2"),
    ("nvdla256_mobilenet_v2_expand", "nvdla_256", "mobilenet_v2", "features.4.expand"),
    ("edge_tpu_mobilenet_v2_dw3x3", "edge_tpu_like", "mobilenet_v2", "features.4.depthwise"),
    ("shidiannao_resnet50_fc", "shidiannao", "resnet50", "fc"),
)

POINTWISE_PAIRS = (  # (accelerator: a preset, or "mesh16", the architecture of mesh16_mbv2_dw3x3.json; network, layer)
    ("mesh16", "mobilenet_v2", "features.3.expand"), ("mesh16", "mobilenet_v2", "features.7.project"),
    ("mesh16", "mobilenet_v2", "features.15.expand"), ("mesh16", "resnet50", "layer1.0.conv3"),
    ("mesh16", "resnet50", "layer3.1.conv1"), ("nvdla_256", "mobilenet_v2", "features.7.project"),
    ("nvdla_256", "resnet50", "layer3.1.conv1"), ("eyeriss", "mobilenet_v2", "features.3.expand"),
    ("eyeriss", "resnet50", "layer1.0.conv3"),
)
MESH16_FILE = "mesh16_mbv2_dw3x3.json"


@dataclasses.dataclass
class Pair:
    name: str
    layer: Layer
    accelerator: Accelerator
    fixed_keep: dict
    timeloop_edp_j_cycle: float | None = None


def _own_pairs() -> list[Pair]:
    out = []
    for name, preset, network, layer_name in OWN_PAIRS:
        layers = {layer.name: layer for layer in get_network(network).layers}
        out.append(Pair(name, layers[layer_name], get_preset(preset), {}))
    return out


def _pointwise_pairs() -> list[Pair]:
    out = []
    mesh16 = load_pair(DEFAULT_DIR / MESH16_FILE)[1].accelerator
    for acc_name, network, layer_name in POINTWISE_PAIRS:
        layers = {layer.name: layer for layer in get_network(network).layers}
        acc = mesh16 if acc_name == "mesh16" else get_preset(acc_name)
        short = {"mobilenet_v2": "mbv2", "resnet50": "r50"}[network]
        out.append(Pair(f"pw_{acc_name}_{short}_{layer_name}", layers[layer_name], acc, {}))
    return out


def _file_pairs(paths: list[Path]) -> list[Pair]:
    out = []
    for path in paths:
        raw, case, fixed = load_pair(path)
        out.append(Pair(raw.get("name", path.stem), case.layer, case.accelerator, fixed, timeloop_best(raw)))
    return out


def _neighbour(acc: Accelerator, rng: np.random.Generator) -> Accelerator:
    """The accelerator with each buffer's capacity scaled by 2^u, u drawn from {-1, 0, 1}, not all 0: an unchanged
    accelerator would make the warm search a hit in the layer-cost table (with two buffers, 1 in 9 draws)."""
    bounded = [lv.capacity_words is not None and lv.capacity_words > 1 for lv in acc.levels]
    exponents = [0] * len(bounded)
    while any(bounded) and not any(exponents):
        exponents = [int(rng.integers(-1, 2)) if b else 0 for b in bounded]
    levels = []
    for level, u in zip(acc.levels, exponents):
        if u:
            scale = 2.0 ** u
            per_tensor = level.tensor_capacity_words
            if per_tensor is not None:
                per_tensor = tuple(None if c is None else max(1, int(c * scale)) for c in per_tensor)
            level = dataclasses.replace(level, capacity_words=max(1, int(level.capacity_words * scale)),
                                        tensor_capacity_words=per_tensor)
        levels.append(level)
    return dataclasses.replace(acc, levels=tuple(levels))


def _cache(settings: MapperSettings, pair: Pair, seed: int) -> MappingCache:
    return MappingCache(dataclasses.replace(settings, seed=seed, fixed_keep=pair.fixed_keep or None))


def _timed(cache: MappingCache, pair: Pair) -> tuple[float, float]:
    """(EDP in pJ*cycles, CPU ms) of the cache's search of the pair's layer on the pair's accelerator."""
    t = time.process_time()
    r = cache.result(pair.layer, pair.accelerator)
    return r.edp_pj_cycles, (time.process_time() - t) * 1e3


def bench_pair(pair: Pair, settings: MapperSettings, seeds: int, chain: int) -> dict:
    ref = best_mapping(pair.layer, pair.accelerator, strategy="cmaes", budget_evals=REFERENCE_EVALS, seed=0,
                       fixed_keep=pair.fixed_keep, factors=settings.factors).edp_pj_cycles
    cold, warm, ms = [], [], []
    for seed in range(seeds):
        edp, t = _timed(_cache(settings, pair, seed), pair)
        cold.append(edp / ref)
        ms.append(t)
        cache, rng = _cache(settings, pair, seed), np.random.default_rng(seed)
        for _ in range(chain):
            cache.result(pair.layer, _neighbour(pair.accelerator, rng))
        edp, t = _timed(cache, pair)
        warm.append(edp / ref)
        ms.append(t)
    return {"ref": ref, "cold": cold, "warm": warm, "ms": float(np.median(ms))}


def _share(ratios: list[float]) -> str:
    """How many of the searches came within 5% of the reference, as 'k/n': the median of a few seeds is a coin flip
    where about half of them do."""
    return f"{sum(r <= WITHIN for r in ratios)}/{len(ratios)}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs", nargs="*", type=Path, help="mapper-benchmark JSON files (default: the repository's pairs)")
    ap.add_argument("--seeds", type=int, default=20, help="searches per pair and start (default 20: on the mesh's "
                    "pointwise pairs about half the warm searches come within 5%%, and a median of 5 is a coin flip)")
    ap.add_argument("--chain", type=int, default=4, help="neighbouring accelerators mapped before the warm search")
    ap.add_argument("--no-own", action="store_true", help="only the files, not the built-in zoo-layer pairs")
    ap.add_argument("--pointwise", action="store_true", help="only the pointwise (1x1) pairs")
    ap.add_argument("--factors", choices=FACTOR_MODES, default=SEARCH_MAPPER.factors,
                    help=f"tiling factors of both searches (default {SEARCH_MAPPER.factors}, the co-search's)")
    args = ap.parse_args(argv)
    paths = args.pairs or sorted(DEFAULT_DIR.glob("*.json"))
    if not paths and args.no_own:
        ap.error(f"no mapper-benchmark files given and none found in {DEFAULT_DIR}")
    pairs = (_pointwise_pairs() if args.pointwise else
             _file_pairs(paths) + ([] if args.no_own else _own_pairs() + _pointwise_pairs()))
    settings = dataclasses.replace(SEARCH_MAPPER, factors=args.factors)
    es = settings.strategy
    best_mapping(pairs[0].layer, pairs[0].accelerator, budget_evals=64, fixed_keep=pairs[0].fixed_keep)  # compile
    print(f"inner mapper: strategy {es.name}, {settings.factors} factors, {settings.budget_evals} evaluations per "
          f"layer, "
          f"{es.islands} island(s) ({es.cold_islands or es.islands} without warm starts), population "
          f"{es.popsize or 'default'}, step {es.seed_sigma} "
          f"around warm starts, restarts after {es.patience} stalled generations ({es.local_restarts:.0%} "
          f"local); reference: cmaes package, {REFERENCE_EVALS:,} evaluations; {args.seeds} seeds; warm = after "
          f"{args.chain} neighbouring accelerators")
    print(f"{'pair':<40s} {'ref pJ*cyc':>11s} {'timeloop':>10s} {'cold med':>8s} {'cold max':>8s} "
          f"{'warm med':>8s} {'warm max':>8s} {'warm ok':>7s} {'ms/layer':>8s}")
    rows = []
    for pair in pairs:
        r = bench_pair(pair, settings, args.seeds, args.chain)
        rows.append(r)
        tl = "-" if pair.timeloop_edp_j_cycle is None else f"{pair.timeloop_edp_j_cycle * 1e12 / r['ref']:.3f}x"
        print(f"{pair.name:<40s} {r['ref']:>11.4g} {tl:>10s} {np.median(r['cold']):>8.3f} {max(r['cold']):>8.3f} "
              f"{np.median(r['warm']):>8.3f} {max(r['warm']):>8.3f} {_share(r['warm']):>7s} {r['ms']:>8.2f}",
              flush=True)
    warm_ok = sum(np.median(r["warm"]) <= WITHIN for r in rows)
    cold_ok = sum(np.median(r["cold"]) <= WITHIN for r in rows)
    print("(timeloop: Timeloop's best mapper run / the reference; ratios: EDP / reference, median and worst of "
          "the seeds; warm ok: warm searches within 5%)")
    print(f"inner mapper: within 5% on {warm_ok}/{len(rows)} pairs (warm median; cold median {cold_ok}/{len(rows)}), "
          f"median ms/layer {np.median([r['ms'] for r in rows]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
