"""Mappings of one layer onto an accelerator: the type, its encoding, the per-layer mappers."""
from .mapping import LevelMapping, Mapping
from .random_mapping import random_mappings, random_valid_mappings

__all__ = ["LevelMapping", "Mapping", "random_mappings", "random_valid_mappings"]
