"""The closing comparison: the best design and every preset that fits, as rows of text (markdown or a terminal table)."""
from __future__ import annotations

from accel_models.presets import buffers_summary

from ..config.objectives import DEFAULT_OBJECTIVE
from ..search import CoSearchResult


COLUMNS = ("design", "node / word", "PE array", "parallel dims", "buffers (bytes)", "area mm2", "latency ms",
           "energy mJ", "DRAM MB", "EDP J*s", "est. accuracy", "EDP ratio")
"""DRAM MB: bytes one inference moves to and from DRAM (`NetworkCost.dram_bytes`), in the run's fusion mode; EDP
ratio = the row's EDP / the best design's EDP (> 1: the co-searched design is better); est. accuracy: the run's
accuracy model's estimate (`accuracy_note`)."""


TIMING_LABELS = {"timeloop": "Timeloop's semantics (a lower bound)",
                 "hardware": "hardware timing (tile-by-tile overheads, fitted to Gemmini's RTL)"}
"""How the title names each timing model of `accel_models.timing` (`--timing`)."""


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _dims(dataflow) -> str:
    """The dims each axis may unroll, e.g. 'X:K,G Y:C,G'; per-level exceptions after, e.g. 'GLB(X:Q Y:P)'."""
    def axes(level=None):
        return " ".join(f"{axis}:" + ",".join(dims) for axis in ("X", "Y") if (dims := dataflow.axis_dims(axis, level)))
    levels = [f"{name}({axes(name) or 'any'})" for name, _, _ in dataflow.level_axes]
    return " ".join([axes() or "any"] + levels)


def _node_word(technology_nm: float, word_bits: int) -> str:
    return f"{technology_nm:g} nm / {word_bits} b"


def title(result: CoSearchResult) -> str:
    """What every row runs: the budget and the network."""
    s = result.settings
    text = f"budget {s.budget.describe() or 'none'}"
    if s.resources is not None:
        text += f"; {s.resources.describe()}"
    if s.networks:
        text += f"; objective: geometric-mean {s.objective.label} over {', '.join(n.name for n in s.networks)}"
    elif s.pareto:
        text += f"; Pareto front of {', '.join(s.pareto)} (the front's lowest-EDP design shown)"
    elif s.objective.name != DEFAULT_OBJECTIVE:
        text += f"; objective: {s.objective.describe()}"
    if result.best is not None:
        text += f"; network {result.best.network.name} ({result.best.network.macs / 1e6:.0f} M MACs)"
    text += f"; cycles: {TIMING_LABELS.get(s.timing, s.timing + ' timing')}"
    return text


def summary_rows(result: CoSearchResult) -> list[tuple[str, ...]]:
    """One row for the best design, then one per preset within the area budget."""
    rows: list[tuple[str, ...]] = []
    best = result.best
    if best is None:
        return rows
    d = result.design
    accuracy = _fmt(best.accuracy, ".4f")
    rows.append(("co-searched", _node_word(d.technology_nm, d.word_bits), f"{d.pe_array[0]}x{d.pe_array[1]}",
                 _dims(d.dataflow), buffers_summary(best.accelerator, compact=True),
                 f"{best.area_mm2:.2f}", f"{best.latency_s * 1e3:.3f}", f"{best.energy_j * 1e3:.4f}",
                 f"{best.dram_bytes * 1e-6:.2f}", f"{best.edp_j_s:.4g}", accuracy, "1.00"))
    for p in result.fitting_presets:
        c = p.cost
        rows.append((p.name, _node_word(p.technology_nm, c.accelerator.mac_bits), f"{p.pe_array[0]}x{p.pe_array[1]}",
                     _dims(c.accelerator.dataflow) if c.accelerator.dataflow else "any",
                     buffers_summary(c.accelerator, compact=True), f"{p.area_mm2:.2f}", f"{c.latency_s * 1e3:.3f}",
                     f"{c.energy_j * 1e3:.4f}", f"{c.dram_bytes * 1e-6:.2f}", f"{c.edp_j_s:.4g}", accuracy,
                     f"{result.edp_ratio(p):.2f}"))
    return rows


def accuracy_note(result: CoSearchResult) -> str | None:
    """What the table's accuracy is: every source a run has (the OFA predictor, a proxy, a stated estimate) gives an
    estimate, not a measured accuracy; None without one."""
    source = result.accuracy_source
    if source is None:
        return None
    return f"est. accuracy = {source.label}: an estimate, not a measured accuracy"


def excluded_presets_text(result: CoSearchResult) -> str:
    """The presets left out, with their areas."""
    out = [f"{p.name} {p.area_mm2:.2f} mm2" for p in result.presets if not p.fits]
    failed = [f"{p.name} ({p.error})" for p in result.presets if p.fits and p.cost is None]
    text = ""
    if out:
        text = f"over the {result.settings.budget.area_mm2:g} mm2 budget, not compared: " + ", ".join(out)
    if failed:
        text += ("; " if text else "") + "could not run the network: " + ", ".join(failed)
    return text


def table_markdown(header, rows) -> str:
    """A markdown table (cells are text; a '|' inside one is escaped)."""
    def line(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|", *(line(r) for r in rows)])


def markdown_table(result: CoSearchResult) -> str:
    """The summary rows as a markdown table."""
    return table_markdown(COLUMNS, summary_rows(result))
