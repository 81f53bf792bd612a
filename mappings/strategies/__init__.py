"""Per-layer mapper strategies behind one protocol (`MapperStrategy`), one module each, registered by name: the
compiled evolution strategy (`es`, the co-search's), CMA-ES from the `cmaes` package (`cmaes`), random search
(`random`) and exhaustive enumeration (`exhaustive`). A new strategy is a module with a `MapperStrategy` subclass
and one `MAPPER_STRATEGIES.register` line; `best_mapping(strategy=...)` then takes it by name or as an instance. One
driven from Python is best a `TrackedStrategy` (it writes `explore`, scoring batches through a `Tracker`): it then
offers its best-ranked mappings, not its best alone, to a choice under another timing model."""
from __future__ import annotations

from nets.registry import Registry

from .base import MapperStrategy
from .cmaes import CMAESStrategy
from .evolution import EvolutionStrategy
from .exhaustive import ExhaustiveStrategy
from .random import RandomStrategy
from .tracker import TrackedStrategy, Tracker

MAPPER_STRATEGIES: Registry[type[MapperStrategy]] = Registry("mapper strategy")
"""Every strategy (a `MapperStrategy` subclass) by the name `best_mapping(strategy=...)` takes."""

MAPPER_STRATEGIES.register(EvolutionStrategy)
MAPPER_STRATEGIES.register(CMAESStrategy)
MAPPER_STRATEGIES.register(RandomStrategy)
MAPPER_STRATEGIES.register(ExhaustiveStrategy)

register_strategy = MAPPER_STRATEGIES.register
unregister_strategy = MAPPER_STRATEGIES.unregister


def strategy_names() -> list[str]:
    return MAPPER_STRATEGIES.names()


def get_strategy(strategy: str | MapperStrategy, owner: str = "best_mapping") -> MapperStrategy:
    """A strategy instance: one given is returned as it is, a name gives the strategy with its defaults; a
    `RegistryError` naming `owner.strategy` lists the accepted ones."""
    if isinstance(strategy, MapperStrategy):
        return strategy
    return MAPPER_STRATEGIES.get(strategy, f"{owner}.strategy")()


__all__ = ["MapperStrategy", "EvolutionStrategy", "CMAESStrategy", "RandomStrategy", "ExhaustiveStrategy",
           "Tracker", "TrackedStrategy", "MAPPER_STRATEGIES", "register_strategy", "unregister_strategy",
           "strategy_names", "get_strategy"]
