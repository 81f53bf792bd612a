"""Mapper benchmark: CMA-ES and random search over the importance encoding, next to Timeloop's mapper.

    python benchmarks/bench_mapper.py [PAIR.json ...] [--budgets 0.25,0.5,1,2,5] [--show-mapping]

Each PAIR.json (default: accel_models/timeloop/data/mapper_bench/*.json) holds an architecture,
a problem and an energy table in the Timeloop corpus format, Timeloop's mapper runs on them and
Timeloop's best mapping. Per pair: the best EDP, cycles, energy and wall time of each strategy at
each time budget (a fresh seeded search per budget, compile time excluded by a warm-up), next to
Timeloop's two runs; the best-EDP-versus-evaluations curves of CMA-ES and random on a ResNet-50
1x1 layer and its FC layer on the first pair's architecture (the Eyeriss-like one by default);
then per pair `cmaes <name> 2s: EDP X J*cycle (timeloop Y J*cycle)` and, as the last line,
`pairs at or below timeloop: k/n`. EDP in J*cycle = energy_pJ * 1e-12 * cycles.
"""
from __future__ import annotations

import os

# One BLAS thread (before numpy loads): on a shared 2-core machine OpenBLAS threads spin against
# each other and make CMA-ES's small linear algebra 100x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accel_models import TENSORS  # noqa: E402
from accel_models.timeloop import case_from_dict, default_corpus_path  # noqa: E402
from mappings import Encoding, MapperResult, RandomStrategy, best_mapping  # noqa: E402
from nets.zoo import resnet50  # noqa: E402

DEFAULT_DIR = default_corpus_path().parent / "mapper_bench"
STRATEGIES = ("cmaes", "random")
TARGET_S = 2.0
CURVE_EVALS = 30_000
CHECKPOINTS = (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 30000)


def load_pair(path: Path) -> tuple[dict, object, dict[str, tuple[str, ...]]]:
    """(raw JSON, corpus case on the design-default architecture, keep/bypass pinned by the mapspace constraints)."""
    raw = json.loads(path.read_text())
    case = case_from_dict({**raw["best_case"], "arch": raw["arch"]})
    fixed: dict[str, tuple[str, ...]] = {}
    text = raw.get("timeloop_yaml", {}).get("mapspace_constraints")
    if text:
        doc = yaml.safe_load(text) or {}
        root = doc.get("mapspace_constraints", doc)
        for t in (root.get("targets", []) if isinstance(root, dict) else root) or []:
            if t.get("type") in ("bypass", "datatype") and "keep" in t:
                fixed[str(t["target"]).split("[")[0]] = tuple(x for x in (t.get("keep") or []) if x in TENSORS)
    return raw, case, fixed


def timeloop_best(raw: dict) -> float:
    """The better EDP (J*cycle) of Timeloop's mapper runs."""
    return min(run["best"]["edp_J_cycle"] for run in raw["mapper_runs"].values())


def run(case, fixed, strategy: str, **limits) -> tuple[MapperResult, float]:
    t = time.perf_counter()
    r = best_mapping(case.layer, case.accelerator, "edp", strategy=strategy, seed=0, fixed_keep=fixed, **limits)
    return r, time.perf_counter() - t


def _row(who: str, budget: str, edp: float, cycles: int, energy_uj: float, wall: float, evals: int, valid: int) -> str:
    return (f"{who:<9s} {budget:<13s} {edp:>12.4g} {cycles:>12,} {energy_uj:>11.2f} {wall:>8.2f} "
            f"{evals:>10,} {valid:>9,}")


