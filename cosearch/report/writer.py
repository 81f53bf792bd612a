"""The report in `--out`: result.json (everything to reproduce the run), report.md, PNGs, Timeloop YAML per layer."""
from __future__ import annotations

import json
import math
import platform
import re
import subprocess
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from accel_models import (TENSORS, Accelerator, MappingArrays, area_breakdown, arch_to_timeloop_yaml,
                          mapping_to_timeloop_yaml, problem_to_timeloop_yaml)
from nets import DIMS, describe_elementwise, elementwise_ops, elementwise_words

from .._files import CHECKOUT, write_text_atomic
from .._version import __version__
from ..config import command_line
from ..search import CoSearchResult
from .plots import history_png, pareto_png, roofline_png
from .summary import excluded_presets_text, markdown_table, title

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
    """arch.yaml of the best design, and per distinct layer its problem and best mapping as Timeloop v0.4 YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    acc = result.best.accelerator
    files = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # split GLB capacities are written as the shared total
        (folder / "arch.yaml").write_text(arch_to_timeloop_yaml(acc))
    files.append(folder / "arch.yaml")
    for i, lc in enumerate(result.best.layers):
        stem = f"{i:02d}_{_safe(lc.layer.name)}"
        (folder / f"{stem}.problem.yaml").write_text(problem_to_timeloop_yaml(lc.layer))
        (folder / f"{stem}.mapping.yaml").write_text(mapping_to_timeloop_yaml(lc.result.arrays, acc, lc.layer, 0))
        files += [folder / f"{stem}.problem.yaml", folder / f"{stem}.mapping.yaml"]
    return files


def result_dict(result: CoSearchResult, files: list[str]) -> dict:
    """The JSON document of result.json."""
    s = result.settings
    best = result.best
    doc = {
        "format": RESULT_FORMAT,
        "versions": versions(),
        "command": command_line(result.settings),
        "seed": s.seed,
        "budget": {**s.budget.to_dict(), "text": s.budget.describe()},
        "settings": s.to_dict(),
        "study": {"name": s.study_name, "storage": s.storage.display, "best_trial": result.best_trial,
                  "counts": result.counts, "workers": [w.to_dict() for w in result.workers]},
        "accuracy_source": None if result.accuracy_source is None else result.accuracy_source.to_dict(),
        "design": None, "subnet": None, "network": None, "metrics": None, "search_metrics": result.search_metrics,
        "layers": [], "presets": [p.to_dict(best.edp_j_s if best else None) for p in result.presets],
        "beats_every_fitting_preset": result.beats_every_preset,
        "timings_s": result.timings_s, "notes": result.notes, "files": files,
        "resources": None if s.resources is None else s.resources.to_dict(),
        "per_network": result.per_network or None,
    }
    if best is not None:
        br = area_breakdown(best.accelerator)
        doc["design"] = {**result.design.to_dict(), "text": result.design.describe(), "area_mm2": best.area_mm2,
                         "area_breakdown_mm2": {"macs": br.macs_mm2, "pe_storage": br.pe_storage_mm2,
                                                "global_buffers": br.global_buffers_mm2, "overhead": br.overhead_mm2}}
        meta = best.network.meta or {}
        doc["subnet"] = meta.get("config") if s.searches_subnet else None
        doc["network"] = {"name": best.network.name, "space": meta.get("space"),
                          "fixed": None if s.network is None else s.network.to_dict(), "macs": best.network.macs,
                          "layers": len(best.network.layers), "distinct_layers": len(best.layers)}
        doc["metrics"] = best.metrics()
        doc["layers"] = [{**lc.to_dict(), "elementwise": _elementwise_dict(best.network.group_elementwise(lc.layer))}
                         for lc in best.layers]
    return doc


def _elementwise_dict(ops) -> dict:
    """The non-MAC work of a layer's runs in result.json: elements per kind, operations (an estimate), words moved."""
    kinds: dict[str, int] = {}
    for op in ops:
        kinds[op.kind] = kinds.get(op.kind, 0) + op.elements
    return {"elements": kinds, "ops_estimate": elementwise_ops(ops), "words": elementwise_words(ops)}


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


def _layer_table(result: CoSearchResult) -> str:
    lines = ["| # | layer | x | kind | MMAC | cycles | energy uJ | util | mapping: level[kept tensors] loops, outer to inner |",
             "|---|---|---|---|---|---|---|---|---|"]
    for i, lc in enumerate(result.best.layers):
        mapping = compact_mapping(lc.result.arrays, lc.result.accelerator)
        lines.append(f"| {i} | {lc.layer.name} | {lc.count} | {lc.layer.kind} | {lc.layer.macs / 1e6:.2f} | "
                     f"{lc.cycles:,} | {lc.energy_pj * 1e-6:.3f} | {lc.result.utilization:.2f} | "
                     f"{mapping.replace('|', '/')} |")
    return "\n".join(lines)


def _elementwise_table(result: CoSearchResult) -> str:
    """Per distinct layer, the non-MAC work fused behind it (all its runs): kinds, operations, bytes; '' if none."""
    best = result.best
    word_bytes = best.accelerator.levels[0].word_bits / 8
    rows = []
    for i, lc in enumerate(best.layers):
        ops = best.network.group_elementwise(lc.layer)
        if ops:
            rows.append(f"| {i} | {lc.layer.name} | {lc.count} | {describe_elementwise(ops)} | "
                        f"{elementwise_ops(ops) / 1e6:.3f} | {elementwise_words(ops) * word_bytes / 1e6:.3f} |")
    if not rows:
        return ""
    return "\n".join(["| # | layer | x | element-wise kinds (elements) | Mop (estimate) | MB if unfused |",
                      "|---|---|---|---|---|---|"] + rows)


