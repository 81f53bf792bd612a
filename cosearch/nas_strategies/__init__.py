"""Network search strategies on fixed devices behind one protocol (`NASStrategy`), one module each, registered by
name in `NAS_STRATEGIES`: OFA's evolution (`evolution`), uniform random search (`random`), a REINFORCE controller
(`rl`) and ProxylessNAS's gradient (`gradient`). A new strategy is a module with a `NASStrategy` subclass and one
`NAS_STRATEGIES.register` line; `--nas-strategy` then accepts it."""
from __future__ import annotations

from nets.registry import Registry

from .base import BudgetSpent, NASStrategy, config_from
from .evolution import Evolution
from .gradient import Gradient, GradientUnavailable
from .random import RandomSearch
from .rl import Reinforce

NAS_STRATEGIES: Registry[type[NASStrategy]] = Registry("network search strategy")
"""Every strategy (a `NASStrategy` subclass) by its `--nas-strategy` name."""

NAS_STRATEGIES.register(Evolution)
NAS_STRATEGIES.register(RandomSearch)
NAS_STRATEGIES.register(Reinforce)
NAS_STRATEGIES.register(Gradient)

register_nas_strategy = NAS_STRATEGIES.register
unregister_nas_strategy = NAS_STRATEGIES.unregister


def get_nas_strategy(strategy: str | NASStrategy) -> NASStrategy:
    """A strategy with its defaults by name, or the one given; a `RegistryError` lists the accepted names."""
    if isinstance(strategy, NASStrategy):
        return strategy
    return NAS_STRATEGIES.get(strategy, "--nas-strategy")()


__all__ = ["NASStrategy", "BudgetSpent", "config_from", "Evolution", "RandomSearch", "Reinforce", "Gradient",
           "GradientUnavailable", "NAS_STRATEGIES", "register_nas_strategy", "unregister_nas_strategy",
           "get_nas_strategy"]
