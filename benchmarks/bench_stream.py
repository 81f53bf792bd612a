#!/usr/bin/env python
"""Stream and cosearch side by side: the share of off-chip activation traffic that computing a small CNN fused
(layer by layer -> fused) removes, in each tool, on a comparable single-core accelerator.

    python benchmarks/bench_stream.py [--stream-python /work/venvs/stream/bin/python] [--evals 2000]

The network: five same-padded convolutions on a 56 x 56 map (3 -> 32 -> 32 -> 64 -> 64 -> 32 channels; 3x3, 3x3,
1x1, 3x3, 1x1), a chain, 16-bit words. The accelerator: cosearch's `eyeriss` preset (14 x 12 PEs; a 108 KB global
buffer holding inputs and outputs only; weights go from DRAM to the PEs' registers), and in Stream one core with a
14 x 12 array (K x C), per-PE registers and an activation SRAM of the same 55,296 words (benchmarks/_stream_side.py,
run by Stream's venv). No activation of the chain fits the buffer whole, so layer by layer every one goes off chip.

Stream: layer by layer (one computation node per layer) and fused (one computation node per output row of every
layer, Stream's fine-grained layer fusion), off-chip bits of the activation operands (I, O) as its scheduler and its
ZigZag evaluations move them. cosearch: `--fusion none` (every layer alone, DRAM its backing store),
`resident`, `depth-first` (the planner's groups and row tiles) and `depth-first` with Stream's stack given (the
whole chain as one group, `fusion_groups="0-4"`; the planner's groups are at most 4 layers), DRAM reads and writes of Inputs and Outputs of
every layer's run as the plan runs it (`cosearch.fusion.explain_run`, level 0). Weights are left out of the share
(Stream re-reads a layer's weights for every row when they do not fit its core; cosearch's group keeps them in the
home level when they fit) and printed beside it. Last line: `stream side by side: off-chip activation traffic
removed: Stream X% ours Y%`.
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
from cosearch.fusion import explain_run, get_fusion_mode, layer_wise  # noqa: E402
from mappings import MapperSettings, MappingCache  # noqa: E402
from nets import Layer, Network  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV_PYTHON = Path("/work/venvs/stream/bin/python")
SIDE = 56
CHAIN = ((3, 3, 32), (3, 32, 32), (1, 32, 64), (3, 64, 64), (1, 64, 32))  # (kernel, C, K), same padding, stride 1


def small_cnn() -> Network:
    layers = tuple(Layer(R=k, S=k, P=SIDE, Q=SIDE, C=c, K=kk, name=f"conv{i}") for i, (k, c, kk) in enumerate(CHAIN))
    return Network("small_cnn", layers)


def stream_spec(acc) -> dict:
    glb = next(level for level in acc.levels if level.name == "GLB")
    layers = [{"name": f"conv{i}", "K": kk, "C": c, "OY": SIDE, "OX": SIDE, "FY": k, "FX": k, "stride": 1,
               "pad": k // 2} for i, (k, c, kk) in enumerate(CHAIN)]
    return {"layers": layers, "word_bits": glb.word_bits, "array": [acc.mesh[0], acc.mesh[1]],
            "act_sram_bits": glb.capacity_words * glb.word_bits,
            "schedules": {"layer by layer": [], "fused (rows)": [["OY", "all"]]}}


def _ours(net, acc, evals: int) -> dict:
    cache = MappingCache(MapperSettings(budget_evals=evals))
    out = {}
    stack = f"0-{len(net) - 1}"
    for mode in ("none", "resident", "depth-first", f"depth-first {stack}"):
        t0 = time.perf_counter()
        name, _, groups = mode.partition(" ")
        plan = layer_wise(net, acc, cache, "edp") if mode == "none" else \
            get_fusion_mode(name, groups or None).plan(net, acc, cache, "edp", True)
        activation = weight = 0.0
        for run in plan.runs:
            ev = explain_run(run.layer, acc, run.result.arrays, run.residency, run.parts)
            activation += float(ev.reads[0][1] + ev.reads[0][2] + ev.updates[0][2])
            weight += float(ev.reads[0][0])
        word_bytes = acc.levels[0].word_bits / 8
        out[mode] = {"activation_bytes": activation * word_bytes, "weight_bytes": weight * word_bytes,
                     "dram_bytes": plan.dram_words * word_bytes, "cycles": plan.cycles, "energy_pj": plan.energy_pj,
                     "groups": [(g["first"], g["last"], g["tile_rows"], g["halo"]) for g in plan.tiling
                                if g.get("tiles", 1) > 1], "notes": list(plan.notes),
                     "wall_s": time.perf_counter() - t0}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream-python", default=str(VENV_PYTHON), help="a Python with stream-dse 0.0.8")
    parser.add_argument("--evals", type=int, default=2000, help="cosearch mapper evaluations per layer shape")
    args = parser.parse_args()
    if not Path(args.stream_python).exists():
        parser.error(f"--stream-python: {args.stream_python} does not exist (benchmarks/_stream_side.py says how to "
                     "make Stream's venv)")
    print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min)")
    net, acc = small_cnn(), get_preset("eyeriss")
    spec = stream_spec(acc)
    print(f"{net.name}: {len(net)} convolutions on {SIDE}x{SIDE}, {net.macs / 1e6:.1f} M MACs; {acc.name}: "
          f"{acc.mesh[0]}x{acc.mesh[1]} PEs, activation buffer {spec['act_sram_bits'] // 8 // 1024} KB")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.json"
        path.write_text(json.dumps(spec))
        proc = subprocess.run([args.stream_python, str(HERE / "_stream_side.py"), str(path)], cwd=folder,
                              capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_stream.py: error: Stream failed: {proc.stderr.strip().splitlines()[-1:]}")
    stream = json.loads(proc.stdout)
    for name, s in stream.items():
        print(f"stream {name:15s}: {s['cns']:4d} CNs, activations off chip {s['activation_bits'] / 8e3:9.1f} KB "
              f"(transfers I {s['transferred_bits']['I'] / 8e3:.1f} O {s['transferred_bits']['O'] / 8e3:.1f}, "
              f"streamed by CNs I {s['streamed_bits']['I'] / 8e3:.1f} O {s['streamed_bits']['O'] / 8e3:.1f}), "
              f"weights {s['weight_bits'] / 8e3:.1f} KB; {s['latency_cycles']:,.0f} cycles; "
              f"{s['cpu_s']:.1f} s CPU")
    ours = _ours(net, acc, args.evals)
    for mode, o in ours.items():
        print(f"ours --fusion {mode:15s}: activations off chip {o['activation_bytes'] / 1e3:9.1f} KB, weights "
              f"{o['weight_bytes'] / 1e3:.1f} KB (plan's DRAM {o['dram_bytes'] / 1e3:.1f} KB); {o['cycles']:,} "
              f"cycles; tiled groups {o['groups']}; {o['wall_s']:.1f} s" + (f"; notes {o['notes']}" if o['notes']
                                                                            else ""))
    layer_by_layer, fused = (stream[name]["activation_bits"] / 8 for name in spec["schedules"])
    planned, stacked = ours["depth-first"]["activation_bytes"], ours[f"depth-first 0-{len(net) - 1}"]["activation_bytes"]
    each_once = tensor_bytes(spec)
    print(f"each activation written once and read once (input boxes with their padding): {each_once / 1e3:.1f} KB; "
          f"fused against that: Stream {1 - fused / each_once:.0%}, ours {1 - planned / each_once:.0%} (planner), "
          f"{1 - stacked / each_once:.0%} (Stream's stack)")
    print(f"stream side by side: off-chip activation traffic removed: Stream {1 - fused / layer_by_layer:.0%} ours "
          f"{1 - planned / ours['none']['activation_bytes']:.0%} (planner's groups), "
          f"{1 - stacked / ours['none']['activation_bytes']:.0%} (Stream's stack: the whole chain)")


def tensor_bytes(spec: dict) -> float:
    """Bytes of every layer's input box (padding rows and columns included) and output: the off-chip activation
    traffic of layer by layer with no re-reads."""
    words = 0
    for layer in spec["layers"]:
        rows = (layer["OY"] - 1) * layer["stride"] + layer["FY"]
        columns = (layer["OX"] - 1) * layer["stride"] + layer["FX"]
        words += rows * columns * layer["C"] + layer["OY"] * layer["OX"] * layer["K"]
    return words * spec["word_bits"] / 8


if __name__ == "__main__":
    main()
