"""The input of a co-search, checked: budgets, the option table, networks, resource bounds, storage URLs, objectives,
the inner loops' sizes, and the settings that gather them.

Nothing here searches or writes: `make_settings` turns command-line-like values into `CoSearchSettings` or raises
`UsageError` naming the option and what it accepts.
"""
from .budget import Budget, parse_budget
from .builder import make_settings
from .folders import check_folder, ensure_folder
from .loops import (FINAL_MAPPER, POLISH_CANDIDATES, POLISH_EVALUATIONS, POLISH_TIME_SHARE, SEARCH_MAPPER,
                    SEARCH_POOL_SHARE, EvolutionSettings, MapperSettings)
from .options import OPTIONS, SAMPLERS, Option, add_options, command_line, given_options, parse_options
from .resources import ResourceBounds
from .settings import CoSearchSettings
from .storage_url import StorageSpec, parse_storage
from .validate import DURATION_UNITS_S, UsageError, parse_duration
from .workloads import NetworkSpec, parse_network

__all__ = ["Budget", "parse_budget", "make_settings", "check_folder", "ensure_folder", "FINAL_MAPPER",
           "POLISH_CANDIDATES", "POLISH_EVALUATIONS", "POLISH_TIME_SHARE", "SEARCH_MAPPER", "SEARCH_POOL_SHARE",
           "EvolutionSettings", "MapperSettings", "OPTIONS", "SAMPLERS", "Option", "add_options", "command_line",
           "given_options", "parse_options", "ResourceBounds", "CoSearchSettings", "StorageSpec", "parse_storage",
           "DURATION_UNITS_S", "UsageError", "parse_duration", "NetworkSpec", "parse_network"]
