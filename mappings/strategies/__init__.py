"""Per-layer mapper strategies behind one protocol (`MapperStrategy`), one module each, registered by name: the
compiled evolution strategy (`es`, the co-search's), CMA-ES from the `cmaes` package (`cmaes`), random search
(`random`) and exhaustive enumeration (`exhaustive`). A new strategy is a module with a `MapperStrategy` subclass
and one `register_strategy` line; `best_mapping(strategy=...)` then takes it by name or as an instance."""
from __future__ import annotations

from .base import MapperStrategy
from .cmaes import CMAESStrategy
from .evolution import EvolutionStrategy
from .exhaustive import ExhaustiveStrategy
from .random import RandomStrategy
from .tracker import Tracker

_STRATEGIES: dict[str, type[MapperStrategy]] = {}


def register_strategy(cls: type[MapperStrategy]) -> type[MapperStrategy]:
    """Make a strategy known by its `name` (new); returns it."""
    if not isinstance(getattr(cls, "name", None), str) or not cls.name or cls.name in _STRATEGIES:
        raise ValueError(f"register_strategy: {cls!r} needs a new, non-empty name")
    _STRATEGIES[cls.name] = cls
    return cls


def unregister_strategy(name: str) -> None:
    """Forget a strategy (for tests and plug-ins that register temporary ones)."""
    _STRATEGIES.pop(name)


def strategy_names() -> list[str]:
    return list(_STRATEGIES)


def get_strategy(strategy: str | MapperStrategy, owner: str = "best_mapping") -> MapperStrategy:
    """A strategy instance: one given is returned as it is, a name gives the strategy with its defaults; a ValueError
    naming `owner.strategy` lists the accepted ones."""
    if isinstance(strategy, MapperStrategy):
        return strategy
    if isinstance(strategy, str) and strategy in _STRATEGIES:
        return _STRATEGIES[strategy]()
    raise ValueError(f"{owner}.strategy must be one of {', '.join(_STRATEGIES)} or a MapperStrategy, got "
                     f"{strategy!r}")


register_strategy(EvolutionStrategy)
register_strategy(CMAESStrategy)
register_strategy(RandomStrategy)
register_strategy(ExhaustiveStrategy)

__all__ = ["MapperStrategy", "EvolutionStrategy", "CMAESStrategy", "RandomStrategy", "ExhaustiveStrategy",
           "Tracker", "register_strategy", "unregister_strategy", "strategy_names", "get_strategy"]
