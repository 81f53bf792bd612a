"""The input of a co-search, checked: budgets, the option table, networks, resource bounds, storage URLs, settings.

Nothing here searches or writes: `make_settings` turns command-line-like values into `CoSearchSettings`
or raises `UsageError` naming the option and what it accepts.
"""
from .budget import Budget, parse_budget
from .folders import check_folder, ensure_folder
from .builder import make_settings
from .loops import FINAL_MAPPER, POLISH_CANDIDATES, POLISH_EVALUATIONS, EvolutionSettings, MapperSettings
from .options import (DEFAULT_ACCURACY, OPTIONS, SAMPLERS, Option, add_options, command_line, given_options,
                      option_values, parse_options)
from .resources import ResourceBounds
from .settings import CoSearchSettings
from .storage_url import StorageSpec, parse_storage
from .validate import DURATION_UNITS_S, UsageError, parse_duration
from .workloads import SPACE_ALIASES, NetworkSpec, parse_network, parse_networks, resolve_space

__all__ = ["Budget", "parse_budget", "check_folder", "ensure_folder", "make_settings", "FINAL_MAPPER",
           "POLISH_CANDIDATES", "POLISH_EVALUATIONS", "EvolutionSettings", "MapperSettings", "DEFAULT_ACCURACY",
           "OPTIONS", "SAMPLERS", "Option", "add_options", "command_line", "given_options", "parse_options",
           "option_values", "ResourceBounds",
           "CoSearchSettings", "StorageSpec", "parse_storage", "DURATION_UNITS_S", "UsageError", "parse_duration",
           "SPACE_ALIASES", "NetworkSpec", "parse_network", "parse_networks", "resolve_space"]
