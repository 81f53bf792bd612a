"""The registry of network search strategies for fixed devices, by `--nas-strategy` name: the strategies themselves
(`cosearch.search.nas.strategies`) register here, so that the option is checked with the input."""
from __future__ import annotations

from .validate import UsageError

_STRATEGIES: dict[str, type] = {}


def register_nas_strategy(cls: type) -> type:
    """Make a strategy class known by its `name` (new, non-empty); returns it."""
    if not isinstance(getattr(cls, "name", None), str) or not cls.name or cls.name in _STRATEGIES:
        raise ValueError(f"register_nas_strategy: {cls!r} needs a new, non-empty name")
    _STRATEGIES[cls.name] = cls
    return cls


def unregister_nas_strategy(name: str) -> None:
    _STRATEGIES.pop(name)


def nas_strategy_names() -> list[str]:
    return list(_STRATEGIES)


def nas_strategy_class(name: str) -> type:
    try:
        return _STRATEGIES[name]
    except KeyError:
        raise UsageError(f"--nas-strategy: unknown {name!r}; accepted: {', '.join(_STRATEGIES)}") from None


def check_nas_strategy(flag: str, value) -> str:
    if not isinstance(value, str) or value not in _STRATEGIES:
        raise UsageError(f"{flag}: unknown strategy {value!r}; accepted: {', '.join(_STRATEGIES)}")
    return value


__all__ = ["register_nas_strategy", "unregister_nas_strategy", "nas_strategy_names", "nas_strategy_class",
           "check_nas_strategy"]
