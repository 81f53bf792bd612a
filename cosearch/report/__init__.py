"""The output of a co-search: result.json, report.md, plots and Timeloop YAML in `--out`; the terminal's progress
display and closing table. Reads a `CoSearchResult`; searches nothing."""
from .display import ProgressDisplay, print_summary, progress_line
from .plots import history_png, pareto_front, pareto_png, roofline_png
from .summary import COLUMNS, excluded_presets_text, markdown_table, summary_rows, title
from .writer import compact_mapping, report_markdown, result_dict, versions, write_report, write_timeloop

__all__ = ["ProgressDisplay", "print_summary", "progress_line", "history_png", "pareto_front", "pareto_png",
           "roofline_png", "COLUMNS", "excluded_presets_text", "markdown_table", "summary_rows", "title",
           "compact_mapping", "report_markdown", "result_dict", "versions", "write_report", "write_timeloop"]
