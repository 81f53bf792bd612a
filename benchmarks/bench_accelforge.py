#!/usr/bin/env python
"""cosearch's mappings written as AccelForge LoopTree mappings and evaluated by AccelForge's own model: the same
counts but for the drain-read rule (docs/accelforge.md).

    python benchmarks/bench_accelforge.py                                  # AccelForge from /work/af_venv
    python benchmarks/bench_accelforge.py --accelforge-python PATH/bin/python
    python benchmarks/bench_accelforge.py --mappers                        # and FFM against cosearch's mapper
    python benchmarks/bench_accelforge.py --whole-chain                    # and FFM fused on all of mobilenet_28

AccelForge runs in a Python of its own (`python3.12 -m venv V && V/bin/pip install accelforge==1.0.467`; found at
/work/af_venv by default, or given by --accelforge-python or $ACCELFORGE_PYTHON); without one the benchmark says so
in one line and stops. For each case cosearch reads AccelForge's example architecture (tests/data/accelforge),
maps one layer with its own mapper (keeping what the architecture's `keep` requires), evaluates the mapping, and
writes it with the layer's workload (`accel_models.accelforge.mapping`); AccelForge's model evaluates that file on
the same architecture file. Energies are in the architecture's units (joules; `simple`'s unit energies). The drain
term is what the rule predicts: for each level holding outputs, the values it writes back to the level above times
its read energy per value. `--mappers` also maps each layer with AccelForge's FFM and scores both tools' mappings
in AccelForge's model (where a written mapping has spatial loops, its score carries the disagreement the first
table shows), and maps the fused chains of `CHAINS` with FFM against cosearch's depth-first plan of each chain as
one group (written as one fused loop tree, `accel_models.accelforge.fused`), both scored by AccelForge's model, with
the DRAM words each moves. Last line: `accelforge: <n> cases; AccelForge's energy = cosearch's + the drain term in
<k> of them, largest other difference x<r>`.
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

import numpy as np

from accel_models import TENSORS, evaluate
from accel_models.accelforge import read_accelforge_arch, read_accelforge_workload
from accel_models.accelforge.fused import fused_group_to_accelforge_yaml, group_workload_document
from accel_models.accelforge.mapping import mapping_to_accelforge_yaml, workload_document
from accel_models.timeloop._yaml import ACCELFORGE_TAGS, dump, load
from cosearch.config import SEARCH_MAPPER
from cosearch.fusion.modes.depth_first import DepthFirst
from cosearch.fusion.tiling import by_tokens
from mappings import Mapping, MappingCache, best_mapping
from nets import Layer
from nets.einsum_import import network_from_einsums

ROOT = Path(__file__).resolve().parents[1]
ARCHES = ROOT / "tests" / "data" / "accelforge" / "arches"
WORKLOADS = ROOT / "tests" / "data" / "accelforge" / "workloads"
SIDE = Path(__file__).resolve().parent / "_accelforge_side.py"
DEFAULT_PYTHON = Path("/work/af_venv/bin/python")
PJ_PER_UNIT = 1e12
CASES = [
    ("simple", {"GlobalBufferSize": 2**20, "MainMemoryEnergy": 10}, Layer(N=128, C=128, K=128, name="mm128")),
    ("simple", {"GlobalBufferSize": 2**16, "MainMemoryEnergy": 10}, Layer.conv(16, 32, 3, 8, name="conv3x3")),
    ("nvdla", {}, Layer(N=64, C=64, K=64, name="mm64")),
    ("tpu_v4i", {}, Layer(N=256, C=256, K=256, name="mm256")),
]


CHAIN_ARCH = ("simple", {"GlobalBufferSize": 2**20, "MainMemoryEnergy": 10})
CHAINS = [
    ("matmuls", {"N_EINSUMS": 4, "M": 64, "KN": 32}, None),
    ("mobilenet_28", {}, ["PiecewiseB0", "PiecewiseA1"]),
]
"""Fused chains (workload, its template variables, its Einsums: None for all) on `simple` with a 1 Mib global buffer:
four 64 x 32 x 32 matmuls, and mobilenet_28's two adjacent pointwise layers (the whole mobilenet_28 chain runs through
depthwise layers, whose halos the written fused tree cannot state)."""


def accelforge_python(given: str | None) -> str | None:
    """The Python to run AccelForge with: the one given (if it exists), else $ACCELFORGE_PYTHON, else the default."""
    if given:
        return given if Path(given).exists() else None
    for candidate in (os.environ.get("ACCELFORGE_PYTHON"), str(DEFAULT_PYTHON)):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def drain_units(acc, result) -> float:
    """The drain rule's extra reads, in the architecture's units: per level holding outputs, the outputs its nearest
    outer level holding outputs receives (its updates), times the level's read energy per value."""
    o = TENSORS.index("Outputs")
    holders = [l for l, lv in enumerate(acc.levels) if "Outputs" in lv.keeps and result.updates[l, o] > 0]
    total = 0.0
    for parent, child in zip(holders, holders[1:]):
        lv = acc.levels[child]
        total += result.updates[parent, o] * lv.read_energy_pj / lv.block_size_words
    return total / PJ_PER_UNIT


