"""The report in `--out`: result.json (everything to reproduce the run), report.md, PNGs, Timeloop YAML per layer."""
from __future__ import annotations

import json
import math
import platform
import re
import subprocess
import warnings
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from accel_models import (TENSORS, Accelerator, MappingArrays, area_breakdown, arch_to_timeloop_yaml,
                          mapping_to_timeloop_yaml, problem_to_timeloop_yaml)
from accel_models.area import OVERHEAD_NOTE
from nets import DIMS
from nets.elementwise import describe_elementwise, elementwise_ops, elementwise_words

from .._files import CHECKOUT, write_text_atomic
from .._version import __version__
from ..config import command_line
from ..config.objectives import objective_spec
from ..search import CoSearchResult, seeds_text
from ..search.objective import study_metric_names
from ..search.pareto import directions as pareto_directions
from ..search.pareto import metric_names
from .analysis import LayerAnalysis, NetworkAnalysis, _capitalized, analyze, comparison_caveats, presets_at_node
from .fusion import GROUP_COLUMNS, fusion_line, group_rows
from .plots import front_png, history_png, pareto_png, roofline_png
from .summary import accuracy_note, excluded_presets_text, markdown_table, table_markdown, title

RESULT_FORMAT = "cosearch.result/1"


def versions() -> dict:
    """Python, the packages the result depends on, and the checkout's git commit (if any)."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("cosearch", "numpy", "numba", "optuna", "cmaes", "torch", "matplotlib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    if out["cosearch"] is None:
        out["cosearch"] = __version__
    try:
        commit = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(CHECKOUT), "status", "--porcelain"], capture_output=True,
                               text=True, timeout=5).stdout.strip()
        out["git_commit"] = (commit + ("+dirty" if dirty else "")) or None
    except (OSError, subprocess.SubprocessError):
        out["git_commit"] = None
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "layer"


def write_timeloop(result: CoSearchResult, folder: Path) -> list[Path]:
    """arch.yaml of the best design, and per distinct layer its problem and best mapping as Timeloop v0.4 YAML (for a
    layer a depth-first group runs tile by tile, its most frequent tile's problem and mapping)."""
    folder.mkdir(parents=True, exist_ok=True)
    acc = result.best.accelerator
    files = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # split GLB capacities are written as the shared total
        (folder / "arch.yaml").write_text(arch_to_timeloop_yaml(acc))
    files.append(folder / "arch.yaml")
    for i, lc in enumerate(result.best.layers):
        layer = max(lc.parts, key=lambda part: part[1])[0].layer if lc.parts else lc.layer
        stem = f"{i:02d}_{_safe(lc.layer.name)}{'.tile' if lc.parts else ''}"
        (folder / f"{stem}.problem.yaml").write_text(problem_to_timeloop_yaml(layer))
        (folder / f"{stem}.mapping.yaml").write_text(mapping_to_timeloop_yaml(lc.result.arrays, acc, layer, 0))
        files += [folder / f"{stem}.problem.yaml", folder / f"{stem}.mapping.yaml"]
    return files


def result_dict(result: CoSearchResult, files: list[str], analysis: NetworkAnalysis | None = None) -> dict:
    """The JSON document of result.json (`analysis` of the best design: computed if not given)."""
    s = result.settings
    best = result.best
    if best is not None and analysis is None:
        analysis = analyze(best)
    doc = {
        "format": RESULT_FORMAT,
        "versions": versions(),
        "command": command_line(result.settings),
        "seed": s.seed,
        "budget": {**s.budget.to_dict(), "text": s.budget.describe()},
        "settings": s.to_dict(),
        "study": {"name": s.study_name, "storage": s.storage.display, "best_trial": result.best_trial,
                  "counts": result.counts, "workers": [w.to_dict() for w in result.workers],
                  "seeds": result.seeds},
        "accuracy_source": None if result.accuracy_source is None else result.accuracy_source.to_dict(),
        "design": None, "subnet": None, "network": None, "metrics": None, "search_metrics": result.search_metrics,
        "layers": [], "presets": [p.to_dict(best.edp_j_s if best else None) for p in result.presets],
        "beats_every_fitting_preset": result.beats_every_preset,
        "timings_s": result.timings_s, "notes": result.notes, "files": files, "polish": result.polish or None,
        "resources": None if s.resources is None else s.resources.to_dict(),
        "per_network": result.per_network or None,
        "objective": _objective_dict(result),
        "pareto_front": result.pareto_front or None,
    }
    if best is not None:
        br = area_breakdown(best.accelerator)
        doc["design"] = {**result.design.to_dict(), "text": result.design.describe(), "area_mm2": best.area_mm2,
                         "area_breakdown_mm2": {"macs": br.macs_mm2, "pe_storage": br.pe_storage_mm2,
                                                "global_buffers": br.global_buffers_mm2, "overhead": br.overhead_mm2},
                         "area_overhead_note": OVERHEAD_NOTE}
        meta = best.network.meta or {}
        doc["subnet"] = meta.get("config") if s.searches_subnet else None
        doc["network"] = {"name": best.network.name, "space": meta.get("space"),
                          "fixed": None if s.network is None else s.network.to_dict(), "macs": best.network.macs,
                          "layers": len(best.network.layers), "distinct_layers": len(best.layers)}
        doc["metrics"] = best.metrics()
        doc["fusion"] = best.meta.get("fusion")
        doc["layers"] = [{**lc.to_dict(), **{k: v for k, v in a.to_dict().items() if k != "name"},
                          "elementwise": _elementwise_dict(best.network.group_elementwise(lc.layer))}
                         for lc, a in zip(best.layers, analysis.layers)]
        doc["analysis"] = {k: v for k, v in analysis.to_dict().items() if k != "layers"}
        doc["analysis"]["bound_definition"] = BOUND_DEFINITION
        doc["comparison_caveats"] = comparison_caveats(result)
        doc["presets_at_design_node"] = [p.to_dict(best.edp_j_s) for p in presets_at_node(result)]
    return doc


def _polish_text(polish: dict) -> str:
    """One paragraph on the final phase's pattern search (`CoSearchResult.polish`)."""
    head = (f"The final phase's pattern search from trial {polish['from_trial']}'s design (its network fixed, each gene "
            f"moved in turn)")
    if polish["search_mapper_value"] is None:
        return f"{head} did not run: the search's mapper found no valid mapping of the design's layers."
    before, after = polish["search_mapper_value"]
    stopped = " (stopped by its share of the time limit)" if polish.get("timed_out") else ""
    text = (f"{head} scored {polish['evaluations']} designs{stopped} with the search's mapper: {before:.4g} -> "
            f"{after:.4g}; moves kept: {', '.join(polish['moves']) or 'none'}.")
    if "final_value" in polish:
        trial_value, polished_value = polish["final_value"]
        verdict = "the polished design is the best design" if polish["kept"] else "the trial design stays"
        text += (f" With the final mapper: trial {polish['from_trial']}'s design {trial_value:.4g}, the polished one "
                 f"{polished_value:.4g}; {verdict}.")
    others = [f"trial {o['from_trial']}: " + (f"{o['final_value'][0]:.4g} -> {o['final_value'][1]:.4g}"
                                               if o.get("final_value") else "no better design by the search's mapper")
              for o in polish.get("others", ())]
    if others:
        text += f" The same search from the other candidates (final mapper's values): {'; '.join(others)}."
    return text


def _elementwise_dict(ops) -> dict:
    """The non-MAC work of a layer's runs in result.json: elements per kind, operations (an estimate), words moved."""
    kinds: dict[str, int] = {}
    for op in ops:
        kinds[op.kind] = kinds.get(op.kind, 0) + op.elements
    return {"elements": kinds, "ops_estimate": elementwise_ops(ops), "words": elementwise_words(ops)}


def _objective_dict(result: CoSearchResult) -> dict:
    """What the search optimised, as result.json states it: the objective (name, direction, formula, the mapper's
    objective), or the metrics and directions of a multi-objective study."""
    s = result.settings
    if s.pareto:
        return {"pareto": list(s.pareto), "directions": pareto_directions(s.pareto), "text": _objective_text(result),
                "mapper_objective": s.mapper_objective}
    return {**s.objective.to_dict(), "text": _objective_text(result)}


def _objective_text(result: CoSearchResult) -> str:
    s = result.settings
    if s.pareto:
        return (f"Pareto front of {', '.join(s.pareto)} (Optuna multi-objective study, sampler {s.sampler}); each "
                f"layer mapped for least {s.mapper_objective}")
    return s.objective.describe() + f"; each layer mapped for least {s.mapper_objective}"


def _front_section(result: CoSearchResult) -> list[str]:
    """The multi-objective study's front: every design re-evaluated with the final mapper, and the plot."""
    front, s = result.pareto_front, result.settings
    if not front:
        return ["## Pareto front", "", "No design within the budget reached the front.", ""]
    labels = metric_names(s.pareto)
    fmt = {m: objective_spec(m).value_format for m in s.pareto}
    rows = []
    for i, e in enumerate(front):
        cells = [f"{format(a, fmt[m])} -> {format(b, fmt[m])}"
                 for m, a, b in zip(s.pareto, e["search_values"], e["values"])]
        rows.append([str(i), str(e["trial"]), *cells, "yes" if e["within_budget"] else "no",
                     "yes" if e["non_dominated"] else "no", f"{e['macs'] / 1e6:.0f}", e["design_text"]])
    kept = sum(e["non_dominated"] for e in front)
    source = result.accuracy_source
    estimate = f" (accuracy: {source.label})" if source is not None and "accuracy" in s.pareto else ""
    return ["## Pareto front", "",
            f"{len(front)} designs (accelerator + subnet) on the front of every pair the search scored{estimate}; "
            "each re-evaluated: every layer re-mapped with the final mapper "
            f"({s.final_mapper.budget_evals} evaluations per layer). Cells read search -> re-evaluated. {kept} of them "
            "remain non-dominated after re-evaluation. "
            "The best-design sections below detail the front's lowest-EDP design. The dashboard draws the trials' own "
            "front (each trial's best subnet for its trade-off).", "",
            table_markdown(["#", "trial", *labels, "within budget", "non-dominated", "MMAC", "design"], rows), "",
            "![Pareto front](pareto_front.png)", "",
            "Subnets of the front (OFA format), by row:", "", "```json",
            *(json.dumps(e["subnet"]) for e in front), "```", ""]


def compact_mapping(arrays: MappingArrays, accelerator: Accelerator) -> str:
    """A mapping on one line, outermost level first: 'DRAM[WIO] Q3 | GLB[WI] P13 K4 Y:P6 X:C34 | RF[W] R3'."""
    parts = []
    for l, lv in enumerate(accelerator.levels):
        keep = "".join(t[0] for i, t in enumerate(TENSORS) if arrays.keep[0, l, i])
        loops = [f"{DIMS[d]}{int(arrays.temporal[0, l, d])}" for d in arrays.order[0, l] if arrays.temporal[0, l, d] > 1]
        for axis, sp in (("Y", arrays.spatial_y), ("X", arrays.spatial_x)):
            loops += [f"{axis}:{DIMS[d]}{int(sp[0, l, d])}" for d in arrays.spatial_order[0, l] if sp[0, l, d] > 1]
        parts.append(f"{lv.name}[{keep or '-'}] " + " ".join(loops))
    return " | ".join(p.strip() for p in parts)


BOUND_DEFINITION = ("the lowest of three ceilings on a layer's throughput: the compute roof (peak MAC/s), the "
                    "memory roof (MACs per DRAM byte x DRAM bandwidth) and the utilization ceiling (PEs used x peak, "
                    "with PEs used = MACs / (PEs x compute cycles), the share of the array the mapping's spatial "
                    "unrolling occupies; compute cycles = the product of its temporal factors)")


def _elementwise_table(result: CoSearchResult) -> str:
    """Per distinct layer, the non-MAC work fused behind it (all its runs): kinds, operations, bytes; '' if none."""
    best = result.best
    word_bytes = best.accelerator.levels[0].word_bits / 8
    rows = [[str(i), lc.layer.name, str(lc.count), describe_elementwise(ops), f"{elementwise_ops(ops) / 1e6:.3f}",
             f"{elementwise_words(ops) * word_bytes / 1e6:.3f}"]
            for i, lc in enumerate(best.layers) if (ops := best.network.group_elementwise(lc.layer))]
    if not rows:
        return ""
    return table_markdown(["#", "layer", "x", "element-wise kinds (elements)", "Mop (estimate)", "MB if unfused"], rows)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


LayerColumn = tuple[str, Callable[[LayerAnalysis], str]]
"""A column of the per-layer table: header and the cell of one analysed layer (`LayerAnalysis`)."""
LAYER_COLUMNS: tuple[LayerColumn, ...] = (
    ("#", lambda a: str(a.index)),
    ("layer", lambda a: a.layer.name),
    ("x", lambda a: str(a.cost.count)),
    ("kind", lambda a: a.layer.kind),
    ("MMAC", lambda a: f"{a.layer.macs / 1e6:.2f}"),
    ("cycles", lambda a: f"{a.cost.cycles:,}"),
    ("latency", lambda a: _pct(a.latency_share)),
    ("energy uJ", lambda a: f"{a.cost.energy_pj * 1e-6:.3f}"),
    ("energy", lambda a: _pct(a.energy_share)),
    ("DRAM KB", lambda a: f"{a.dram_bytes / 1e3:,.1f}"),
    ("on chip", lambda a: " ".join(t[0] for t in a.cost.residency.names) if a.cost.residency else "-"),
    ("util", lambda a: f"{a.cost.utilization:.2f}"),
    ("PEs used", lambda a: f"{a.spatial_utilization:.2f}"),
    ("bound", lambda a: a.bound),
    ("mapping: level[kept tensors] loops, outer to inner",
     lambda a: compact_mapping(a.cost.result.arrays, a.cost.result.accelerator).replace("|", "/")),
)
"""The per-layer table of report.md, in order; a column is one entry (cycles, energy and DRAM traffic are per run;
latency and energy are shares of the network's, counting every run)."""


def _layer_table(analysis: NetworkAnalysis, columns: tuple[LayerColumn, ...] = LAYER_COLUMNS) -> str:
    return table_markdown([h for h, _ in columns], [[cell(a) for _, cell in columns] for a in analysis.layers])


def _top_tables(analysis: NetworkAnalysis) -> list[str]:
    out = []
    for by, what in (("latency", "latency"), ("energy", "energy")):
        rows, cumulative = [], 0.0
        for a in analysis.top(by):
            share = a.latency_share if by == "latency" else a.energy_share
            cumulative += share
            if by == "latency":
                detail = [f"{a.cost.utilization:.2f}", f"{a.spatial_utilization:.2f}", a.bound]
            else:
                e = a.evaluation.tensor_energy_pj
                l, t = np.unravel_index(int(np.argmax(e)), e.shape)
                detail = [f"{a.dram_bytes / 1e3:,.1f}", f"{a.evaluation.level_names[l]} {TENSORS[t]} "
                          f"{e[l, t] / a.evaluation.energy_pj:.0%}", _pct(a.evaluation.mac_energy_pj
                                                                           / a.evaluation.energy_pj)]
            rows.append([str(a.index), a.layer.name, a.layer.kind, str(a.cost.count), _pct(share), _pct(cumulative),
                         *detail])
        extra = (["util", "PEs used", "bound"] if by == "latency"
                 else ["DRAM KB per run", "largest part of its energy", "MACs' part"])
        out += [f"### Layers that dominate {what}", "",
                table_markdown(["#", "layer", "kind", "x", f"share of {what}", "cumulative", *extra], rows), ""]
    return out


def _kind_table(analysis: NetworkAnalysis) -> str:
    rows = []
    for r in analysis.by_kind():
        lo, hi = r.utilization
        rows.append([r.kind, f"{r.distinct} / {r.runs}", _pct(r.mac_share), _pct(r.latency_share),
                     _pct(r.energy_share), f"{lo:.3f}-{hi:.3f}",
                     ", ".join(f"{b} {n}" for b, n in sorted(r.bounds.items(), key=lambda kv: -kv[1]))])
    return table_markdown(["kind", "layers (distinct / runs)", "MACs", "latency", "energy", "utilization",
                           "bound (distinct layers)"], rows)


def _energy_table(analysis: NetworkAnalysis) -> str:
    """Energy by level and tensor (uJ over the network), with a leakage column when the architecture leaks."""
    e, leak = analysis.level_tensor_energy_pj, analysis.level_leak_pj
    leaks = bool(leak.any())
    clock = analysis.clock_energy_pj
    total = float(e.sum() + leak.sum() + analysis.mac_energy_pj + clock)
    levels = analysis.cost.accelerator.levels
    rows = [[lv.name, *(f"{v * 1e-6:,.2f}" if t in lv.keeps else "-" for t, v in zip(TENSORS, e[l])),
             *([f"{leak[l] * 1e-6:,.2f}"] if leaks else []), f"{(e[l].sum() + leak[l]) * 1e-6:,.2f}",
             _pct((e[l].sum() + leak[l]) / total)] for l, lv in enumerate(levels)]
    rows.append(["MAC", "", "", "", *([""] if leaks else []), f"{analysis.mac_energy_pj * 1e-6:,.2f}",
                 _pct(analysis.mac_energy_pj / total)])
    if clock:
        rows.append(["clock network", "", "", "", *([""] if leaks else []), f"{clock * 1e-6:,.2f}",
                     _pct(clock / total)])
    rows.append(["total", *(f"{v * 1e-6:,.2f}" for v in e.sum(axis=0)), *([f"{leak.sum() * 1e-6:,.2f}"] if leaks else []),
                 f"{total * 1e-6:,.2f}", "100.0%"])
    rows.append(["share", *(_pct(v / total) for v in e.sum(axis=0)), *([_pct(leak.sum() / total)] if leaks else []),
                 "", ""])
    return table_markdown(["level", *(f"{t} uJ" for t in TENSORS), *(["leakage uJ"] if leaks else []), "total uJ",
                           "share"], rows)


def _comparison_section(result: CoSearchResult) -> list[str]:
    """The caveats of comparing presets at another node or word width, and the comparison at the design's node."""
    caveats = comparison_caveats(result)
    if not caveats:
        return []
    node = result.design.technology_nm
    rows = [[p.name, f"{p.own_nm:g} -> {p.node_nm:g} nm" if p.own_nm != p.node_nm else f"{p.node_nm:g} nm",
             f"{p.area_mm2:.2f}", f"{p.latency_s * 1e3:.3f}", f"{p.energy_j * 1e3:.4f}", f"{p.edp_j_s:.4g}",
             f"{p.edp_j_s / result.best.edp_j_s:.2f}"] for p in presets_at_node(result)]
    out = ["### Comparing like with like", "", *(f"- {c}." for c in caveats), ""]
    if any(p.own_nm != p.node_nm for p in presets_at_node(result)):
        out += [f"The compared presets at the co-searched design's node ({node:g} nm), each rebuilt there "
                f"(`accel_models.get_preset(name, technology_nm={node:g})`) and its own best mappings re-costed (not "
                "re-searched: cycles are unchanged, energy and area scale with the node). Word widths stay the "
                "presets' own: no preset is defined at another width, so a 16-bit preset still pays for 16-bit "
                "accesses.", "",
                table_markdown(["preset", "node", "area mm2", "latency ms", "energy mJ", "EDP J*s", "EDP ratio"],
                               rows), ""]
    return out


def _header_section(result: CoSearchResult) -> list[str]:
    """The title, what was searched for under which budget, the trials' outcome and where accuracy comes from."""
    s = result.settings
    out = [f"# Co-search report: {s.study_name}", "",
           f"Objective: **{_objective_text(result)}**.", "",
           f"Budget: **{s.budget.describe()}**. Network: "
           + (f"fixed `{s.network.name}`." if s.network else f"searched in `{s.space}` under the accuracy floor."),
           f"Trials: {result.counts['complete']} complete, {result.counts['pruned']} designs rejected over the area "
           f"budget before any mapping, {result.counts['failed']} failed. Sampler `{s.sampler}`, seed {s.seed}.", ""]
    src = result.accuracy_source
    if src is not None:
        out += [f"Accuracy source: {src.label}" + (f" (`{src.path}`)" if src.path else ""), ""]
        if src.notice:
            out += [f"> **{src.notice}**", ""]
    return out


def _summary_section(result: CoSearchResult) -> list[str]:
    """The best design against the presets: the table, how to read it, who is left out and the like-for-like
    comparison."""
    s = result.settings
    out = ["## Summary", "", f"{title(result)[0].upper()}{title(result)[1:]}.", "", markdown_table(result), "",
           "EDP ratio = the row's EDP / the co-searched design's EDP (above 1: the co-searched design wins). "
           "Every row runs the same network, each layer at the best mapping the final mapper "
           f"({s.final_mapper.strategy}, {s.final_mapper.budget_evals} evaluations per layer) found for it.", ""]
    note = accuracy_note(result)
    if note:
        out += [f"{note[0].upper()}{note[1:]}.", ""]
    excluded = excluded_presets_text(result)
    if excluded:
        out += [excluded[0].upper() + excluded[1:] + ".", ""]
    return out + _comparison_section(result)


def _dominant_section(analysis: NetworkAnalysis) -> list[str]:
    """Where the time and energy go: the headlines, the top layers, by layer kind, by memory level and tensor."""
    return ["## Where the time and energy go", "",
            *(f"- {h}." for h in analysis.headlines()), "",
            "Layers are numbered from 0 here, in the per-layer table, in the roofline's key and in `timeloop/`. "
            "Shares count every run of a layer (x).", "",
            *_top_tables(analysis),
            "### By layer kind", "", _kind_table(analysis), "",
            "### Energy by memory level and tensor (whole network)", "", _energy_table(analysis), ""]


def _design_section(result: CoSearchResult, doc: dict) -> list[str]:
    """The best design: where it came from, its area by part, the network's figures on it and its subnet."""
    best, area = result.best, doc["design"]["area_breakdown_mm2"]
    out = ["## Best design", "", f"{_capitalized(result.design_origin)}: {result.design.describe()}", "",
           *([_polish_text(result.polish), ""] if result.polish else []),
           *([_capitalized(seeds_text(result.seeds, ', '.join(study_metric_names(result.settings)))) + ".", ""]
             if result.seeds else []),
           f"Area {best.area_mm2:.3f} mm2: MACs {area['macs']:.3f}, per-PE storage {area['pe_storage']:.3f}, "
           f"global buffers {area['global_buffers']:.3f}, layout overhead {area['overhead']:.3f} mm2 "
           f"({area['overhead'] / best.area_mm2:.0%} of the area); {OVERHEAD_NOTE}.", "",
           f"Network `{best.network.name}`: {best.network.macs / 1e6:.1f} M MACs, {len(best.network.layers)} layers "
           f"({len(best.layers)} distinct). Latency {best.latency_s * 1e3:.3f} ms ({best.timing} timing), energy "
           f"{best.energy_j * 1e3:.4f} mJ ({best.energy_on_chip_pj * 1e-9:.4f} on chip, {best.energy_dram_pj * 1e-9:.4f} "
           f"in DRAM), EDP {best.edp_j_s:.4g} J*s, average power {best.power_w * 1e3:.1f} mW, utilization "
           f"{best.utilization:.1%}"
           + ("" if best.accuracy is None else f", estimated accuracy {best.accuracy:.4f}") + ".", ""]
    if doc["subnet"]:
        out += ["Subnet (OFA format):", "", "```json", json.dumps(doc["subnet"]), "```", ""]
    return out


def _layers_section(analysis: NetworkAnalysis) -> list[str]:
    """The per-layer table at the best mappings, with how to read its columns."""
    return ["## Layers at their best mappings", "",
            "Per run of the layer (x = runs per inference): cycles, energy, DRAM KB (bytes read from and written "
            "to DRAM). latency and energy: shares of the network's. util = MACs / (PEs x cycles). PEs used = the "
            f"mapping's spatial utilization. bound = {BOUND_DEFINITION}.", "",
            _layer_table(analysis), "",
            "Each layer's problem and mapping as Timeloop YAML: `timeloop/` (with `arch.yaml`).", ""]


def _fusion_section(result: CoSearchResult) -> list[str]:
    """What stays on chip under the fusion mode, by group (nothing when the layers run alone)."""
    summary = result.best.meta.get("fusion")
    if not summary:
        return []
    return ["## What stays on chip", "", fusion_line(summary)[0].upper() + fusion_line(summary)[1:] + ".", "",
            "on chip (per-layer table): the tensors (W weights, I inputs, O outputs) that live whole in the "
            "global buffer during the layer instead of DRAM (docs/fusion.md). A group: consecutive layers "
            "joined by activations that stay on chip.", "",
            table_markdown(list(GROUP_COLUMNS), group_rows(summary)), ""]


def _elementwise_section(result: CoSearchResult) -> list[str]:
    """The element-wise work the cost model counts but does not cost (nothing when the network has none)."""
    elementwise = _elementwise_table(result)
    if not elementwise:
        return []
    return ["## Element-wise work (not in cycles or energy)", "",
            "Softmax, norms, activations, masks and residual adds, fused behind the layer whose output they "
            "read, over all the runs of the row's layer shape (x; one row may gather layers of one shape and "
            "different roles, as a QKV projection and an FFN layer of equal size). Counted, not costed: the "
            "cost model has no vector unit (an accelerator runs this work on one beside the MAC array, as "
            "NVDLA's SDP, overlapped with the matrix products). Operations per element are estimates from "
            "each op's formula (`nets.OPS_PER_ELEMENT`); bytes: every input read and the output written "
            "once, at the DRAM word width.", "", elementwise, ""]


def _plots_section(result: CoSearchResult) -> list[str]:
    """The roofline, the best objective by trial (a single-objective study) and the front (a subnet search)."""
    s = result.settings
    out = ["## Plots", "", "![roofline](roofline.png)", "",
           "The roofline: each layer at its achieved throughput, coloured by bound; dashed, the utilization "
           "ceilings (PEs used x peak, capped by the memory roof) of the utilization-limited layers.", "",
           *([] if s.pareto else [f"![best {s.objective.name} vs trial](best_edp_vs_trial.png)", ""])]
    if s.searches_subnet:
        out += ["![Pareto front](pareto_edp_accuracy.png)", ""]
    return out


def _reproduce_section(result: CoSearchResult, doc: dict) -> list[str]:
    """The command that reproduces the run, where its study lives, and the phases' timings."""
    s = result.settings
    return ["## Reproduce", "", "```bash", doc["command"], "```", "",
            f"Storage `{s.storage.display}`, study `{s.study_name}`; watch it with "
            f"`optuna-dashboard {s.storage.dashboard_arg}`.", "",
            "Timings: " + ", ".join(f"{k} {v:.1f} s" + (" (part of final)" if k == "polish" else "")
                                    for k, v in result.timings_s.items()), ""]


def report_markdown(result: CoSearchResult, doc: dict, analysis: NetworkAnalysis | None = None) -> str:
    """report.md: summary and comparison, what dominates, the design, the per-layer table, plots, how to reproduce."""
    out = _header_section(result)
    if result.settings.pareto:
        out += _front_section(result)
    if result.best is None:
        out += ["No trial produced a design within the budget.", ""]
    else:
        analysis = analysis if analysis is not None else analyze(result.best)
        out += [*_summary_section(result), *_dominant_section(analysis), *_design_section(result, doc),
                *_layers_section(analysis), *_fusion_section(result), *_elementwise_section(result),
                *_plots_section(result)]
    for note in result.notes:
        out += [f"Note: {note}", ""]
    return "\n".join(out + _reproduce_section(result, doc))


def write_report(result: CoSearchResult) -> Path:
    """Write everything to `settings.out`; returns the path of result.json."""
    out = result.settings.out
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    analysis = None
    if result.best is not None:
        analysis = analyze(result.best)
        plot_title = f"{result.design.describe()}\n{result.best.network.name}"
        files.append(roofline_png(analysis, out / "roofline.png", plot_title))
        if result.settings.pareto:
            files.append(front_png(result, out / "pareto_front.png"))
        else:
            files.append(history_png(result, out / "best_edp_vs_trial.png"))
        if result.settings.searches_subnet:
            files.append(pareto_png(result, out / "pareto_edp_accuracy.png"))
        files += write_timeloop(result, out / "timeloop")
        config = (result.best.network.meta or {}).get("config")
        if result.settings.searches_subnet and config:
            write_text_atomic(out / "subnet.json", json.dumps(config) + "\n")
            files.append(out / "subnet.json")
    names = ["result.json", "report.md"] + [str(f.relative_to(out)) for f in files]
    doc = result_dict(result, names, analysis)
    write_text_atomic(out / "report.md", report_markdown(result, doc, analysis))
    write_text_atomic(out / "result.json", json.dumps(doc, indent=1, default=_json_default))
    return out / "result.json"


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


__all__ = ["write_report", "result_dict", "report_markdown", "compact_mapping", "versions", "write_timeloop",
           "LAYER_COLUMNS", "BOUND_DEFINITION"]
