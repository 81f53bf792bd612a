"""The registry of search spaces: every space by its own name and by its command-line name."""
from __future__ import annotations

from typing import Any

SearchSpaceLike = Any
"""A `nets.spaces.SearchSpace` (not imported here: the protocol's module imports the config, which imports this)."""

_SPACES: dict[str, SearchSpaceLike] = {}
"""Every registered space by its `name`, in registration order."""
_CLI_NAMES: dict[str, str] = {}
"""Command-line name -> space name."""


def register_space(space: SearchSpaceLike) -> SearchSpaceLike:
    """Make `space` known by its `name` and its `cli_name` (both must be new); returns it."""
    for label, key in (("name", space.name), ("cli_name", space.cli_name)):
        if not isinstance(key, str) or not key:
            raise ValueError(f"register_space: the space's {label} must be a non-empty string, got {key!r}")
        if key in _SPACES or key in _CLI_NAMES:
            raise ValueError(f"register_space: {label} {key!r} is already taken by a registered space")
    _SPACES[space.name] = space
    _CLI_NAMES[space.cli_name] = space.name
    return space


def unregister_space(name: str) -> None:
    """Forget a registered space (by either name); for tests and plug-ins that register temporary spaces."""
    space = get_space(name)
    del _SPACES[space.name]
    del _CLI_NAMES[space.cli_name]


def get_space(name: str | SearchSpaceLike) -> SearchSpaceLike:
    """A space by its name or command-line name (a space object is returned as it is); a ValueError lists the
    accepted names."""
    if not isinstance(name, str) and hasattr(name, "genes"):
        return name
    if isinstance(name, str):
        space = _SPACES.get(name) or _SPACES.get(_CLI_NAMES.get(name, ""))
        if space is not None:
            return space
    raise ValueError(f"unknown search space {name!r}; accepted: {', '.join(_CLI_NAMES)} "
                     f"(or their names {', '.join(_SPACES)})")


def space_names() -> dict[str, str]:
    """Command-line name -> space name of every registered space, in registration order."""
    return dict(_CLI_NAMES)


def registered_spaces() -> dict[str, SearchSpaceLike]:
    """Every registered space by name (a copy)."""
    return dict(_SPACES)


__all__ = ["register_space", "unregister_space", "get_space", "space_names", "registered_spaces"]
