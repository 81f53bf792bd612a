"""Mappings of one layer onto an accelerator: the type, its importance-based encoding, the per-layer mapper with its
strategies, and the layer-cost table (`MappingCache`)."""
from .mapping import LevelMapping, Mapping
from .random_mapping import random_mappings, random_valid_mappings
from .encoding import FACTOR_MODES, Encoding
from .result import MapperResult, with_layer
from .strategies import (CMAESStrategy, EvolutionStrategy, ExhaustiveStrategy, MapperStrategy, RandomStrategy,
                         MAPPER_STRATEGIES, register_strategy, strategy_names, unregister_strategy)
from .mapper import MapperSettings, best_mapping
from .cache import MappingCache, accelerator_key

__all__ = ["LevelMapping", "Mapping", "random_mappings", "random_valid_mappings", "Encoding", "FACTOR_MODES",
           "MapperResult", "with_layer",
           "MapperStrategy", "EvolutionStrategy", "CMAESStrategy", "RandomStrategy", "ExhaustiveStrategy",
           "MAPPER_STRATEGIES", "register_strategy", "unregister_strategy", "strategy_names", "MapperSettings",
           "best_mapping",
           "MappingCache", "accelerator_key"]
