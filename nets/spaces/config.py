"""`SubnetConfig`: the base of every space's subnet config, checked against its space's gene table when made."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from .genes import check_genes
from .registry import get_space


class SubnetConfig:
    """A subnet of a registered search space. Subclasses are frozen dataclasses whose fields are the space's genes
    plus `space` (the space's name); making one checks every field against the gene table and normalises it
    (tuples, the accepted values themselves), so a config that exists is a valid one."""

    space: str

    def __post_init__(self) -> None:
        space = get_space(self.space)
        if space.config_type is not type(self):
            raise ValueError(f"{type(self).__name__}.space: {self.space!r} takes {space.config_type.__name__} "
                             "configs")
        object.__setattr__(self, "space", space.name)
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "space"}
        for name, value in check_genes(space.name, space.genes(), space.scalar_genes, values).items():
            object.__setattr__(self, name, value)

    @property
    def space_def(self):
        """The `SearchSpace` this config belongs to."""
        return get_space(self.space)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The config's fields in its dict format (all but `space`)."""
        return tuple(f.name for f in fields(cls) if f.name != "space")

    def to_dict(self) -> dict[str, Any]:
        """The dict format (OFA's for OFA's spaces): lists for the per-slot genes, scalars as they are."""
        values = {k: getattr(self, k) for k in self.keys()}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    def replace(self, **changes: Any) -> "SubnetConfig":
        """A copy with some fields changed (checked again)."""
        values = {k: getattr(self, k) for k in self.keys()}
        values.update(changes)
        return type(self)(**values, space=self.space)

    def canonical(self) -> "SubnetConfig":
        """The same subnet with the genes of inactive slots at their first choices: a key under which two configs
        that build the same network are equal."""
        return self


__all__ = ["SubnetConfig"]
