"""Terminal output of a run: a live progress display and the closing summary table (rich)."""
from __future__ import annotations

import json
import time

from rich.progress import BarColumn, Progress as RichProgress, ProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

from ..search import CoSearchResult, NASRunResult, Progress, seeds_text
from ..search.objective import study_metric_names
from .analysis import analyze, comparison_caveats
from .nas import print_nas_summary
from .summary import COLUMNS, accuracy_note, excluded_presets_text, summary_rows, title


WIDE_TABLE_COLUMNS = 150
"""Below this terminal width the summary table is transposed (one column per design)."""


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _status(p: Progress) -> str:
    """Best objective, remaining time (once known) and rejections: the part of a progress line after the count."""
    name, _, unit = p.objective.partition(" (")
    if p.objective.startswith("designs"):
        best = f"{0 if p.best_value is None else int(p.best_value)} {p.objective}"
    else:
        value = "-" if p.best_value is None else f"{p.best_value:.3g}" + (f" {unit.rstrip(')')}" if unit else "")
        best = f"best {name} {value}"
    remaining = "" if p.remaining_s is None or p.phase != "search" else f"  remaining ~{_clock(p.remaining_s)}"
    return f"{best}{remaining}  ({p.pruned} design{'s' * (p.pruned != 1)} rejected over the area budget)"


def progress_line(p: Progress) -> str:
    """E.g. 'trial 12/60  elapsed 0:41  best EDP 3.1e-06 J*s  remaining ~2:19  (4 designs rejected ...)'; in the
    final phase 'final mapping and presets  elapsed 2:51  best EDP ...'."""
    head = f"trial {p.complete}/{p.target}" if p.phase == "search" else p.phase
    return f"{head}  elapsed {_clock(p.elapsed_s)}  {_status(p)}"


class _Elapsed(ProgressColumn):
    """Time since the run started, redrawn on every refresh (so the line stays live between trials and through
    the final phase)."""

    def render(self, task) -> Text:
        if task.fields.get("ended_s") is not None:  # a phase that is over keeps its last time
            return Text(f"elapsed {_clock(task.fields['ended_s'])}")
        start = task.fields.get("run_start")
        return Text("" if start is None else f"elapsed {_clock(time.time() - start)}")


class ProgressDisplay:
    """A live progress line on a terminal (shown from the first update: no empty count while the run starts);
    one line per completed trial and one for the final phase otherwise (logs, pipes)."""

    def __init__(self, console) -> None:
        self.console = console
        self._bar = None
        self._tasks: dict[str, int] = {}
        self._last: tuple | None = None

    def __enter__(self) -> "ProgressDisplay":
        if self.console.is_terminal:
            self._bar = RichProgress(TextColumn("[bold]co-search"), BarColumn(), TextColumn("{task.fields[count]}"),
                                     _Elapsed(), TextColumn("{task.description}"), console=self.console,
                                     transient=False)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, p: Progress) -> None:
        if self._bar is not None:
            fields = {"run_start": time.time() - p.elapsed_s,
                      "count": f"trial {p.complete}/{p.target}" if p.phase == "search" else p.phase}
            task = self._tasks.get(p.phase)
            if task is None:  # a new phase: its own line (the final phase has no count: its bar pulses)
                for other in self._tasks.values():
                    self._bar.update(other, ended_s=p.elapsed_s)
                task = self._tasks[p.phase] = self._bar.add_task(
                    _status(p), total=p.target if p.phase == "search" else None, **fields)
            self._bar.update(task, description=_status(p), **({"completed": p.complete} if p.phase == "search"
                                                               else {}), **fields)
            return
        key = (p.complete, p.phase)
        if key != self._last:
            self._last = key
            self.console.print(progress_line(p), highlight=False, soft_wrap=True)


def print_summary(result: CoSearchResult | NASRunResult, console) -> None:
    """The closing table (best design, then every preset within the area budget; on fixed devices each device's
    subnet and the specialisation table) and where the report is."""
    if isinstance(result, NASRunResult):
        print_nas_summary(result, console)
        return
    s = result.settings
    if result.accuracy_source is not None and result.accuracy_source.notice:
        console.print(result.accuracy_source.notice, style="bold yellow", highlight=False, soft_wrap=True)
    rows = summary_rows(result)
    if not rows:
        console.print("No trial produced a design within the budget "
                      f"({result.counts['complete']} complete, {result.counts['pruned']} rejected).", highlight=False)
    else:
        table = Table(title=f"co-search result: {title(result)}", title_justify="left")
        if console.width >= WIDE_TABLE_COLUMNS:
            for col in COLUMNS:
                table.add_column(col, justify="left" if col in ("design", "parallel dims", "buffers (bytes)")
                                 else "right", overflow="fold")
            for r in rows:
                table.add_row(*r)
        else:  # a narrow terminal: one column per design
            table.add_column("")
            for r in rows:
                table.add_column(r[0], justify="right", overflow="fold")
            for i, name in enumerate(COLUMNS[1:], start=1):
                table.add_row(name, *(r[i] for r in rows))
        console.print(table)
        console.print("EDP ratio = the preset's EDP / the co-searched design's EDP (> 1: the co-searched design wins).",
                      highlight=False)
        note = accuracy_note(result)
        if note:
            console.print(f"{note}.", highlight=False, soft_wrap=True)
        excluded = excluded_presets_text(result)
        if excluded:
            console.print(excluded[0].upper() + excluded[1:] + ".", highlight=False, soft_wrap=True)
        caveats = comparison_caveats(result)
        for caveat in caveats:
            console.print(f"{caveat}.", highlight=False, soft_wrap=True)
        if caveats:
            console.print(f"report.md compares the presets at {result.design.technology_nm:g} nm too.",
                          highlight=False, soft_wrap=True)
        console.print(f"best design ({result.design_origin}): {result.design.describe()}", highlight=False,
                      soft_wrap=True)
        if result.seeds:
            console.print(seeds_text(result.seeds, ', '.join(study_metric_names(result.settings))), highlight=False, soft_wrap=True)
        for line in analyze(result.best).headlines():
            console.print(f"- {line}", highlight=False, soft_wrap=True)
        config = (result.best.network.meta or {}).get("config")
        if config:
            console.print(f"subnet {result.best.network.name}: {json.dumps(config)}", highlight=False, soft_wrap=True)
        front = result.pareto_front
        if front:
            console.print(f"Pareto front of {', '.join(s.pareto)}: {len(front)} designs re-evaluated, "
                          f"{sum(e['non_dominated'] for e in front)} still non-dominated (report.md lists them)",
                          highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    counts = result.counts
    workers = "; ".join(f"worker {w.name}: {w.trials} trials ({w.complete} complete, {w.pruned} rejected, "
                        f"{w.failed} failed; {w.stop})" for w in result.workers)
    console.print(f"study {s.study_name!r} in {s.storage.display}: {counts['complete']} complete, "
                  f"{counts['pruned']} rejected, {counts['failed']} failed trials"
                  + (f"; {workers}" if workers else ""), highlight=False, soft_wrap=True)
    t = result.timings_s
    console.print(f"report: {s.out / 'report.md'}, {s.out / 'result.json'}  "
                  f"(search {t.get('search', 0):.0f} s, final mapping and presets {t.get('final', 0):.0f} s"
                  + (f" of which polish {t['polish']:.0f} s" if "polish" in t else "") + ", "
                  f"total {t.get('total', 0):.0f} s)", highlight=False, soft_wrap=True)
