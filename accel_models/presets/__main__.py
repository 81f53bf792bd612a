"""`python -m accel_models.presets`: the table of the preset accelerators."""
from .summary import table

print(table())