def report_markdown(result: CoSearchResult, doc: dict) -> str:
    s = result.settings
    out = [f"# Co-search report: {s.study_name}", "",
           f"Budget: **{s.budget.describe()}**. Network: "
           + (f"fixed `{s.network.name}`." if s.network else f"searched in `{s.space}` under the accuracy floor."),
           f"Trials: {result.counts['complete']} complete, {result.counts['pruned']} designs rejected over the area "
           f"budget before any mapping, {result.counts['failed']} failed. Sampler `{s.sampler}`, seed {s.seed}.", ""]
    src = result.accuracy_source
    if src is not None:
        out += [f"Accuracy source: {src.label}" + (f" (`{src.path}`)" if src.path else ""), ""]
        if src.notice:
            out += [f"> **{src.notice}**", ""]
    if result.best is None:
        out += ["No trial produced a design within the budget.", ""]
    else:
        best = result.best
        out += ["## Summary", "", f"{title(result)[0].upper()}{title(result)[1:]}.", "", markdown_table(result), "",
                "EDP ratio = the row's EDP / the co-searched design's EDP (above 1: the co-searched design wins). "
                "Every row runs the same network, each layer at the best mapping the final mapper "
                f"({s.final_mapper.strategy}, {s.final_mapper.budget_evals} evaluations per layer) found for it.", ""]
        excluded = excluded_presets_text(result)
        if excluded:
            out += [excluded[0].upper() + excluded[1:] + ".", ""]
        d = doc["design"]
        out += ["## Best design", "", f"Trial {result.best_trial}: {result.design.describe()}", "",
                f"Area {best.area_mm2:.3f} mm2: MACs {d['area_breakdown_mm2']['macs']:.3f}, per-PE storage "
                f"{d['area_breakdown_mm2']['pe_storage']:.3f}, global buffers {d['area_breakdown_mm2']['global_buffers']:.3f}, "
                f"layout overhead {d['area_breakdown_mm2']['overhead']:.3f} mm2.", "",
                f"Network `{best.network.name}`: {best.network.macs / 1e6:.1f} M MACs, {len(best.network.layers)} layers "
                f"({len(best.layers)} distinct). Latency {best.latency_s * 1e3:.3f} ms, energy {best.energy_j * 1e3:.4f} mJ, "
                f"EDP {best.edp_j_s:.4g} J*s, average power {best.power_w * 1e3:.1f} mW, utilization "
                f"{best.utilization:.1%}" + ("" if best.accuracy is None else f", accuracy {best.accuracy:.4f}") + ".", ""]
        if doc["subnet"]:
            out += ["Subnet (OFA format):", "", "```json", json.dumps(doc["subnet"]), "```", ""]
        out += ["## Layers at their best mappings", "", _layer_table(result), "",
                "Each layer's problem and mapping as Timeloop YAML: `timeloop/` (with `arch.yaml`).", ""]
        elementwise = _elementwise_table(result)
        if elementwise:
            out += ["## Element-wise work (not in cycles or energy)", "",
                    "Softmax, norms, activations, masks and residual adds, fused behind the layer whose output they "
                    "read, over all the layer's runs. Counted, not costed: the cost model has no vector unit (an "
                    "accelerator runs this work on one beside the MAC array, as NVDLA's SDP, overlapped with the "
                    "matrix products). Operations per element are estimates from each op's formula "
                    "(`nets.OPS_PER_ELEMENT`); bytes: every input read and the output written once, at the DRAM "
                    "word width.", "", elementwise, ""]
        out += ["## Plots", "", "![roofline](roofline.png)", "", "![best EDP vs trial](best_edp_vs_trial.png)", ""]
        if s.searches_subnet:
            out += ["![Pareto front](pareto_edp_accuracy.png)", ""]
    for note in result.notes:
        out += [f"Note: {note}", ""]
    out += ["## Reproduce", "", "```bash", doc["command"], "```", "",
            f"Storage `{s.storage.display}`, study `{s.study_name}`; watch it with "
            f"`optuna-dashboard {s.storage.dashboard_arg}`.", "",
            "Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings_s.items()), ""]
    return "\n".join(out)


def write_report(result: CoSearchResult) -> Path:
    """Write everything to `settings.out`; returns the path of result.json."""
    out = result.settings.out
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if result.best is not None:
        plot_title = f"{result.design.describe()}\n{result.best.network.name}"
        files.append(roofline_png(result.best, out / "roofline.png", plot_title))
        files.append(history_png(result, out / "best_edp_vs_trial.png"))
        if result.settings.searches_subnet:
            files.append(pareto_png(result, out / "pareto_edp_accuracy.png"))
        files += write_timeloop(result, out / "timeloop")
        config = (result.best.network.meta or {}).get("config")
        if result.settings.searches_subnet and config:
            write_text_atomic(out / "subnet.json", json.dumps(config) + "\n")
            files.append(out / "subnet.json")
    names = ["result.json", "report.md"] + [str(f.relative_to(out)) for f in files]
    doc = result_dict(result, names)
    write_text_atomic(out / "report.md", report_markdown(result, doc))
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


__all__ = ["write_report", "result_dict", "report_markdown", "compact_mapping", "versions", "write_timeloop"]
