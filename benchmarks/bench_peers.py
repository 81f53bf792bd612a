#!/usr/bin/env python
"""ZigZag and cosearch side by side: the same ONNX network on the same accelerator, read from ZigZag's own files.

    python benchmarks/bench_peers.py                       # ZigZag's resnet18.onnx on its tpu_like accelerator
    python benchmarks/bench_peers.py --arch edge_tpu_like --network path/to/model.onnx

ZigZag (`pip install "cosearch[peers]"`, or a venv of its own given by --zigzag-python; found at
/work/venvs/zigzag by default when this Python has no zigzag) maps the network with its LOMA search for EDP in a
process of its own; its time, cost-model evaluations, and every layer's chosen mapping come back as JSON
(benchmarks/_zigzag_side.py). cosearch reads the same accelerator and mapping file (`accel_models.zigzag`) and the
same ONNX file (`nets.from_onnx`), and maps every layer for EDP under the mapping file's spatial unrolling.

Mapping quality, in cosearch's cost model: ZigZag's chosen mappings, converted loop for loop (ZigZag's per-operand
memory levels become cosearch's single chain of levels: a level's loops end where the innermost-most of its
operands' ZigZag levels end; a padded loop becomes a residual one) and evaluated by cosearch, against cosearch's own
best mappings. Network EDP = (sum of energies) x (sum of cycles) over the layers both have. ZigZag's own figures for
its mappings are printed beside them (its model differs: see docs/interop.md). The reverse: cosearch's mappings
given to ZigZag as complete `temporal_ordering`s (ZigZag's allocator places the loops in its memories) and costed
by ZigZag's model against ZigZag's own mappings.

Last line: `peers: zigzag <t1> s, cosearch <t2> s for <net> on <arch>; EDP of zigzag's mappings / cosearch's x<r>
(cosearch's model)`, times in CPU seconds (each tool on one core; cosearch's compile excluded, printed above).

`--accelforge` runs AccelForge instead (a Python with accelforge 1.0.467 of its own: --accelforge-python, else
/work/af_venv; without one, one line says it is skipped): its mapper FFM and cosearch's map the same single layers on
AccelForge's example architectures, and FFM fused maps two chains (four matmuls; mobilenet_28's two adjacent
pointwise layers) against cosearch's depth-first plan of each chain as one group; AccelForge's model scores both
(cosearch's mapping written back as a loop tree, its fused plan as one fused tree). Last line: `peers: accelforge
FFM <t1> s, cosearch <t2> s on <n> layers and <m> fused chains; energy of FFM's mapping / cosearch's x<r>
(AccelForge's model, geometric mean)`, in CPU seconds (FFM on one core). With `--whole-chain`, a line before it
compares FFM fused on the whole mobilenet_28 with cosearch's depth-first planner (DRAM words and seconds; FFM takes
minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from math import prod
from pathlib import Path

import numpy as np
import yaml

from accel_models import evaluate_batch
from accel_models.mapping_arrays import canonical_residuals
from accel_models.zigzag import (AXIS_OF, COSEARCH_DIMS, LAYER_DIMS, read_zigzag_accelerator, read_zigzag_mapping,
                                 zigzag_constraints)
from mappings import LevelMapping, Mapping, best_mapping
from nets import DIMS, from_onnx

HERE = Path(__file__).resolve().parent
VENV_PYTHON = Path("/work/venvs/zigzag/bin/python")
TENSOR_OF = {"W": "Weights", "I": "Inputs", "O": "Outputs"}


def _zigzag_python(given: str | None) -> str:
    if given:
        return given
    try:
        import zigzag  # noqa: F401

        return sys.executable
    except ImportError:
        if VENV_PYTHON.exists():
            return str(VENV_PYTHON)
    sys.exit("bench_peers.py: error: no Python with zigzag-dse; pip install 'cosearch[peers]' or give --zigzag-python")


def _zigzag_inputs(python: str) -> Path:
    out = subprocess.run([python, "-c", "import os, zigzag; print(os.path.dirname(zigzag.__file__))"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip()) / "inputs"


def zigzag_to_mapping(acc, layer, zz: dict):
    """(accelerator, mapping): ZigZag's chosen mapping of `layer` (from _zigzag_side.py) as a cosearch `Mapping`,
    on `acc` (read from the same file) with its sibling levels in the order the mapping needs. Siblings: adjacent
    levels with no fan-out below either and no tensor in common (ZigZag's per-PE registers of different operands),
    whose order changes nothing physical; cosearch's chain needs the one whose operand holds fewer loops inside.
    A ValueError says why the mapping cannot be converted."""
    sequences = {op: [tuple(loop) for level in levels for loop in level] for op, levels in zz["temporal"].items()}
    seq = next(iter(sequences.values()))
    if any(s != seq for s in sequences.values()):
        raise ValueError("operands see different loop orders")
    ends: dict[str, list[int]] = {}  # memory -> where each of its operands' ZigZag levels end (loops from inside)
    for op, levels in zz["temporal"].items():
        position = 0
        for memory, level in zip(zz["memories"][op], levels):
            position += len(level)
            ends.setdefault(memory, []).append(position)
    acc = _order_siblings(acc, {name: max(e) for name, e in ends.items()})
    inner_first = list(acc.level_names)[::-1]
    cut, previous, owned = {}, 0, {}
    for name in inner_first:
        cut[name] = max([previous, *ends.get(name, [previous])])
        previous = cut[name]
    cut[inner_first[-1]] = len(seq)
    previous = 0
    for name in inner_first:
        owned[name] = seq[previous:cut[name]]  # innermost first
        previous = cut[name]
    spatial = {"X": {}, "Y": {}}
    for oa_dim, unrollings in zz["spatial"].items():
        for zz_dim, factor in unrollings:
            dim = LAYER_DIMS[zz_dim]
            spatial[AXIS_OF[oa_dim]][dim] = spatial[AXIS_OF[oa_dim]].get(dim, 1) * int(round(factor))
    x_level = next((i for i, lv in enumerate(acc.levels) if lv.fanout_x > 1), None)
    y_level = next((i for i, lv in enumerate(acc.levels) if lv.fanout_y > 1), None)
    # each dim's loops outermost first: (level, kind, end) -> residual ends by rule F3 where ZigZag pads
    loops: dict[str, list[tuple[int, str, int]]] = {d: [] for d in DIMS}
    temporal = []
    for i, lv in enumerate(acc.levels):
        factors: dict[str, int] = {}
        order: list[str] = []
        for zz_dim, factor in reversed(owned[lv.name]):  # outermost first
            dim = LAYER_DIMS[zz_dim]
            factors[dim] = factors.get(dim, 1) * int(round(factor))
            if dim not in order:
                order.append(dim)
        temporal.append((factors, order))
        for dim in DIMS:
            if factors.get(dim, 1) > 1:
                loops[dim].append((i, "t", factors[dim]))
            for axis, at in (("X", x_level), ("Y", y_level)):
                if at == i and spatial[axis].get(dim, 1) > 1:
                    loops[dim].append((i, axis, spatial[axis][dim]))
    residual: dict[tuple[int, str], dict[str, int]] = {}
    for dim in DIMS:
        bound = getattr(layer, dim)
        covered = prod(e for _, _, e in loops[dim])
        if covered == bound:
            continue
        if covered < bound or not loops[dim]:
            raise ValueError(f"{dim}: ZigZag's loops cover {covered} of {bound}")
        new_ends, res = canonical_residuals([e for _, _, e in loops[dim]], bound)
        for (i, kind, _), e, r in zip(loops[dim], new_ends, res):
            if kind == "t":
                temporal[i][0][dim] = e
            else:
                spatial[kind][dim] = e
            residual.setdefault((i, kind), {})[dim] = r
    levels = []
    for i, (factors, order) in enumerate(temporal):
        sx = spatial["X"] if i == x_level else None
        sy = spatial["Y"] if i == y_level else None
        levels.append(LevelMapping(factors, tuple(order), spatial_x=sx, spatial_y=sy,
                                   temporal_residual=residual.get((i, "t")),
                                   spatial_x_residual=residual.get((i, "X")) if sx else None,
                                   spatial_y_residual=residual.get((i, "Y")) if sy else None))
    return acc, Mapping(tuple(levels))


def _order_siblings(acc, loops_inside: dict[str, int]):
    """`acc` with sibling levels (see zigzag_to_mapping) ordered by the loops their memories hold inside, most
    outermost."""
    levels = list(acc.levels)
    for _ in range(len(levels)):
        for i in range(len(levels) - 1):
            a, b = levels[i], levels[i + 1]
            if a.fanout == b.fanout == 1 and not set(a.keeps) & set(b.keeps) and \
                    loops_inside.get(a.name, 0) < loops_inside.get(b.name, 0):
                levels[i], levels[i + 1] = b, a
    return replace(acc, levels=tuple(levels))


def _run_zigzag(python: str, network: Path, hardware: Path, mapping_file: Path, lpf_limit: int) -> dict:
    out = subprocess.run([python, str(HERE / "_zigzag_side.py"), str(network), str(hardware), str(mapping_file),
                          "--lpf-limit", str(lpf_limit)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench_peers.py: error: ZigZag failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout)


def zigzag_entry(acc, mapping: Mapping, name: str, links: dict) -> dict | None:
    """A ZigZag mapping-file entry giving `mapping`'s spatial unrolling and its whole loop nest as
    `temporal_ordering` (innermost first; ZigZag's own allocator then places the loops in its memories); None for
    a mapping with residual loops, which ZigZag's ordering cannot state."""
    if not mapping.is_perfect:
        return None
    ordering = []
    for level in reversed(mapping.levels):
        for dim in reversed(level.permutation):
            if level.temporal[dim] > 1:
                ordering.append([COSEARCH_DIMS[dim], int(level.temporal[dim])])
    spatial = {"D1": [], "D2": []}
    for level in mapping.levels:
        for axis, table in (("D1", level.spatial_x), ("D2", level.spatial_y)):
            spatial[axis] += [f"{COSEARCH_DIMS[d]}, {f}" for d, f in table.items() if f > 1]
    spatial = {axis: unrollings or ["K, 1"] for axis, unrollings in spatial.items()}
    return {"name": name, "spatial_mapping": spatial, "temporal_ordering": ordering, "memory_operand_links": links}


def _same_shape(layer, zz_dims: dict) -> bool:
    return all(getattr(layer, LAYER_DIMS[d]) == s for d, s in zz_dims.items() if d in LAYER_DIMS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zigzag-python", help="a Python with zigzag-dse (default: this one, else the venv)")
    parser.add_argument("--network", help="ONNX file (default: ZigZag's shipped resnet18.onnx)")
    parser.add_argument("--arch", default="tpu_like", help="ZigZag's example accelerator (hardware + mapping files)")
    parser.add_argument("--budget", type=int, default=20_000, help="cosearch mapper evaluations per layer")
    parser.add_argument("--lpf-limit", type=int, default=6, help="ZigZag LOMA's loop prime factor limit")
    parser.add_argument("--accelforge", action="store_true", help="AccelForge instead of ZigZag: its mapper FFM "
                        "against cosearch's on single layers and fused chains, in AccelForge's model "
                        "(benchmarks/bench_accelforge.py)")
    parser.add_argument("--accelforge-python", help="a Python with accelforge (default: /work/af_venv)")
    parser.add_argument("--whole-chain", action="store_true", help="with --accelforge: also FFM fused on the whole "
                        "mobilenet_28 against cosearch's depth-first planner (DRAM words, seconds; FFM takes minutes)")
    args = parser.parse_args()
    if args.accelforge:
        sys.path.insert(0, str(HERE))
        from bench_accelforge import accelforge_python, compare_mappers, compare_whole_chain

        python = accelforge_python(args.accelforge_python)
        if python is None:
            print("peers: accelforge skipped (no Python with accelforge: give --accelforge-python or make "
                  "/work/af_venv)")
            return
        last = compare_mappers(python, args.budget)        # cosearch's cost model compiled before the whole chain
        if args.whole_chain:
            print(compare_whole_chain(python))
        print(last)
        return
    python = _zigzag_python(args.zigzag_python)
    inputs = _zigzag_inputs(python)
    network = Path(args.network) if args.network else inputs / "workload" / "resnet18.onnx"
    hardware, mapping_file = inputs / "hardware" / f"{args.arch}.yaml", inputs / "mapping" / f"{args.arch}.yaml"
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")

    acc = read_zigzag_accelerator(hardware, mapping_file)
    entries = read_zigzag_mapping(mapping_file)
    net = from_onnx(network)
    print(f"{net.name}: {len(net)} layers, {net.macs / 1e9:.3f} G MACs; {acc.name}: {acc.mesh[0]}x{acc.mesh[1]} MACs, "
          f"levels {', '.join(acc.level_names)}" + (f"; notes: {'; '.join(acc.meta['zigzag_notes'])}"
                                                    if acc.meta["zigzag_notes"] else ""))

    zz = _run_zigzag(python, network, hardware, mapping_file, args.lpf_limit)
    print(f"zigzag: {len(zz['layers'])} layers in {zz['cpu_s']:.1f} s CPU ({zz['wall_s']:.1f} s wall), "
          f"{zz['evaluations']:,} cost-model evaluations ({zz['evaluations'] / zz['cpu_s']:,.0f}/s); its own model: "
          f"{zz['energy_pj'] / 1e6:.3f} uJ, {zz['latency_cycles']:,.0f} cycles")

    layers = [layer for layer in net.layers if layer.kind not in ("matmul", "pool")]   # the layers ZigZag maps as convs
    t = time.perf_counter()
    best_mapping(layers[0], acc, budget_evals=64, constraints=zigzag_constraints(entries, acc, layers[0]))
    compile_s = time.perf_counter() - t
    cpu, wall, evaluations, ours = time.process_time(), time.perf_counter(), 0, {}
    for layer, _ in net.unique_layers():
        result = best_mapping(layer, acc, "edp", budget_evals=args.budget, seed=0,
                              constraints=zigzag_constraints(entries, acc, layer))
        evaluations += result.evaluations
        ours[layer.group_key] = result
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"cosearch: {len(net.unique_layers())} distinct layers in {cpu:.2f} s CPU ({wall:.2f} s wall), "
          f"{evaluations:,} cost-model evaluations ({evaluations / cpu:,.0f}/s); compile or cache load before: "
          f"{compile_s:.1f} s")

    zz_layers = [z for z in zz["layers"] if z["type"] in ("Conv", "Gemm", "MatMul")]
    pairs, skipped, unused = [], [], list(zz_layers)
    for layer in layers:  # each layer with the first ZigZag layer of its shape not taken yet (their orders differ)
        z = next((z for z in unused if _same_shape(layer, z["dims"])), None)
        if z is None:
            skipped.append(f"{layer.name}: no ZigZag layer of its shape")
            continue
        unused.remove(z)
        try:
            ordered, converted = zigzag_to_mapping(acc, layer, z)
            result = evaluate_batch(layer, ordered, [converted])
        except ValueError as exc:
            skipped.append(f"{layer.name}: {exc}")
            continue
        if not result.valid[0]:
            skipped.append(f"{layer.name}: ZigZag's mapping is invalid in cosearch (reason {int(result.reason[0])})")
            continue
        mine = ours[layer.group_key]
        pairs.append((layer, float(result.energy_pj[0]), int(result.cycles[0]), mine.energy_pj, mine.cycles, z))
    if not pairs:
        sys.exit("bench_peers.py: error: no layer's ZigZag mapping could be compared: " + "; ".join(skipped[:3]))
    print(f"{'layer':28s} {'zigzag EDP (cosearch model)':>28s} {'cosearch EDP':>14s} {'ratio':>7s} "
          f"{'zigzag EDP (its model)':>23s}")
    for layer, e_z, c_z, e_c, c_c, z in pairs:
        print(f"{layer.name[:28]:28s} {e_z * c_z:28.4g} {e_c * c_c:14.4g} {e_z * c_z / (e_c * c_c):7.3f} "
              f"{z['energy_pj'] * z['latency_cycles']:23.4g}")
    for note in skipped:
        print(f"not compared: {note}")
    energy_z, cycles_z = sum(p[1] for p in pairs), sum(p[2] for p in pairs)
    energy_c, cycles_c = sum(p[3] for p in pairs), sum(p[4] for p in pairs)
    ratio = energy_z * cycles_z / (energy_c * cycles_c)
    print(f"{len(pairs)} of {len(layers)} layers compared; in cosearch's model: zigzag's mappings {energy_z / 1e6:.2f} uJ, "
          f"{cycles_z:,} cycles; cosearch's {energy_c / 1e6:.2f} uJ, {cycles_c:,} cycles (EDP {energy_z * cycles_z:.4g} "
          f"vs {energy_c * cycles_c:.4g} pJ*cycles)")
    _reverse(python, network, hardware, mapping_file, args.lpf_limit, acc, entries, pairs, ours)
    print(f"peers: zigzag {zz['cpu_s']:.1f} s, cosearch {cpu:.2f} s for {net.name} on {acc.name}; EDP of zigzag's "
          f"mappings / cosearch's x{ratio:.3f} (cosearch's model)")


def _reverse(python, network, hardware, mapping_file, lpf_limit, acc, entries, pairs, ours) -> None:
    """cosearch's mappings given to ZigZag (its API takes a complete temporal ordering per layer) and costed by
    ZigZag's model, against ZigZag's own mappings in its model."""
    default = next(e for e in entries if e.name == "default")
    links = dict(default.links)
    file_entries = [{"name": "default", "spatial_mapping": {k: [f"{d}, {f}" for d, f in v]
                                                            for k, v in default.spatial.items()},
                     "memory_operand_links": links}]
    given = {}
    for layer, *_, z in pairs:
        entry = zigzag_entry(acc, ours[layer.group_key].mapping, z["name"], links)
        if entry is not None:
            file_entries.append(entry)
            given[z["name"]] = z
    if not given:
        print("reverse: no cosearch mapping could be given to ZigZag (residual loops)")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cosearch_mappings.yaml"
        path.write_text(yaml.safe_dump(file_entries, sort_keys=False))
        back = _run_zigzag(python, network, hardware, path, lpf_limit)
    theirs = {z["name"]: z for z in back["layers"] if z["name"] in given}
    if len(theirs) < len(given):
        print(f"reverse: ZigZag returned {len(theirs)} of the {len(given)} layers given")
    e_c = sum(z["energy_pj"] for z in theirs.values())
    c_c = sum(z["latency_cycles"] for z in theirs.values())
    e_z = sum(given[n]["energy_pj"] for n in theirs)
    c_z = sum(given[n]["latency_cycles"] for n in theirs)
    print(f"reverse, in ZigZag's model ({len(theirs)} layers, cosearch's loop nests placed by ZigZag's allocator, "
          f"{back['evaluations']:,} evaluations): cosearch's mappings {e_c / 1e6:.2f} uJ, {c_c:,.0f} cycles; "
          f"zigzag's {e_z / 1e6:.2f} uJ, {c_z:,.0f} cycles; EDP cosearch's / zigzag's x{e_c * c_c / (e_z * c_z):.3f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
