"""`Registry`: a named family of interchangeable members (search spaces, objectives, mapper strategies, network
search strategies), one per family, each member known by its `name` (and any aliases it declares).

Every family registers its members the same way, `FAMILY.register(member)`, and every lookup of an unknown name,
or registration of a taken one, raises the one error type, `RegistryError` (a `ValueError`) whose message lists
the accepted names. A member is one module plus one registration line; the command line's help and the README's
tables are made from the registries, so a new member shows up there by itself.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(ValueError):
    """An unknown name looked up, or a member registered under a name already taken (or with no name)."""


class Registry(Generic[T]):
    """The members of one family by name, in registration order.

    kind: what a member is, for messages ("search space"); aliases: the other names a member is also known by
    (a space's `--space` name); check: called with a new member before it is registered, raises `RegistryError`
    (or another ValueError) when the member lacks what the family needs."""

    def __init__(self, kind: str, aliases: Callable[[T], tuple[str, ...]] = lambda member: (),
                 check: Callable[[T], None] = lambda member: None) -> None:
        self.kind = kind
        self._aliases = aliases
        self._check = check
        self._members: dict[str, T] = {}
        self._alias_to_name: dict[str, str] = {}

    def register(self, member: T) -> T:
        """Make `member` known by its `name` and aliases (each new, non-empty); returns it (usable as a decorator)."""
        name = getattr(member, "name", None)
        keys = (name, *self._aliases(member))
        for key in keys:
            if not isinstance(key, str) or not key:
                raise RegistryError(f"{self.kind} {member!r}: its name and aliases must be non-empty strings, "
                                    f"got {key!r}")
            if key in self._members or key in self._alias_to_name:
                raise RegistryError(f"{self.kind} {key!r} is already registered")
        self._check(member)
        self._members[name] = member
        for alias in keys[1:]:
            self._alias_to_name[alias] = name
        return member

    def unregister(self, name: str) -> None:
        """Forget a member, by its name or an alias (for tests and plug-ins that register temporary ones)."""
        member = self.get(name)
        del self._members[member.name]
        for alias in self._aliases(member):
            self._alias_to_name.pop(alias, None)

    def get(self, name: str, field: str | None = None) -> T:
        """The member of this name or alias; a `RegistryError` names `field` (when given) and the accepted names."""
        if isinstance(name, str):
            key = name if name in self._members else self._alias_to_name.get(name)
            if key is not None:
                return self._members[key]
        where = f"{field}: " if field else ""
        accepted = ", ".join(self.names(aliases=True))
        if any(self._aliases(m) for m in self._members.values()):
            accepted += f" (or their names {', '.join(self._members)})"
        raise RegistryError(f"{where}unknown {self.kind} {name!r}; accepted: {accepted}")

    def names(self, aliases: bool = False) -> list[str]:
        """The members' names in registration order; with `aliases`, each member's first alias where it has one
        (the names a user types, such as `--space ofa-mbv3`)."""
        if not aliases:
            return list(self._members)
        return [(self._aliases(m) or (m.name,))[0] for m in self._members.values()]

    def members(self) -> dict[str, T]:
        """Every member by name (a copy)."""
        return dict(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members or name in self._alias_to_name

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._members.values()))

    def __len__(self) -> int:
        return len(self._members)

    def __repr__(self) -> str:
        return f"<{self.kind} registry: {', '.join(self._members)}>"


__all__ = ["Registry", "RegistryError"]
