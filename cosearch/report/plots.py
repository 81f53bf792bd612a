"""The report's pictures: roofline of the best design, the best objective versus trial, Pareto front of EDP versus
accuracy, and a multi-objective study's front."""
from __future__ import annotations

import math
from pathlib import Path

from accel_models.roofline import plot_roofline

from ..search import CoSearchResult
from ..search.pareto import metric_names
from .analysis import NetworkAnalysis


def _pyplot():
    """matplotlib's pyplot with the file-only backend, imported when a plot is drawn (see `cosearch.search`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, ax, path):
    """Grid, legend, layout; write the PNG and free the figure. Returns the path."""
    ax.grid(True, which="both", ls=":", lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    _pyplot().close(fig)
    return path


MAX_ROOFLINE_LAYERS = 40
"""The roofline's key has room for about this many layers: beyond it the plot shows the layers with the largest
share of the network's MACs, cycles or energy (the network's star always sums all of them)."""


def roofline_png(analysis: NetworkAnalysis, path: Path, title: str) -> Path:
    """Each distinct layer of the network at its best mapping on the accelerator's roofline, numbered as in the
    per-layer table, with the utilization ceilings, and the whole network."""
    shown = list(analysis.layers)
    if len(shown) > MAX_ROOFLINE_LAYERS:
        shown = sorted(shown, key=lambda a: -max(a.mac_share, a.latency_share, a.energy_share))[:MAX_ROOFLINE_LAYERS]
        shown.sort(key=lambda a: a.index)
        title += f" (the {MAX_ROOFLINE_LAYERS} of {len(analysis.layers)} layers with most MACs, cycles or energy)"
    plot_roofline([a.roofline for a in shown], str(path), title=title, total=analysis.total,
                  labels=[str(a.index) for a in shown])
    return path


def history_png(result: CoSearchResult, path: Path) -> Path:
    """Every trial's objective (within budget) and the best so far, against the trial number."""
    plt = _pyplot()
    spec = result.settings.objective
    pts = sorted((p for p in result.trials if p.state == "COMPLETE" and p.feasible and p.value is not None),
                 key=lambda p: p.number)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    plot = ax.plot if spec.maximize else ax.semilogy
    if pts:
        xs = [p.number for p in pts]
        ys = [p.value for p in pts]
        best, running = (-math.inf if spec.maximize else math.inf), []
        for y in ys:
            best = max(best, y) if spec.maximize else min(best, y)
            running.append(best)
        plot(xs, ys, "o", ms=4, alpha=0.5, color="tab:blue", label="trial (best subnet on its accelerator)")
        plot(xs, running, "-", drawstyle="steps-post", color="tab:red", lw=2, label="best so far")
    rejected = sum(p.state == "PRUNED" for p in result.trials)
    ax.set_xlabel(f"trial number ({rejected} designs over the area budget rejected, not shown)")
    ax.set_ylabel(f"network {spec.label}, search mapper")
    ax.set_title(f"best {spec.label} vs trial: {result.settings.study_name}", fontsize=9)
    return _save(fig, ax, path)


def front_png(result: CoSearchResult, path: Path) -> Path:
    """A multi-objective study's front: every trial within budget (grey), the front's designs as the search measured
    them (hollow) and re-evaluated with the final mapper (red); one panel per pair of metrics."""
    plt = _pyplot()
    metrics = result.settings.pareto
    pairs = [(i, j) for i in range(len(metrics)) for j in range(i + 1, len(metrics))]
    fig, axes = plt.subplots(1, len(pairs), figsize=(6 * len(pairs), 4.5), dpi=120, squeeze=False)
    trials = [p.values for p in result.trials if p.state == "COMPLETE" and p.feasible and len(p.values) == len(metrics)]
    front = result.pareto_front
    labels = metric_names(metrics)
    for ax, (i, j) in zip(axes[0], pairs):
        if trials:
            ax.plot([v[i] for v in trials], [v[j] for v in trials], ".", color="grey", alpha=0.5,
                    label="trial (its best subnet)")
        if front:
            ax.plot([e["search_values"][i] for e in front], [e["search_values"][j] for e in front], "o", mfc="none",
                    color="tab:blue", label="front design, search mapper")
            ordered = sorted(front, key=lambda e: e["values"][i])
            ax.plot([e["values"][i] for e in ordered], [e["values"][j] for e in ordered], "-o", ms=4, color="tab:red",
                    label="front design, re-evaluated (final mapper)")
        ax.set_xlabel(labels[i])
        ax.set_ylabel(labels[j])
        if metrics[j] != "accuracy":
            ax.set_yscale("log")
        ax.grid(True, which="both", ls=":", lw=0.5)
        ax.legend(fontsize=8)
    source = result.accuracy_source.label if result.accuracy_source and "accuracy" in metrics else ""
    fig.suptitle(f"Pareto front of {', '.join(metrics)}" + (f" (accuracy: {source})" if source else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (accuracy, EDP) points no other point beats on both (higher accuracy, lower EDP), by accuracy."""
    front, best_edp = [], math.inf
    for acc, edp in sorted(points, key=lambda p: (-p[0], p[1])):
        if edp < best_edp:
            front.append((acc, edp))
            best_edp = edp
    return sorted(front)


def pareto_png(result: CoSearchResult, path: Path) -> Path:
    """Every (subnet, accelerator) pair the search scored within budget: EDP against accuracy, with the front."""
    plt = _pyplot()
    pts = [(float(s[0]), float(s[1])) for p in result.trials if p.state == "COMPLETE"
           for s in p.subnets if len(s) >= 3 and s[2]]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    if pts:
        ax.semilogy([a for a, _ in pts], [e for _, e in pts], ".", ms=4, alpha=0.35, color="tab:blue",
                    label="subnet on a trial's accelerator")
        front = pareto_front(pts)
        ax.semilogy([a for a, _ in front], [e for _, e in front], "-o", ms=5, color="tab:red", label="Pareto front")
    floor = result.settings.budget.accuracy
    if floor is not None:
        ax.axvline(floor, color="grey", ls="--", lw=1, label=f"accuracy floor {floor:g}")
    source = result.accuracy_source.label if result.accuracy_source else "accuracy"
    ax.set_xlabel(f"accuracy ({source})")
    ax.set_ylabel("network EDP (J*s), search mapper")
    ax.set_title("Pareto front: EDP vs accuracy", fontsize=9)
    return _save(fig, ax, path)
