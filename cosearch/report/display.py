"""Terminal output of a run: a live progress display and the closing summary table (rich)."""
from __future__ import annotations

import json
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn
from rich.table import Table

from ..search import CoSearchResult, Progress
from .summary import COLUMNS, excluded_presets_text, summary_rows, title


WIDE_TABLE_COLUMNS = 150
"""Below this terminal width the summary table is transposed (one column per design)."""


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(p: Progress) -> str:
    """E.g. 'trial 12/60  best EDP 3.1e-06 J*s  elapsed 0:41  remaining ~2:19  (4 designs rejected)'."""
    best = "-" if p.best_edp_j_s is None else f"{p.best_edp_j_s:.3g} J*s"
    head = f"trial {p.complete}/{p.target}" if p.phase == "search" else p.phase
    return (f"{head}  best EDP {best}  elapsed {_clock(p.elapsed_s)}  remaining ~{_clock(p.remaining_s)}"
            f"  ({p.pruned} designs rejected over the area budget)")


class ProgressDisplay:
    """A rich progress bar on a terminal; one line per completed trial otherwise (logs, pipes)."""

    def __init__(self, console) -> None:
        self.console = console
        self._bar = None
        self._task = None
        self._last: tuple | None = None
        self._t0 = time.time()

    def __enter__(self) -> "ProgressDisplay":
        if self.console.is_terminal:
            self._bar = RichProgress(TextColumn("[bold]co-search"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.description}"), console=self.console, transient=False)
            self._bar.__enter__()
            self._task = self._bar.add_task("", total=None)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def update(self, p: Progress) -> None:
        if self._bar is not None:
            best = "-" if p.best_edp_j_s is None else f"{p.best_edp_j_s:.3g} J*s"
            self._bar.update(self._task, total=p.target, completed=p.complete,
                             description=f"best EDP {best}  elapsed {_clock(p.elapsed_s)}  remaining "
                                         f"~{_clock(p.remaining_s)}  rejected {p.pruned}  {'' if p.phase == 'search' else p.phase}")
            return
        key = (p.complete, p.phase)
        if key != self._last:
            self._last = key
            self.console.print(progress_line(p), highlight=False, soft_wrap=True)


def print_summary(result: CoSearchResult, console) -> None:
    """The closing table (best design, then every preset within the area budget) and where the report is."""
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
        excluded = excluded_presets_text(result)
        if excluded:
            console.print(excluded[0].upper() + excluded[1:] + ".", highlight=False, soft_wrap=True)
        console.print(f"best design (trial {result.best_trial}): {result.design.describe()}", highlight=False,
                      soft_wrap=True)
        config = (result.best.network.meta or {}).get("config")
        if config:
            console.print(f"subnet {result.best.network.name}: {json.dumps(config)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    counts = result.counts
    workers = "; ".join(f"worker {w.index}: {w.trials} trials ({w.complete} complete, {w.pruned} rejected, "
                        f"{w.failed} failed; {w.stop})" for w in result.workers)
    console.print(f"study {s.study_name!r} in {s.storage.display}: {counts['complete']} complete, "
                  f"{counts['pruned']} rejected, {counts['failed']} failed trials"
                  + (f"; {workers}" if workers else ""), highlight=False, soft_wrap=True)
    t = result.timings_s
    console.print(f"report: {s.out / 'report.md'}, {s.out / 'result.json'}  "
                  f"(search {t.get('search', 0):.0f} s, final mapping and presets {t.get('final', 0):.0f} s, "
                  f"total {t.get('total', 0):.0f} s)", highlight=False, soft_wrap=True)
