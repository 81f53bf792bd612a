"""The output of a co-search: result.json, report.md, plots and Timeloop YAML in `--out`; the terminal's progress
display and closing table. Reads a `CoSearchResult`; searches nothing."""
from .analysis import LayerAnalysis, NetworkAnalysis, analyze, comparison_caveats, presets_at_node
from .display import ProgressDisplay, print_summary, progress_line
from .plots import history_png, pareto_front, pareto_png, roofline_png
from .summary import COLUMNS, excluded_presets_text, markdown_table, summary_rows, table_markdown, title
from .writer import (BOUND_DEFINITION, LAYER_COLUMNS, compact_mapping, report_markdown, result_dict, versions,
                     write_report, write_timeloop)

__all__ = ["LayerAnalysis", "NetworkAnalysis", "analyze", "comparison_caveats", "presets_at_node", "ProgressDisplay",
           "print_summary", "progress_line", "history_png", "pareto_front", "pareto_png", "roofline_png", "COLUMNS",
           "excluded_presets_text", "markdown_table", "summary_rows", "table_markdown", "title", "BOUND_DEFINITION",
           "LAYER_COLUMNS", "compact_mapping", "report_markdown", "result_dict", "versions", "write_report",
           "write_timeloop"]