def run_case(python: str, arch: str, jinja: dict, layer: Layer, folder: Path, evals: int) -> dict:
    path = ARCHES / f"{arch}.yaml"
    acc = read_accelforge_arch(path, jinja)
    keep = {k: tuple(v) for k, v in acc.meta["accelforge"]["must_keep"].items() if k != acc.levels[0].name}
    found = best_mapping(layer, acc, "energy", budget_evals=evals, seed=0, fixed_keep=keep)
    ours = evaluate(layer, acc, Mapping.from_arrays(found.arrays, 0))
    document = folder / f"{arch}-{layer.name}.yaml"
    document.write_text(mapping_to_accelforge_yaml(found.arrays, acc, layer))
    theirs = _accelforge(python, {"files": [str(path), str(document)], "jinja": jinja})
    return {"arch": arch, "layer": layer.name, "cosearch": ours.energy_pj / PJ_PER_UNIT, "accelforge": theirs["energy"],
            "drain": drain_units(acc, ours), "cycles": ours.cycles, "latency_s": ours.cycles / (acc.clock_ghz * 1e9),
            "accelforge_latency_s": theirs["latency"]}


def _accelforge(python: str, request: dict) -> dict:
    proc = subprocess.run([python, str(SIDE), json.dumps(request)], capture_output=True, text=True, timeout=3600)
    if proc.returncode:
        raise RuntimeError(f"AccelForge failed on {request['files']}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare_mappers(python: str, evals: int) -> str:
    """FFM against cosearch's mapper on the cases' layers, both scored by AccelForge's model (cosearch's mapping
    written back); prints a line per case and returns the summary line of bench_peers.py."""
    ffm_s = ours_s = 0.0
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, jinja, layer in CASES:
            path = ARCHES / f"{arch}.yaml"
            acc = read_accelforge_arch(path, jinja)
            workload = Path(tmp) / f"{layer.name}-workload.yaml"
            workload.write_text(dump(workload_document(layer, acc.meta["accelforge"]["bits_per_value"])))
            ffm = _accelforge(python, {"files": [str(path), str(workload)], "jinja": jinja, "map": True})
            keep = {k: tuple(v) for k, v in acc.meta["accelforge"]["must_keep"].items() if k != acc.levels[0].name}
            best_mapping(layer, acc, "energy", budget_evals=64, seed=0, fixed_keep=keep)      # compile, not timed
            start = time.process_time()
            found = best_mapping(layer, acc, "energy", budget_evals=evals, seed=0, fixed_keep=keep)
            seconds = time.process_time() - start
            document = Path(tmp) / f"{arch}-{layer.name}.yaml"
            document.write_text(mapping_to_accelforge_yaml(found.arrays, acc, layer))
            theirs = _accelforge(python, {"files": [str(path), str(document)], "jinja": jinja})
            ratios.append(ffm["energy"] / theirs["energy"])
            ffm_s, ours_s = ffm_s + ffm["seconds"], ours_s + seconds
            print(f"{arch:8s} {layer.name:8s} FFM {ffm['energy']:.6g} in {ffm['seconds']:.2f} s; cosearch's mapping "
                  f"{theirs['energy']:.6g} in {seconds:.2f} s (AccelForge's model); FFM / cosearch x{ratios[-1]:.4f}")
    fused_ffm_s, fused_ours_s, fused = compare_fused(python)
    geo = float(np.exp(np.mean(np.log(ratios + fused))))
    return (f"peers: accelforge FFM {ffm_s + fused_ffm_s:.2f} s, cosearch {ours_s + fused_ours_s:.2f} s on "
            f"{len(CASES)} layers and {len(CHAINS)} fused chains; energy of FFM's mapping / cosearch's x{geo:.4f} "
            "(AccelForge's model, geometric mean)")


def _warm_up(acc) -> None:
    """Plans a small chain the benchmark does not time: the cost model compiled (or loaded from numba's cache) and
    no memo of the timed chains' runs filled."""
    warm = load(WORKLOADS / "matmuls.yaml", "workload", {"N_EINSUMS": 2, "M": 8, "KN": 8}, tags=ACCELFORGE_TAGS)
    DepthFirst(groups="0-1").plan(network_from_einsums(warm["workload"], "warm-up"), acc, MappingCache(SEARCH_MAPPER),
                                  "energy")


def compare_fused(python: str) -> tuple[float, float, list[float]]:
    """FFM's fused mapping of each chain against cosearch's depth-first plan of the chain as one group, both scored
    by AccelForge's model (cosearch's plan written as one fused loop tree); prints a line per chain and returns
    (FFM's seconds, cosearch's seconds, FFM / cosearch energy ratios)."""
    arch, jinja = CHAIN_ARCH
    path = ARCHES / f"{arch}.yaml"
    acc = read_accelforge_arch(path, jinja)
    dram = acc.levels[0]
    units_per_word = dram.read_energy_pj / dram.block_size_words / PJ_PER_UNIT     # simple: reads cost what writes do
    ffm_s = ours_s = 0.0
    ratios = []
    _warm_up(acc)
    with tempfile.TemporaryDirectory() as tmp:
        for name, variables, einsums in CHAINS:
            doc = load(WORKLOADS / f"{name}.yaml", "workload", variables, tags=ACCELFORGE_TAGS)
            names = einsums or [e["name"] for e in doc["workload"]["einsums"]]
            group = group_workload_document(doc["workload"], names)
            extra = {"renames": doc["renames"]} if "renames" in doc else {}
            workload_file = Path(tmp) / f"{name}-chain.yaml"
            workload_file.write_text(dump({**group, **extra}))
            ffm = _accelforge(python, {"files": [str(path), str(workload_file)], "jinja": jinja, "map": True})
            net = network_from_einsums(group["workload"], name)
            planner = DepthFirst(groups=f"0-{len(names) - 1}")
            start = time.process_time()
            plan = planner.plan(net, acc, MappingCache(SEARCH_MAPPER), "energy")
            seconds = time.process_time() - start
            tiling = plan.tiling[0]
            rows = "N" if by_tokens(net.layers[-1]) else "Q"
            written = Path(tmp) / f"{name}-fused.yaml"
            written.write_text(fused_group_to_accelforge_yaml(doc["workload"], names, acc, rows, tiling["tile_rows"],
                                                              tiling["weights_on_chip"], **extra))
            theirs = _accelforge(python, {"files": [str(path), str(written)], "jinja": jinja})
            ratios.append(ffm["energy"] / theirs["energy"])
            ffm_s, ours_s = ffm_s + ffm["seconds"], ours_s + seconds
            ffm_words = ffm["per_component"][dram.name] / units_per_word
            our_words = theirs["per_component"][dram.name] / units_per_word
            print(f"fused {name} ({len(names)} Einsums) on {arch}: FFM {ffm['energy']:.6g}, {ffm_words:,.0f} DRAM words "
                  f"in {ffm['seconds']:.2f} s; cosearch's plan ({tiling['tiles']} tiles of {tiling['tile_rows']} rows, "
                  f"weights on chip: {tiling['weights_on_chip']}) {theirs['energy']:.6g}, {our_words:,.0f} DRAM words "
                  f"(AccelForge's model; {plan.dram_words:,.0f} in cosearch's) in {seconds:.2f} s; "
                  f"FFM / cosearch x{ratios[-1]:.4f}")
    return ffm_s, ours_s, ratios


def compare_whole_chain(python: str) -> str:
    """FFM fused on the whole mobilenet_28 against cosearch's depth-first planner (its own grouping) on `simple` with
    a 1 Mib buffer: the DRAM words each plan moves (FFM's in AccelForge's model, cosearch's in its own: its plan runs
    through depthwise layers, whose halos the fused tree cannot state) and the seconds each takes."""
    arch, jinja = CHAIN_ARCH
    path = ARCHES / f"{arch}.yaml"
    acc = read_accelforge_arch(path, jinja)
    dram = acc.levels[0]
    units_per_word = dram.read_energy_pj / dram.block_size_words / PJ_PER_UNIT
    workload = WORKLOADS / "mobilenet_28.yaml"
    ffm = _accelforge(python, {"files": [str(path), str(workload)], "jinja": jinja, "map": True})
    net = read_accelforge_workload(workload)
    _warm_up(acc)
    start = time.process_time()
    plan = DepthFirst().plan(net, acc, MappingCache(SEARCH_MAPPER), "energy")
    seconds = time.process_time() - start
    groups = ", ".join(f"{g['first']}-{g['last']}" for g in plan.tiling)
    return (f"whole mobilenet_28 fused on {arch}: FFM {ffm['per_component'][dram.name] / units_per_word:,.0f} DRAM "
            f"words (AccelForge's model) in {ffm['seconds']:.1f} s; cosearch's depth-first planner (groups {groups}) "
            f"{plan.dram_words:,.0f} DRAM words (cosearch's model) in {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accelforge-python", help="a Python with accelforge 1.0.467 (default: /work/af_venv)")
    parser.add_argument("--evals", type=int, default=2000, help="cosearch mapper evaluations per layer")
    parser.add_argument("--mappers", action="store_true", help="also FFM against cosearch's mapper")
    parser.add_argument("--whole-chain", action="store_true", help="also FFM fused on the whole mobilenet_28 against "
                        "cosearch's depth-first planner (DRAM words and seconds; FFM takes minutes)")
    args = parser.parse_args()
    python = accelforge_python(args.accelforge_python)
    if python is None:
        print("accelforge: skipped (no Python with accelforge: give --accelforge-python or make /work/af_venv)")
        return
    if args.mappers:
        print(compare_mappers(python, args.evals))
    if args.whole_chain:
        print(compare_whole_chain(python))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch, jinja, layer in CASES:
            row = run_case(python, arch, jinja, layer, Path(tmp), args.evals)
            rows.append(row)
            rest = row["accelforge"] - row["cosearch"] - row["drain"]
            print(f"{arch:8s} {layer.name:8s} cosearch {row['cosearch']:.6g}  accelforge {row['accelforge']:.6g}  "
                  f"drain {row['drain']:.6g}  rest {rest:.3g}  latency {row['latency_s']:.4g} s vs "
                  f"{row['accelforge_latency_s']:.4g} s")
    exact = [r for r in rows if abs(r["accelforge"] - r["cosearch"] - r["drain"]) <= 1e-9 * max(r["accelforge"], 1e-30)]
    worst = max(r["accelforge"] / (r["cosearch"] + r["drain"]) for r in rows)
    print(f"accelforge: {len(rows)} cases; AccelForge's energy = cosearch's + the drain term in {len(exact)} of them, "
          f"largest other difference x{worst:.4f}")


if __name__ == "__main__":
    sys.exit(main())
