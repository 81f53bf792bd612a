"""Reproduce NAAS's comparison table (Lin, Yang, Han, DAC 2021; docs/sources.md, "NAAS") on this tool.

    python benchmarks/naas_table.py            # --quick (default): 24 trials per row, small mapper budgets
    python benchmarks/naas_table.py --full     # 96 trials per row, larger mapper budgets (several times longer)

For every row: the baseline preset with its best mappings (the mapper at the final budget), the
accelerator searched under the preset's resources (`--match-resources PRESET`: #PEs, on-chip bytes,
DRAM bandwidth; the preset's word width, node and clock) on the same networks (hardware only; with
several networks the objective is the geometric mean of their EDPs), and for the last row also
accelerator + network (OFA ResNet-50 space). Speedup = baseline latency / ours, energy saving =
baseline energy / ours, EDP ratio = baseline EDP / ours; over several networks, geometric means.
Writes `docs/naas_table.md` (our numbers beside the paper's, the search time and the command of each
row, with paths relative to the checkout) and keeps each row's co-search output under `--out` (default
`naas_out/`).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import cosearch  # noqa: E402
from accel_models.presets import get_preset  # noqa: E402
from cosearch.config import ResourceBounds  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESNET50_TOP1 = 0.7613
"""ResNet-50 ImageNet top-1 of the torchvision v1 weights (torchvision model card: 76.130 %), the reference
for the accuracy column of the network-search row (NAAS reports +2.7 % over its ResNet-50)."""


@dataclass(frozen=True)
class Row:
    key: str
    preset: str
    networks: tuple[str, ...]
    paper_speedup: float | None
    paper_energy: float | None
    paper_edp: float | None = None
    paper_acc_gain: float | None = None
    network_search: bool = False


ROWS = (
    Row("edgetpu", "edge_tpu_like", ("vgg16", "resnet50", "unet"), 2.6, 1.1),
    Row("nvdla1024", "nvdla_1024", ("vgg16", "resnet50", "unet"), 2.2, 1.1),
    Row("eyeriss", "eyeriss", ("mobilenet_v2", "squeezenet1_0", "mnasnet1_0"), 4.4, 2.1),
    Row("nvdla256", "nvdla_256", ("mobilenet_v2", "squeezenet1_0", "mnasnet1_0"), 1.7, 1.4),
    Row("shidiannao", "shidiannao", ("mobilenet_v2", "squeezenet1_0", "mnasnet1_0"), 4.4, 4.9),
    Row("eyeriss_r50", "eyeriss", ("resnet50",), None, None, 4.88, 0.027, network_search=True),
)
PAPER_NOTE = {"edgetpu": "2.6x speedup, 1.1x energy (VGG16 / ResNet-50 / UNet)",
              "nvdla1024": "2.2x speedup, 1.1x energy (VGG16 / ResNet-50 / UNet)",
              "eyeriss": "4.4x speedup, 2.1x energy (MobileNetV2 / SqueezeNet / MNasNet)",
              "nvdla256": "1.7x speedup, 1.4x energy (MobileNetV2 / SqueezeNet / MNasNet)",
              "shidiannao": "4.4x speedup, 4.9x energy (MobileNetV2 / SqueezeNet / MNasNet)",
              "eyeriss_r50": "4.88x EDP, +2.7 % top-1 (ResNet-50, network search in OFA-ResNet50)"}


def geomean(values) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _ratios(base: dict, ours: dict) -> tuple[float, float, float]:
    """(speedup, energy saving, EDP ratio) of ours over the baseline, from metrics dicts."""
    return (base["latency_ms"] / ours["latency_ms"], base["energy_mj"] / ours["energy_mj"],
            base["edp_j_s"] / ours["edp_j_s"])


def run_row(row: Row, args, out_root: Path, say) -> dict:
    out = out_root / row.key
    if out.exists() and not args.resume:
        shutil.rmtree(out)
    common = dict(trials=args.trials, time_limit=None, seed=args.seed, mapper_evals=args.mapper_evals,
                  final_mapper_evals=args.final_mapper_evals, match_resources=row.preset)
    t0 = time.time()
    if len(row.networks) > 1:
        settings = cosearch.make_settings(None, networks=",".join(row.networks), out=out / "hw", **common)
    else:
        settings = cosearch.make_settings(None, network=row.networks[0], out=out / "hw", **common)
    say(f"[{row.key}] {settings.describe()}")
    hw = cosearch.run(settings)
    t_hw = time.time() - t0
    if hw.best is None:
        return {"row": row, "error": "no feasible design", "time_s": t_hw}
    per_net = {}
    for name, metrics in hw.per_network.items():
        per_net[name] = {"baseline": metrics[row.preset], "ours": metrics["cosearch"],
                         "ratios": _ratios(metrics[row.preset], metrics["cosearch"])}
    agg = tuple(geomean(v["ratios"][i] for v in per_net.values()) for i in range(3))
    rec = {"row": row, "hw": hw, "per_net": per_net, "agg": agg, "time_s": t_hw, "fusion": hw.settings.fusion,
           "commands": [cosearch.command_line(hw.settings, relative_to=ROOT)],
           "design": hw.design.describe(), "area_mm2": hw.best.area_mm2,
           "baseline_area_mm2": next(p.area_mm2 for p in hw.presets if p.name == row.preset),
           "trials": hw.counts, "polish": hw.polish}
    if row.network_search:
        t1 = time.time()
        ns_common = {**common, "trials": max(8, args.trials // 2)}  # each trial scores a population of subnets
        ns = cosearch.make_settings(None, space="ofa-resnet50", accuracy=args.accuracy, out=out / "hw_net",
                                    population=args.population, generations=args.generations, **ns_common)
        say(f"[{row.key}] {ns.describe()}")
        res = cosearch.run(ns)
        t_ns = time.time() - t1
        rec["time_s"] += t_ns
        rec["commands"].append(cosearch.command_line(res.settings, relative_to=ROOT))
        if res.best is not None:
            base = per_net[row.networks[0]]["baseline"]
            ours = res.best.metrics()
            rec["net"] = {"ours": ours, "ratios": _ratios(base, ours), "accuracy": res.best.accuracy,
                          "accuracy_source": None if res.accuracy_source is None else res.accuracy_source.label,
                          "design": res.design.describe(), "macs_m": res.best.network.macs / 1e6,
                          "subnet": (res.best.network.meta or {}).get("config"), "time_s": t_ns}
    return rec


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def shortfalls(rec: dict) -> list[str]:
    """Why a row falls short of the paper: the generic causes plus what the numbers say."""
    row = rec["row"]
    speed, energy, edp = rec["agg"]
    out = []
    if row.paper_speedup and speed < row.paper_speedup:
        out.append(f"speedup {speed:.2f}x < paper {row.paper_speedup}x")
    if row.paper_energy and energy < row.paper_energy:
        out.append(f"energy saving {energy:.2f}x < paper {row.paper_energy}x")
    if row.paper_edp and "net" in rec and rec["net"]["ratios"][2] < row.paper_edp:
        out.append(f"EDP ratio with network search {rec['net']['ratios'][2]:.2f}x < paper {row.paper_edp}x")
    return out


def write_markdown(recs: list[dict], args, wall_s: float, path: Path) -> None:
    cmd = "python benchmarks/naas_table.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    L = ["# NAAS's comparison table, reproduced", "",
         f"Generated by `{cmd.strip()}` ({'full' if args.full else 'quick'} settings: {args.trials} trials per "
         f"search, mapper {args.mapper_evals} evaluations per layer during the search, {args.final_mapper_evals} "
         f"for the final comparison, seed {args.seed}) in {wall_s:.0f} s wall time on this machine. "
         "Do not edit by hand; re-run the script.", "",
         "Each search is bounded by the baseline's resources (`--match-resources`: #PEs, total on-chip bytes, "
         "DRAM bytes/cycle; the baseline's word width, technology node and clock), as NAAS did; area is only "
         "reported. The baseline runs with its own dataflow and its best mappings found by the same mapper at the "
         "final budget. Ratios are baseline / ours (> 1: ours is better); rows over several networks give the "
         "geometric mean over the networks (the search objective is the geometric mean of the networks' EDPs).",
         "",
         "| resources (baseline) | networks | paper: speedup / energy saving | ours, hardware only: speedup / "
         "energy saving / EDP ratio | beats baseline on EDP | search time | ",
         "|---|---|---|---|---|---|"]
    for rec in recs:
        row = rec["row"]
        if "agg" not in rec:
            L.append(f"| {row.preset} | {', '.join(row.networks)} | {PAPER_NOTE[row.key]} | {rec.get('error')} | "
                     f"no | {rec['time_s']:.0f} s |")
            continue
        s, e, d = rec["agg"]
        paper = (f"{_x(row.paper_speedup)} / {_x(row.paper_energy)}" if row.paper_speedup
                 else f"EDP {_x(row.paper_edp)}, top-1 +{row.paper_acc_gain * 100:.1f} %")
        L.append(f"| {row.preset} | {', '.join(row.networks)} | {paper} | {_x(s)} / {_x(e)} / {_x(d)} | "
                 f"{'yes' if d > 1 else '**no**'} | {rec['time_s']:.0f} s |")
    net_rows = [r for r in recs if "net" in r]
    for rec in net_rows:
        n = rec["net"]
        s, e, d = n["ratios"]
        acc = n["accuracy"]
        L += ["", "## Accelerator + network (last row)", "",
              "| resources | network | paper | ours: speedup / energy saving / EDP ratio vs Eyeriss on ResNet-50 | "
              "top-1 (ours) | vs ResNet-50 76.13 % |", "|---|---|---|---|---|---|",
              f"| {rec['row'].preset} | OFA-ResNet50 subnet, {n['macs_m']:.0f} M MACs | EDP 4.88x, +2.7 % | "
              f"{_x(s)} / {_x(e)} / {_x(d)} | {'-' if acc is None else f'{acc * 100:.2f} %'} | "
              f"{'-' if acc is None else f'{(acc - RESNET50_TOP1) * 100:+.2f} %'} |", "",
              f"Accuracy source: {n['accuracy_source']}. OFA published no accuracy predictor for its ResNet-50 space, "
              "so this is the project's zero-cost proxy (Zen-score mapped linearly onto the MBv3 predictor's range): "
              "a ranking aid, **not** a measured ImageNet top-1, and the accuracy gain is not comparable with the "
              f"paper's. Design: {n['design']}. Subnet: `{json.dumps(n['subnet'])}`. Network search alone took "
              f"{n['time_s']:.0f} s (included in the row's search time above).", "",
              f"Our EDP ratio ({d:.2f}x) is far above the paper's 4.88x, and that is not a better result: the subnet "
              f"has {n['macs_m']:.0f} M MACs against ResNet-50's 4.1 G, and the accuracy floor that should stop "
              "such a shrink is enforced on a proxy, not on measured top-1. With OFA's real ResNet-50 accuracy "
              "(training or a predictor for that space) the floor would bind and the ratio fall."]
    L += ["", "## Per network", "",
          "| resources | network | baseline latency ms | ours latency ms | baseline energy mJ | ours energy mJ | "
          "speedup | energy saving | EDP ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for rec in recs:
        for name, v in rec.get("per_net", {}).items():
            b, o = v["baseline"], v["ours"]
            s, e, d = v["ratios"]
            L.append(f"| {rec['row'].preset} | {name} | {b['latency_ms']:.3f} | {o['latency_ms']:.3f} | "
                     f"{b['energy_mj']:.4f} | {o['energy_mj']:.4f} | {_x(s)} | {_x(e)} | {_x(d)} |")
    L += ["", "## Searched designs and commands", ""]
    for rec in recs:
        if "design" not in rec:
            continue
        row = rec["row"]
        L += [f"**{row.preset}** on {', '.join(row.networks)} ({rec['time_s']:.0f} s; {rec['trials']['complete']} "
              f"complete trials): "
              f"{rec['design']}; modelled area {rec['area_mm2']:.2f} mm2 (baseline {rec['baseline_area_mm2']:.2f} "
              f"mm2, reported only).{_polish_note(rec)}", ""]
        L += ["```bash", *rec["commands"], "```", ""]
    L += ["## Where we fall short of the paper, and why", "",
          "Causes common to every row (each row below names which numbers fall short):", "",
          "- **Cost model.** NAAS scored designs with MAESTRO; this tool uses a Timeloop-exact analytic model "
          "(access counts, bandwidth-stretched cycles, per-access energies from its technology tables). The "
          "baselines here are modelled with the same tables and with *their best mappings* found by the same "
          "mapper, which is a stronger baseline than a fixed published dataflow: much of NAAS's speedup came from "
          "mapping as well as hardware.",
          "- **Baselines' dataflow constraints.** Our presets fix the spatial dims the baseline may unroll "
          "(Eyeriss X:Q, Y:S,C,K; NVDLA/Edge TPU X:K, Y:C; ShiDianNao X:P, Y:Q) but leave their temporal "
          "mapping free. The searched space may unroll up to 3 dims per array axis (so it holds Eyeriss's "
          "Y: S, C, K) and starts from the baseline's own design, but its global buffer always holds all three "
          "tensors (Eyeriss's bypasses weights) and has no bandwidth limit (Eyeriss's is 16 words/cycle): a small "
          "advantage to the searched designs that NAAS's MAESTRO setting may not have had.",
          "- **Resources as bounds, not free extras.** DRAM bandwidth is capped at the baseline's (the preset "
          "values are assumptions, except edge_tpu_like's, its published host link), and memory-bound layers (depthwise, UNet's large "
          "feature maps, VGG's FC layers) cannot be sped up past that roof whatever the array does.",
          "- **Trial budgets.** NAAS ran hundreds of accelerator candidates with a full mapping search each; "
          f"this table runs {args.trials} trials with {args.mapper_evals} mapper evaluations per layer (minutes, "
          "not GPU-days). `--full` quadruples the trials and raises the mapper budgets.", ""]
    for rec in recs:
        if "agg" not in rec:
            L.append(f"- **{rec['row'].preset}**: {rec.get('error')}.")
            continue
        short = shortfalls(rec)
        if short:
            L.append(f"- **{rec['row'].preset}** ({', '.join(rec['row'].networks)}): {'; '.join(short)}. "
                     + _why(rec))
    above = [rec for rec in recs if "agg" in rec and not shortfalls(rec)]
    if above:
        L += ["", "## Where we meet or exceed the paper, and why", "",
              "NAAS compared with each baseline's published dataflow under MAESTRO; here the baseline gets its best "
              "mapping under its own parallel dims from the same mapper as the searched design. A ratio above the "
              "paper's therefore comes from the design, and the figures say where: the utilisation of the MACs "
              "on the network that gains most, the baseline's against ours.", ""]
        L += [f"- **{rec['row'].preset}** ({', '.join(rec['row'].networks)}): {_above(rec)}" for rec in above]
    L.append("")
    path.write_text("\n".join(L))


def _polish_note(rec: dict) -> str:
    """What the final phase's polish did for a row's design (`cosearch.search.polish`), as a sentence."""
    p = rec.get("polish") or {}
    if not p.get("kept"):
        return ""
    before, after = p["final_value"]
    return (f" The final phase's pattern search moved trial {p['from_trial']}'s design ({len(p['moves'])} moves: "
            f"{', '.join(p['moves'])}); objective {before:.3g} -> {after:.3g} with the final mapper.")


def _above(rec: dict) -> str:
    """A row that meets or beats the paper: by how much, and the utilisation behind its best network's gain."""
    row = rec["row"]
    speed, energy, _ = rec["agg"]
    parts = []
    if row.paper_speedup:
        parts.append(f"speedup {speed:.2f}x against the paper's {row.paper_speedup}x")
    if row.paper_energy:
        parts.append(f"energy saving {energy:.2f}x against {row.paper_energy}x")
    if row.paper_edp and "net" in rec:
        parts.append(f"with the network search, EDP ratio {rec['net']['ratios'][2]:.2f}x against the paper's "
                     f"{row.paper_edp}x, under an accuracy estimate (see *Accelerator + network*); hardware only, "
                     f"for which the paper gives no figure, {rec['agg'][2]:.2f}x")
    name, best = max(rec["per_net"].items(), key=lambda kv: kv[1]["ratios"][2])
    df = get_preset(row.preset).dataflow
    dims = f"X: {','.join(df.spatial_x)}, Y: {','.join(df.spatial_y)}" if df else "its own dims"
    return (f"{'; '.join(parts)}. Strongest network: {name} (speedup {best['ratios'][0]:.2f}x, EDP ratio "
            f"{best['ratios'][2]:.2f}x): the baseline's best mappings ({dims}) use "
            f"{best['baseline']['utilization']:.1%} of its MACs over that network, the searched design's "
            f"{best['ours']['utilization']:.1%} ({rec['design']}).")


