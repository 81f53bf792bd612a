"""The output of a network search on fixed devices: the terminal table, report.md, result.json and the plot of
accuracy against latency with each device's front (OFA's specialisation view)."""
from __future__ import annotations

import json
import math
from pathlib import Path

from rich.table import Table

from .._files import write_text_atomic
from ..config import command_line
from ..search.nas import NASRunResult
from .plots import _pyplot
from .fusion import GROUP_COLUMNS, fusion_line, group_rows
from .writer import versions


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None or not math.isfinite(seconds) else f"{seconds * 1e3:.3f}"


def _mj(joules: float | None) -> str:
    return "-" if joules is None or not math.isfinite(joules) else f"{joules * 1e3:.4f}"


def _acc(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"


def summary_rows(result: NASRunResult) -> list[list[str]]:
    """One row per device: its subnet's accuracy, latency, energy, whether it meets the limits, the search's effort."""
    rows = []
    for r in result.devices:
        rows.append([r.device, _acc(r.accuracy), _ms(r.latency_s), _mj(r.energy_j), "yes" if r.feasible else "no",
                     r.strategy, f"{r.evaluations:,}", f"{r.wall_s:.1f}"])
    return rows


SUMMARY_COLUMNS = ("device", "accuracy", "latency ms", "energy mJ", "within limits", "strategy", "evaluations",
                   "search s")


def cross_rows(result: NASRunResult) -> list[list[str]]:
    """The specialisation table: row i = device i's subnet, column j = its latency (ms) on device j."""
    rows = []
    for r, row in zip(result.devices, result.cross):
        cells = [f"{_ms(c['latency_s'])}" if c is not None else "-" for c in row]
        rows.append([f"{r.device}'s subnet", _acc(r.accuracy), *cells])
    return rows


def _best_on_each_device(result: NASRunResult) -> list[str]:
    """For each device: whose subnet is the most accurate among those within the latency limit on it."""
    limit = result.settings.limits.latency_s
    lines = []
    for j, d in enumerate(result.devices):
        within = [(r.accuracy, r.device) for r, row in zip(result.devices, result.cross)
                  if row[j] is not None and r.accuracy is not None
                  and (limit is None or row[j]["latency_s"] <= limit)]
        if not within:
            lines.append(f"on {d.device}: no device's subnet is within the limit")
            continue
        best = max(within)
        own = "its own" if best[1] == d.device else f"{best[1]}'s, not its own"
        lines.append(f"on {d.device}: the most accurate subnet within the limit is {own} ({best[0]:.4f})")
    return lines


def _goal(settings) -> str:
    if settings.pareto:
        return ("front of accuracy and latency (the most accurate subnet at each of several latency targets; the row "
                "shows the front's most accurate subnet)")
    return settings.objective.describe()


FRONT_COLUMNS = ("latency ms", "energy mJ", "accuracy", "subnet")


def front_rows(r) -> list[list[str]]:
    """A device's accuracy-latency front, fastest first (`--pareto accuracy,latency`)."""
    return [[_ms(p["latency_s"]), _mj(p["energy_j"]), _acc(p["accuracy"]), json.dumps(p["subnet"])]
            for p in r.front_subnets]


def print_nas_summary(result: NASRunResult, console) -> None:
    s = result.settings
    if result.accuracy_source and result.accuracy_source.get("notice"):
        console.print(result.accuracy_source["notice"], style="bold yellow", highlight=False, soft_wrap=True)
    table = Table(title=f"network search on fixed devices: {_goal(s)}, budget "
                        f"{s.budget.describe() or 'none'}", title_justify="left")
    for col in SUMMARY_COLUMNS:
        table.add_column(col, justify="left" if col in ("device", "strategy") else "right")
    for row in summary_rows(result):
        table.add_row(*row)
    console.print(table)
    if result.accuracy_source:
        console.print(f"accuracy: {result.accuracy_source['label']}", highlight=False, soft_wrap=True)
    for r in result.devices:
        if r.efficiency != "table":
            console.print(f"{r.device}: the search's efficiency was a {r.efficiency}", highlight=False, soft_wrap=True)
    if len(result.devices) > 1:
        cross = Table(title="specialisation: each device's subnet (rows) on every device (latency ms)",
                      title_justify="left")
        for col in ("subnet", "accuracy", *(r.device for r in result.devices)):
            cross.add_column(col, justify="left" if col == "subnet" else "right")
        for row in cross_rows(result):
            cross.add_row(*row)
        console.print(cross)
        for line in _best_on_each_device(result):
            console.print(f"- {line}", highlight=False, soft_wrap=True)
    for r in result.devices:
        if r.front_subnets:
            points = ", ".join(f"{p['latency_s'] * 1e3:.3g} ms {p['accuracy']:.4f}" for p in r.front_subnets)
            console.print(f"{r.device} front ({len(r.front_subnets)} subnets, latency and accuracy; subnets in the "
                          f"report): {points}", highlight=False, soft_wrap=True)
        elif r.subnet is not None:
            console.print(f"{r.device} subnet: {json.dumps(r.subnet)}", highlight=False, soft_wrap=True)
        if r.fusion:
            console.print(f"{r.device} subnet {fusion_line(r.fusion)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    console.print(f"report: {s.out / 'report.md'}, {s.out / 'result.json'}", highlight=False, soft_wrap=True)


def result_dict(result: NASRunResult) -> dict:
    s = result.settings
    return {"format": "cosearch-nas/1", "versions": versions(), "command": command_line(s), "seed": s.seed,
            "settings": s.to_dict(), "objective": s.objective.to_dict(), "accuracy_source": result.accuracy_source,
            "devices": [r.to_dict() for r in result.devices],
            "specialization": {"devices": [r.device for r in result.devices],
                               "cross": result.cross},
            "notes": result.notes, "timings_s": result.timings_s}


def report_markdown(result: NASRunResult) -> str:
    s = result.settings
    lines = [f"# Network search on fixed devices: {', '.join(r.device for r in result.devices)}", "",
             f"Objective: {_goal(s)}; budget: {s.budget.describe() or 'none'}; space {s.space}; "
             f"strategy {s.nas_strategy}, at most {s.nas_evals:,} subnet evaluations per device.", ""]
    if result.accuracy_source:
        lines += [f"Accuracy: {result.accuracy_source['label']}.", ""]
        if result.accuracy_source.get("notice"):
            lines += [result.accuracy_source["notice"], ""]
    lines += ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(result)]
    lines += [""] + [f"Note: {note}" for note in result.notes]
    lines += ["", "Latency and energy are the devices' exact figures: each layer at its best mapping from the "
              "layer-cost table (built with the final mapper's budget), or the measured latency table.", ""]
    for r in result.devices:
        lines += [f"## {r.device}", "", f"{r.description}.", "",
                  f"Subnet: `{json.dumps(r.subnet)}`", "",
                  f"Search: {r.strategy}, {r.evaluations:,} subnet evaluations in {r.wall_s:.1f} s; efficiency from "
                  f"the {r.efficiency}; layer table: {json.dumps(r.table)}.", ""]
        if r.fusion:
            lines += [f"The subnet {fusion_line(r.fusion)}.", "", "| " + " | ".join(GROUP_COLUMNS) + " |",
                      "|" + "---|" * len(GROUP_COLUMNS)]
            lines += ["| " + " | ".join(row) + " |" for row in group_rows(r.fusion)] + [""]
        if r.front_subnets:
            lines += [f"Front of accuracy and latency on {r.device} ({len(r.front_subnets)} subnets, fastest first):",
                      "", "| " + " | ".join(FRONT_COLUMNS) + " |", "|" + "---|" * len(FRONT_COLUMNS)]
            lines += ["| " + " | ".join(row[:3] + [f"`{row[3]}`"]) + " |" for row in front_rows(r)] + [""]
    if len(result.devices) > 1:
        head = ["subnet", "accuracy", *(r.device for r in result.devices)]
        lines += ["## Specialisation", "", "Each device's subnet (rows) run on every device: latency in ms.", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in cross_rows(result)]
        lines += [""] + [f"- {line}" for line in _best_on_each_device(result)] + [""]
    lines += ["![accuracy vs latency](nas_fronts.png)", ""]
    return "\n".join(lines)


def fronts_png(result: NASRunResult, path: Path) -> Path:
    """Accuracy against latency: each device's front of the subnets its search scored within the limits, and the
    subnet it found."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in result.devices:
        if r.front:
            lat, acc = zip(*r.front)
            ax.step(lat, acc, where="post", label=f"{r.device}: front of the subnets scored")
        if r.latency_s is not None and r.accuracy is not None:
            ax.plot([r.latency_s * 1e3], [r.accuracy], "*", ms=12, label=f"{r.device}: subnet found")
    limit = result.settings.limits.latency_s
    if limit is not None:
        ax.axvline(limit * 1e3, ls="--", color="grey", lw=1, label=f"latency limit {limit * 1e3:g} ms")
    ax.set_xlabel("latency (ms)")
    label = (result.accuracy_source or {}).get("label", "accuracy")
    ax.set_ylabel("accuracy")
    ax.set_title(f"accuracy ({label[:60]}) vs latency, per device", fontsize=8)
    ax.grid(True, ls=":", lw=0.5)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_nas_report(result: NASRunResult) -> None:
    out = result.settings.out
    out.mkdir(parents=True, exist_ok=True)
    fronts_png(result, out / "nas_fronts.png")
    write_text_atomic(out / "result.json", json.dumps(result_dict(result), indent=1, default=str) + "\n")
    write_text_atomic(out / "report.md", report_markdown(result))


__all__ = ["summary_rows", "cross_rows", "front_rows", "print_nas_summary", "result_dict", "report_markdown",
           "fronts_png",
           "write_nas_report"]
