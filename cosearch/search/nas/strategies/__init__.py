"""Network search strategies behind one protocol (`NASStrategy`), one module each, registered by name: OFA's
evolution (`evolution`), uniform random search (`random`), a REINFORCE controller (`rl`) and ProxylessNAS's gradient
(`gradient`). A new strategy is a module with a `NASStrategy` subclass and one `register_nas_strategy` line."""
from __future__ import annotations

from ....config.nas_strategies import (nas_strategy_class, nas_strategy_names, register_nas_strategy,
                                      unregister_nas_strategy)
from .base import NASStrategy
from .evolution import Evolution
from .gradient import Gradient, GradientUnavailable
from .random import RandomSearch
from .rl import Reinforce


def get_nas_strategy(strategy: str | NASStrategy) -> NASStrategy:
    """A strategy with its defaults by name, or the one given; a `UsageError` lists the accepted names."""
    if isinstance(strategy, NASStrategy):
        return strategy
    return nas_strategy_class(strategy)()


register_nas_strategy(Evolution)
register_nas_strategy(RandomSearch)
register_nas_strategy(Reinforce)
register_nas_strategy(Gradient)

__all__ = ["NASStrategy", "Evolution", "RandomSearch", "Reinforce", "Gradient", "GradientUnavailable",
           "register_nas_strategy", "unregister_nas_strategy", "nas_strategy_names", "get_nas_strategy"]
