"""The output of a co-search: result.json, report.md, plots and Timeloop YAML in `--out`; the terminal's progress
display and closing table. Reads a `CoSearchResult`; searches nothing."""
from .analysis import LayerAnalysis, NetworkAnalysis, analyze
from .display import ProgressDisplay, print_summary
from .writer import report_markdown, result_dict, write_report

__all__ = ["LayerAnalysis", "NetworkAnalysis", "analyze", "ProgressDisplay", "print_summary", "report_markdown",
           "result_dict", "write_report"]
