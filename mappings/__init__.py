"""Mappings of one layer onto an accelerator: the type, its encoding, the per-layer mappers."""
from .mapping import LevelMapping, Mapping
from ._factorize import prime_factors
from .random_mapping import random_mappings, random_valid_mappings

__all__ = ["LevelMapping", "Mapping", "prime_factors", "random_mappings", "random_valid_mappings"]

# importance-based encoding, mappers, the per-(accelerator, shape) cache (issue 5)
from .cache import MappingCache, accelerator_key  # noqa: E402
from .encoding import Encoding  # noqa: E402
from .mapper import MapperResult, best_mapping  # noqa: E402

__all__ += ["Encoding", "MapperResult", "best_mapping", "MappingCache", "accelerator_key"]
