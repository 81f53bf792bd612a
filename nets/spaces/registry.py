"""The registry of search spaces (`SPACES`): every space by its own name and by its `--space` name."""
from __future__ import annotations

from typing import Any

from ..registry import Registry

SearchSpaceLike = Any
"""A `nets.spaces.SearchSpace` (not imported here: the protocol's module imports the config, which imports this)."""

SPACES: Registry[SearchSpaceLike] = Registry("search space", aliases=lambda space: (space.cli_name,))
"""Every registered space (an instance) by its `name`, and by its `cli_name` as an alias."""

DEFAULT_SPACE = "ofa_mbv3_w1.2"
"""The space a subnet config given as a dict is read in when none is named: OFA's MobileNetV3 w1.2 (`ofa-mbv3`),
the space of OFA's accuracy predictor (a name: the member registers itself in `nets.spaces`)."""

register_space = SPACES.register
unregister_space = SPACES.unregister


def get_space(name: str | SearchSpaceLike) -> SearchSpaceLike:
    """A space by its name or command-line name (a space object is returned as it is); a `RegistryError` lists the
    accepted names."""
    if not isinstance(name, str) and hasattr(name, "genes"):
        return name
    return SPACES.get(name)


def space_names() -> dict[str, str]:
    """Command-line name -> space name of every registered space, in registration order."""
    return {space.cli_name: space.name for space in SPACES}


__all__ = ["SPACES", "DEFAULT_SPACE", "register_space", "unregister_space", "get_space", "space_names"]