def _why(rec: dict) -> str:
    row = rec["row"]
    worst = min(rec["per_net"].items(), key=lambda kv: kv[1]["ratios"][2])
    base = get_preset(row.preset)
    text = (f"Weakest network: {worst[0]} (EDP ratio {worst[1]['ratios'][2]:.2f}x). ")
    if worst[1]["ratios"][2] < 1:
        text += ("The objective is the geometric mean over the networks, so the search traded this network for "
                 "larger gains on the others; per network, the design does not beat the baseline there. ")
    if row.preset in ("edge_tpu_like",):
        bounds = ResourceBounds.from_preset(row.preset)
        text += (f"The Edge TPU-like preset has {base.num_macs} MACs behind {bounds.dram_bytes_per_cycle:g} B/cycle "
                 f"off chip (its host link, docs/real_devices.md); ")
        if rec["fusion"] == "none":
            text += ("layer by layer (`--fusion none`) every tensor crosses that link, so both designs are mostly "
                     "bound by it and the searched design, held to the same link, gains by spending its bytes and "
                     "on-chip accesses better, not by more compute.")
        else:
            text += (f"with whole networks on chip (`--fusion {rec['fusion']}`) only what does not fit the global "
                     "buffer crosses it, so both designs gain most by what their buffers keep, and the searched "
                     "design, held to the baseline's on-chip bytes, by how it spends them.")
        if rec["agg"][0] < 1:
            text += (" Its speedup is below 1: under the EDP objective the search traded speed for energy "
                     f"(energy saving {rec['agg'][1]:.2f}x).")
    elif row.preset.startswith("nvdla"):
        text += ("NVDLA's K x C weight-stationary array with its best temporal mapping is already well suited to "
                 "the dense convolutions; the remaining gain is array shape and buffer split.")
    elif row.preset == "eyeriss":
        text += ("Eyeriss's 16-bit words, 200 MHz clock and 8 B/cycle DRAM are kept for the searched design; our "
                 "Eyeriss model gets the best mapping under its row-stationary constraint rather than the fixed "
                 "mapping NAAS compared with, and its 224-word weight scratchpads reward the same reuse the "
                 "searched design looks for.")
    elif row.preset == "shidiannao":
        text += ("ShiDianNao's 64 PEs at 8 B/cycle leave little room: the paper's 4.9x energy saving came largely "
                 "from ShiDianNao's output-stationary dataflow fitting MobileNet-style layers badly under MAESTRO, "
                 "which our mapper partly repairs for the baseline too.")
    return text + f" ({base.num_macs} MACs baseline.)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small budgets, a few minutes (default)")
    mode.add_argument("--full", action="store_true", help="96 trials per row, larger mapper budgets")
    p.add_argument("--rows", help=f"comma-joined subset of {', '.join(r.key for r in ROWS)}")
    p.add_argument("--trials", type=int, help="trials per search (quick 24, full 96)")
    p.add_argument("--mapper-evals", type=int, help="mapper evaluations per layer in the search (quick 512, full 1024)")
    p.add_argument("--final-mapper-evals", type=int, help="final / baseline mapper evaluations (quick 2048, full 4096)")
    p.add_argument("--population", type=int, default=4, help="subnet evolution population, last row (4)")
    p.add_argument("--generations", type=int, default=1, help="subnet evolution generations, last row (1)")
    p.add_argument("--accuracy", type=float, default=0.788,
                   help="accuracy floor of the network search (0.788 = ResNet-50's 76.1 %% + NAAS's 2.7 %%)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "naas_out"), help="co-search outputs per row (naas_out/)")
    p.add_argument("--doc", default=str(ROOT / "docs" / "naas_table.md"))
    p.add_argument("--resume", action="store_true", help="keep existing row studies (default: start afresh)")
    args = p.parse_args(argv)
    args.trials = args.trials or (96 if args.full else 24)
    args.mapper_evals = args.mapper_evals or (1024 if args.full else 512)
    args.final_mapper_evals = args.final_mapper_evals or (4096 if args.full else 2048)
    keys = {r.key for r in ROWS}
    wanted = [k.strip() for k in args.rows.split(",")] if args.rows else [r.key for r in ROWS]
    bad = [k for k in wanted if k not in keys]
    if bad:
        p.error(f"--rows: unknown row(s) {bad}; accepted: {', '.join(sorted(keys))}")
    out_root = Path(args.out)
    t0 = time.time()
    recs = []
    for row in ROWS:
        if row.key not in wanted:
            continue
        rec = run_row(row, args, out_root, lambda m: print(m, file=sys.stderr, flush=True))
        recs.append(rec)
        if "agg" in rec:
            s, e, d = rec["agg"]
            print(f"{row.key:12s} speedup {s:.2f}x energy {e:.2f}x EDP {d:.2f}x  ({rec['time_s']:.0f} s)", flush=True)
        if "net" in rec:
            s, e, d = rec["net"]["ratios"]
            print(f"{row.key + '+net':12s} speedup {s:.2f}x energy {e:.2f}x EDP {d:.2f}x  acc {rec['net']['accuracy']}",
                  flush=True)
    doc = Path(args.doc)
    doc.parent.mkdir(parents=True, exist_ok=True)
    write_markdown(recs, args, time.time() - t0, doc)
    print(f"wrote {doc} in {time.time() - t0:.0f} s")
    return 0 if all("agg" in r and r["agg"][2] > 1 for r in recs) else 1


if __name__ == "__main__":
    sys.exit(main())