def bench_pair(name: str, raw: dict, case, fixed, budgets: list[float], show_mapping: bool) -> float:
    """Print the pair's table; return the best EDP CMA-ES reached within TARGET_S seconds."""
    enc = Encoding(case.layer, case.accelerator, fixed_keep=fixed)
    for strategy in STRATEGIES:                      # warm-up: compile / load the numba caches
        run(case, fixed, strategy, budget_evals=300)
    print(f"== {name} ({raw.get('layer', case.layer.name)} on {raw.get('arch_id', case.accelerator.name)}): "
          f"{case.layer.macs:,} MACs, {enc.size} genes")
    print(f"{'strategy':<9s} {'budget':<13s} {'EDP J*cycle':>12s} {'cycles':>12s} {'energy uJ':>11s} "
          f"{'wall s':>8s} {'evals':>10s} {'valid':>9s}")
    for key, mr in raw["mapper_runs"].items():
        b = mr["best"]
        print(_row("timeloop", key, b["edp_J_cycle"], int(b["cycles"]), b["energy_pJ"] * 1e-6, mr["wall_s"],
                   int(mr.get("total_mappings", 0)), int(mr.get("valid_mappings", 0))))
    at_target = float("inf")
    best_at_target: MapperResult | None = None
    for strategy in STRATEGIES:
        for budget in budgets:
            r, wall = run(case, fixed, strategy, time_limit_s=budget)
            print(_row(strategy, f"{budget:g}s", r.edp_j_cycle, r.cycles, r.energy_pj * 1e-6, wall,
                       r.evaluations, r.valid_evaluations))
            if strategy == "cmaes" and budget == TARGET_S:
                at_target, best_at_target = r.edp_j_cycle, r
    if TARGET_S not in budgets:
        best_at_target, _ = run(case, fixed, "cmaes", time_limit_s=TARGET_S)
        at_target = best_at_target.edp_j_cycle
    if show_mapping and best_at_target is not None and best_at_target.valid:
        print(f"-- best CMA-ES mapping within {TARGET_S:g} s:")
        print(best_at_target.describe())
        try:
            print(best_at_target.to_timeloop_yaml(), end="")
        except ImportError as exc:
            print(f"(Timeloop YAML writer not available: {exc})")
    print()
    return at_target


def _best_at(r: MapperResult, evals: int) -> float:
    vals = [h[2] for h in r.history if h[0] <= evals]
    return vals[-1] * 1e-12 if vals else float("inf")


def curves(case, fixed) -> None:
    """Best EDP versus evaluations of CMA-ES and random on a ResNet-50 1x1 layer and its FC layer."""
    net = {layer.name: layer for layer in resnet50().layers}
    for layer in (net["layer1.1.conv1"], net["fc"]):
        rs = {"cmaes": best_mapping(layer, case.accelerator, strategy="cmaes", budget_evals=CURVE_EVALS,
                                    fixed_keep=fixed),
              "random": best_mapping(layer, case.accelerator, strategy=RandomStrategy(batch_size=64),
                                     budget_evals=CURVE_EVALS, fixed_keep=fixed)}
        print(f"== best EDP (J*cycle) vs evaluations: ResNet-50 {layer.name} (R{layer.R} S{layer.S} P{layer.P} "
              f"Q{layer.Q} C{layer.C} K{layer.K}) on {case.accelerator.name}")
        print(f"{'evals':>8s} {'cmaes':>12s} {'random':>12s}")
        for cp in CHECKPOINTS:
            print(f"{cp:>8,} {_best_at(rs['cmaes'], cp):>12.4g} {_best_at(rs['random'], cp):>12.4g}")
        print(f"{'wall s':>8s} {rs['cmaes'].wall_s:>12.2f} {rs['random'].wall_s:>12.2f}")
        print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs", nargs="*", type=Path, help="mapper-benchmark JSON files (default: the repository's pairs)")
    ap.add_argument("--budgets", default="0.25,0.5,1,2,5", help="time budgets in seconds, comma-separated")
    ap.add_argument("--show-mapping", action="store_true", help="print the 2 s CMA-ES mapping and its Timeloop YAML")
    args = ap.parse_args(argv)
    paths = args.pairs or sorted(DEFAULT_DIR.glob("*.json"))
    if not paths:
        ap.error(f"no mapper-benchmark files given and none found in {DEFAULT_DIR}")
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    summary = []
    first = None
    for path in paths:
        raw, case, fixed = load_pair(path)
        name = raw.get("name", path.stem)
        first = first or (case, fixed)
        summary.append((name, bench_pair(name, raw, case, fixed, budgets, args.show_mapping), timeloop_best(raw)))
    curves(*first)
    for name, x, y in summary:
        print(f"cmaes {name} {TARGET_S:g}s: EDP {x:.4g} J*cycle (timeloop {y:.4g} J*cycle)")
    print(f"pairs at or below timeloop: {sum(x <= y for _, x, y in summary)}/{len(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
