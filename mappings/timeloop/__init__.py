"""timeloop-mapper on cosearch: the mapper on Timeloop's input files (`run`), and its command line
`python -m mappings.timeloop mapper|check` beside `python -m accel_models.timeloop model|check`."""
from .run import mapper_figures, mapper_report, run_mapper

__all__ = ["run_mapper", "mapper_figures", "mapper_report"]
